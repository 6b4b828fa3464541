// depot-broker-crasher DIR RUN: the child of TestBrokerRestart. Hosts a real Broker (real clock) on DIR, declares
// the plan's queue and runs traffic on it until it is SIGKILLed: a producer thread publishes numbered messages
// (from RUN * kNumbersPerRun + 1, 64 in flight, paced), and a consumer thread acks them, nacks the plan's
// poison messages at every attempt and the fail-once ones at their first, and calls Broker::sync() after each
// batch so it can report which settlements are durable. Every event goes to stdout as a journal line
// (BrokerCrashPlan.h), which the parent reads to know what the broker promised before the kill.

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "BrokerCrashPlan.h"

namespace {

using namespace depot::broker;
using depot::test::BrokerCrashPlan;

constexpr int kInFlight = 64;
// The parent reads every line and re-reads the queues at the end: a pace bounds both, whatever the disk's speed.
constexpr double kMaxPublishesPerSecond = 2000;

// Lines from the broker thread (confirms) and the consumer thread go through one lock and one write(2) each, so
// they never interleave, and no stdio buffer can hold back a line past a SIGKILL.
class Journal {
public:
    void write(const std::string& lines) {
        std::lock_guard lock(m_mutex);
        size_t done = 0;
        while (done < lines.size()) {
            ssize_t n = ::write(STDOUT_FILENO, lines.data() + done, lines.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                std::_Exit(3);  // the parent is gone
            done += size_t(n);
        }
    }

    [[noreturn]] void fail(const std::string& what) {
        write("error " + what + "\n");
        std::_Exit(2);
    }

private:
    std::mutex m_mutex;
};

Journal journal;

// Deliveries arrive on the broker thread; the consumer thread takes them, so that it may call sync().
class Inbox {
public:
    void push(Delivery&& delivery) {
        std::lock_guard lock(m_mutex);
        m_items.push_back(std::move(delivery));
        m_arrived.notify_one();
    }

    std::deque<Delivery> takeAll(std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        m_arrived.wait_for(lock, timeout, [this] { return !m_items.empty(); });
        std::deque<Delivery> taken;
        taken.swap(m_items);
        return taken;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_arrived;
    std::deque<Delivery> m_items;
};

void produce(Broker& broker, uint64_t first) {
    std::counting_semaphore<kInFlight> slots(kInFlight);
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t number = first;; ++number) {
        const double ahead = double(number - first) / kMaxPublishesPerSecond -
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (ahead > 0)
            std::this_thread::sleep_for(std::chrono::duration<double>(ahead));
        slots.acquire();
        PublishRequest request;
        request.routingKey = BrokerCrashPlan::kQueue;
        request.message.id = BrokerCrashPlan::messageId(number);
        request.message.body = BrokerCrashPlan::body(number);
        broker.publish(std::move(request), [&slots, number](const PublishResult& result) {
            const std::string id = BrokerCrashPlan::messageId(number);
            if (result.outcome == PublishOutcome::Confirmed)
                journal.write("confirmed " + id + "\n");
            else
                journal.write("publish-nacked " + id + " " + std::string(toString(result.reason)) + "\n");
            slots.release();
        });
    }
}

// Settles one delivery as the plan says; returns the durable line to write once a later sync() completes. The
// intent is journaled before the call: the settlement may reach the log (written along with other records, and so
// safe from a SIGKILL) before the call even returns, and a line written after it could be cut by the kill while the
// message is already gone for good.
std::string settle(Broker& broker, const Delivery& delivery) {
    const auto number = BrokerCrashPlan::numberOf(delivery.messageId);
    if (!number)
        journal.fail("unexpected message id '" + delivery.messageId + "'");
    const std::string attempt = std::to_string(delivery.attempt);
    const std::string delivered = "delivered " + delivery.messageId + " " + attempt + "\n";
    const bool fail =
        BrokerCrashPlan::isPoison(*number) || (BrokerCrashPlan::failsOnce(*number) && delivery.attempt == 1);
    if (fail) {
        journal.write(delivered + "nack " + delivery.messageId + " " + attempt + "\n");
        NackOptions options;
        options.requeue = true;
        options.error = "attempt " + attempt + " failed";
        if (depot::Status status = broker.nack(delivery.consumer, delivery.tag, options); !status.isOk())
            journal.fail("nack " + delivery.messageId + ": " + status.toString());
        return "nack-durable " + delivery.messageId + " " + attempt + "\n";
    }
    journal.write(delivered + "ack " + delivery.messageId + "\n");
    if (depot::Status status = broker.ack(delivery.consumer, delivery.tag); !status.isOk())
        journal.fail("ack " + delivery.messageId + ": " + status.toString());
    return "ack-durable " + delivery.messageId + "\n";
}

void consume(Broker& broker, Inbox& inbox) {
    for (;;) {
        std::deque<Delivery> batch = inbox.takeAll(std::chrono::milliseconds(50));
        if (batch.empty())
            continue;
        std::string durable;
        for (const Delivery& delivery : batch)
            durable += settle(broker, delivery);
        if (depot::Status status = broker.sync(); !status.isOk())
            journal.fail("sync: " + status.toString());
        journal.write(durable);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: depot-broker-crasher DIR RUN\n");
        return 1;
    }
    const uint64_t run = std::strtoull(argv[2], nullptr, 10);
    auto opened = Broker::open(BrokerCrashPlan::options(argv[1]));
    if (!opened.isOk())
        journal.fail("open " + std::string(argv[1]) + ": " + opened.status().toString());
    std::unique_ptr<Broker> broker = std::move(opened.value());
    if (auto declared = broker->declareQueue({BrokerCrashPlan::kQueue, BrokerCrashPlan::policy()}); !declared.isOk())
        journal.fail("declare: " + declared.status().toString());

    Inbox inbox;
    ConsumerSpec spec;
    spec.queue = BrokerCrashPlan::kQueue;
    spec.prefetch = 100;
    spec.name = "crasher";
    auto consumer = broker->consume(spec, [&inbox](Delivery&& delivery) { inbox.push(std::move(delivery)); });
    if (!consumer.isOk())
        journal.fail("consume: " + consumer.status().toString());

    std::thread consumerThread([&] { consume(*broker, inbox); });
    std::thread producerThread([&] { produce(*broker, run * BrokerCrashPlan::kNumbersPerRun + 1); });
    consumerThread.join();  // never: the crasher runs until it is killed
    producerThread.join();
    return 0;
}
