#include "support/BrokerHarness.h"

#include <cstdio>
#include <cstdlib>

namespace depot::test {

void Inbox::push(broker::Delivery&& delivery) {
    std::lock_guard lock(m_mutex);
    m_items.push_back(std::move(delivery));
    m_arrived.notify_all();
}

std::optional<broker::Delivery> Inbox::next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    if (!m_arrived.wait_for(lock, timeout, [this] { return !m_items.empty(); })) return std::nullopt;
    broker::Delivery delivery = std::move(m_items.front());
    m_items.pop_front();
    return delivery;
}

std::vector<broker::Delivery> Inbox::take(size_t n, std::chrono::milliseconds timeout) {
    std::vector<broker::Delivery> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        auto delivery = next(left);
        if (!delivery) break;
        out.push_back(std::move(*delivery));
    }
    return out;
}

size_t Inbox::size() const {
    std::lock_guard lock(m_mutex);
    return m_items.size();
}

BrokerHarness::BrokerHarness(std::string dir, broker::BrokerOptions options) : m_options(std::move(options)) {
    if (dir.empty()) {
        m_temp = std::make_unique<TempDir>();
        dir = m_temp->path();
    }
    m_dir = dir;
    m_openStatus = restart();
}

BrokerHarness::~BrokerHarness() { close(); }

void BrokerHarness::close() {
    if (m_broker) (void)m_broker->close();
    m_broker.reset();
}

Status BrokerHarness::restart() {
    close();
    broker::BrokerOptions options = m_options;
    options.dataDir = m_dir;
    options.clock = &m_clock;
    auto opened = broker::Broker::open(options);
    if (!opened) {
        std::fprintf(stderr, "BrokerHarness: open failed: %s\n", opened.status().toString().c_str());
        return opened.status();
    }
    m_broker = std::move(*opened);
    return Status::ok();
}

broker::QueueInfo BrokerHarness::declare(const std::string& name, broker::QueuePolicy policy) {
    auto info = m_broker->declareQueue({name, std::move(policy)});
    if (!info) {
        std::fprintf(stderr, "BrokerHarness: declare %s failed: %s\n", name.c_str(), info.status().toString().c_str());
        std::abort();
    }
    return *info;
}

broker::PublishResult BrokerHarness::publish(const std::string& queue, const std::string& body,
                                             broker::Message message) {
    return publishTo("", queue, body, std::move(message));
}

broker::PublishResult BrokerHarness::publishTo(const std::string& exchange, const std::string& routingKey,
                                               const std::string& body, broker::Message message) {
    message.body = body;
    broker::PublishRequest request{exchange, routingKey, std::move(message), "", ""};
    return m_broker->publish(std::move(request)).get();
}

std::pair<uint64_t, std::shared_ptr<Inbox>> BrokerHarness::consume(const std::string& queue, uint32_t prefetch,
                                                                   bool autoAck) {
    auto inbox = std::make_shared<Inbox>();
    broker::ConsumerSpec spec{queue, prefetch, autoAck, "test"};
    auto id = m_broker->consume(spec, [inbox](broker::Delivery&& d) { inbox->push(std::move(d)); });
    if (!id) {
        std::fprintf(stderr, "BrokerHarness: consume %s failed: %s\n", queue.c_str(), id.status().toString().c_str());
        std::abort();
    }
    return {*id, inbox};
}

void BrokerHarness::advance(std::chrono::milliseconds by) {
    m_clock.advance(by.count());
    m_broker->runTimers();
}

broker::QueueStats BrokerHarness::queueStats(const std::string& queue) {
    for (const broker::QueueStats& stats : m_broker->stats().queues)
        if (stats.name == queue) return stats;
    return {};
}

uint64_t BrokerHarness::depth(const std::string& queue) {
    broker::QueueStats stats = queueStats(queue);
    return stats.ready + stats.delayed + stats.unacked;
}

}  // namespace depot::test
