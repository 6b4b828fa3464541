#include "CompareBench.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "AmqpPeer.h"
#include "BenchArgs.h"
#include "BenchEnvironment.h"
#include "DepotdProcess.h"
#include "ResourceMeasurement.h"
#include "WireMeasurements.h"

#ifndef DEPOT_BENCH_DEPOTD
#define DEPOT_BENCH_DEPOTD "depotd"
#endif
#ifndef DEPOT_BENCH_RABBITMQ_SCRIPT
#define DEPOT_BENCH_RABBITMQ_SCRIPT "tests/bench/rabbitmq-local.sh"
#endif

namespace depot::bench {
namespace {

constexpr auto kDepotdTimeout = std::chrono::seconds(60);
constexpr const char* kDepotQueue = "bench.compare";
constexpr const char* kDepotAsyncQueue = "bench.compare.async";
constexpr const char* kDepotFanout = "bench.compare.fanout";
constexpr int kFanoutQueues = 4;
constexpr int kFanoutWindow = 64;

// How a published message is kept before its confirm.
enum class Mode { Sync, Async, Transient };
constexpr std::pair<const char*, Mode> kModes[] = {{"sync", Mode::Sync}, {"async", Mode::Async}, {"transient", Mode::Transient}};

const char* describe(Mode mode) {
    switch (mode) {
    case Mode::Sync: return "persistent, sync flush";
    case Mode::Async: return "persistent, async flush";
    case Mode::Transient: return "transient";
    }
    return "";
}

struct Options {
    std::string depotd = DEPOT_BENCH_DEPOTD;
    std::vector<std::string> depotdArgs;  // passed to every depotd the run starts (e.g. --no-trace)
    std::string parentDir = "/var/tmp";
    bool raw = false;
    bool rabbitmq = false;
    std::string rabbitmqUrl;  // empty: start a node with the script
    std::string rabbitmqScript = DEPOT_BENCH_RABBITMQ_SCRIPT;
    int repetitions = 3;
    double seconds = 3.0;
    double warmup = 0.5;
    std::vector<size_t> sizes = {100, 1024};
    std::vector<int> windows = {1, 64, 1000};
    std::vector<Mode> modes = {Mode::Sync, Mode::Async, Mode::Transient};
    uint64_t prefill = 100'000;
    uint32_t prefetch = 100;
    double rate = 10'000;           // end-to-end rows: messages a second
    uint64_t queued = 1'000'000;    // the backlog workload: 1 KiB messages queued (about 1 GiB of log)
    std::vector<std::string> only;  // workloads: "publish", "fanout", "e2e", "consume", "backlog"
    bool quick = false;
};

void printUsage(FILE* out) {
    std::fprintf(
        out,
        "usage: depot-bench compare [--peer raw|rabbitmq]... [--rabbitmq URL] [--repetitions N] [--seconds S]\n"
        "                           [--warmup S] [--sizes B,B] [--windows N,N] [--prefill N] [--prefetch N]\n"
        "                           [--modes sync,async,transient] [--only publish,fanout,e2e,consume,backlog]\n"
        "                           [--rate N] [--queued N]\n"
        "                           [--depotd PATH] [--depotd-arg ARG]...\n"
        "                           [--dir PARENT] [--quick]\n"
        "  --peer raw         the physical limits: N pre-zeroed writes + one fdatasync (N = the window, at most\n"
        "                     512), a bare ZeroMQ DEALER/ROUTER ack loop, and the same with a group commit\n"
        "  --peer rabbitmq    RabbitMQ quorum and classic durable queues, persistent messages, publisher confirms,\n"
        "                     manual acks (rabbitmq-c); a node is started on loopback with --rabbitmq-script\n"
        "                     (default: tests/bench/rabbitmq-local.sh) and stopped at the end\n"
        "  --rabbitmq URL     use a RabbitMQ that runs already (amqp://127.0.0.1:5672); guest/guest\n"
        "  --repetitions N    runs of every system in every cell, taking turns (default 3)\n"
        "  --seconds S        measured time of each publish run (default 3), after --warmup S (default 0.5)\n"
        "  --sizes B,B        message body sizes (default 100,1024)\n"
        "  --windows N,N      publishes in flight (default 1,64,1000)\n"
        "  --modes M,M        publish rows: sync (persistent, confirmed after fdatasync), async (persistent, confirmed\n"
        "                     before it; RabbitMQ has no such mode), transient (RabbitMQ: delivery mode 1)\n"
        "  --prefill N        messages queued before each consume run (default 100000), --prefetch N (100)\n"
        "  --rate N           end-to-end rows: publish -> deliver latency at N messages a second (10000)\n"
        "  --queued N         backlog: N messages of 1 KiB queued in a fresh depotd (default 1000000, about\n"
        "                     1 GiB of log): its RSS per queued message, then SIGKILL and the restart's time\n"
        "  --depotd-arg ARG   an argument for every depotd the run starts, e.g. --no-trace (repeatable)\n"
        "  --dir PARENT       where the scratch directory (depotd's data, raw files, RabbitMQ's node) goes\n"
        "                     (default /var/tmp); removed at the end\n"
        "  --quick            a smoke run (0.2 s runs, 1 repetition, 1000 to consume, 20000 queued): not a result\n");
}

template <typename T>
bool parseList(const std::string& text, std::vector<T>& out) {
    out.clear();
    for (const std::string& item : splitList(text)) {
        char* end = nullptr;
        const unsigned long long value = std::strtoull(item.c_str(), &end, 10);
        if (*end != '\0' || value == 0) return false;
        out.push_back(T(value));
    }
    return !out.empty();
}

bool parseModes(const std::string& text, std::vector<Mode>& out) {
    out.clear();
    for (const std::string& item : splitList(text)) {
        auto it = std::find_if(std::begin(kModes), std::end(kModes), [&](const auto& m) { return item == m.first; });
        if (it == std::end(kModes)) return false;
        out.push_back(it->second);
    }
    return !out.empty();
}

bool parseOptions(int argc, char** argv, Options& options) {
    bool repetitionsGiven = false, secondsGiven = false, prefillGiven = false, queuedGiven = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        const char* value = hasValue ? argv[i + 1] : "";
        if (arg == "--quick") {
            options.quick = true;
            continue;
        }
        if (!hasValue) {
            std::fprintf(stderr, "depot-bench compare: unknown or incomplete option '%s'\n", arg.c_str());
            return false;
        }
        ++i;
        bool ok = true;
        if (arg == "--peer" && !std::strcmp(value, "raw")) options.raw = true;
        else if (arg == "--peer" && !std::strcmp(value, "rabbitmq")) options.rabbitmq = true;
        else if (arg == "--rabbitmq") options.rabbitmqUrl = value, options.rabbitmq = true;
        else if (arg == "--rabbitmq-script") options.rabbitmqScript = value;
        else if (arg == "--repetitions") options.repetitions = std::atoi(value), repetitionsGiven = true;
        else if (arg == "--seconds") options.seconds = std::strtod(value, nullptr), secondsGiven = true;
        else if (arg == "--warmup") options.warmup = std::strtod(value, nullptr);
        else if (arg == "--sizes") ok = parseList(value, options.sizes);
        else if (arg == "--windows") ok = parseList(value, options.windows);
        else if (arg == "--modes") ok = parseModes(value, options.modes);
        else if (arg == "--prefill") options.prefill = std::strtoull(value, nullptr, 10), prefillGiven = true;
        else if (arg == "--prefetch") options.prefetch = uint32_t(std::strtoul(value, nullptr, 10));
        else if (arg == "--rate") options.rate = std::strtod(value, nullptr);
        else if (arg == "--queued") options.queued = std::strtoull(value, nullptr, 10), queuedGiven = true;
        else if (arg == "--only") options.only = splitList(value);
        else if (arg == "--depotd") options.depotd = value;
        else if (arg == "--depotd-arg") options.depotdArgs.push_back(value);
        else if (arg == "--dir") options.parentDir = value;
        else ok = false;
        if (!ok) {
            std::fprintf(stderr, "depot-bench compare: unknown or bad option '%s %s'\n", arg.c_str(), value);
            return false;
        }
    }
    if (options.quick) {
        if (!repetitionsGiven) options.repetitions = 1;
        if (!secondsGiven) options.seconds = 0.2;
        if (!prefillGiven) options.prefill = 1000;
        if (!queuedGiven) options.queued = 20'000;
        options.warmup = std::min(options.warmup, 0.1);
    }
    return options.repetitions > 0 && options.rate > 0 && options.seconds > 0 && options.warmup >= 0 && options.prefill > 0 &&
           options.prefetch > 0 && options.queued > 0;
}

bool wanted(const Options& options, const std::string& workload) {
    return options.only.empty() || std::find(options.only.begin(), options.only.end(), workload) != options.only.end();
}

// One system in one cell: measured once per repetition.
struct System {
    std::string name;
    std::function<Result<Measurement>()> run;
    std::vector<Measurement> runs;
};

struct Cell {
    std::string title;
    std::vector<System> systems;  // Depot first: the ratios are Depot's to each of the others
    std::string workload;         // "publish" or "consume"
    Mode mode = Mode::Sync;
    size_t size = 0;
    int window = 0;

    const System* find(const std::string& name) const {
        for (const System& system : systems)
            if (system.name == name) return &system;
        return nullptr;
    }
};

std::string sizeText(size_t size) { return size % 1024 == 0 ? std::to_string(size / 1024) + " KiB" : std::to_string(size) + " B"; }

// The RabbitMQ node of the run: started by the script in the scratch directory unless one was given.
class RabbitNode {
public:
    ~RabbitNode() { stop(); }
    Result<AmqpTarget> start(const Options& options, const std::string& scratch) {
        if (!options.rabbitmqUrl.empty()) return parseAmqpUrl(options.rabbitmqUrl);
        m_script = options.rabbitmqScript;
        m_dir = scratch + "/rabbitmq";
        FILE* out = ::popen(("'" + m_script + "' start '" + m_dir + "'").c_str(), "r");
        if (!out) return Status::ioError("cannot run " + m_script);
        char line[256] = {};
        const bool read = std::fgets(line, sizeof line, out) != nullptr;
        const int status = ::pclose(out);
        if (!read || status != 0) {
            m_dir.clear();  // the script stops what it started when it fails
            return Status::unavailable(m_script + " could not start RabbitMQ (see its messages above)");
        }
        std::string url(line);
        url.erase(url.find_last_not_of(" \r\n") + 1);
        return parseAmqpUrl(url);
    }
    void stop() {
        if (m_dir.empty()) return;
        if (std::system(("'" + m_script + "' stop '" + m_dir + "'").c_str()) != 0)
            std::fprintf(stderr, "depot-bench compare: %s stop %s failed\n", m_script.c_str(), m_dir.c_str());
        m_dir.clear();
    }
    bool started() const { return !m_dir.empty(); }

private:
    std::string m_script;
    std::string m_dir;
};

struct Run {
    const Options& options;
    std::string scratch;
    WireSetup depot;
    std::optional<AmqpTarget> rabbit;

    std::chrono::duration<double> warmup() const { return std::chrono::duration<double>(options.warmup); }
    std::chrono::duration<double> measure() const { return std::chrono::duration<double>(options.seconds); }

    Cell publishCell(Mode mode, size_t size, int window) const {
        Cell cell{"confirmed publish, " + std::string(describe(mode)) + ", " + sizeText(size) + ", " +
                      std::to_string(window) + " in flight",
                  {}, "publish", mode, size, window};
        WireSetup setup = depot;
        setup.messageSize = size;
        setup.asyncFlush = mode == Mode::Async;
        setup.queue = mode == Mode::Async ? kDepotAsyncQueue : kDepotQueue;
        setup.persistent = mode != Mode::Transient;
        cell.systems.push_back({"depot", [setup, window]() -> Result<Measurement> {
                                    auto measured = measurePublish(setup, window);
                                    if (!measured) return measured.status();
                                    return measured->client;
                                }});
        if (rabbit && mode != Mode::Async)  // RabbitMQ confirms a persistent message only once it is on disk
            for (AmqpQueueType type : {AmqpQueueType::Quorum, AmqpQueueType::Classic}) {
                AmqpPublishSetup amqp{"depot-bench." + std::string(toString(type)), type, size, window,
                                      mode != Mode::Transient, warmup(), measure()};
                cell.systems.push_back({"rabbitmq " + std::string(toString(type)),
                                        [target = *rabbit, amqp] { return measureAmqpPublish(target, amqp); }});
            }
        if (options.raw && mode == Mode::Sync) {
            const int writes = std::min(window, 512);
            StorageSetup disk{scratch, 64ull << 20, size, 0};
            const auto budget = [this] { return std::pair{Budget{warmup(), UINT64_MAX}, Budget{measure(), UINT64_MAX}}; };
            cell.systems.push_back({"raw: " + std::to_string(writes) + " writes + fdatasync",
                                    [disk, writes, budget]() -> Result<Measurement> {
                                        auto row = makeRawWriteRow(disk, writes);
                                        if (!row) return row.status();
                                        DEPOT_RETURN_IF_ERROR((*row)->runSlice(budget().first, false));
                                        DEPOT_RETURN_IF_ERROR((*row)->runSlice(budget().second, true));
                                        return (*row)->result();  // records: writes (messages)
                                    }});
        }
        if (options.raw) {
            const std::string dir = scratch;
            const auto w = warmup(), s = measure();
            cell.systems.push_back({"raw: zmq ack loop", [=] { return measureZmqEcho(window, size, w, s); }});
            if (mode == Mode::Sync)
                cell.systems.push_back(
                    {"raw: zmq + group commit", [=] { return measureZmqEcho(window, size, w, s, dir); }});
        }
        return cell;
    }

    // Confirmed sync-flushed publishes to a fanout exchange bound to 4 durable queues: confirmed once all 4 have it.
    Cell fanoutCell(size_t size) const {
        Cell cell{"fan-out to " + std::to_string(kFanoutQueues) + " queues, confirmed publish, persistent, sync flush, " +
                      sizeText(size) + ", " + std::to_string(kFanoutWindow) + " in flight",
                  {}, "fanout", Mode::Sync, size, kFanoutWindow};
        WireSetup setup = fanoutSetup();
        setup.messageSize = size;
        cell.systems.push_back({"depot", [setup]() -> Result<Measurement> {
                                    auto measured = measurePublish(setup, kFanoutWindow);
                                    if (!measured) return measured.status();
                                    return measured->client;
                                }});
        if (rabbit)
            for (AmqpQueueType type : {AmqpQueueType::Quorum, AmqpQueueType::Classic}) {
                AmqpPublishSetup amqp{"depot-bench.fanout." + std::string(toString(type)), type, size, kFanoutWindow,
                                      true, warmup(), measure(), kFanoutQueues};
                cell.systems.push_back({"rabbitmq " + std::string(toString(type)),
                                        [target = *rabbit, amqp] { return measureAmqpPublish(target, amqp); }});
            }
        return cell;
    }

    // Publish -> deliver latency at a fixed rate, persistent messages, sync flush (RabbitMQ: confirms on).
    Cell endToEndCell(size_t size) const {
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.0f", options.rate);
        Cell cell{"publish -> deliver latency at " + std::string(rate) + " msgs/s, persistent, sync flush, " +
                      sizeText(size) + ", prefetch " + std::to_string(options.prefetch),
                  {}, "e2e", Mode::Sync, size, 0};
        WireSetup setup = depot;
        setup.messageSize = size;
        cell.systems.push_back({"depot", [setup, r = options.rate] { return measureEndToEnd(setup, r); }});
        if (rabbit)
            for (AmqpQueueType type : {AmqpQueueType::Quorum, AmqpQueueType::Classic})
                cell.systems.push_back({"rabbitmq " + std::string(toString(type)),
                                        [target = *rabbit, type, size, r = options.rate, p = options.prefetch,
                                         w = warmup(), s = measure()] {
                                            return measureAmqpEndToEnd(target, "depot-bench.e2e", type, size, r, p, w, s);
                                        }});
        return cell;
    }

    WireSetup fanoutSetup() const {
        WireSetup setup = depot;
        setup.exchange = kDepotFanout;
        for (int i = 1; i <= kFanoutQueues; ++i) setup.fanoutQueues.push_back(std::string(kDepotFanout) + "." + std::to_string(i));
        setup.queue = setup.fanoutQueues.front();
        return setup;
    }

    Cell consumeCell(size_t size) const {
        Cell cell{"consume a backlog of " + std::to_string(options.prefill) + ", manual ack each, prefetch " +
                      std::to_string(options.prefetch) + ", " + sizeText(size),
                  {}, "consume", Mode::Sync, size, 0};
        WireSetup setup = depot;
        setup.messageSize = size;
        cell.systems.push_back({"depot", [setup]() -> Result<Measurement> {
                                    auto measured = measureConsumeAck(setup);
                                    if (!measured) return measured.status();
                                    return measured->client;
                                }});
        if (rabbit)
            for (AmqpQueueType type : {AmqpQueueType::Quorum, AmqpQueueType::Classic})
                cell.systems.push_back(
                    {"rabbitmq " + std::string(toString(type)),
                     [target = *rabbit, type, size, prefill = options.prefill, prefetch = options.prefetch] {
                         return measureAmqpConsumeAck(target, "depot-bench.consume", type, size, prefill, prefetch);
                     }});
        return cell;
    }

    std::vector<Cell> cells() const {
        std::vector<Cell> out;
        for (size_t size : options.sizes) {
            if (wanted(options, "publish"))
                for (Mode mode : options.modes)
                    for (int window : options.windows) out.push_back(publishCell(mode, size, window));
            if (wanted(options, "fanout")) out.push_back(fanoutCell(size));
            if (wanted(options, "e2e")) out.push_back(endToEndCell(size));
            if (wanted(options, "consume")) out.push_back(consumeCell(size));
        }
        return out;
    }
};

// Every cell, every repetition; within a cell the systems take turns, starting one further each repetition.
Status measureAll(const Options& options, std::vector<Cell>& cells) {
    for (int repetition = 0; repetition < options.repetitions; ++repetition)
        for (Cell& cell : cells)
            for (size_t k = 0; k < cell.systems.size(); ++k) {
                System& system = cell.systems[(k + size_t(repetition)) % cell.systems.size()];
                auto measured = system.run();
                if (!measured)
                    return Status(measured.status().code(),
                                  cell.title + ", " + system.name + ": " + measured.status().message());
                std::fprintf(stderr, "  run %d  %-60s %-28s %10.0f msgs/s\n", repetition + 1, cell.title.c_str(),
                             system.name.c_str(), measured->recordsPerSecond());
                system.runs.push_back(std::move(*measured));
            }
    return Status::ok();
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::vector<double> rates(const System& system) {
    std::vector<double> out;
    for (const Measurement& m : system.runs) out.push_back(m.recordsPerSecond());
    return out;
}

std::optional<double> pooledMicros(const System* system, double percentile) {
    if (!system) return std::nullopt;
    LatencyHistogram pooled;
    for (const Measurement& m : system->runs)
        if (m.latency) pooled.merge(*m.latency);
    if (pooled.count() == 0) return std::nullopt;
    return double(pooled.percentile(percentile)) / 1000.0;
}

std::string micros(const System& system, double percentile) {
    const auto us = pooledMicros(&system, percentile);
    if (!us) return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", *us);
    return text;
}

void printCell(const Cell& cell) {
    std::printf("\n%s\n", cell.title.c_str());
    std::printf("  %-30s %10s %21s %8s %8s %11s\n", "system", "msgs/s", "spread (min-max)", "p50 us", "p99 us",
                "depot/this");
    const double depot = median(rates(cell.systems.front()));
    for (const System& system : cell.systems) {
        const std::vector<double> r = rates(system);
        const double mid = median(r);
        char spread[48], ratio[16] = "-";
        std::snprintf(spread, sizeof spread, "%.0f-%.0f (%.0f%%)", *std::min_element(r.begin(), r.end()),
                      *std::max_element(r.begin(), r.end()),
                      mid > 0 ? 100.0 * (*std::max_element(r.begin(), r.end()) - *std::min_element(r.begin(), r.end())) / mid : 0.0);
        if (&system != &cell.systems.front() && mid > 0) std::snprintf(ratio, sizeof ratio, "%.2fx", depot / mid);
        std::printf("  %-30s %10.0f %21s %8s %8s %11s\n", system.name.c_str(), mid, spread,
                    micros(system, 50).c_str(), micros(system, 99).c_str(), ratio);
    }
}


std::optional<double> medianRate(const System* system) {
    if (!system || system->runs.empty()) return std::nullopt;
    return median(rates(*system));
}

// One line per target of issue 8 that this run measured: the figures it rests on and whether it holds.
void printTargets(const std::vector<Cell>& cells) {
    std::printf("\ntargets (issue 8; 2-core machine):\n");
    int shown = 0;
    const auto line = [&](const std::string& what, double have, double want, const std::string& basis) {
        std::printf("  %-68s %6.2f  want %s %6.2f  %-8s %s\n", what.c_str(), have, want >= 0 ? ">=" : "<=",
                    std::abs(want), (want >= 0 ? have >= want : have <= -want) ? "met" : "NOT met", basis.c_str());
        ++shown;
    };
    for (const Cell& cell : cells) {
        const auto depot = medianRate(cell.find("depot"));
        if (!depot) continue;
        const std::string where = sizeText(cell.size) + (cell.workload == "publish" ? ", " + std::to_string(cell.window) + " in flight" : "");
        if (cell.workload == "consume") {
            const auto quorum = medianRate(cell.find("rabbitmq quorum")), classic = medianRate(cell.find("rabbitmq classic"));
            if (quorum && classic)
                line("consume+ack, " + where + ": depot / best RabbitMQ", *depot / std::max(*quorum, *classic), 5,
                     "(msgs/s medians)");
            continue;
        }
        if (cell.workload != "publish" || cell.mode != Mode::Sync) continue;
        if (const auto quorum = medianRate(cell.find("rabbitmq quorum")); quorum && cell.window >= 64)
            line("sync publish, " + where + ": depot / rabbitmq quorum", *depot / *quorum, cell.window >= 1000 ? 10 : 4,
                 "(msgs/s medians)");
        if (const auto loop = medianRate(cell.find("raw: zmq + group commit")); loop && cell.window >= 64)
            line("sync publish, " + where + ": depot / zmq + group commit", *depot / *loop, 0.8, "(msgs/s medians)");
        if (cell.window == 1) {
            const auto depotP50 = pooledMicros(cell.find("depot"), 50);
            const auto zmq = pooledMicros(cell.find("raw: zmq ack loop"), 50);
            const auto disk = pooledMicros(cell.find("raw: 1 writes + fdatasync"), 50);
            if (depotP50 && zmq && disk) {
                char basis[96];
                std::snprintf(basis, sizeof basis, "(p50 %.0f us vs %.0f + %.0f us)", *depotP50, *zmq, *disk);
                line("sync publish, " + where + ": depot p50 / (zmq p50 + fdatasync p50)", *depotP50 / (*zmq + *disk),
                     -1.3, basis);
            }
        }
    }
    if (!shown) std::printf("  none measured (they need --peer raw and --peer rabbitmq)\n");
}

// Depot only for now: RabbitMQ's memory and restart with the same backlog are not measured yet.
void printBacklog(const ResourceMeasurement& m) {
    std::printf("\nbacklog: %llu persistent messages of %s queued in a fresh depotd (1000 in flight, async flush), "
                "then SIGKILL and a restart on the same data (one run)\n",
                static_cast<unsigned long long>(m.messages), sizeText(m.messageSize).c_str());
    std::printf("  RSS per queued message   %8.1f B   VmRSS %.1f MB empty -> %.1f MB with the backlog; payloads stay "
                "in the log\n",
                m.rssPerMessage(), double(m.rssBefore) / 1e6, double(m.rssAfter) / 1e6);
    std::printf("  of which heap            %8.1f B   RssAnon %.1f MB -> %.1f MB (the rest: code and files mapped)\n",
                m.anonPerMessage(), double(m.anonBefore) / 1e6, double(m.anonAfter) / 1e6);
    std::printf("  recovery after SIGKILL   %8.2f s   %.0f MB/s over %.2f GB of log, until it listens again; all %llu "
                "messages back\n",
                m.recoverySeconds, m.recoveryMBps(), double(m.logBytes) / 1e9,
                static_cast<unsigned long long>(m.depthAfterRecovery));
    const auto verdict = [](bool met) { return met ? "met" : "NOT met"; };
    std::printf("  targets (issue 8): RAM per queued message beyond the payload %.1f B, want <= 100: %s; recovery "
                "%.0f MB/s, want >= 500: %s\n",
                m.rssPerMessage(), verdict(m.rssPerMessage() <= 100), m.recoveryMBps(), verdict(m.recoveryMBps() >= 500));
}

void printHeader(const Options& options, const std::string& scratch, const DepotdProcess& depotd,
                 const std::optional<AmqpTarget>& rabbit, bool rabbitStarted) {
    const FileSystemInfo fs = BenchEnvironment::fileSystemOf(scratch);
    std::printf("Depot compared%s\n", options.quick ? " (--quick: smoke run, not a result)" : "");
    std::string extra;
    for (const std::string& arg : options.depotdArgs) extra += " " + arg;
    std::printf("depotd      %s%s (pid %d) on %s; durable queues\n", options.depotd.c_str(), extra.c_str(),
                int(depotd.pid()), depotd.endpoint().c_str());
    if (rabbit)
        std::printf("rabbitmq    amqp://%s:%d (%s); durable quorum and classic queues, delivery mode 2, publisher "
                    "confirms, manual acks; rabbitmq-c\n",
                    rabbit->host.c_str(), rabbit->port, rabbitStarted ? "started for this run, loopback only" : "given");
    std::printf("data        %s: %s on %s, mounted at %s (%s)\n", scratch.c_str(), fs.type.c_str(), fs.device.c_str(),
                fs.mountPoint.c_str(), fs.mountOptions.c_str());
    std::printf("machine     %s, %u logical CPUs, %s, load average %s\n", BenchEnvironment::cpuModel().c_str(),
                BenchEnvironment::cpuCount(), BenchEnvironment::kernel().c_str(), BenchEnvironment::loadAverage().c_str());
    std::printf("runs        %d repetitions per system and cell, taking turns; publish runs %.1f s after %.1f s of "
                "warm-up\n",
                options.repetitions, options.seconds, options.warmup);
}

}  // namespace

int runCompareBench(int argc, char** argv) {
    Options options;
    if (int exitCode = parseCommandLine(argc, argv, options, printUsage, parseOptions); exitCode >= 0)
        return exitCode;
    const std::string scratch = BenchEnvironment::makeScratchDir(options.parentDir, "compare");
    if (scratch.empty()) return 1;
    Status status;
    RabbitNode rabbitNode;
    std::optional<AmqpTarget> rabbit;
    std::vector<Cell> cells;
    auto depotd = DepotdProcess::start(options.depotd, scratch + "/depot", kDepotdTimeout, options.depotdArgs);
    if (!depotd) status = depotd.status();
    if (status && options.rabbitmq) {
        auto target = rabbitNode.start(options, scratch);
        if (target) rabbit = *target;
        else status = target.status();
    }
    if (status) {
        Run run{options, scratch, {}, rabbit};
        run.depot.endpoint = (*depotd)->endpoint();
        run.depot.queue = kDepotQueue;
        run.depot.warmup = run.warmup();
        run.depot.measure = run.measure();
        run.depot.prefill = options.prefill;
        run.depot.prefetch = options.prefetch;
        status = declareWireQueue(run.depot);
        WireSetup async = run.depot;
        async.queue = kDepotAsyncQueue;
        async.asyncFlush = true;
        if (status) status = declareWireQueue(async);
        if (status) status = declareWireFanout(run.fanoutSetup());
        if (status) cells = run.cells();
        if (status) status = measureAll(options, cells);
    }
    std::optional<ResourceMeasurement> backlog;
    if (status && wanted(options, "backlog")) {
        auto measured =
            measureDepotResources(options.depotd, options.depotdArgs, scratch + "/backlog", options.queued, 1024);
        if (measured) backlog = *measured;
        else status = Status(measured.status().code(), "backlog: " + measured.status().message());
    }
    if (status) printHeader(options, scratch, **depotd, rabbit, rabbitNode.started());
    rabbitNode.stop();
    if (depotd) (void)(*depotd)->stop(kDepotdTimeout);
    std::error_code ignored;
    std::filesystem::remove_all(scratch, ignored);
    if (!status) {
        std::fprintf(stderr, "depot-bench compare: %s\n", status.toString().c_str());
        return 1;
    }
    for (const Cell& cell : cells) printCell(cell);
    std::printf("\nmsgs/s: median over the repetitions; spread: slowest-fastest run (and its width as a share of the "
                "median). p50/p99: every run's latencies pooled (publish: send -> confirm; raw writes: one loop of "
                "writes + fdatasync). depot/this: Depot's median / this system's median.\n");
    printTargets(cells);
    if (backlog) printBacklog(*backlog);
    std::printf("depot-bench compare: done\n");
    return 0;
}

}  // namespace depot::bench
