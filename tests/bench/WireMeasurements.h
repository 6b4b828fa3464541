#pragma once
// The measurements behind `depot-bench wire`: a depotd process driven over TCP with the C++ client library
// (depot/client), as an application would, and the bare ZeroMQ round trip underneath it for comparison.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "StorageMeasurements.h"
#include "depot/LatencyHistogram.h"
#include "depot/Result.h"

namespace depot::bench {

struct WireSetup {
    std::string endpoint;              // a running depotd
    std::string queue = "bench.wire";  // durable, sync flush; declared by declareWireQueue()
    size_t messageSize = 1024;         // body bytes
    bool asyncFlush = false;           // the queue confirms before its fdatasync (flush async)
    bool persistent = true;            // false: transient messages (never written, even to a durable queue)
    // Non-empty: publishes go to this exchange (routing key "") and these queues are purged afterwards instead.
    std::string exchange;
    std::vector<std::string> fanoutQueues;
    std::chrono::duration<double> warmup{0.5};
    std::chrono::duration<double> measure{4.0};
    uint64_t prefill = 100'000;  // messages queued before the consume row
    uint32_t prefetch = 100;
};

// A row of the table: what the client measured, and what the broker reported about the same span
// (ADMIN stats before and after, including the warm-up).
struct WireMeasurement {
    Measurement client;                             // latency: the client's round trip, ns
    std::optional<LatencyHistogram> brokerConfirm;  // the broker's publish → confirm, ns
    std::optional<LatencyHistogram> brokerFsync;    // the broker's commit log fdatasync rounds, ns
    double messagesPerSync = 0;                     // messages / the broker's fdatasync rounds; 0 = none
};

// Declares setup.queue (durable, flush sync or async, defaults otherwise) and purges it.
Status declareWireQueue(const WireSetup& setup);
// Declares a fanout exchange named setup.exchange bound to setup.fanoutQueues, each declared as above.
Status declareWireFanout(const WireSetup& setup);

// Publishes `count` confirmed messages of setup.messageSize to setup.queue, 1000 in flight; `seconds`: how long.
Status fillQueue(const WireSetup& setup, uint64_t count, double& seconds);
struct Backlog {
    uint64_t depth = 0;     // ready + unacked + delayed messages of setup.queue (ADMIN queue.show)
    uint64_t logBytes = 0;  // the commit log's written offset: record bytes since the log began (ADMIN stats)
};
Result<Backlog> readBacklog(const WireSetup& setup);

// Confirmed publishes of 1 KiB persistent messages to setup.queue on a connection of its own: one driver thread
// keeps `window` Producer::sendAsync calls unanswered for setup.warmup (not counted), then setup.measure; it then
// stops sending and waits for the outstanding answers. Counted: the messages sent during the measured time.
// Latency: sendAsync() call → its callback. messagesPerSync: over the whole row. The queue is
// purged afterwards (untimed). Any unconfirmed or nacked message fails the row.
Result<WireMeasurement> measurePublish(const WireSetup& setup, int window);

// Queues setup.prefill messages (publish window 1000, untimed), then one Consumer (push style, manual ack,
// setup.prefetch) on a connection of its own acks each message by returning from its handler. Time: subscribe()
// call → the broker reports the queue empty (nothing ready, nothing unacked). No latency.
Result<WireMeasurement> measureConsumeAck(const WireSetup& setup);

// Publish -> deliver latency at a fixed rate: one producer connection sends `rate` messages a second (paced,
// confirms counted but not waited for), one Consumer (push, manual ack, setup.prefetch) on another receives them.
// Each body carries its send time (steady clock, this process); latency: sendAsync() call -> the handler. Counted:
// messages sent after the warm-up. Fails on any nack or a message not delivered within 60 s of the end.
Result<Measurement> measureEndToEnd(const WireSetup& setup, double rate);

// The floor under both: a bare ZeroMQ DEALER → ROUTER echo over TCP loopback between two threads of this process,
// `window` messages in flight, each the shape of a PUBLISH (12-byte envelope, 64-byte header, `messageSize` body).
// Latency: send → echo received. With `journalDir`: the group-commit floor; the echo side takes in everything
// readable, writes the bodies with one pwrite into a pre-zeroed file there and fdatasyncs once before echoing
// them (Measurement::syncs counts the fdatasyncs of the measured time).
Result<Measurement> measureZmqEcho(int window, size_t messageSize, std::chrono::duration<double> warmup,
                                   std::chrono::duration<double> measure, const std::string& journalDir = {});

}  // namespace depot::bench
