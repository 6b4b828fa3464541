#pragma once
// `depot-bench replication`: confirmed publish to a queue with sync replication to one replica on the same
// machine (two depotd processes over TCP loopback), beside the same publish without replication, in the same run
// and interleaved (docs/benchmarks.md, "Replication").

namespace depot::bench {

// argv[0] is "replication". Returns the process exit code.
int runReplicationBench(int argc, char** argv);

}  // namespace depot::bench
