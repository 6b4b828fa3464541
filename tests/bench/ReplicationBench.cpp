#include "ReplicationBench.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "BenchArgs.h"
#include "BenchEnvironment.h"
#include "DepotdProcess.h"
#include "WireMeasurements.h"
#include "depot/client/Admin.h"
#include "depot/client/Connection.h"

#ifndef DEPOT_BENCH_DEPOTD
#define DEPOT_BENCH_DEPOTD "depotd"
#endif

namespace depot::bench {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(60);

struct Options {
    std::string depotd = DEPOT_BENCH_DEPOTD;
    std::string parentDir = "/var/tmp";
    double seconds = 3.0;
    double warmup = 0.5;
    int window = 64;
    int repetitions = 3;
    bool quick = false;
};

struct Row {
    const char* name;
    const char* queue;
    broker::Replication replication;
    std::vector<WireMeasurement> runs;
};

void printUsage(FILE* out) {
    std::fprintf(out,
                 "usage: depot-bench replication [--depotd PATH] [--dir PARENT] [--seconds S] [--warmup S]\n"
                 "                               [--window N] [--repetitions N] [--quick]\n"
                 "  a primary and a replica depotd on this machine; rows taking turns, --repetitions times each:\n"
                 "  sync flush without replication, and sync flush + sync replication (1 KiB, --window in flight,\n"
                 "  default 64); median and spread of msgs/s and of the client's confirm p50/p99\n");
}

bool parseOptions(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--quick") options.quick = true;
        else if (arg == "--depotd" && hasValue) options.depotd = argv[++i];
        else if (arg == "--dir" && hasValue) options.parentDir = argv[++i];
        else if (arg == "--seconds" && hasValue) options.seconds = std::strtod(argv[++i], nullptr);
        else if (arg == "--warmup" && hasValue) options.warmup = std::strtod(argv[++i], nullptr);
        else if (arg == "--window" && hasValue) options.window = std::atoi(argv[++i]);
        else if (arg == "--repetitions" && hasValue) options.repetitions = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr, "depot-bench replication: unknown or incomplete option '%s'\n", arg.c_str());
            return false;
        }
    }
    if (options.quick) {
        options.seconds = 0.3;
        options.warmup = 0.1;
        options.repetitions = 1;
    }
    return options.seconds > 0 && options.window > 0 && options.repetitions > 0;
}

Result<std::unique_ptr<client::Admin>> adminOf(const std::string& endpoint) {
    client::ClientOptions options;
    options.endpoint = endpoint;
    options.client = "depot-bench-admin";
    auto connection = client::Connection::connect(options);
    if (!connection) return connection.status();
    return std::make_unique<client::Admin>(*connection);
}

Status declare(client::Admin& admin, const Row& row) {
    broker::QueueSpec spec;
    spec.name = row.queue;
    spec.policy.flush = broker::FlushMode::Sync;
    spec.policy.replication = row.replication;
    spec.policy.replicaTimeout = broker::Millis(10000);
    return admin.declareQueue(spec).status();
}

// Until the replica has acknowledged everything the primary holds (the definitions included).
Status waitCaughtUp(client::Admin& primary, client::Admin& replica) {
    for (int i = 0; i < 600; ++i) {
        auto p = primary.replicationStatus();
        auto r = replica.replicationStatus();
        if (!p || !r) return !p ? p.status() : r.status();
        if (r->connected && r->durableOffset == p->durableOffset && replica.showQueue("bench.repl.sync").isOk())
            return Status::ok();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Status::timedOut("the replica did not catch up within 60 s");
}

double percentileUs(const WireMeasurement& m, double p) {
    return m.client.latency && m.client.latency->count() ? double(m.client.latency->percentile(p)) / 1000.0 : -1;
}

// "median (min-max)" of one figure over the runs.
template <typename Figure>
std::string spread(const std::vector<WireMeasurement>& runs, Figure figure, const char* format) {
    std::vector<double> values;
    for (const WireMeasurement& run : runs) values.push_back(figure(run));
    std::sort(values.begin(), values.end());
    char text[96];
    char one[32], low[32], high[32];
    std::snprintf(one, sizeof one, format, values[values.size() / 2]);
    std::snprintf(low, sizeof low, format, values.front());
    std::snprintf(high, sizeof high, format, values.back());
    std::snprintf(text, sizeof text, values.size() > 1 ? "%s (%s-%s)" : "%s", one, low, high);
    return text;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

void printTable(const Options& options, const std::vector<Row>& rows) {
    std::printf("\n%-24s %-26s %-24s %-24s\n", "row", "msgs/s median (min-max)", "p50 us", "p99 us");
    for (const Row& row : rows)
        std::printf("%-24s %-26s %-24s %-24s\n", row.name,
                    spread(row.runs, [](const WireMeasurement& m) { return m.client.recordsPerSecond(); }, "%.0f").c_str(),
                    spread(row.runs, [](const WireMeasurement& m) { return percentileUs(m, 50); }, "%.0f").c_str(),
                    spread(row.runs, [](const WireMeasurement& m) { return percentileUs(m, 99); }, "%.0f").c_str());
    std::vector<double> plain, replicated;
    for (const WireMeasurement& m : rows[0].runs) plain.push_back(m.client.recordsPerSecond());
    for (const WireMeasurement& m : rows[1].runs) replicated.push_back(m.client.recordsPerSecond());
    if (median(plain) > 0)
        std::printf("\nsync replication / no replication (medians): %.2f at %d in flight, %d repetitions of %.1f s\n",
                    median(replicated) / median(plain), options.window, options.repetitions, options.seconds);
}

}  // namespace

int runReplicationBench(int argc, char** argv) {
    Options options;
    if (int exitCode = parseCommandLine(argc, argv, options, printUsage, parseOptions); exitCode >= 0)
        return exitCode;
    const std::string scratch = BenchEnvironment::makeScratchDir(options.parentDir, "replication");
    if (scratch.empty()) return 1;
    auto cleanup = [&] {
        std::error_code ignored;
        std::filesystem::remove_all(scratch, ignored);
    };
    auto primary = DepotdProcess::start(options.depotd, scratch + "/primary", kStartTimeout);
    if (!primary) {
        std::fprintf(stderr, "depot-bench replication: cannot start the primary: %s\n", primary.status().toString().c_str());
        cleanup();
        return 1;
    }
    auto replica = DepotdProcess::start(options.depotd, scratch + "/replica", kStartTimeout,
                                        {"--replica-of", (*primary)->endpoint(), "--replica-name", "bench-replica"});
    if (!replica) {
        std::fprintf(stderr, "depot-bench replication: cannot start the replica: %s\n", replica.status().toString().c_str());
        cleanup();
        return 1;
    }
    const FileSystemInfo fs = BenchEnvironment::fileSystemOf(scratch);
    std::printf("Depot replication benchmark: confirmed publish, 1 KiB persistent messages, %d in flight%s\n",
                options.window, options.quick ? " (--quick: smoke run, not a result)" : "");
    std::printf("primary     %s, replica %s (--replica-of), both on this machine\n", (*primary)->endpoint().c_str(),
                (*replica)->endpoint().c_str());
    std::printf("data        %s on %s (%s)\n", scratch.c_str(), fs.type.c_str(), fs.device.c_str());
    std::printf("machine     %s, %u logical CPUs, %s, load average %s at start\n", BenchEnvironment::cpuModel().c_str(),
                BenchEnvironment::cpuCount(), BenchEnvironment::kernel().c_str(), BenchEnvironment::loadAverage().c_str());
    std::fflush(stdout);

    std::vector<Row> rows = {{"sync flush, no replica", "bench.repl.none", broker::Replication::None, {}},
                             {"sync flush + sync repl", "bench.repl.sync", broker::Replication::Sync, {}}};
    Status status;
    auto primaryAdmin = adminOf((*primary)->endpoint());
    auto replicaAdmin = adminOf((*replica)->endpoint());
    if (!primaryAdmin || !replicaAdmin) status = !primaryAdmin ? primaryAdmin.status() : replicaAdmin.status();
    for (const Row& row : rows)
        if (status) status = declare(**primaryAdmin, row);
    if (status) status = waitCaughtUp(**primaryAdmin, **replicaAdmin);
    // Rows take turns, so a drift of the machine's fsync latency hits both alike.
    for (int repetition = 0; status && repetition < options.repetitions; ++repetition)
        for (Row& row : rows) {
            WireSetup setup;
            setup.endpoint = (*primary)->endpoint();
            setup.queue = row.queue;
            setup.warmup = std::chrono::duration<double>(options.warmup);
            setup.measure = std::chrono::duration<double>(options.seconds);
            auto measured = measurePublish(setup, options.window);
            if (!measured) {
                status = measured.status();
                break;
            }
            std::fprintf(stderr, "  %s, run %d: %.0f msgs/s\n", row.name, repetition + 1,
                         measured->client.recordsPerSecond());
            row.runs.push_back(std::move(*measured));
        }
    if (status) {
        auto replication = (*primaryAdmin)->replicationStatus();
        if (replication && !replication->replicas.empty())
            std::printf("replica     acknowledged offset %llu of %llu; sync publishes nacked for want of a replica: %llu\n",
                        static_cast<unsigned long long>(replication->replicas[0].ackedOffset),
                        static_cast<unsigned long long>(replication->durableOffset),
                        static_cast<unsigned long long>(replication->nackedForReplica));
    }
    primaryAdmin = Status::closed("done");
    replicaAdmin = Status::closed("done");
    (void)(*replica)->stop(kStopTimeout);
    (void)(*primary)->stop(kStopTimeout);
    cleanup();
    if (!status) {
        std::fprintf(stderr, "depot-bench replication: %s\n", status.toString().c_str());
        return 1;
    }
    printTable(options, rows);
    std::printf("p50/p99: the client's sendAsync() -> confirm round trip. Ratio < 1: what the replica costs.\n");
    std::printf("depot-bench replication: done\n");
    return 0;
}

}  // namespace depot::bench
