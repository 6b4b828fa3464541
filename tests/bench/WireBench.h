#pragma once
// `depot-bench wire`: depotd over TCP, driven by the C++ client library: confirmed publish throughput and latency
// with 1, 64 and 1000 messages in flight, consume with a manual ack per message, and the bare ZeroMQ round trip
// as the floor. See docs/benchmarks.md.

namespace depot::bench {

// argv[0] is "wire". Returns the process exit code.
int runWireBench(int argc, char** argv);

}  // namespace depot::bench
