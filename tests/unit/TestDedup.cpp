// Deduplication by producer message id: within a queue's window a repeated id is confirmed as a duplicate and
// stored once; the window expires, can be disabled, and survives a restart.
#include <QtTest>

#include <algorithm>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

namespace {

constexpr std::chrono::milliseconds kWindow{300'000};  // the default: 5 minutes

QString text(const std::string& s) { return QString::fromStdString(s); }

Message withId(const std::string& id) {
    Message message;
    message.id = id;
    return message;
}

QueuePolicy dedupDisabled() {
    QueuePolicy policy;
    policy.dedupWindow = Millis(0);
    return policy;
}

}  // namespace

class TestDedup : public QObject {
    Q_OBJECT

private slots:
    void testRepeatedIdWithinWindowIsStoredOnce_data();
    void testRepeatedIdWithinWindowIsStoredOnce();
    void testSameIdInFlightIsStoredOnce_data();
    void testSameIdInFlightIsStoredOnce();
    void testDuplicateOfConsumedMessageIsStillDuplicate();
    void testIdIsStoredAgainAfterWindow();
    void testZeroWindowDisablesDedup();
    void testDifferentIdsAreNotDuplicates();
    void testWindowIsPerQueue();
    void testFanoutStoresOnlyWhereTheIdIsNew();
    void testWindowSurvivesRestart_data();
    void testWindowSurvivesRestart();
    void testExpiredWindowStaysExpiredAfterRestart_data();
    void testExpiredWindowStaysExpiredAfterRestart();
};

void TestDedup::testRepeatedIdWithinWindowIsStoredOnce_data() {
    QTest::addColumn<bool>("durable");
    QTest::newRow("durable queue") << true;
    QTest::newRow("transient queue") << false;
}

void TestDedup::testRepeatedIdWithinWindowIsStoredOnce() {
    QFETCH(bool, durable);
    BrokerHarness h;
    QVERIFY(h.ok());
    QueuePolicy policy;
    policy.durable = durable;
    h.declare("payments", policy);
    PublishResult first = h.publish("payments", "charge 10", withId("pay-1"));
    QCOMPARE(int(first.outcome), int(PublishOutcome::Confirmed));
    h.advance(std::chrono::seconds(30));
    PublishResult again = h.publish("payments", "charge 10 (retry)", withId("pay-1"));
    QCOMPARE(int(again.outcome), int(PublishOutcome::Duplicate));
    QCOMPARE(text(again.messageId), QString("pay-1"));
    QCOMPARE(again.queues, std::vector<std::string>{"payments"});  // where it already is
    QCOMPARE(h.depth("payments"), uint64_t(1));
    QCOMPARE(h.queueStats("payments").counters.deduplicated, uint64_t(1));

    auto [consumer, inbox] = h.consume("payments");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("charge 10"));  // the original, not the retry
    QCOMPARE(text(delivery->messageId), QString("pay-1"));
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    QVERIFY(h.broker().sync().isOk());
    QVERIFY(!inbox->next(std::chrono::milliseconds(50)));
    QCOMPARE(h.depth("payments"), uint64_t(0));
}

void TestDedup::testSameIdInFlightIsStoredOnce_data() {
    QTest::addColumn<bool>("async");
    QTest::newRow("sync flush") << false;
    QTest::newRow("async flush") << true;
}

void TestDedup::testSameIdInFlightIsStoredOnce() {
    QFETCH(bool, async);
    BrokerHarness h;
    QueuePolicy policy;
    policy.flush = async ? FlushMode::Async : FlushMode::Sync;
    h.declare("q", policy);
    // Several producers' retries of the same ids, all in flight at once: none waits for another's confirm.
    const int ids = 5, copies = 4;
    std::vector<std::future<PublishResult>> results;
    for (int copy = 0; copy < copies; ++copy)
        for (int id = 0; id < ids; ++id) {
            PublishRequest request;
            request.routingKey = "q";
            request.message = withId("id-" + std::to_string(id));
            request.message.body = "copy " + std::to_string(copy);
            results.push_back(h.broker().publish(std::move(request)));
        }
    int confirmed = 0, duplicates = 0;
    for (auto& future : results) {
        PublishResult result = future.get();
        confirmed += result.outcome == PublishOutcome::Confirmed;
        duplicates += result.outcome == PublishOutcome::Duplicate;
    }
    QCOMPARE(confirmed, ids);
    QCOMPARE(duplicates, ids * (copies - 1));
    QCOMPARE(h.depth("q"), uint64_t(ids));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("q"), uint64_t(ids));
}

void TestDedup::testDuplicateOfConsumedMessageIsStillDuplicate() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(int(h.publish("q", "once", withId("m-1")).outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    // A producer retry that arrives after the consumer handled the original must not be processed twice.
    QCOMPARE(int(h.publish("q", "once", withId("m-1")).outcome), int(PublishOutcome::Duplicate));
    QCOMPARE(h.depth("q"), uint64_t(0));
    QVERIFY(h.broker().sync().isOk());
    QVERIFY(!inbox->next(std::chrono::milliseconds(50)));
}

void TestDedup::testIdIsStoredAgainAfterWindow() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(int(h.publish("q", "v1", withId("same")).outcome), int(PublishOutcome::Confirmed));
    h.advance(kWindow - std::chrono::seconds(10));
    QCOMPARE(int(h.publish("q", "v2", withId("same")).outcome), int(PublishOutcome::Duplicate));
    h.advance(std::chrono::seconds(20));  // now past the window of the first publish
    PublishResult later = h.publish("q", "v3", withId("same"));
    QCOMPARE(int(later.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("q"), uint64_t(2));
    // The new copy opens a new window.
    QCOMPARE(int(h.publish("q", "v4", withId("same")).outcome), int(PublishOutcome::Duplicate));
    QCOMPARE(h.depth("q"), uint64_t(2));
    auto [consumer, inbox] = h.consume("q");
    auto deliveries = inbox->take(2);
    QCOMPARE(deliveries.size(), size_t(2));
    QCOMPARE(text(deliveries[0].body), QString("v1"));
    QCOMPARE(text(deliveries[1].body), QString("v3"));
}

void TestDedup::testZeroWindowDisablesDedup() {
    BrokerHarness h;
    h.declare("q", dedupDisabled());
    for (int i = 0; i < 3; ++i)
        QCOMPARE(int(h.publish("q", "copy", withId("same")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("q"), uint64_t(3));
    QCOMPARE(h.queueStats("q").counters.deduplicated, uint64_t(0));
    QVERIFY(h.restart().isOk());
    QCOMPARE(int(h.publish("q", "copy", withId("same")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("q"), uint64_t(4));
}

void TestDedup::testDifferentIdsAreNotDuplicates() {
    BrokerHarness h;
    h.declare("q");
    const int n = 50;
    for (int i = 0; i < n; ++i) {
        PublishResult result = h.publish("q", "same body", withId("id-" + std::to_string(i)));
        QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
    }
    // No id at all: the broker assigns a fresh one each time.
    for (int i = 0; i < 5; ++i)
        QCOMPARE(int(h.publish("q", "anonymous").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("q"), uint64_t(n + 5));
    QCOMPARE(h.queueStats("q").counters.deduplicated, uint64_t(0));
}

void TestDedup::testWindowIsPerQueue() {
    BrokerHarness h;
    h.declare("a");
    h.declare("b");
    QCOMPARE(int(h.publish("a", "x", withId("shared")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("b", "x", withId("shared")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("a"), uint64_t(1));
    QCOMPARE(h.depth("b"), uint64_t(1));
    // A fanout to both: a duplicate in both places.
    QVERIFY(h.broker().declareExchange({"fan", ExchangeType::Fanout, ""}).isOk());
    QVERIFY(h.broker().bind({"fan", "a", ""}).isOk());
    QVERIFY(h.broker().bind({"fan", "b", ""}).isOk());
    QCOMPARE(int(h.publishTo("fan", "", "x", withId("shared")).outcome), int(PublishOutcome::Duplicate));
    QCOMPARE(h.depth("a"), uint64_t(1));
    QCOMPARE(h.depth("b"), uint64_t(1));
}

// The queue that holds the id already is passed over; the ones before and after it store the message.
void TestDedup::testFanoutStoresOnlyWhereTheIdIsNew() {
    BrokerHarness h;
    for (const char* queue : {"a", "b", "c"})
        h.declare(queue);
    QCOMPARE(int(h.publish("b", "x", withId("shared")).outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.broker().declareExchange({"fan", ExchangeType::Fanout, ""}).isOk());
    for (const char* queue : {"a", "b", "c"})
        QVERIFY(h.broker().bind({"fan", queue, ""}).isOk());
    PublishResult result = h.publishTo("fan", "", "x", withId("shared"));
    QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
    std::vector<std::string> queues = result.queues;
    std::sort(queues.begin(), queues.end());
    QCOMPARE(queues, (std::vector<std::string>{"a", "b", "c"}));  // stored in a and c, already in b
    QCOMPARE(h.depth("a"), uint64_t(1));
    QCOMPARE(h.depth("b"), uint64_t(1));
    QCOMPARE(h.depth("c"), uint64_t(1));
    QCOMPARE(h.queueStats("b").counters.deduplicated, uint64_t(1));
    QCOMPARE(h.queueStats("a").counters.deduplicated, uint64_t(0));
}

void TestDedup::testWindowSurvivesRestart_data() {
    QTest::addColumn<bool>("consumedBeforeRestart");
    QTest::newRow("still queued") << false;
    QTest::newRow("already acked") << true;
}

void TestDedup::testWindowSurvivesRestart() {
    QFETCH(bool, consumedBeforeRestart);
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(int(h.publish("q", "original", withId("order-42")).outcome), int(PublishOutcome::Confirmed));
    if (consumedBeforeRestart) {
        auto [consumer, inbox] = h.consume("q");
        auto delivery = inbox->next();
        QVERIFY(delivery);
        QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
        QVERIFY(h.broker().sync().isOk());
    }
    const uint64_t depthBefore = consumedBeforeRestart ? 0 : 1;
    QVERIFY(h.restart().isOk());
    h.advance(std::chrono::seconds(60));
    PublishResult again = h.publish("q", "retry after restart", withId("order-42"));
    QCOMPARE(int(again.outcome), int(PublishOutcome::Duplicate));
    QCOMPARE(h.depth("q"), depthBefore);
    QCOMPARE(int(h.publish("q", "new", withId("order-43")).outcome), int(PublishOutcome::Confirmed));
}

void TestDedup::testExpiredWindowStaysExpiredAfterRestart_data() {
    QTest::addColumn<bool>("restartFirst");
    QTest::newRow("restart, then the window passes") << true;
    QTest::newRow("the window passes, then restart") << false;
}

void TestDedup::testExpiredWindowStaysExpiredAfterRestart() {
    QFETCH(bool, restartFirst);
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(int(h.publish("q", "old", withId("k")).outcome), int(PublishOutcome::Confirmed));
    if (restartFirst)
        QVERIFY(h.restart().isOk());
    h.advance(kWindow + std::chrono::seconds(1));
    if (!restartFirst)
        QVERIFY(h.restart().isOk());
    QCOMPARE(int(h.publish("q", "new", withId("k")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("q"), uint64_t(2));
}

QTEST_GUILESS_MAIN(TestDedup)
#include "TestDedup.moc"
