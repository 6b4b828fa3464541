#include "WireBench.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "BenchArgs.h"
#include "BenchEnvironment.h"
#include "DepotdProcess.h"
#include "WireMeasurements.h"

#ifndef DEPOT_BENCH_DEPOTD
#define DEPOT_BENCH_DEPOTD "depotd"
#endif

namespace depot::bench {

namespace {

constexpr auto kDepotdStartTimeout = std::chrono::seconds(60);
constexpr auto kDepotdStopTimeout = std::chrono::seconds(60);

struct Options {
    std::string depotd = DEPOT_BENCH_DEPOTD;
    std::string endpoint;  // non-empty: a depotd that is already running (not started, not stopped)
    std::string parentDir = "/var/tmp";
    double seconds = 4.0;
    double warmup = 0.5;
    uint64_t prefill = 100'000;
    uint32_t prefetch = 100;
    std::vector<std::string> only;
    bool quick = false;
};

// The targets (issue 4, "Benchmark"), for a 2-core machine.
struct Target {
    const char* row;
    double minRate;   // msgs/s
    double maxP50Us;  // 0: no latency target
};
constexpr Target kTargets[] = {
    {"publish@1", 3500, 300},
    {"publish@64", 100'000, 0},
    {"publish@1000", 300'000, 0},
    {"consume+ack", 150'000, 0},
};

void printUsage(FILE* out) {
    std::fprintf(
        out,
        "usage: depot-bench wire [--depotd PATH | --endpoint ENDPOINT] [--dir PARENT] [--seconds S] [--warmup S]\n"
        "                        [--prefill N] [--prefetch N] [--only ROWS] [--quick]\n"
        "  --depotd PATH      the depotd to start (default: the one built with this benchmark)\n"
        "  --endpoint EP      drive a depotd that is already running instead (e.g. one under perf)\n"
        "  --dir PARENT       where the scratch directory depot-bench-XXXXXX (depotd's data) is created\n"
        "                     (default /var/tmp); removed at the end\n"
        "  --seconds S        measured time per publish and echo row (default 4)\n"
        "  --warmup S         unmeasured time before each of those rows (default 0.5)\n"
        "  --prefill N        messages queued before the consume row (default 100000)\n"
        "  --prefetch N       the consumer's prefetch (default 100)\n"
        "  --only ROWS        comma-separated row names or prefixes, e.g. 'publish@64,consume' or zmq\n"
        "  --quick            a smoke run (0.3 s per row, 2000 messages to consume); its numbers are not results\n");
}

bool parseOptions(int argc, char** argv, Options& options) {
    bool secondsGiven = false, warmupGiven = false, prefillGiven = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--quick") {
            options.quick = true;
        } else if (arg == "--depotd" && hasValue) {
            options.depotd = argv[++i];
        } else if (arg == "--endpoint" && hasValue) {
            options.endpoint = argv[++i];
        } else if (arg == "--dir" && hasValue) {
            options.parentDir = argv[++i];
        } else if (arg == "--seconds" && hasValue) {
            options.seconds = std::strtod(argv[++i], nullptr);
            secondsGiven = true;
        } else if (arg == "--warmup" && hasValue) {
            options.warmup = std::strtod(argv[++i], nullptr);
            warmupGiven = true;
        } else if (arg == "--prefill" && hasValue) {
            options.prefill = std::strtoull(argv[++i], nullptr, 10);
            prefillGiven = true;
        } else if (arg == "--prefetch" && hasValue) {
            options.prefetch = uint32_t(std::strtoul(argv[++i], nullptr, 10));
        } else if (arg == "--only" && hasValue) {
            for (std::string& item : splitList(argv[++i]))
                options.only.push_back(std::move(item));
        } else {
            std::fprintf(stderr, "depot-bench wire: unknown or incomplete option '%s'\n", arg.c_str());
            return false;
        }
    }
    if (options.quick && !secondsGiven)
        options.seconds = 0.3;
    if (options.quick && !warmupGiven)
        options.warmup = 0.1;
    if (options.quick && !prefillGiven)
        options.prefill = 2000;
    return options.seconds > 0 && options.warmup >= 0 && options.prefill > 0 && options.prefetch > 0;
}

constexpr const char* kRowNames[] = {
    "zmq echo@1", "zmq echo@64", "zmq echo@1000", "publish@1", "publish@64", "publish@1000", "consume+ack",
};

// A prefix selects every row it begins; a whole row name selects that row only ("publish@1" is not
// "publish@1000").
bool wanted(const Options& options, const std::string& name) {
    if (options.only.empty())
        return true;
    for (const std::string& prefix : options.only) {
        const bool isRowName = std::find(std::begin(kRowNames), std::end(kRowNames), prefix) != std::end(kRowNames);
        if (isRowName ? name == prefix : name.compare(0, prefix.size(), prefix) == 0)
            return true;
    }
    return false;
}

struct Row {
    std::string name;
    WireMeasurement m;
    std::string note;
};

using RowMaker = std::function<Result<WireMeasurement>()>;

Status runRows(const Options& options, const WireSetup& setup, std::vector<Row>& rows) {
    const auto echo = [&](int window) -> RowMaker {
        return [&setup, window]() -> Result<WireMeasurement> {
            auto measured = measureZmqEcho(window, setup.messageSize, setup.warmup, setup.measure);
            if (!measured)
                return measured.status();
            return WireMeasurement{*measured, std::nullopt, std::nullopt, 0};
        };
    };
    const auto publish = [&](int window) -> RowMaker {
        return [&setup, window] { return measurePublish(setup, window); };
    };
    const std::pair<std::string, RowMaker> makers[] = {
        {"zmq echo@1", echo(1)},
        {"zmq echo@64", echo(64)},
        {"zmq echo@1000", echo(1000)},
        {"publish@1", publish(1)},
        {"publish@64", publish(64)},
        {"publish@1000", publish(1000)},
        {"consume+ack", [&setup] { return measureConsumeAck(setup); }},
    };
    for (const auto& [name, make] : makers) {
        if (!wanted(options, name))
            continue;
        auto measured = make();
        if (!measured)
            return Status(measured.status().code(), name + ": " + measured.status().message());
        std::fprintf(stderr, "  %-14s %10.0f msgs/s\n", name.c_str(), measured->client.recordsPerSecond());
        rows.push_back({name, std::move(*measured), {}});
    }
    return Status::ok();
}

double p50Us(const Row& row) {
    const auto& latency = row.m.client.latency;
    return latency && latency->count() ? double(latency->percentile(50)) / 1000.0 : -1;
}

std::string micros(const std::optional<LatencyHistogram>& latency, double percentile) {
    if (!latency || latency->count() == 0)
        return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", double(latency->percentile(percentile)) / 1000.0);
    return text;
}

const Target* targetOf(const std::string& row) {
    for (const Target& target : kTargets)
        if (row == target.row)
            return &target;
    return nullptr;
}

// "met" when every part of the target holds.
bool met(const Target& target, const Row& row) {
    if (row.m.client.recordsPerSecond() < target.minRate)
        return false;
    return target.maxP50Us == 0 || (p50Us(row) >= 0 && p50Us(row) <= target.maxP50Us);
}

std::string targetText(const Target& target) {
    char text[64];
    if (target.maxP50Us > 0)
        std::snprintf(text, sizeof text, ">= %.0f/s, p50 <= %.0f us", target.minRate, target.maxP50Us);
    else
        std::snprintf(text, sizeof text, ">= %.0f/s", target.minRate);
    return text;
}

void printHeader(const Options& options, const std::string& dataDir, const std::string& endpoint, pid_t pid) {
    std::printf(
        "Depot wire benchmark: depotd over TCP with the C++ client library; 1 KiB messages, durable queue, "
        "sync flush%s\n",
        options.quick ? " (--quick: smoke run, not a result)" : "");
    if (dataDir.empty()) {
        std::printf("depotd      already running at %s (--endpoint)\n", endpoint.c_str());
    } else {
        const FileSystemInfo fs = BenchEnvironment::fileSystemOf(dataDir);
        std::printf("depotd      %s (pid %d) listening on %s\n", options.depotd.c_str(), int(pid), endpoint.c_str());
        std::printf("data        %s (removed at the end); %s on %s, mounted at %s (%s)\n", dataDir.c_str(),
                    fs.type.c_str(), fs.device.c_str(), fs.mountPoint.c_str(), fs.mountOptions.c_str());
    }
    std::printf("machine     %s, %u logical CPUs, %s, load average %s at start\n", BenchEnvironment::cpuModel().c_str(),
                BenchEnvironment::cpuCount(), BenchEnvironment::kernel().c_str(),
                BenchEnvironment::loadAverage().c_str());
    std::printf(
        "settings    publish and echo rows: %.1f s after %.1f s of warm-up; consume: %llu messages, prefetch "
        "%u\n\n",
        options.seconds, options.warmup, static_cast<unsigned long long>(options.prefill), options.prefetch);
}

void printRows(const std::vector<Row>& rows) {
    std::printf("%-14s %9s %7s %7s %7s %7s %7s %7s %9s  %-34s %s\n", "row", "msgs/s", "MB/s", "p50 us", "p99 us",
                "bkr p50", "bkr p99", "sync50", "msgs/sync", "target (issue 4)", "note");
    for (const Row& row : rows) {
        const Measurement& m = row.m.client;
        char perSync[32] = "-";
        if (row.m.messagesPerSync > 0)
            std::snprintf(perSync, sizeof perSync, "%.1f", row.m.messagesPerSync);
        std::string target = "-";
        if (const Target* t = targetOf(row.name))
            target = targetText(*t) + (met(*t, row) ? ": met" : ": NOT met");
        std::string note = row.name.rfind("zmq", 0) == 0 ? "floor: bare DEALER/ROUTER echo, no broker" : m.note;
        std::printf("%-14s %9.0f %7.1f %7s %7s %7s %7s %7s %9s  %-34s %s\n", row.name.c_str(), m.recordsPerSecond(),
                    m.megabytesPerSecond(), micros(m.latency, 50).c_str(), micros(m.latency, 99).c_str(),
                    micros(row.m.brokerConfirm, 50).c_str(), micros(row.m.brokerConfirm, 99).c_str(),
                    micros(row.m.brokerFsync, 50).c_str(), perSync, target.c_str(), note.c_str());
    }
    std::printf(
        "\np50/p99: client round trip in us (sendAsync() to its callback; echo: send to reply). bkr p50/p99: the "
        "broker's own publish -> confirm; sync50: its fdatasync p50; msgs/sync: messages per fdatasync (ADMIN stats "
        "over the row, warm-up included). MB = 10^6 body bytes.\n");
}

// Says plainly which targets are met, and flags a publish@1 row measured during a slow-fdatasync spell.
void printTargets(const std::vector<Row>& rows) {
    int measured = 0, metCount = 0;
    std::printf("\n");
    for (const Target& target : kTargets) {
        auto row = std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.name == target.row; });
        if (row == rows.end())
            continue;
        ++measured;
        const bool ok = met(target, *row);
        metCount += ok;
        std::printf("%-14s %9.0f msgs/s", target.row, row->m.client.recordsPerSecond());
        if (target.maxP50Us > 0)
            std::printf(", p50 %.0f us", p50Us(*row));
        std::printf("  (target %s: %s)\n", targetText(target).c_str(), ok ? "met" : "NOT met");
    }
    const auto echo = std::find_if(rows.begin(), rows.end(), [](const Row& r) { return r.name == "zmq echo@1"; });
    const auto one = std::find_if(rows.begin(), rows.end(), [](const Row& r) { return r.name == "publish@1"; });
    if (echo != rows.end() && one != rows.end() && p50Us(*echo) >= 0 && p50Us(*one) >= 0)
        std::printf(
            "publish@1 p50 - zmq echo@1 p50 = %.0f us (broker, fdatasync and client library above the bare "
            "round trip)\n",
            p50Us(*one) - p50Us(*echo));
    if (one != rows.end() && one->m.brokerFsync && one->m.brokerFsync->count() &&
        one->m.brokerFsync->percentile(50) > 1'000'000)
        std::printf(
            "UNRELIABLE: the broker's fdatasync p50 during publish@1 was %.1f ms (timer-bound fdatasync on a "
            "virtual machine, docs/benchmarks.md); rerun\n",
            double(one->m.brokerFsync->percentile(50)) / 1e6);
    if (measured)
        std::printf("targets met: %d of %d measured\n", metCount, measured);
}

// SIGTERM; depotd must exit 0 and say it stopped cleanly. A failure becomes `status` unless that already failed.
std::string stopDepotd(DepotdProcess& depotd, Status& status) {
    auto exited = depotd.stop(kDepotdStopTimeout);
    const std::vector<std::string> output = depotd.output();
    const bool clean = std::find(output.begin(), output.end(), "depotd stopped cleanly") != output.end();
    if (exited && *exited == 0 && clean)
        return "SIGTERM: exit 0, stopped cleanly";
    const std::string how = exited ? "exit code " + std::to_string(*exited) + (clean ? "" : ", no 'stopped cleanly'")
                                   : exited.status().toString();
    if (status)
        status = Status::ioError("depotd after SIGTERM: " + how);
    return "SIGTERM: " + how;
}

// Starts depotd (unless --endpoint), runs the rows, stops depotd. Returns the process exit code.
int runAll(const Options& options) {
    std::string scratch, dataDir, endpoint = options.endpoint;
    std::unique_ptr<DepotdProcess> depotd;
    if (endpoint.empty()) {
        scratch = BenchEnvironment::makeScratchDir(options.parentDir, "wire");
        if (scratch.empty())
            return 1;
        dataDir = scratch + "/depotd";
        auto started = DepotdProcess::start(options.depotd, dataDir, kDepotdStartTimeout);
        if (!started) {
            std::fprintf(stderr, "depot-bench wire: cannot start depotd: %s\n", started.status().toString().c_str());
            std::error_code ignored;
            std::filesystem::remove_all(scratch, ignored);
            return 1;
        }
        depotd = std::move(*started);
        endpoint = depotd->endpoint();
    }
    printHeader(options, dataDir, endpoint, depotd ? depotd->pid() : -1);
    std::fflush(stdout);

    WireSetup setup;
    setup.endpoint = endpoint;
    setup.warmup = std::chrono::duration<double>(options.warmup);
    setup.measure = std::chrono::duration<double>(options.seconds);
    setup.prefill = options.prefill;
    setup.prefetch = options.prefetch;
    std::vector<Row> rows;
    Status status = declareWireQueue(setup);
    if (status)
        status = runRows(options, setup, rows);

    std::string stopped = "left running (--endpoint)";
    if (depotd) {
        stopped = stopDepotd(*depotd, status);
        std::error_code ignored;
        std::filesystem::remove_all(scratch, ignored);
    }
    if (!status) {
        std::fprintf(stderr, "depot-bench wire: %s\n", status.toString().c_str());
        return 1;
    }
    printRows(rows);
    printTargets(rows);
    std::printf("depotd      %s\n", stopped.c_str());
    std::printf("depot-bench wire: done\n");
    return 0;
}

}  // namespace

int runWireBench(int argc, char** argv) {
    Options options;
    if (int exitCode = parseCommandLine(argc, argv, options, printUsage, parseOptions); exitCode >= 0)
        return exitCode;
    return runAll(options);
}

}  // namespace depot::bench
