#pragma once
// BrokerHarness: a real broker on a real data directory for tests, with a ManualClock and consumers whose
// deliveries land in thread-safe inboxes.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "depot/broker/Broker.h"
#include "support/TempDir.h"

namespace depot::test {

// Deliveries for one consumer, in arrival order.
class Inbox {
public:
    void push(broker::Delivery&& delivery);
    // Waits up to `timeout` for a delivery; nullopt if none came.
    std::optional<broker::Delivery> next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Waits for `n` deliveries (fewer if the timeout passes).
    std::vector<broker::Delivery> take(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    size_t size() const;

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_arrived;
    std::deque<broker::Delivery> m_items;
};

class BrokerHarness {
public:
    // Opens a broker in `dir` (a fresh TempDir when empty) driven by a ManualClock.
    explicit BrokerHarness(std::string dir = {}, broker::BrokerOptions options = {});
    ~BrokerHarness();

    broker::Broker& broker() { return *m_broker; }
    broker::ManualClock& clock() { return m_clock; }
    const std::string& dir() const { return m_dir; }
    bool ok() const { return m_broker != nullptr; }
    const Status& openStatus() const { return m_openStatus; }

    // Closes and reopens the broker on the same directory (a clean restart).
    Status restart();
    void close();

    broker::QueueInfo declare(const std::string& name, broker::QueuePolicy policy = {});
    broker::PublishResult publish(const std::string& queue, const std::string& body, broker::Message message = {});
    broker::PublishResult publishTo(const std::string& exchange, const std::string& routingKey,
                                    const std::string& body, broker::Message message = {});
    // Starts a consumer whose deliveries go to the returned inbox.
    std::pair<uint64_t, std::shared_ptr<Inbox>> consume(const std::string& queue, uint32_t prefetch = 100,
                                                        bool autoAck = false);
    // Advances the clock and runs every due timer.
    void advance(std::chrono::milliseconds by);
    uint64_t depth(const std::string& queue);  // ready + delayed + unacked
    broker::QueueStats queueStats(const std::string& queue);

private:
    std::unique_ptr<TempDir> m_temp;
    std::string m_dir;
    broker::BrokerOptions m_options;
    broker::ManualClock m_clock;
    std::unique_ptr<broker::Broker> m_broker;
    Status m_openStatus;
};

}  // namespace depot::test
