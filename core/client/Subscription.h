#pragma once
// Subscription: one Consumer's state, shared by the Consumer (user threads) and the I/O thread. The inbox holds
// deliveries until the handler thread or receive() takes them.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "depot/client/Consumer.h"

namespace depot::client {

class Subscription {
public:
    Subscription(uint64_t id, ConsumerOptions options) : m_id(id), m_options(std::move(options)) {}

    uint64_t id() const { return m_id; }
    const ConsumerOptions& options() const { return m_options; }

    // ---- any thread ----
    // The oldest delivery; waits up to `timeout` (nullopt: until one comes or the subscription closes).
    std::optional<broker::Delivery> pop(std::optional<Millis> timeout);
    // Wakes every waiter; nothing more is handed out. The first non-OK status given is kept.
    void close(const Status& why = Status::ok());
    bool closed() const;
    Status status() const;

    // ---- I/O thread ----
    uint64_t brokerConsumer = 0;                 // in the current session; 0: not consuming
    bool consuming = false;                      // a CONSUME is in flight
    std::function<void(const Status&)> started;  // the subscribe() waiter, until the first answer to CONSUME
    // Keeps a delivery for the readers, who see it after the next handOver(): the I/O thread hands over a
    // burst at once, one lock and at most one wake-up for all of it rather than for each delivery (a lock
    // contended by the reader and a woken reader each cost a futex call and a context switch). Dropped when
    // the subscription is closed by then.
    void stage(broker::Delivery delivery) { m_staged.push_back(std::move(delivery)); }
    size_t staged() const { return m_staged.size(); }
    void handOver();
    // Forgets what was not handed out yet, staged or in the inbox: the session that delivered it ended, so the
    // broker delivers it again.
    void dropUndelivered();

private:
    const uint64_t m_id;
    const ConsumerOptions m_options;
    mutable std::mutex m_mutex;
    std::condition_variable m_arrived;
    std::deque<broker::Delivery> m_inbox;
    std::vector<broker::Delivery> m_staged;  // I/O thread
    bool m_closed = false;
    Status m_status;
};

}  // namespace depot::client
