#pragma once
// `depot-bench compare` (issue 8): Depot side by side with its peers in one run: RabbitMQ (--peer rabbitmq,
// classic and quorum queues through rabbitmq-c) and the physical limits (--peer raw: pre-zeroed writes + one
// fdatasync, a bare ZeroMQ ack loop with and without a group commit). Every cell of a workload measures each
// system in turn, repetition after repetition, so a drift of the machine hits all alike; the table gives the
// median, the spread and Depot's ratio to each (docs/benchmarks.md, "Compare").

namespace depot::bench {

// argv[0] is "compare". Returns the process exit code.
int runCompareBench(int argc, char** argv);

}  // namespace depot::bench
