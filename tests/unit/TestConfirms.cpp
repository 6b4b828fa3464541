// Publisher confirms: a confirm means what the queue's durability policy promises (sync: covered by an
// fdatasync; async: written; transient: in memory), failures are nacked with a reason, never dropped, and every
// confirm handler runs exactly once.
#include <QtTest>

#include <cerrno>
#include <condition_variable>
#include <map>
#include <mutex>

#include "support/BrokerHarness.h"
#include "support/FaultyFileSystem.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;
using depot::test::FaultyFileSystem;

namespace {

constexpr auto kGuard = std::chrono::seconds(20);  // a hang guard, not a timing assertion

QString text(const std::string& s) { return QString::fromStdString(s); }

std::string firstSegment(const BrokerHarness& h) { return h.dir() + "/log/00000000000000000000.seg"; }

BrokerOptions withFileSystem(FaultyFileSystem& fs) {
    BrokerOptions options;
    options.fileSystem = &fs;
    return options;
}

QueuePolicy asyncPolicy() {
    QueuePolicy policy;
    policy.flush = FlushMode::Async;
    return policy;
}

QueuePolicy transientPolicy() {
    QueuePolicy policy;
    policy.durable = false;
    return policy;
}

// What the confirm handler saw, on the broker thread, at the moment the confirm was handed out.
struct ConfirmSnapshot {
    PublishResult result;
    uint64_t writtenOffset = 0;
    bool synced = false;
    uint64_t syncs = 0;
    int calls = 0;
};

// Counts confirm handler calls per publish and lets the test wait for all of them.
class ConfirmCounter {
public:
    ConfirmHandler handlerFor(size_t index) {
        return [this, index](const PublishResult& result) {
            std::lock_guard lock(m_mutex);
            ++m_calls[index];
            m_results[index] = result;
            ++m_total;
            m_changed.notify_all();
        };
    }
    bool waitFor(size_t total) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, kGuard, [&] { return m_total >= total; });
    }
    std::map<size_t, int> calls() const {
        std::lock_guard lock(m_mutex);
        return m_calls;
    }
    std::map<size_t, PublishResult> results() const {
        std::lock_guard lock(m_mutex);
        return m_results;
    }

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<size_t, int> m_calls;
    std::map<size_t, PublishResult> m_results;
    size_t m_total = 0;
};

PublishRequest requestTo(const std::string& queue, std::string body, std::string id = {}) {
    PublishRequest request;
    request.routingKey = queue;
    request.message.body = std::move(body);
    request.message.id = std::move(id);
    return request;
}

// Publishes until a publish is nacked, re-arming a sync failure before each one: a sync on another file (the
// log's spare segment, prepared on a background thread) may take the injected fault first, at most once or twice.
PublishResult publishIntoFailingSync(BrokerHarness& h, FaultyFileSystem& fs, const std::string& queue,
                                     std::vector<std::string>& confirmedBodies) {
    PublishResult result;
    for (int i = 0; i < 5; ++i) {
        fs.failSyncAt(1, EIO);
        std::string body = "during-failure-" + std::to_string(i);
        result = h.publish(queue, body);
        if (result.outcome != PublishOutcome::Confirmed)
            return result;
        confirmedBodies.push_back(body);
    }
    return result;
}

}  // namespace

class TestConfirms : public QObject {
    Q_OBJECT

private slots:
    void testSyncConfirmWaitsForTheCoveringFdatasync();
    void testFailedFsyncNacksThenLogIsReadOnly();
    void testReadOnlyBrokerStillServesWhatItHad();
    void testAsyncConfirmsBeforeSyncAndReportsUnflushed();
    void testNothingTransientTouchesTheLog_data();
    void testNothingTransientTouchesTheLog();
    void testDurablePersistentMessageSurvivesRestart_data();
    void testDurablePersistentMessageSurvivesRestart();
    void testTooLargeMessageIsNackedWithSizes();
    void testMessageAtTheSizeLimitIsConfirmed();
    void testConfirmHandlerRunsExactlyOnce();
    void testManyPublishesInFlightAreAllConfirmed_data();
    void testManyPublishesInFlightAreAllConfirmed();
};

void TestConfirms::testSyncConfirmWaitsForTheCoveringFdatasync() {
    FaultyFileSystem fs;
    BrokerHarness h({}, withFileSystem(fs));
    QVERIFY(h.ok());
    h.declare("durable");  // the default policy: durable, sync flush
    QCOMPARE(int(h.publish("durable", "warm-up").outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.broker().sync().isOk());

    for (int round = 0; round < 3; ++round) {
        const uint64_t before = h.broker().stats().logWrittenOffset;
        const uint64_t syncsBefore = fs.syncCount();
        ConfirmSnapshot seen;
        std::promise<void> done;
        Broker& broker = h.broker();
        broker.publish(requestTo("durable", "payload-" + std::to_string(round)), [&](const PublishResult& result) {
            // Runs on the broker thread: stats() answers at once there.
            uint64_t written = broker.stats().logWrittenOffset;
            seen.result = result;
            seen.writtenOffset = written;
            seen.synced = written > before &&
                          fs.isSynced(firstSegment(h), storage::kSegmentHeaderSize + before, written - before);
            seen.syncs = fs.syncCount();
            if (++seen.calls == 1)
                done.set_value();
        });
        QVERIFY(done.get_future().wait_for(kGuard) == std::future_status::ready);
        QCOMPARE(int(seen.result.outcome), int(PublishOutcome::Confirmed));
        QVERIFY2(seen.writtenOffset > before, "a persistent message on a durable queue wrote nothing");
        QVERIFY2(seen.synced, "confirmed before an fdatasync covered the message record");
        QVERIFY(seen.syncs > syncsBefore);
    }
}

void TestConfirms::testFailedFsyncNacksThenLogIsReadOnly() {
    FaultyFileSystem fs;
    BrokerHarness h({}, withFileSystem(fs));
    QVERIFY(h.ok());
    h.declare("durable");
    QCOMPARE(int(h.publish("durable", "before").outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.broker().sync().isOk());

    std::vector<std::string> confirmed{"before"};
    PublishResult failed = publishIntoFailingSync(h, fs, "durable", confirmed);
    QCOMPARE(int(failed.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(failed.reason), int(NackReason::StorageFailed));
    QVERIFY2(!failed.error.empty(), "a storage failure nack must say why");
    fs.clearFaults();

    // fsyncgate: the log never retries and confirms; every later publish is refused.
    for (int i = 0; i < 3; ++i) {
        PublishResult later = h.publish("durable", "after-" + std::to_string(i));
        QCOMPARE(int(later.outcome), int(PublishOutcome::Nacked));
        QCOMPARE(int(later.reason), int(NackReason::ReadOnly));
    }
    BrokerStats stats = h.broker().stats();
    QVERIFY(stats.logReadOnly);
    QVERIFY(!stats.logFailure.empty());
    // What was confirmed before the failure is still there; the nacked ones are not.
    QCOMPARE(h.depth("durable"), uint64_t(confirmed.size()));
}

void TestConfirms::testReadOnlyBrokerStillServesWhatItHad() {
    FaultyFileSystem fs;
    BrokerHarness h({}, withFileSystem(fs));
    h.declare("durable");
    QCOMPARE(int(h.publish("durable", "kept-1").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("durable", "kept-2").outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.broker().sync().isOk());
    std::vector<std::string> confirmed{"kept-1", "kept-2"};
    PublishResult failed = publishIntoFailingSync(h, fs, "durable", confirmed);
    QCOMPARE(int(failed.reason), int(NackReason::StorageFailed));
    fs.clearFaults();
    QCOMPARE(int(h.publish("durable", "refused").reason), int(NackReason::ReadOnly));

    auto page = h.broker().browse("durable");
    QVERIFY2(page.isOk(), page.status().toString().c_str());
    QCOMPARE(page->messages.size(), confirmed.size());
    QCOMPARE(text(page->messages[0].body), QString("kept-1"));

    auto [consumer, inbox] = h.consume("durable");
    auto deliveries = inbox->take(confirmed.size());
    QCOMPARE(deliveries.size(), confirmed.size());
    for (size_t i = 0; i < confirmed.size(); ++i)
        QCOMPARE(text(deliveries[i].body), text(confirmed[i]));
    QVERIFY(h.broker().sync().code() != StatusCode::Ok);  // the log says it cannot make anything durable
    QVERIFY(h.broker().stats().logReadOnly);
    QVERIFY(!inbox->next(std::chrono::milliseconds(50)));  // nothing unexpected (the refused one) shows up
}

void TestConfirms::testAsyncConfirmsBeforeSyncAndReportsUnflushed() {
    FaultyFileSystem fs;
    BrokerOptions options = withFileSystem(fs);
    options.asyncFlushInterval = Millis(3'600'000);  // the periodic flush never comes during the test
    BrokerHarness h({}, options);
    h.declare("fast", asyncPolicy());
    const uint64_t before = h.broker().stats().logWrittenOffset;
    for (int i = 0; i < 5; ++i)
        QCOMPARE(int(h.publish("fast", "m" + std::to_string(i)).outcome), int(PublishOutcome::Confirmed));
    BrokerStats stats = h.broker().stats();
    QVERIFY(stats.logWrittenOffset > before);  // written...
    QVERIFY(!fs.isSynced(firstSegment(h), storage::kSegmentHeaderSize + before, stats.logWrittenOffset - before));
    QCOMPARE(stats.unflushedMessages, uint64_t(5));  // ...confirmed, and reported at risk
    QVERIFY(stats.logDurableOffset < stats.logWrittenOffset);

    QVERIFY(h.broker().sync().isOk());
    stats = h.broker().stats();
    QCOMPARE(stats.unflushedMessages, uint64_t(0));
    QCOMPARE(stats.logDurableOffset, stats.logWrittenOffset);
    QVERIFY(fs.isSynced(firstSegment(h), storage::kSegmentHeaderSize + before, stats.logWrittenOffset - before));
    QCOMPARE(h.depth("fast"), uint64_t(5));
}

void TestConfirms::testNothingTransientTouchesTheLog_data() {
    QTest::addColumn<bool>("durableQueue");
    QTest::addColumn<bool>("persistentMessage");
    QTest::newRow("transient queue, persistent message") << false << true;
    QTest::newRow("transient queue, transient message") << false << false;
    QTest::newRow("durable queue, transient message") << true << false;
}

void TestConfirms::testNothingTransientTouchesTheLog() {
    QFETCH(bool, durableQueue);
    QFETCH(bool, persistentMessage);
    BrokerHarness h;
    h.declare("q", durableQueue ? QueuePolicy{} : transientPolicy());
    QVERIFY(h.broker().sync().isOk());
    const uint64_t before = h.broker().stats().logWrittenOffset;
    Message message;
    message.persistent = persistentMessage;
    for (int i = 0; i < 3; ++i) {
        PublishResult result = h.publish("q", "volatile-" + std::to_string(i), message);
        QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
        QCOMPARE(result.queues, std::vector<std::string>{"q"});
    }
    QCOMPARE(h.depth("q"), uint64_t(3));
    auto [consumer, inbox] = h.consume("q");
    auto first = inbox->next();
    QVERIFY(first);
    QCOMPARE(text(first->body), QString("volatile-0"));
    QVERIFY(h.broker().ack(consumer, first->tag).isOk());  // settling a transient message writes nothing either
    QVERIFY(h.broker().sync().isOk());
    QCOMPARE(h.broker().stats().logWrittenOffset, before);
    QCOMPARE(h.broker().stats().unflushedMessages, uint64_t(0));

    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("q"), uint64_t(0));  // gone, as promised
    QVERIFY(h.broker().browse("q")->messages.empty());
}

void TestConfirms::testDurablePersistentMessageSurvivesRestart_data() {
    QTest::addColumn<bool>("async");
    QTest::newRow("sync flush") << false;
    QTest::newRow("async flush") << true;
}

void TestConfirms::testDurablePersistentMessageSurvivesRestart() {
    QFETCH(bool, async);
    BrokerHarness h;
    h.declare("q", async ? asyncPolicy() : QueuePolicy{});
    h.declare("volatile", transientPolicy());
    QCOMPARE(int(h.publish("q", "kept").outcome), int(PublishOutcome::Confirmed));
    Message transientMessage;
    transientMessage.persistent = false;
    QCOMPARE(int(h.publish("q", "dropped", transientMessage).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("volatile", "dropped too").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("q"), uint64_t(2));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("q"), uint64_t(1));
    QCOMPARE(h.depth("volatile"), uint64_t(0));
    auto [consumer, inbox] = h.consume("q");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("kept"));
}

void TestConfirms::testTooLargeMessageIsNackedWithSizes() {
    BrokerHarness h;
    h.declare("q");
    const uint64_t before = h.broker().stats().logWrittenOffset;
    const size_t size = kDefaultMaxMessageSize + 1;
    PublishResult result = h.publish("q", std::string(size, 'x'));
    QCOMPARE(int(result.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(result.reason), int(NackReason::TooLarge));
    QVERIFY2(result.error.find(std::to_string(size)) != std::string::npos, result.error.c_str());
    QVERIFY2(result.error.find(std::to_string(kDefaultMaxMessageSize)) != std::string::npos, result.error.c_str());
    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.broker().stats().logWrittenOffset, before);

    // Headers count towards the size too.
    Message withHeaders;
    withHeaders.headers = {{"h", std::string(kDefaultMaxMessageSize / 2, 'h')}};
    PublishResult headed = h.publish("q", std::string(kDefaultMaxMessageSize / 2 + 1, 'b'), withHeaders);
    QCOMPARE(int(headed.outcome), int(PublishOutcome::Nacked));

    // The broker keeps serving.
    QCOMPARE(int(h.publish("q", "small").outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("small"));
}

void TestConfirms::testMessageAtTheSizeLimitIsConfirmed() {
    BrokerHarness h;
    h.declare("q");
    PublishResult result = h.publish("q", std::string(kDefaultMaxMessageSize, 'y'));
    QVERIFY2(result.outcome == PublishOutcome::Confirmed, result.error.c_str());
    QVERIFY(h.restart().isOk());
    auto [consumer, inbox] = h.consume("q");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(delivery->body.size(), kDefaultMaxMessageSize);
}

void TestConfirms::testConfirmHandlerRunsExactlyOnce() {
    BrokerHarness h;
    h.declare("sync");
    h.declare("async", asyncPolicy());
    h.declare("transient", transientPolicy());
    ConfirmCounter counter;
    std::vector<PublishRequest> requests{
        requestTo("sync", "a"),
        requestTo("async", "b"),
        requestTo("transient", "c"),
        requestTo("sync", "dup", "same-id"),
        requestTo("sync", "dup", "same-id"),
        requestTo("missing", "d"),
        requestTo("sync", std::string(kDefaultMaxMessageSize + 1, 'z')),
    };
    requests.push_back(requestTo("sync", "bad-exchange"));
    requests.back().exchange = "no-exchange";
    for (size_t i = 0; i < requests.size(); ++i)
        h.broker().publish(requests[i], counter.handlerFor(i));
    QVERIFY(counter.waitFor(requests.size()));
    QVERIFY(h.broker().sync().isOk());
    h.close();  // no handler can run after this
    auto calls = counter.calls();
    QCOMPARE(calls.size(), requests.size());
    for (const auto& [index, n] : calls)
        QCOMPARE(n, 1);
    auto results = counter.results();
    QCOMPARE(int(results[0].outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(results[1].outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(results[2].outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(results[3].outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(results[4].outcome), int(PublishOutcome::Duplicate));
    QCOMPARE(int(results[5].reason), int(NackReason::NoQueue));
    QCOMPARE(int(results[6].reason), int(NackReason::TooLarge));
    QCOMPARE(int(results[7].reason), int(NackReason::NoExchange));
}

void TestConfirms::testManyPublishesInFlightAreAllConfirmed_data() {
    QTest::addColumn<bool>("async");
    QTest::newRow("sync flush") << false;
    QTest::newRow("async flush") << true;
}

void TestConfirms::testManyPublishesInFlightAreAllConfirmed() {
    QFETCH(bool, async);
    BrokerHarness h;
    h.declare("q", async ? asyncPolicy() : QueuePolicy{});
    const size_t n = 1000;
    ConfirmCounter counter;
    for (size_t i = 0; i < n; ++i)
        h.broker().publish(requestTo("q", "m" + std::to_string(i), "id-" + std::to_string(i)), counter.handlerFor(i));
    QVERIFY(counter.waitFor(n));
    QVERIFY(h.broker().sync().isOk());
    auto calls = counter.calls();
    QCOMPARE(calls.size(), n);
    for (const auto& [index, c] : calls)
        QCOMPARE(c, 1);
    for (const auto& [index, result] : counter.results()) {
        QVERIFY2(result.outcome == PublishOutcome::Confirmed, result.error.c_str());
        QCOMPARE(text(result.messageId), QString("id-%1").arg(index));
    }
    QCOMPARE(h.depth("q"), uint64_t(n));
    QCOMPARE(h.broker().stats().unflushedMessages, uint64_t(0));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("q"), uint64_t(n));
}

QTEST_GUILESS_MAIN(TestConfirms)
#include "TestConfirms.moc"
