#pragma once
// Consumer: one subscription to one queue (docs/protocol.md, CONSUME/DELIVER/ACK/NACK/CANCEL).
//
// Push style (subscribe): the handler runs on the consumer's own thread, one delivery at a time, so a slow
// handler never delays heartbeats. With manual acks (the default):
// - the handler returns normally → the delivery is acked;
// - the handler throws → nacked with requeue (a retry after the queue's backoff) with the exception's what() as
//   the error text; it is never acked;
// - the handler decides itself through the DeliveryContext: ack(), retry(error) or reject(error) (dead-letter
//   now); the decision is applied when the handler returns (a throw after ack() still retries).
// Pull style (open): receive() deliveries and settle each with ack()/nack(), or ackDurable()/nackDurable() to
// wait until the settlement is durable (then the message is never delivered again, even after a broker crash).
//
// Delivery numbering: Delivery::consumer is this Consumer's id() and Delivery::tag a tag unique within the
// connection; they are not the broker's numbers, which change when a session is re-established. A delivery
// from a session that has since ended cannot be settled: the broker delivers it again (redelivered = true). The
// deliveries of a lost session not yet handed to the handler or to receive() are dropped for the same reason.
//
// autoAck: the broker settles each message as it sends it: a crash loses it (for demonstrations). Deliveries
// then wait in the client's memory until handled, without bound; settling them does nothing.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "depot/Result.h"
#include "depot/broker/Message.h"
#include "depot/client/ClientOptions.h"

namespace depot::client {

class Connection;
class Subscription;

struct ConsumerOptions {
    std::string queue;
    uint32_t prefetch = 100;  // unacked deliveries at once, 1 … the broker's maxPrefetch
    bool autoAck = false;
    std::string name;  // shown in the console's sessions view
    // Deliveries in all, then none (0: no limit), so a consumer that wants N messages is not sent more that it
    // would hand back with an attempt counted. Counted per CONSUME: after a reconnect the count starts again.
    uint64_t limit = 0;
};

// What a push handler decided for its delivery.
class DeliveryContext {
public:
    enum class Decision { None, Ack, Retry, Reject };

    void ack() { decide(Decision::Ack, {}); }
    void retry(std::string error) { decide(Decision::Retry, std::move(error)); }    // nack, requeue
    void reject(std::string error) { decide(Decision::Reject, std::move(error)); }  // nack, dead-letter now

    Decision decision() const { return m_decision; }
    const std::string& error() const { return m_error; }

private:
    void decide(Decision decision, std::string error) {
        m_decision = decision;
        m_error = std::move(error);
    }
    Decision m_decision = Decision::None;
    std::string m_error;
};

using DeliveryHandler = std::function<void(const broker::Delivery& delivery, DeliveryContext& context)>;

class Consumer {
public:
    // Consumes `options.queue` and runs `handler` for each delivery on a new thread. Waits for the broker's
    // answer to CONSUME (NotFound: no such queue).
    static Result<std::unique_ptr<Consumer>> subscribe(std::shared_ptr<Connection> connection, ConsumerOptions options,
                                                       DeliveryHandler handler);
    // Pull style: deliveries wait for receive().
    static Result<std::unique_ptr<Consumer>> open(std::shared_ptr<Connection> connection, ConsumerOptions options);
    ~Consumer();  // close()
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    uint64_t id() const;
    const ConsumerOptions& options() const;

    // Pull style. nullopt when nothing arrived within `timeout`, or the consumer is closed or failed (status()).
    std::optional<broker::Delivery> receive(Millis timeout);
    // Settle asynchronously (acks are batched). OK means handed over; Closed once the connection is closed.
    // After close() settling does nothing: the cancelled consumer's unacked deliveries are redelivered.
    Status ack(const broker::Delivery& delivery);
    Status nack(const broker::Delivery& delivery, const broker::NackOptions& options = {});
    // Wait (requestTimeout) for the broker's reply that the settlement is durable. Unavailable when the session
    // that delivered it has ended (it will be delivered again) or it was settled already.
    Status ackDurable(const broker::Delivery& delivery);
    Status nackDurable(const broker::Delivery& delivery, const broker::NackOptions& options = {});

    // OK while consuming; the error when the broker refused to consume again after a reconnection (queue deleted).
    Status status() const;

    // Stops handing out deliveries, waits for a running handler to return (however long it takes) and for its
    // decision to be sent, then CANCELs (the broker redelivers what is unacked). Idempotent.
    Status close();

private:
    Consumer(std::shared_ptr<Connection> connection, std::shared_ptr<Subscription> subscription);
    static Result<std::unique_ptr<Consumer>> start(std::shared_ptr<Connection> connection, ConsumerOptions options,
                                                   DeliveryHandler handler);
    Status settle(const broker::Delivery& delivery, std::optional<broker::NackOptions> nack, bool durable);
    void runHandler(DeliveryHandler handler);

    std::shared_ptr<Connection> m_connection;
    std::shared_ptr<Subscription> m_subscription;
    struct Worker;
    std::unique_ptr<Worker> m_worker;
};

}  // namespace depot::client
