// depotd: the headless Depot process. It opens (and so recovers) the broker in its data directory, reports what
// recovery found, puts it on the network (docs/protocol.md) and serves until SIGTERM or SIGINT.

#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "depot/BuildInfo.h"
#include "depot/Result.h"
#include "depot/Status.h"
#include "depot/broker/Broker.h"
#include "depot/server/Server.h"
#include "DepotdOptions.h"

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
using depotd::Options;

// Blocked in every thread (the commit log's threads inherit the mask), so only sigwait() sees them.
sigset_t blockStopSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

// Returns the signal received. sigwait() fails only for an invalid set; stopping then beats spinning.
int waitForStopSignal(const sigset_t& set) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0)
        return SIGTERM;
    return signal;
}

void printRecoveryReport(const depot::storage::RecoveryReport& report) {
    const double elapsedMs = double(report.elapsed.count()) / 1000.0;
    std::printf(
        "recovery: scanned %llu records (%llu bytes; checkpoint at offset %llu) in %.1f ms; torn tail truncated: "
        "%llu bytes%s; empty segments of a crashed roll removed: %zu; corrupt ranges quarantined: %zu\n",
        static_cast<unsigned long long>(report.scannedRecords), static_cast<unsigned long long>(report.scannedBytes),
        static_cast<unsigned long long>(report.checkpointOffset), elapsedMs,
        static_cast<unsigned long long>(report.truncatedBytes),
        report.zeroedStaleTail ? " (stale unsynced tail zeroed)" : "", report.removedEmptySegments,
        report.corrupt.size());
    for (const depot::storage::CorruptRange& range : report.corrupt) {
        std::fprintf(stderr, "depotd: corrupt range [%llu, %llu) in %s quarantined, never served: %s\n",
                     static_cast<unsigned long long>(range.begin), static_cast<unsigned long long>(range.end),
                     range.segment.c_str(), range.reason.c_str());
    }
    std::fflush(stdout);
}

// Opens (recovering) the broker, waits for a stop signal, closes it. Returns the process exit code.
int serve(const Options& options, const sigset_t& stopSignals) {
    depot::broker::BrokerOptions brokerOptions;
    brokerOptions.dataDir = options.dataDir;
    brokerOptions.trace = options.trace;
    brokerOptions.replicaOf = options.replicaOf;
    brokerOptions.replicaName = options.replicaName;
    if (depot::Status keys = depotd::loadPeerKeys(options, brokerOptions); !keys) {
        std::fprintf(stderr, "depotd: %s\n", keys.message().c_str());
        return kExitError;
    }
    if (options.segmentSize)
        brokerOptions.segmentSize = *options.segmentSize;
    auto opened = depot::broker::Broker::open(brokerOptions);
    if (!opened) {
        std::fprintf(stderr, "depotd: cannot open the broker in %s: %s\n", options.dataDir.c_str(),
                     opened.status().toString().c_str());
        return kExitError;
    }
    std::unique_ptr<depot::broker::Broker> broker = std::move(opened).value();
    printRecoveryReport(broker->recoveryReport());
    const depot::broker::BrokerStats stats = broker->stats();
    if (stats.logReadOnly)
        std::fprintf(stderr, "depotd: the commit log is read-only: %s\n", stats.logFailure.c_str());
    uint64_t messages = 0;
    for (const depot::broker::QueueStats& queue : stats.queues)
        messages += queue.ready + queue.delayed + queue.unacked;
    std::printf("depotd ready: data %s (%zu queues, %llu messages; commit log at offset %llu, durable %llu)\n",
                options.dataDir.c_str(), stats.queues.size(), static_cast<unsigned long long>(messages),
                static_cast<unsigned long long>(stats.logWrittenOffset),
                static_cast<unsigned long long>(stats.logDurableOffset));
    if (!options.replicaOf.empty())
        std::printf("depotd is a read-only replica of %s (promote it with `depotctl replica promote`)\n",
                    options.replicaOf.c_str());
    std::fflush(stdout);

    depot::server::ServerOptions serverOptions;
    serverOptions.endpoints = options.listen;
    if (options.maxConnections) serverOptions.maxConnections = *options.maxConnections;
    if (options.maxUnconfirmed) serverOptions.maxUnconfirmed = *options.maxUnconfirmed;
    serverOptions.log = [](std::string_view line) { std::fprintf(stderr, "%.*s\n", int(line.size()), line.data()); };
    depot::Status keys = depotd::loadKeys(options, serverOptions);
    auto server = keys ? depot::server::Server::start(*broker, serverOptions)
                       : depot::Result<std::unique_ptr<depot::server::Server>>(keys);
    if (!server) {
        std::fprintf(stderr, "depotd: cannot listen: %s\n", server.status().message().c_str());
        return kExitError;
    }
    if (options.insecure && serverOptions.curveSecretKey.empty())
        std::fprintf(stderr, "depotd: WARNING: --insecure: no authentication; anyone who reaches %s is admin\n",
                     options.listen.front().c_str());
    for (const std::string& endpoint : (*server)->endpoints()) std::printf("depotd listening on %s\n", endpoint.c_str());
    std::fflush(stdout);

    const int signal = waitForStopSignal(stopSignals);
    std::printf("depotd: %s received, closing the broker\n", signal == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    (*server)->stop();  // answers what it received (confirms after their fdatasync), then closes the sessions
    // close() flushes the log and the catalog; report a failed final sync rather than hide it.
    const depot::Status synced = broker->sync();
    const depot::Status closed = broker->close();
    if (!synced || !closed) {
        std::fprintf(stderr, "depotd: stopped, but the final flush failed: %s\n",
                     (!synced ? synced : closed).toString().c_str());
        return kExitError;
    }
    std::printf("depotd stopped cleanly\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = depotd::parseArguments(argc, argv);
    if (!parsed) {
        std::fprintf(stderr, "depotd: %s\n%s\n", parsed.status().message().c_str(), depotd::kUsage);
        return kExitUsage;
    }
    const Options& options = parsed.value();
    if (options.help) {
        std::printf("%s\n", depotd::kUsage);
        return 0;
    }
    if (options.version) {
        std::printf("%s\n", depot::buildInfoText().c_str());
        return 0;
    }
    const sigset_t stopSignals = blockStopSignals();
    return serve(options, stopSignals);
}
