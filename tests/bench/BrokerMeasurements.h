#pragma once
// The measurements behind `depot-bench broker`: an in-process Broker (real clock, its own data directory under
// the scratch directory) driven through the public API only, as an application hosting it would.

#include <cstdint>
#include <memory>
#include <string>

#include "StorageMeasurements.h"
#include "depot/Result.h"
#include "depot/broker/Policy.h"

namespace depot::bench {

struct BrokerSetup {
    std::string scratchDir;
    uint64_t segmentSize = 0;
    size_t messageSize = 1024;  // body bytes
    int inFlight = 64;          // unconfirmed publishes the driver keeps outstanding
    uint32_t prefetch = 100;
    bool trace = true;  // the broker's per-message trace into SQLite (on by default in Depot)
};

enum class AckFrom {
    ConsumerThread,  // the delivery handler hands each delivery to a consumer thread, which calls ack()
    Handler,         // the delivery handler calls ack() itself, on the broker thread
};

// publish → confirm on a queue with the given flush mode: one driver thread keeps setup.inFlight publishes
// unconfirmed, refilling from the confirm handler's notifications. No consumer; the queue is purged after each
// slice (untimed). Latency: publish() call → confirm handler. syncs: the log's fdatasync rounds.
Result<std::unique_ptr<ThroughputRow>> makeConfirmRow(const BrokerSetup& setup, broker::FlushMode flush);

// publish → deliver → ack: the driver publishes as above while one consumer (prefetch setup.prefetch, manual ack)
// acks every message. records/s = acks per second; a slice ends when everything it published is acked.
// Latency: publish() call → ack() returned.
Result<std::unique_ptr<ThroughputRow>> makeDeliverAckRow(const BrokerSetup& setup, broker::FlushMode flush,
                                                         AckFrom ackFrom);

struct MemoryMeasurement {
    uint64_t messages = 0;
    size_t messageSize = 0;
    int64_t rssBeforeBytes = 0;  // VmRSS after open + declare
    int64_t rssAfterBytes = 0;   // VmRSS with every message confirmed, synced and queued
    uint64_t queued = 0;         // the queue's depth at the end, as the broker reports it
    double seconds = 0;          // publishing them all
    bool dedup = true;
    uint64_t traceDropped = 0;  // trace events the catalog writer refused while it fell behind

    int64_t deltaBytes() const { return rssAfterBytes - rssBeforeBytes; }
    double bytesPerMessage() const { return messages ? double(deltaBytes()) / double(messages) : 0; }
    double bytesPerMessageWithoutPayload() const {
        return messages ? (double(deltaBytes()) - double(messages * messageSize)) / double(messages) : 0;
    }
};

// RAM per queued message: publishes `messages` persistent messages of `messageSize` bytes to an async-flush queue
// with no consumer, and compares the process's VmRSS (/proc/self/status) before and after, each read after
// releaseFreeHeap() (glibc's malloc_trim or tcmalloc's release) so freed heap does not count. `dedup` false sets
// the queue's dedup window to 0.
Result<MemoryMeasurement> measureQueuedMemory(const BrokerSetup& setup, uint64_t messages, size_t messageSize,
                                              bool dedup);

}  // namespace depot::bench
