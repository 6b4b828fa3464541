#include "WireMeasurements.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/Producer.h"

namespace depot::bench {

namespace {

using Clock = std::chrono::steady_clock;
using client::Connection;

constexpr int kPrefillWindow = 1000;

Result<std::shared_ptr<Connection>> connectAs(const WireSetup& setup, const char* name, const char* role) {
    client::ClientOptions options;
    options.endpoint = setup.endpoint;
    options.client = name;
    options.role = role;
    // A full window of 1000 sync-flushed publishes on a busy machine can take seconds; a timeout would fail the row.
    options.requestTimeout = std::chrono::seconds(60);
    return Connection::connect(std::move(options));
}

// What the broker's ADMIN stats say at one moment; two of them bracket a row.
struct BrokerSnapshot {
    LatencyHistogram fsync;
    LatencyHistogram confirm;
};

Result<BrokerSnapshot> snapshot(client::Admin& admin) {
    auto stats = admin.stats();
    if (!stats)
        return stats.status();
    return BrokerSnapshot{stats->fsyncLatency, stats->confirmLatency};
}

LatencyHistogram difference(const LatencyHistogram& after, const LatencyHistogram& before) {
    LatencyHistogram result;
    for (int bucket = 0; bucket < LatencyHistogram::kBucketCount; ++bucket) {
        const uint64_t a = after.bucketCount(bucket), b = before.bucketCount(bucket);
        if (a > b)
            result.recordBucket(bucket, a - b);
    }
    return result;
}

// One driver thread keeping `window` sendAsync calls unanswered. Callbacks run on the connection's I/O thread; the
// counters below are touched there only, and read by the driver once `m_inFlight` is back to 0 (release/acquire).
class PublishDriver {
public:
    PublishDriver(std::shared_ptr<Connection> connection, std::string queue, size_t messageSize, int window,
                  bool persistent = true, std::string exchange = {})
        : m_producer(std::move(connection)), m_window(window) {
        m_request.exchange = std::move(exchange);
        m_request.routingKey = m_request.exchange.empty() ? std::move(queue) : std::string();
        m_request.message.body = benchPayload(messageSize);
        m_request.message.persistent = persistent;
    }

    // Sends until `duration` has passed (or `maxMessages` are sent); messages sent while `counted` count.
    void run(std::chrono::duration<double> duration, bool counted, uint64_t maxMessages = UINT64_MAX) {
        const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(duration);
        for (uint64_t sent = 0; sent < maxMessages && Clock::now() < deadline; ++sent) {
            for (int n = m_inFlight.load(std::memory_order_acquire); n >= m_window;
                 n = m_inFlight.load(std::memory_order_acquire))
                m_inFlight.wait(n, std::memory_order_acquire);
            m_inFlight.fetch_add(1, std::memory_order_relaxed);
            const Clock::time_point start = Clock::now();
            if (counted && m_firstCounted == Clock::time_point{})
                m_firstCounted = start;
            m_producer.sendAsync(m_request, [this, start, counted](const client::SendResult& result) {
                onAnswer(result, start, counted);
            });
        }
    }

    // Waits for every answer. False when they did not all come within `timeout`.
    bool drain(std::chrono::seconds timeout) {
        const auto deadline = Clock::now() + timeout;
        for (int n = m_inFlight.load(std::memory_order_acquire); n > 0;
             n = m_inFlight.load(std::memory_order_acquire)) {
            if (Clock::now() > deadline)
                return false;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        return true;
    }

    // After drain(): the counted messages.
    Status outcome() const {
        if (m_failed)
            return Status::ioError(std::to_string(m_failed) + " publishes not confirmed; the first: " + m_firstError);
        return Status::ok();
    }
    void fill(Measurement& m, size_t messageSize) const {
        m.records = m_counted;
        m.bytes = m_counted * messageSize;
        m.seconds = std::chrono::duration<double>(m_lastCounted - m_firstCounted).count();
        m.latency = m_latency;
    }
    uint64_t answered() const { return m_answered; }

private:
    void onAnswer(const client::SendResult& result, Clock::time_point start, bool counted) {
        const Clock::time_point now = Clock::now();
        ++m_answered;
        if (!result.ok()) {
            if (m_failed++ == 0)
                m_firstError = std::string(client::outcomeName(result)) + ": " +
                               (result.status.isOk() ? result.result.error : result.status.toString());
        } else if (counted) {
            ++m_counted;
            m_latency.record(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count()));
            m_lastCounted = now;
        }
        // Only a full window can have the driver asleep: waking it for every answer would cost this thread a
        // futex call per message, which a user keeping a window (or the bare ZeroMQ loop) does not pay.
        if (m_inFlight.fetch_sub(1, std::memory_order_release) == m_window)
            m_inFlight.notify_one();
    }

    client::Producer m_producer;
    broker::PublishRequest m_request;
    const int m_window;
    std::atomic<int> m_inFlight{0};
    Clock::time_point m_firstCounted{};  // driver thread
    // I/O thread until drained.
    LatencyHistogram m_latency;
    uint64_t m_answered = 0;
    uint64_t m_counted = 0;
    uint64_t m_failed = 0;
    std::string m_firstError;
    Clock::time_point m_lastCounted{};
};

// A consumer handler that counts, and wakes the waiter when `target` deliveries were handled.
struct DeliveryCounter {
    std::mutex mutex;
    std::condition_variable done;
    uint64_t handled = 0;  // under mutex
    uint64_t target = 0;
    uint64_t redelivered = 0;

    void onDelivery(const broker::Delivery& delivery) {
        std::lock_guard lock(mutex);
        if (delivery.redelivered)
            ++redelivered;
        if (++handled == target)
            done.notify_all();
    }
    uint64_t handledNow() {
        std::lock_guard lock(mutex);
        return handled;
    }
    bool waitAll(std::chrono::seconds timeout) {
        std::unique_lock lock(mutex);
        return done.wait_for(lock, timeout, [this] { return handled >= target; });
    }
};

Status waitUntilEmpty(client::Admin& admin, const std::string& queue, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        auto shown = admin.showQueue(queue);
        if (!shown)
            return shown.status();
        if (shown->stats.ready == 0 && shown->stats.unacked == 0 && shown->stats.delayed == 0)
            return Status::ok();
        if (Clock::now() > deadline)
            return Status::timedOut(queue + " still holds " + std::to_string(shown->stats.ready) + " ready and " +
                                    std::to_string(shown->stats.unacked) + " unacked messages");
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
}

// Subscribes, waits until the counter saw every message and the broker holds none, and closes the consumer.
// Returns the seconds from subscribe() to the empty queue.
Result<double> consumeAll(const WireSetup& setup, std::shared_ptr<Connection> connection, client::Admin& admin,
                          DeliveryCounter& counter) {
    client::ConsumerOptions options;
    options.queue = setup.queue;
    options.prefetch = setup.prefetch;
    options.name = "depot-bench";
    const auto start = Clock::now();
    auto consumer = client::Consumer::subscribe(
        std::move(connection), options,
        [&counter](const broker::Delivery& delivery, client::DeliveryContext&) { counter.onDelivery(delivery); });
    if (!consumer)
        return consumer.status();
    if (!counter.waitAll(std::chrono::seconds(300)))
        return Status::timedOut("consume: " + std::to_string(counter.handledNow()) + " of " +
                                std::to_string(counter.target) + " deliveries after 300 s");
    DEPOT_RETURN_IF_ERROR(waitUntilEmpty(admin, setup.queue, std::chrono::seconds(60)));
    const auto end = Clock::now();
    DEPOT_RETURN_IF_ERROR((*consumer)->close());
    return std::chrono::duration<double>(end - start).count();
}

Status prefill(const WireSetup& setup, double& seconds) { return fillQueue(setup, setup.prefill, seconds); }

}  // namespace

Status fillQueue(const WireSetup& setup, uint64_t count, double& seconds) {
    auto connection = connectAs(setup, "depot-bench-prefill", "producer");
    if (!connection)
        return connection.status();
    PublishDriver driver(*connection, setup.queue, setup.messageSize, kPrefillWindow);
    const auto start = Clock::now();
    driver.run(std::chrono::hours(1), false, count);
    if (!driver.drain(std::chrono::seconds(120)))
        return Status::timedOut("fill: publishes still unanswered after 120 s");
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return driver.outcome();
}

Result<Backlog> readBacklog(const WireSetup& setup) {
    auto connection = connectAs(setup, "depot-bench-admin", "admin");
    if (!connection)
        return connection.status();
    client::Admin admin(*connection);
    auto shown = admin.showQueue(setup.queue);
    if (!shown)
        return shown.status();
    auto stats = admin.stats(false);
    if (!stats)
        return stats.status();
    return Backlog{shown->stats.ready + shown->stats.unacked + shown->stats.delayed, stats->logWrittenOffset};
}

Status declareWireQueue(const WireSetup& setup) {
    auto connection = connectAs(setup, "depot-bench-admin", "admin");
    if (!connection)
        return connection.status();
    client::Admin admin(*connection);
    broker::QueueSpec spec;
    spec.name = setup.queue;
    spec.policy.durable = true;
    spec.policy.flush = setup.asyncFlush ? broker::FlushMode::Async : broker::FlushMode::Sync;
    auto declared = admin.declareQueue(spec);
    if (!declared)
        return declared.status();
    return admin.purgeQueue(setup.queue).status();
}

Status declareWireFanout(const WireSetup& setup) {
    for (const std::string& queue : setup.fanoutQueues) {
        WireSetup one = setup;
        one.queue = queue;
        DEPOT_RETURN_IF_ERROR(declareWireQueue(one));
    }
    auto connection = connectAs(setup, "depot-bench-admin", "admin");
    if (!connection)
        return connection.status();
    client::Admin admin(*connection);
    DEPOT_RETURN_IF_ERROR(admin.declareExchange({setup.exchange, broker::ExchangeType::Fanout, {}}));
    for (const std::string& queue : setup.fanoutQueues)
        DEPOT_RETURN_IF_ERROR(admin.bind({setup.exchange, queue, ""}));
    return Status::ok();
}

Result<WireMeasurement> measurePublish(const WireSetup& setup, int window) {
    auto connection = connectAs(setup, "depot-bench-producer", "producer");
    if (!connection)
        return connection.status();
    auto adminConnection = connectAs(setup, "depot-bench-admin", "admin");
    if (!adminConnection)
        return adminConnection.status();
    client::Admin admin(*adminConnection);
    auto before = snapshot(admin);
    if (!before)
        return before.status();

    WireMeasurement result;
    {
        PublishDriver driver(*connection, setup.queue, setup.messageSize, window, setup.persistent, setup.exchange);
        driver.run(setup.warmup, false);
        driver.run(setup.measure, true);
        if (!driver.drain(std::chrono::seconds(120)))
            return Status::timedOut("publishes still unanswered 120 s after the end of the row");
        DEPOT_RETURN_IF_ERROR(driver.outcome());
        driver.fill(result.client, setup.messageSize);
        auto after = snapshot(admin);
        if (!after)
            return after.status();
        // Over the whole row, warm-up included, as the broker counts.
        result.brokerFsync = difference(after->fsync, before->fsync);
        const uint64_t syncs = result.brokerFsync->count();
        result.messagesPerSync = syncs ? double(driver.answered()) / double(syncs) : 0;
        result.brokerConfirm = difference(after->confirm, before->confirm);
    }
    for (const std::string& queue : setup.exchange.empty() ? std::vector<std::string>{setup.queue} : setup.fanoutQueues) {
        auto purged = admin.purgeQueue(queue);
        if (!purged)
            return purged.status();
    }
    return result;
}

namespace {

// What the end-to-end consumer saw, shared with its handler thread.
struct Arrivals {
    std::mutex mutex;
    std::condition_variable changed;
    LatencyHistogram latency;
    uint64_t received = 0;
    int64_t countFromNs = INT64_MAX;  // send times from here on are counted
};

int64_t steadyNowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

}  // namespace

Result<Measurement> measureEndToEnd(const WireSetup& setup, double rate) {
    auto producerConnection = connectAs(setup, "depot-bench-e2e-producer", "producer");
    if (!producerConnection)
        return producerConnection.status();
    auto consumerConnection = connectAs(setup, "depot-bench-e2e-consumer", "consumer");
    if (!consumerConnection)
        return consumerConnection.status();
    Arrivals arrivals;
    client::ConsumerOptions options;
    options.queue = setup.queue;
    options.prefetch = setup.prefetch;
    options.name = "depot-bench-e2e";
    auto consumer = client::Consumer::subscribe(
        *consumerConnection, options, [&arrivals](const broker::Delivery& delivery, client::DeliveryContext&) {
            int64_t sentNs = 0;
            std::memcpy(&sentNs, delivery.body.data(), std::min(sizeof sentNs, delivery.body.size()));
            const int64_t latency = steadyNowNs() - sentNs;
            std::lock_guard lock(arrivals.mutex);
            if (sentNs >= arrivals.countFromNs)
                arrivals.latency.record(uint64_t(latency));
            ++arrivals.received;
            arrivals.changed.notify_all();
        });
    if (!consumer)
        return consumer.status();

    client::Producer producer(*producerConnection);
    broker::PublishRequest request;
    request.routingKey = setup.queue;
    request.message.body = benchPayload(std::max<size_t>(setup.messageSize, sizeof(int64_t)));
    request.message.persistent = setup.persistent;
    std::atomic<uint64_t> failed{0};
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
    const auto start = Clock::now();
    const auto countFrom = start + std::chrono::duration_cast<Clock::duration>(setup.warmup);
    const auto end = countFrom + std::chrono::duration_cast<Clock::duration>(setup.measure);
    {
        std::lock_guard lock(arrivals.mutex);
        arrivals.countFromNs = std::chrono::duration_cast<std::chrono::nanoseconds>(countFrom.time_since_epoch()).count();
    }
    uint64_t sent = 0, counted = 0;
    for (auto next = start; next < end; next += period) {  // behind schedule: sends at once, keeping the rate
        std::this_thread::sleep_until(next);
        const int64_t now = steadyNowNs();
        std::memcpy(request.message.body.data(), &now, sizeof now);
        producer.sendAsync(request, [&failed](const client::SendResult& result) {
            if (!result.ok()) failed.fetch_add(1);
        });
        ++sent;
        counted += next >= countFrom;
    }
    {
        std::unique_lock lock(arrivals.mutex);
        if (!arrivals.changed.wait_for(lock, std::chrono::seconds(60), [&] { return arrivals.received >= sent; }))
            return Status::timedOut("end to end: " + std::to_string(arrivals.received) + " of " + std::to_string(sent) +
                                    " messages delivered 60 s after the last was sent");
    }
    DEPOT_RETURN_IF_ERROR(producer.flush(std::chrono::seconds(60)));
    DEPOT_RETURN_IF_ERROR((*consumer)->close());
    if (failed.load())
        return Status::ioError(std::to_string(failed.load()) + " publishes not confirmed");
    Measurement m;
    m.records = counted;
    m.bytes = counted * setup.messageSize;
    m.seconds = std::chrono::duration<double>(setup.measure).count();
    std::lock_guard lock(arrivals.mutex);
    m.latency = arrivals.latency;
    return m;
}

Result<WireMeasurement> measureConsumeAck(const WireSetup& setup) {
    double prefillSeconds = 0;
    DEPOT_RETURN_IF_ERROR(prefill(setup, prefillSeconds));
    std::fprintf(stderr, "  consume+ack: %llu messages queued in %.1f s; consuming\n",
                 static_cast<unsigned long long>(setup.prefill), prefillSeconds);
    auto adminConnection = connectAs(setup, "depot-bench-admin", "admin");
    if (!adminConnection)
        return adminConnection.status();
    client::Admin admin(*adminConnection);
    auto before = snapshot(admin);
    if (!before)
        return before.status();
    auto connection = connectAs(setup, "depot-bench-consumer", "consumer");
    if (!connection)
        return connection.status();

    DeliveryCounter counter;
    counter.target = setup.prefill;
    auto seconds = consumeAll(setup, *connection, admin, counter);
    if (!seconds)
        return seconds.status();
    auto after = snapshot(admin);
    if (!after)
        return after.status();
    WireMeasurement result;
    result.client.records = counter.target;
    result.client.bytes = counter.target * setup.messageSize;
    result.client.seconds = *seconds;
    result.brokerFsync = difference(after->fsync, before->fsync);
    const uint64_t syncs = result.brokerFsync->count();
    result.messagesPerSync = syncs ? double(counter.target) / double(syncs) : 0;
    char note[160];
    std::snprintf(note, sizeof note, "prefetch %u; %llu queued first in %.1f s (window %d)%s", setup.prefetch,
                  static_cast<unsigned long long>(setup.prefill), prefillSeconds, kPrefillWindow,
                  counter.redelivered ? "; REDELIVERIES seen" : "");
    result.client.note = note;
    return result;
}

}  // namespace depot::bench
