#pragma once
// The RabbitMQ peer of `depot-bench compare` (issue 8): a RabbitMQ node driven through rabbitmq-c (librabbitmq)
// with the guarantees Depot's rows give: durable queues (classic or quorum), persistent messages (delivery mode
// 2), publisher confirms, manual acks. tests/bench/rabbitmq-local.sh starts such a node on loopback.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "StorageMeasurements.h"
#include "depot/Result.h"

namespace depot::bench {

struct AmqpTarget {
    std::string host = "127.0.0.1";
    int port = 5699;
    std::string user = "guest";
    std::string password = "guest";
};

enum class AmqpQueueType { Classic, Quorum };
std::string_view toString(AmqpQueueType type);

// "amqp://HOST:PORT" (what rabbitmq-local.sh prints) -> target; an error names what is wrong.
Result<AmqpTarget> parseAmqpUrl(const std::string& url);

struct AmqpPublishSetup {
    std::string queue;
    AmqpQueueType type = AmqpQueueType::Quorum;
    size_t messageSize = 1024;
    int window = 64;          // published and not yet confirmed
    bool persistent = true;   // delivery mode 2 (1: transient)
    std::chrono::duration<double> warmup{0.5};
    std::chrono::duration<double> measure{4.0};
    int fanout = 0;           // > 0: publish to a durable fanout exchange bound to this many queues `queue`.N
};

// Declares setup.queue afresh (deleted first; with fanout, the exchange and its queues), then keeps `window` confirmed publishes outstanding on one
// channel for warm-up and then the measured time, and waits for the rest. Counted: messages published during the
// measured time. Latency: basic.publish written -> the basic.ack covering it. A nack fails the row.
Result<Measurement> measureAmqpPublish(const AmqpTarget& target, const AmqpPublishSetup& setup);

// Declares `queue` afresh, queues `prefill` persistent messages (confirmed, untimed), then one consumer with
// basic.qos `prefetch` acks each delivery singly. Time: basic.consume -> the last ack processed (a passive
// declare after it answers once the channel got that far, and must report the queue empty).
Result<Measurement> measureAmqpConsumeAck(const AmqpTarget& target, const std::string& queue, AmqpQueueType type,
                                          size_t messageSize, uint64_t prefill, uint32_t prefetch);

// Publish -> deliver latency at a fixed rate: a publisher connection sends `rate` persistent messages a second
// (paced, confirms read between sends, a nack fails the run) to a fresh durable queue, a consumer connection on a
// thread of its own (basic.qos `prefetch`, one basic.ack per delivery) receives them. Each body carries its send
// time; counted: messages sent after the warm-up.
Result<Measurement> measureAmqpEndToEnd(const AmqpTarget& target, const std::string& queue, AmqpQueueType type,
                                        size_t messageSize, double rate, uint32_t prefetch,
                                        std::chrono::duration<double> warmup, std::chrono::duration<double> measure);

}  // namespace depot::bench
