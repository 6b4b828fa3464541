#include "BrokerMeasurements.h"

#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "depot/broker/Broker.h"

namespace depot::bench {

using Clock = std::chrono::steady_clock;
using namespace depot::broker;

namespace {

constexpr const char* kQueue = "bench";
constexpr size_t kStampSize = 16;  // hex digits of the publish time at the start of an end-to-end body
constexpr auto kIdleTimeout = std::chrono::seconds(60);

uint64_t nanosSince(Clock::time_point from, Clock::time_point to) {
    return uint64_t(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count()));
}

// Operations between a start (publish() call) and a completion (confirm handler, or ack), counted and timed.
// Completions come from the broker thread or the consumer thread; the driver waits on them. `limit` bounds how
// many may be outstanding (0 = no bound).
class Tracker {
public:
    explicit Tracker(size_t limit) : m_limit(limit) {}

    void begin() {
        std::lock_guard lock(m_mutex);
        m_done = 0;
        m_latency.reset();
        m_last = Clock::now();
    }

    void acquire() {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return m_limit == 0 || m_outstanding < m_limit; });
        ++m_outstanding;
    }

    void complete(Clock::time_point startedAt, const Status& status) {
        const Clock::time_point now = Clock::now();
        std::lock_guard lock(m_mutex);
        --m_outstanding;
        ++m_done;
        m_last = now;
        m_latency.record(nanosSince(startedAt, now));
        if (!status.isOk() && m_failure.isOk())
            m_failure = status;
        m_changed.notify_all();
    }

    Status waitIdle() {
        std::unique_lock lock(m_mutex);
        if (!m_changed.wait_for(lock, kIdleTimeout, [this] { return m_outstanding == 0; }))
            return Status::timedOut("operations still outstanding after 60 s");
        return m_failure;
    }

    // What completed since begin(), timed from `start` to the last completion.
    Measurement result(Clock::time_point start) {
        std::lock_guard lock(m_mutex);
        Measurement measurement;
        measurement.records = m_done;
        measurement.seconds = std::chrono::duration<double>(m_last - start).count();
        measurement.latency = m_latency;
        return measurement;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    size_t m_limit;
    size_t m_outstanding = 0;
    uint64_t m_done = 0;
    Clock::time_point m_last;
    LatencyHistogram m_latency;
    Status m_failure;
};

Status statusOf(const PublishResult& result) {
    if (result.outcome == PublishOutcome::Confirmed)
        return Status::ok();
    return Status::ioError("publish " + std::string(toString(result.outcome)) + ": " + result.error);
}

// A broker of its own in `<scratch>/<name>` with one queue, closed and removed with the row.
class BrokerRow : public ThroughputRow {
public:
    explicit BrokerRow(int inFlight) : m_confirms(size_t(inFlight)) {}

    ~BrokerRow() override {
        if (m_broker)
            (void)m_broker->close();
        m_broker.reset();
        std::error_code ignored;
        std::filesystem::remove_all(m_dir, ignored);
    }

protected:
    Status openBroker(const BrokerSetup& setup, const std::string& name, FlushMode flush) {
        m_dir = setup.scratchDir + "/" + name;
        m_payload = benchPayload(setup.messageSize);
        BrokerOptions options;
        options.dataDir = m_dir;
        options.segmentSize = setup.segmentSize;
        options.trace = setup.trace;
        auto opened = Broker::open(options);
        if (!opened.isOk())
            return opened.status();
        m_broker = std::move(opened.value());
        QueueSpec spec{kQueue, {}};
        spec.policy.flush = flush;
        auto declared = m_broker->declareQueue(spec);
        return declared.isOk() ? Status::ok() : declared.status();
    }

    // Publishes until the budget is spent with inFlight confirms outstanding, then waits for every confirm.
    // `onPublish` is called before each publish with the body, which it may stamp.
    Status publishFor(const Budget& budget, const std::function<void(std::string&)>& onPublish) {
        const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(budget.time);
        for (uint64_t issued = 0; issued < budget.maxRecords && Clock::now() < deadline; ++issued) {
            m_confirms.acquire();
            PublishRequest request;
            request.routingKey = kQueue;
            request.message.body = m_payload;
            if (onPublish)
                onPublish(request.message.body);
            const Clock::time_point publishedAt = Clock::now();
            m_broker->publish(std::move(request), [this, publishedAt](const PublishResult& result) {
                m_confirms.complete(publishedAt, statusOf(result));
            });
        }
        return m_confirms.waitIdle();
    }

    uint64_t syncs() { return m_broker->stats().fsyncLatency.count(); }

    void addSlice(Measurement slice, uint64_t syncs, bool counted) {
        slice.bytes = slice.records * m_payload.size();
        slice.syncs = syncs;
        if (counted)
            m_result.add(slice);
    }

    std::string m_dir;
    std::string m_payload;
    std::unique_ptr<Broker> m_broker;
    Tracker m_confirms;
};

class ConfirmRow : public BrokerRow {
public:
    using BrokerRow::BrokerRow;

    Status open(const BrokerSetup& setup, FlushMode flush) {
        m_result.name = std::string("confirm ") + (flush == FlushMode::Sync ? "sync" : "async") + "@" +
                        std::to_string(setup.inFlight);
        m_result.note = flush == FlushMode::Sync ? "confirm after the covering fdatasync" : "confirm after write";
        return openBroker(setup, flush == FlushMode::Sync ? "confirm-sync" : "confirm-async", flush);
    }

    Status runSlice(const Budget& budget, bool counted) override {
        const uint64_t syncsBefore = syncs();
        const Clock::time_point start = Clock::now();
        m_confirms.begin();
        DEPOT_RETURN_IF_ERROR(publishFor(budget, nullptr));
        addSlice(m_confirms.result(start), syncs() - syncsBefore, counted);
        auto purged = m_broker->purgeQueue(kQueue);  // keeps the log and the index small; untimed
        return purged.isOk() ? Status::ok() : purged.status();
    }
};

// Deliveries handed from the broker thread to the consumer thread.
class Inbox {
public:
    void push(Delivery&& delivery) {
        std::lock_guard lock(m_mutex);
        m_items.push_back(std::move(delivery));
        m_changed.notify_one();
    }

    // Empty once stopped.
    std::deque<Delivery> takeAll() {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return !m_items.empty() || m_stopped; });
        std::deque<Delivery> taken;
        if (!m_stopped)
            taken.swap(m_items);
        return taken;
    }

    void stop() {
        std::lock_guard lock(m_mutex);
        m_stopped = true;
        m_changed.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Delivery> m_items;
    bool m_stopped = false;
};

Clock::time_point stampOf(const std::string& body) {
    uint64_t nanos = 0;
    std::from_chars(body.data(), body.data() + std::min(kStampSize, body.size()), nanos, 16);
    return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(nanos)));
}

void stamp(std::string& body) {
    char text[kStampSize + 1];
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(nanos));
    body.replace(0, std::min(kStampSize, body.size()), text, std::min(kStampSize, body.size()));
}

class DeliverAckRow : public BrokerRow {
public:
    using BrokerRow::BrokerRow;

    ~DeliverAckRow() override {
        // The consumer thread calls into the broker: it stops first, then the broker closes (in ~BrokerRow).
        m_inbox.stop();
        if (m_consumerThread.joinable())
            m_consumerThread.join();
    }

    Status open(const BrokerSetup& setup, FlushMode flush, AckFrom ackFrom) {
        const std::string mode = flush == FlushMode::Sync ? "sync" : "async";
        m_result.name = "deliver+ack " + mode + "@" + std::to_string(setup.inFlight) +
                        (ackFrom == AckFrom::Handler ? " handler" : "");
        m_result.note =
            "prefetch " + std::to_string(setup.prefetch) +
            (ackFrom == AckFrom::Handler ? "; ack() in the delivery handler" : "; ack() from a consumer thread");
        DEPOT_RETURN_IF_ERROR(
            openBroker(setup, "deliver-" + mode + (ackFrom == AckFrom::Handler ? "-handler" : ""), flush));
        ConsumerSpec spec;
        spec.queue = kQueue;
        spec.prefetch = setup.prefetch;
        spec.name = "bench";
        DeliveryHandler handler;
        if (ackFrom == AckFrom::Handler) {
            handler = [this](Delivery&& delivery) { ack(delivery); };
        } else {
            handler = [this](Delivery&& delivery) { m_inbox.push(std::move(delivery)); };
            m_consumerThread = std::thread([this] { consumeUntilStopped(); });
        }
        auto consumer = m_broker->consume(spec, std::move(handler));
        return consumer.isOk() ? Status::ok() : consumer.status();
    }

    Status runSlice(const Budget& budget, bool counted) override {
        const uint64_t syncsBefore = syncs();
        const Clock::time_point start = Clock::now();
        m_confirms.begin();
        m_acks.begin();
        DEPOT_RETURN_IF_ERROR(publishFor(budget, [this](std::string& body) {
            m_acks.acquire();
            stamp(body);
        }));
        DEPOT_RETURN_IF_ERROR(m_acks.waitIdle());
        addSlice(m_acks.result(start), syncs() - syncsBefore, counted);
        return Status::ok();
    }

private:
    void ack(const Delivery& delivery) {
        m_acks.complete(stampOf(delivery.body), m_broker->ack(delivery.consumer, delivery.tag));
    }

    void consumeUntilStopped() {
        for (;;) {
            std::deque<Delivery> batch = m_inbox.takeAll();
            if (batch.empty())
                return;
            for (const Delivery& delivery : batch)
                ack(delivery);
        }
    }

    Tracker m_acks{0};
    Inbox m_inbox;
    std::thread m_consumerThread;
};

}  // namespace

Result<std::unique_ptr<ThroughputRow>> makeConfirmRow(const BrokerSetup& setup, FlushMode flush) {
    auto row = std::make_unique<ConfirmRow>(setup.inFlight);
    DEPOT_RETURN_IF_ERROR(row->open(setup, flush));
    return std::unique_ptr<ThroughputRow>(std::move(row));
}

Result<std::unique_ptr<ThroughputRow>> makeDeliverAckRow(const BrokerSetup& setup, FlushMode flush, AckFrom ackFrom) {
    auto row = std::make_unique<DeliverAckRow>(setup.inFlight);
    DEPOT_RETURN_IF_ERROR(row->open(setup, flush, ackFrom));
    return std::unique_ptr<ThroughputRow>(std::move(row));
}

}  // namespace depot::bench
