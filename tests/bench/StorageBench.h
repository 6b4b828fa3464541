#pragma once
// `depot-bench storage`: the commit log's throughput, durable latency and recovery speed, next to the raw
// pwrite + fdatasync baseline measured in the same directory. See docs/benchmarks.md.

namespace depot::bench {

// argv[0] is "storage". Returns the process exit code.
int runStorageBench(int argc, char** argv);

}  // namespace depot::bench
