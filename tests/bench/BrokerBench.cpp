#include "BrokerBench.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "BenchArgs.h"
#include "BenchEnvironment.h"
#include "BrokerMeasurements.h"
#include "StorageMeasurements.h"
#include "depot/storage/CommitLog.h"

namespace depot::bench {

namespace {

constexpr int kInFlight = 64;

struct Options {
    std::string parentDir = "/var/tmp";
    uint64_t maxRecords = UINT64_MAX;
    uint64_t segmentSize = storage::kDefaultSegmentSize;
    double seconds = 4.0;
    int rounds = 8;
    uint64_t memoryMessages = 1'000'000;
    size_t memoryMessageSize = 100;
    std::vector<std::string> only;  // row name prefixes to run; empty = all
    bool trace = true;
    bool quick = false;
};

void printUsage(FILE* out) {
    std::fprintf(
        out,
        "usage: depot-bench broker [--dir PARENT] [--records N] [--segment-size BYTES] [--seconds S]\n"
        "                          [--rounds R] [--memory-messages M] [--only ROWS] [--no-trace] [--quick]\n"
        "  --dir PARENT          where the scratch directory depot-bench-XXXXXX is created (default /var/tmp);\n"
        "                        removed at the end\n"
        "  --records N           at most N messages per throughput row (default: time only)\n"
        "  --segment-size BYTES  commit log segment size (default 64 MiB)\n"
        "  --seconds S           time per throughput row, warm-up not included (default 4)\n"
        "  --rounds R            throughput rows take turns in R slices of S/R seconds each (default 8)\n"
        "  --memory-messages M   messages queued for the RAM measurement (default 1000000; 0 skips it)\n"
        "  --only ROWS           comma-separated row name prefixes, e.g. 'confirm,storage SYNC' or memory\n"
        "  --no-trace            brokers without the per-message trace (on by default in Depot)\n"
        "  --quick               a smoke run (0.2 s per row in 2 rounds, 20000 messages for RAM)\n");
}

bool parseOptions(int argc, char** argv, Options& options) {
    bool secondsGiven = false, roundsGiven = false, memoryGiven = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--quick") {
            options.quick = true;
        } else if (arg == "--no-trace") {
            options.trace = false;
        } else if (arg == "--dir" && hasValue) {
            options.parentDir = argv[++i];
        } else if (arg == "--records" && hasValue) {
            options.maxRecords = std::strtoull(argv[++i], nullptr, 10);
        } else if (arg == "--segment-size" && hasValue) {
            options.segmentSize = std::strtoull(argv[++i], nullptr, 10);
        } else if (arg == "--seconds" && hasValue) {
            options.seconds = std::strtod(argv[++i], nullptr);
            secondsGiven = true;
        } else if (arg == "--rounds" && hasValue) {
            options.rounds = std::atoi(argv[++i]);
            roundsGiven = true;
        } else if (arg == "--memory-messages" && hasValue) {
            options.memoryMessages = std::strtoull(argv[++i], nullptr, 10);
            memoryGiven = true;
        } else if (arg == "--only" && hasValue) {
            for (std::string& item : splitList(argv[++i]))
                options.only.push_back(std::move(item));
        } else {
            std::fprintf(stderr, "depot-bench broker: unknown or incomplete option '%s'\n", arg.c_str());
            return false;
        }
    }
    if (options.quick && !secondsGiven)
        options.seconds = 0.2;
    if (options.quick && !roundsGiven)
        options.rounds = 2;
    if (options.quick && !memoryGiven)
        options.memoryMessages = 20'000;
    return options.maxRecords > 0 && options.rounds > 0 && options.seconds > 0 && options.segmentSize > 0;
}

bool wanted(const Options& options, const std::string& name) {
    if (options.only.empty())
        return true;
    for (const std::string& prefix : options.only)
        if (name.compare(0, prefix.size(), prefix) == 0)
            return true;
    return false;
}

// A throughput row under the name this benchmark shows (the storage rows carry their own names).
struct NamedRow {
    std::string name;
    std::unique_ptr<ThroughputRow> row;
};

Result<std::vector<NamedRow>> makeRows(const Options& options, const StorageSetup& storage, const BrokerSetup& broker) {
    using broker::FlushMode;
    struct Maker {
        std::string name;
        std::function<Result<std::unique_ptr<ThroughputRow>>()> make;
    };
    const std::string n = "@" + std::to_string(kInFlight);
    const Maker makers[] = {
        {"storage SYNC" + n, [&] { return makeSyncAppendRow(storage, kInFlight); }},
        {"storage ASYNC", [&] { return makeAsyncAppendRow(storage); }},
        {"confirm sync" + n, [&] { return makeConfirmRow(broker, FlushMode::Sync); }},
        {"confirm async" + n, [&] { return makeConfirmRow(broker, FlushMode::Async); }},
        {"deliver+ack sync" + n, [&] { return makeDeliverAckRow(broker, FlushMode::Sync, AckFrom::ConsumerThread); }},
        {"deliver+ack async" + n, [&] { return makeDeliverAckRow(broker, FlushMode::Async, AckFrom::ConsumerThread); }},
        {"deliver+ack sync" + n + " handler",
         [&] { return makeDeliverAckRow(broker, FlushMode::Sync, AckFrom::Handler); }},
    };
    std::vector<NamedRow> rows;
    for (const Maker& maker : makers) {
        if (!wanted(options, maker.name))
            continue;
        auto made = maker.make();
        if (!made.isOk())
            return made.status();
        rows.push_back({maker.name, std::move(made.value())});
    }
    return rows;
}

// The rows take turns, in alternating order, so that a slow or fast spell of the machine is shared by all of them
// (the storage benchmark's scheme, docs/benchmarks.md).
Status runThroughputRows(const Options& options, const std::string& dir, std::vector<Measurement>& results) {
    StorageSetup storage;
    storage.scratchDir = dir;
    storage.segmentSize = options.segmentSize;
    BrokerSetup broker;
    broker.scratchDir = dir;
    broker.segmentSize = options.segmentSize;
    broker.inFlight = kInFlight;
    broker.trace = options.trace;
    auto made = makeRows(options, storage, broker);
    if (!made.isOk())
        return made.status();
    std::vector<NamedRow>& rows = made.value();
    Budget slice;
    slice.time = std::chrono::duration<double>(options.seconds / options.rounds);
    if (options.maxRecords != UINT64_MAX)
        slice.maxRecords = std::max<uint64_t>(1, options.maxRecords / uint64_t(options.rounds));
    for (int round = -1; round < options.rounds; ++round) {
        for (size_t i = 0; i < rows.size(); ++i) {
            ThroughputRow& row = *rows[round % 2 == 0 ? i : rows.size() - 1 - i].row;
            BenchEnvironment::settle(dir, std::chrono::seconds(2));
            DEPOT_RETURN_IF_ERROR(row.runSlice(slice, round >= 0));
        }
    }
    for (const NamedRow& row : rows) {
        Measurement result = row.row->result();
        result.name = row.name;
        std::fprintf(stderr, "  %-32s %12.0f msgs/s\n", result.name.c_str(), result.recordsPerSecond());
        results.push_back(std::move(result));
    }
    return Status::ok();
}

Status runMemory(const Options& options, const std::string& dir, std::vector<MemoryMeasurement>& results) {
    if (options.memoryMessages == 0 || !wanted(options, "memory"))
        return Status::ok();
    BrokerSetup setup;
    setup.scratchDir = dir;
    setup.segmentSize = options.segmentSize;
    setup.trace = options.trace;
    for (bool dedup : {true, false}) {
        auto measured = measureQueuedMemory(setup, options.memoryMessages, options.memoryMessageSize, dedup);
        if (!measured.isOk())
            return measured.status();
        std::fprintf(stderr, "  memory%-26s %12.1f B/msg\n", dedup ? "" : " (dedup off)", measured->bytesPerMessage());
        results.push_back(*measured);
    }
    return Status::ok();
}

std::string micros(const Measurement& row, double percentile) {
    if (!row.latency || row.latency->count() == 0)
        return "-";
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", double(row.latency->percentile(percentile)) / 1000.0);
    return text;
}

double rateOf(const std::vector<Measurement>& rows, const std::string& name) {
    for (const Measurement& row : rows)
        if (row.name == name)
            return row.recordsPerSecond();
    return 0;
}

void printHeader(const Options& options, const std::string& dir) {
    const FileSystemInfo fs = BenchEnvironment::fileSystemOf(dir);
    std::printf("Depot broker benchmark (in-process): 1 KiB messages, %d publishes in flight%s\n", kInFlight,
                options.quick ? " (--quick: smoke run, not a result)" : "");
    std::printf("dir         %s (removed at the end)\n", dir.c_str());
    std::printf("filesystem  %s (statfs magic 0x%" PRIx64 ") on %s [%s], mounted at %s (%s)\n", fs.type.c_str(),
                fs.magic, fs.device.c_str(), fs.majorMinor.c_str(), fs.mountPoint.c_str(), fs.mountOptions.c_str());
    std::printf("machine     %s, %u logical CPUs, %s, load average %s at start\n", BenchEnvironment::cpuModel().c_str(),
                BenchEnvironment::cpuCount(), BenchEnvironment::kernel().c_str(),
                BenchEnvironment::loadAverage().c_str());
    std::printf("settings    segment size %" PRIu64
                " B; trace %s; throughput rows: %.1f s each, in %d interleaved "
                "slices after one warm-up slice\n\n",
                options.segmentSize, options.trace ? "on" : "off", options.seconds, options.rounds);
}

void printRows(const std::vector<Measurement>& rows) {
    std::printf("%-32s %10s %8s %8s %8s %10s  %s\n", "row", "msgs/s", "MB/s", "p50 us", "p99 us", "msgs/sync", "note");
    for (const Measurement& row : rows) {
        char perSync[32] = "-";
        if (row.syncs)
            std::snprintf(perSync, sizeof perSync, "%.1f", double(row.records) / double(row.syncs));
        std::printf("%-32s %10.0f %8.1f %8s %8s %10s  %s\n", row.name.c_str(), row.recordsPerSecond(),
                    row.megabytesPerSecond(), micros(row, 50).c_str(), micros(row, 99).c_str(), perSync,
                    row.note.c_str());
    }
    const std::string n = "@" + std::to_string(kInFlight);
    for (auto [broker, storage] : {std::pair{"confirm sync" + n, "storage SYNC" + n},
                                   std::pair{"confirm async" + n, std::string("storage ASYNC")}}) {
        const double a = rateOf(rows, broker), b = rateOf(rows, storage);
        if (a > 0 && b > 0)
            std::printf("\n%s / %s = %.1f%%", broker.c_str(), storage.c_str(), 100 * a / b);
    }
    std::printf(
        "\nMB = 10^6 payload bytes; latency: confirm rows publish() → confirm handler, deliver+ack rows "
        "publish() → ack() returned.\n");
}

void printMemory(const std::vector<MemoryMeasurement>& results) {
    for (const MemoryMeasurement& m : results) {
        std::printf("\nRAM per queued message (%" PRIu64
                    " x %zu B persistent, async flush, no consumer, dedup %s): "
                    "VmRSS %.1f -> %.1f MB (+%.1f MB), %" PRIu64 " queued, published in %.1f s, %" PRIu64
                    " trace events dropped\n",
                    m.messages, m.messageSize, m.dedup ? "on (5 min window)" : "off", double(m.rssBeforeBytes) / 1e6,
                    double(m.rssAfterBytes) / 1e6, double(m.deltaBytes()) / 1e6, m.queued, m.seconds, m.traceDropped);
        std::printf("  delta / count = %.1f B/msg; (delta - payload) / count = %.1f B/msg\n", m.bytesPerMessage(),
                    m.bytesPerMessageWithoutPayload());
    }
}

}  // namespace

int runBrokerBench(int argc, char** argv) {
    Options options;
    if (int exitCode = parseCommandLine(argc, argv, options, printUsage, parseOptions); exitCode >= 0)
        return exitCode;
    const std::string dir = BenchEnvironment::makeScratchDir(options.parentDir, "broker");
    if (dir.empty())
        return 1;
    printHeader(options, dir);
    std::fflush(stdout);

    // RAM first, while the heap holds nothing of earlier measurements.
    std::vector<MemoryMeasurement> memory;
    std::vector<Measurement> rows;
    Status status = runMemory(options, dir, memory);
    if (status.isOk())
        status = runThroughputRows(options, dir, rows);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    if (!status.isOk()) {
        std::fprintf(stderr, "depot-bench broker: %s\n", status.toString().c_str());
        return 1;
    }
    printRows(rows);
    printMemory(memory);
    std::printf("depot-bench broker: done\n");
    return 0;
}

}  // namespace depot::bench
