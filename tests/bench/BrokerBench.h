#pragma once
// `depot-bench broker`: the in-process broker's publish→confirm and publish→deliver→ack throughput, next to the
// commit log's own figures measured in the same run, and the RAM each queued message costs. See
// docs/benchmarks.md.

namespace depot::bench {

// argv[0] is "broker". Returns the process exit code.
int runBrokerBench(int argc, char** argv);

}  // namespace depot::bench
