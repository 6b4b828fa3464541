#include "depot/client/Consumer.h"

#include <atomic>
#include <thread>

#include "client/ClientCore.h"
#include "client/Subscription.h"
#include "client/Subscriptions.h"
#include "common/ThreadName.h"
#include "depot/client/Connection.h"

namespace depot::client {

namespace {

constexpr Millis kWaitGuard{2000};

uint64_t nextSubscriptionId() {
    static std::atomic<uint64_t> next{0};
    return ++next;
}

}  // namespace

struct Consumer::Worker {
    std::thread thread;
    std::mutex closeMutex;
    bool closed = false;
    Status closeStatus;
};

Result<std::unique_ptr<Consumer>> Consumer::subscribe(std::shared_ptr<Connection> connection, ConsumerOptions options,
                                                      DeliveryHandler handler) {
    if (!handler)
        return Status::invalidArgument("Consumer::subscribe needs a handler");
    return start(std::move(connection), std::move(options), std::move(handler));
}

Result<std::unique_ptr<Consumer>> Consumer::open(std::shared_ptr<Connection> connection, ConsumerOptions options) {
    return start(std::move(connection), std::move(options), nullptr);
}

Result<std::unique_ptr<Consumer>> Consumer::start(std::shared_ptr<Connection> connection, ConsumerOptions options,
                                                  DeliveryHandler handler) {
    if (options.queue.empty())
        return Status::invalidArgument("no queue to consume from");
    ClientCore& core = connection->core();
    auto subscription = std::make_shared<Subscription>(nextSubscriptionId(), std::move(options));
    const std::string what = "CONSUME " + subscription->options().queue;
    Status started = core.waitFor(
        [&core, subscription](std::function<void(const Status&)> done) {
            core.subscriptions().add(subscription, std::move(done));
        },
        core.options().requestTimeout, what);
    if (!started) {
        // Withdrawn: if the broker answers after all, the consumer is cancelled then.
        core.post([&core, id = subscription->id()] { core.subscriptions().remove(id, [](const Status&) {}); });
        if (started.code() == StatusCode::TimedOut && !core.connected())
            return Status::unavailable(what + ": no session with the broker at " + core.options().endpoint +
                                       " within " + std::to_string(core.options().requestTimeout.count()) + " ms");
        return started;
    }
    std::unique_ptr<Consumer> consumer(new Consumer(std::move(connection), std::move(subscription)));
    if (handler)
        consumer->m_worker->thread =
            std::thread([self = consumer.get(), handler = std::move(handler)] {
                nameThisThread("depot-consumer");
                self->runHandler(handler);
            });
    return consumer;
}

Consumer::Consumer(std::shared_ptr<Connection> connection, std::shared_ptr<Subscription> subscription)
    : m_connection(std::move(connection)),
      m_subscription(std::move(subscription)),
      m_worker(std::make_unique<Worker>()) {}

Consumer::~Consumer() { (void)close(); }

uint64_t Consumer::id() const { return m_subscription->id(); }

const ConsumerOptions& Consumer::options() const { return m_subscription->options(); }

Status Consumer::status() const { return m_subscription->status(); }

void Consumer::runHandler(DeliveryHandler handler) {
    using Decision = DeliveryContext::Decision;
    const bool autoAck = options().autoAck;
    while (std::optional<broker::Delivery> delivery = m_subscription->pop(std::nullopt)) {
        DeliveryContext context;
        Decision decision = Decision::Ack;
        std::string error;
        try {
            handler(*delivery, context);
            if (context.decision() != Decision::None)
                decision = context.decision();
            error = context.error();
        } catch (const std::exception& e) {
            // Never an ack after a throw: a rejection the handler chose stands, anything else is a retry.
            decision = context.decision() == Decision::Reject ? Decision::Reject : Decision::Retry;
            error = decision == Decision::Reject ? context.error() : e.what();
        } catch (...) {
            decision = context.decision() == Decision::Reject ? Decision::Reject : Decision::Retry;
            error = decision == Decision::Reject ? context.error() : "the handler threw an exception";
        }
        if (autoAck)
            continue;
        if (decision == Decision::Ack)
            (void)settle(*delivery, std::nullopt, false);
        else
            (void)settle(*delivery, broker::NackOptions{decision == Decision::Retry, error}, false);
    }
}

std::optional<broker::Delivery> Consumer::receive(Millis timeout) { return m_subscription->pop(timeout); }

Status Consumer::ack(const broker::Delivery& delivery) { return settle(delivery, std::nullopt, false); }

Status Consumer::nack(const broker::Delivery& delivery, const broker::NackOptions& options) {
    return settle(delivery, options, false);
}

Status Consumer::ackDurable(const broker::Delivery& delivery) { return settle(delivery, std::nullopt, true); }

Status Consumer::nackDurable(const broker::Delivery& delivery, const broker::NackOptions& options) {
    return settle(delivery, options, true);
}

Status Consumer::settle(const broker::Delivery& delivery, std::optional<broker::NackOptions> nack, bool durable) {
    if (delivery.consumer != id())
        return Status::invalidArgument("delivery " + std::to_string(delivery.tag) + " belongs to consumer " +
                                       std::to_string(delivery.consumer) + ", not " + std::to_string(id()));
    if (options().autoAck || delivery.tag == 0)
        return Status::ok();  // settled by the broker when it was sent
    ClientCore& core = m_connection->core();
    const uint64_t tag = delivery.tag;
    if (durable) {
        return core.waitFor(
            [&core, tag, nack](std::function<void(const Status&)> done) {
                core.subscriptions().settleDurable(tag, nack, std::move(done));
            },
            core.options().requestTimeout + kWaitGuard, nack ? "NACK" : "ACK");
    }
    bool posted = nack ? core.post([&core, tag, nack] { core.subscriptions().nack(tag, *nack); })
                       : core.post([&core, tag] { core.subscriptions().ack(tag); });
    return posted ? Status::ok() : core.closedStatus();
}

Status Consumer::close() {
    std::lock_guard lock(m_worker->closeMutex);
    if (m_worker->closed)
        return m_worker->closeStatus;
    m_worker->closed = true;
    m_subscription->close();
    // The running handler finishes and posts its decision before the CANCEL below: the I/O thread keeps the order.
    if (m_worker->thread.joinable())
        m_worker->thread.join();
    ClientCore& core = m_connection->core();
    const uint64_t subscription = id();
    Status cancelled = core.waitFor(
        [&core, subscription](std::function<void(const Status&)> done) {
            core.subscriptions().remove(subscription, std::move(done));
        },
        core.options().requestTimeout + kWaitGuard, "CANCEL");
    if (cancelled.code() == StatusCode::Closed)
        cancelled = Status::ok();  // the connection is gone, and the consumer with it
    m_worker->closeStatus = cancelled;
    return cancelled;
}

}  // namespace depot::client
