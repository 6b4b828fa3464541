// depot-bench: Depot's benchmarks, one subcommand each. A benchmark is a program, not a timed test: it prints
// numbers for a person (or --json for a script) and asserts nothing about speed.

#include <cstdio>
#include <cstring>

#include "BrokerBench.h"
#include "CompareBench.h"
#include "ReplicationBench.h"
#include "StorageBench.h"
#include "WireBench.h"

namespace {

struct Subcommand {
    const char* name;
    const char* summary;
    int (*run)(int argc, char** argv);  // argv[0] is the subcommand's name
};

// New benchmarks add a line here.
constexpr Subcommand kSubcommands[] = {
    {"storage", "commit log: SYNC/ASYNC appends, durable latency, recovery, raw fdatasync baseline",
     depot::bench::runStorageBench},
    {"broker", "in-process broker: publish->confirm (sync/async), publish->deliver->ack, RAM per queued message",
     depot::bench::runBrokerBench},
    {"wire", "depotd over TCP with the client library: confirmed publish @1/64/1000, consume+ack, ZeroMQ floor",
     depot::bench::runWireBench},
    {"replication", "primary + replica depotd: confirmed publish with sync replication beside none, same run",
     depot::bench::runReplicationBench},
    {"compare", "Depot beside RabbitMQ (--peer rabbitmq) and the raw disk/socket limits (--peer raw), interleaved",
     depot::bench::runCompareBench},
};

void printUsage(FILE* out) {
    std::fprintf(out,
                 "usage: depot-bench <benchmark> [options]   (depot-bench <benchmark> --help for its options)\n\n");
    for (const Subcommand& subcommand : kSubcommands)
        std::fprintf(out, "  %-10s %s\n", subcommand.name, subcommand.summary);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        printUsage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const Subcommand& subcommand : kSubcommands) {
        if (!std::strcmp(argv[1], subcommand.name))
            return subcommand.run(argc - 1, argv + 1);
    }
    std::fprintf(stderr, "depot-bench: unknown benchmark '%s'\n\n", argv[1]);
    printUsage(stderr);
    return 2;
}
