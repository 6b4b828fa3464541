#pragma once
// What holding a backlog costs a real depotd, and how fast it comes back after a crash: `depot-bench compare`'s
// "memory" and "recovery" workloads. One fresh depotd on its own data directory; `messages` confirmed publishes of
// `messageSize` bytes (persistent, async flush, 1000 in flight) into one durable queue; its VmRSS before and after
// (from /proc); then SIGKILL and a restart on the same directory, timed until it listens again, and the queue's
// depth checked: every confirmed message must be back.
#include <cstdint>
#include <string>
#include <vector>

#include "depot/Result.h"

namespace depot::bench {

struct ResourceMeasurement {
    uint64_t messages = 0;
    size_t messageSize = 0;
    double fillSeconds = 0;
    int64_t rssBefore = 0;   // VmRSS in bytes, the queue declared and empty
    int64_t rssAfter = 0;    // VmRSS in bytes, `messages` queued
    int64_t anonBefore = 0;  // RssAnon (the heap and stacks: not code or files mapped), the same two moments
    int64_t anonAfter = 0;
    uint64_t logBytes = 0;  // record bytes in the log after the fill (its written offset)
    double recoverySeconds = 0;  // SIGKILL done -> "listening" printed by the new depotd
    uint64_t depthAfterRecovery = 0;

    double rssPerMessage() const { return messages ? double(rssAfter - rssBefore) / double(messages) : 0; }
    double anonPerMessage() const { return messages ? double(anonAfter - anonBefore) / double(messages) : 0; }
    double recoveryMBps() const { return recoverySeconds > 0 ? double(logBytes) / 1e6 / recoverySeconds : 0; }
};

Result<ResourceMeasurement> measureDepotResources(const std::string& depotd,
                                                  const std::vector<std::string>& depotdArgs,
                                                  const std::string& dataDir, uint64_t messages, size_t messageSize);

}  // namespace depot::bench
