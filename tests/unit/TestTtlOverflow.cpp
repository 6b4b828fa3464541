// Time-to-live (per message, per queue, the shorter wins) dead-letters with reason expired and is never delivered;
// delayed delivery waits for its time, also across a restart; max-length overflow rejects the publish or
// dead-letters the oldest message; the expired and dead-lettered counters follow.
#include <QtTest>

#include <condition_variable>
#include <mutex>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;
using depot::test::Inbox;

namespace {

constexpr Millis kSecond{1000};

bool confirmed(const PublishResult& result) { return result.outcome == PublishOutcome::Confirmed; }

std::vector<QueuedMessage> browseAll(BrokerHarness& h, const std::string& queue) {
    BrowseOptions options;
    options.limit = SIZE_MAX;
    auto page = h.broker().browse(queue, options);
    return page ? page->messages : std::vector<QueuedMessage>{};
}

QStringList bodies(const std::vector<QueuedMessage>& messages) {
    QStringList out;
    for (const QueuedMessage& message : messages)
        out << QString::fromStdString(message.body);
    return out;
}

// Every delivery the inbox holds once the broker has settled.
QStringList drained(BrokerHarness& h, Inbox& inbox) {
    h.broker().runTimers();
    QStringList out;
    while (auto delivery = inbox.next(std::chrono::milliseconds(0)))
        out << QString::fromStdString(delivery->body);
    return out;
}

Message withTtl(Millis ttl) {
    Message message;
    message.ttl = ttl;
    return message;
}

Message withDelay(Millis delay) {
    Message message;
    message.delay = delay;
    return message;
}

}  // namespace

class TestTtlOverflow : public QObject {
    Q_OBJECT

private slots:
    void testTtlDeadLettersOnceItPasses_data();
    void testTtlDeadLettersOnceItPasses();
    void testExpiredMessageIsNeverDelivered_data();
    void testExpiredMessageIsNeverDelivered();
    void testDelayedMessageWaitsForItsDelay();
    void testAHugeTtlMeansNeverAndSurvivesRestart();
    void testDelayedMessageSurvivesRestart_data();
    void testDelayedMessageSurvivesRestart();
    void testRejectPublishOverflowNacksAndDropsNothing_data();
    void testRejectPublishOverflowNacksAndDropsNothing();
    void testDeadLetterOldestMakesRoomForTheNewMessage();
    void testDeadLetterOldestRefusesWhenNothingIsWaiting();
    void testDeadLetterOldestTakesABurstWithoutNacks();
    void testCountersForExpiredAndDeadLettered();
};

void TestTtlOverflow::testTtlDeadLettersOnceItPasses_data() {
    QTest::addColumn<int>("messageTtl");  // ms; 0: none
    QTest::addColumn<int>("queueTtl");    // ms; 0: none
    QTest::addColumn<int>("effective");
    QTest::newRow("message ttl") << 5000 << 0 << 5000;
    QTest::newRow("queue ttl") << 0 << 4000 << 4000;
    QTest::newRow("message ttl shorter") << 3000 << 8000 << 3000;
    QTest::newRow("queue ttl shorter") << 8000 << 2000 << 2000;
    QTest::newRow("equal") << 6000 << 6000 << 6000;
}

void TestTtlOverflow::testTtlDeadLettersOnceItPasses() {
    QFETCH(int, messageTtl);
    QFETCH(int, queueTtl);
    QFETCH(int, effective);
    BrokerHarness h;
    QueuePolicy policy;
    if (queueTtl)
        policy.ttl = Millis(queueTtl);
    h.declare("orders", policy);
    TimeMs t0 = h.clock().now();
    QVERIFY(confirmed(h.publish("orders", "short-lived", messageTtl ? withTtl(Millis(messageTtl)) : Message{})));
    auto waiting = browseAll(h, "orders");
    QCOMPARE(waiting.size(), size_t(1));
    QCOMPARE(waiting[0].expiresAt, t0 + effective);

    h.advance(Millis(effective - 1));
    QCOMPARE(h.depth("orders"), uint64_t(1));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
    QCOMPARE(h.queueStats("orders").counters.expired, uint64_t(0));

    h.advance(Millis(1));
    QCOMPARE(h.depth("orders"), uint64_t(0));
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(dead), QStringList({"short-lived"}));
    QVERIFY(dead[0].death);
    QCOMPARE(int(dead[0].death->reason), int(DeathReason::Expired));
    QCOMPARE(QString::fromStdString(dead[0].death->sourceQueue), QString("orders"));
    QCOMPARE(dead[0].death->attempts, 0u);
    QCOMPARE(dead[0].death->lastDeathAt, t0 + effective);
    QCOMPARE(dead[0].expiresAt, TimeMs(0));  // a dead letter waits for an operator, it does not expire again
    QueueStats stats = h.queueStats("orders");
    QCOMPARE(stats.counters.expired, uint64_t(1));
    QCOMPARE(stats.counters.deadLettered, uint64_t(1));
    h.advance(Millis(3600 * 1000));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(1));
}

void TestTtlOverflow::testExpiredMessageIsNeverDelivered_data() {
    QTest::addColumn<QString>("waiting");
    QTest::addColumn<uint>("attempts");
    QTest::newRow("behind a full consumer") << "prefetch" << 0u;
    QTest::newRow("for a retry's backoff") << "retry" << 1u;
    QTest::newRow("for its delay") << "delay" << 0u;
    QTest::newRow("for a consumer to attach") << "consumer" << 0u;
}

void TestTtlOverflow::testExpiredMessageIsNeverDelivered() {
    QFETCH(QString, waiting);
    QFETCH(uint, attempts);
    BrokerHarness h;
    QueuePolicy policy;
    policy.backoff = {Millis(5000)};
    h.declare("orders", policy);
    Message doomed = withTtl(kSecond);
    std::shared_ptr<Inbox> inbox;
    uint64_t consumer = 0;
    if (waiting == "prefetch") {
        std::tie(consumer, inbox) = h.consume("orders", 1);
        QVERIFY(confirmed(h.publish("orders", "blocker")));
        QVERIFY(confirmed(h.publish("orders", "doomed", doomed)));
        auto blocker = inbox->next();
        QVERIFY(blocker);
        h.advance(2 * kSecond);
        QVERIFY(h.broker().ack(consumer, blocker->tag).isOk());
    } else if (waiting == "retry") {
        std::tie(consumer, inbox) = h.consume("orders", 1);
        QVERIFY(confirmed(h.publish("orders", "doomed", doomed)));
        auto first = inbox->next();
        QVERIFY(first);
        QVERIFY(h.broker().nack(consumer, first->tag, {true, "try later"}).isOk());  // attempt 1, before the ttl
        h.advance(Millis(5000));
    } else if (waiting == "delay") {
        std::tie(consumer, inbox) = h.consume("orders", 1);
        doomed.delay = Millis(5000);
        QVERIFY(confirmed(h.publish("orders", "doomed", doomed)));
        h.advance(Millis(5000));
    } else {
        QVERIFY(confirmed(h.publish("orders", "doomed", doomed)));
        h.clock().advance(2000);  // no timer run: the delivery path itself must notice
        std::tie(consumer, inbox) = h.consume("orders", 1);
    }
    QCOMPARE(drained(h, *inbox), QStringList());
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(dead), QStringList({"doomed"}));
    QCOMPARE(int(dead[0].death->reason), int(DeathReason::Expired));
    QCOMPARE(dead[0].death->attempts, attempts);
    QCOMPARE(h.queueStats("orders").counters.expired, uint64_t(1));
    h.advance(Millis(60'000));
    QCOMPARE(drained(h, *inbox), QStringList());
}

void TestTtlOverflow::testDelayedMessageWaitsForItsDelay() {
    BrokerHarness h;
    h.declare("orders");
    TimeMs t0 = h.clock().now();
    auto [consumer, inbox] = h.consume("orders");
    QVERIFY(confirmed(h.publish("orders", "later", withDelay(Millis(5000)))));
    QVERIFY(confirmed(h.publish("orders", "now")));
    auto now = inbox->next();
    QVERIFY(now);
    QCOMPARE(QString::fromStdString(now->body), QString("now"));

    h.advance(Millis(4999));
    QCOMPARE(drained(h, *inbox), QStringList());
    QueueStats stats = h.queueStats("orders");
    QCOMPARE(stats.delayed, uint64_t(1));
    QCOMPARE(stats.ready, uint64_t(0));
    auto held = browseAll(h, "orders");
    QCOMPARE(held.size(), size_t(2));  // the delayed one, then the unacked one
    QCOMPARE(int(held[0].state), int(MessageState::Delayed));
    QCOMPARE(held[0].dueAt, t0 + 5000);

    h.advance(Millis(1));
    auto later = inbox->next();
    QVERIFY(later);
    QCOMPARE(QString::fromStdString(later->body), QString("later"));
    QCOMPARE(later->attempt, 1u);
    QVERIFY(!later->redelivered);
    QCOMPARE(h.queueStats("orders").delayed, uint64_t(0));
}

void TestTtlOverflow::testDelayedMessageSurvivesRestart_data() {
    QTest::addColumn<int>("downFor");  // ms the clock moves while the broker is closed
    QTest::newRow("restarted before it is due") << 0;
    QTest::newRow("due while the broker was down") << 10'000;
}

void TestTtlOverflow::testDelayedMessageSurvivesRestart() {
    QFETCH(int, downFor);
    BrokerHarness h;
    h.declare("orders");
    TimeMs t0 = h.clock().now();
    QVERIFY(confirmed(h.publish("orders", "later", withDelay(Millis(5000)))));
    h.advance(kSecond);
    h.close();
    h.clock().advance(downFor);
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("orders"), uint64_t(1));
    auto [consumer, inbox] = h.consume("orders");
    if (downFor == 0) {
        auto held = browseAll(h, "orders");
        QCOMPARE(held.size(), size_t(1));
        QCOMPARE(int(held[0].state), int(MessageState::Delayed));
        QCOMPARE(held[0].dueAt, t0 + 5000);
        h.advance(Millis(3999));
        QCOMPARE(drained(h, *inbox), QStringList());
        h.advance(Millis(1));
    }
    auto later = inbox->next();
    QVERIFY(later);
    QCOMPARE(QString::fromStdString(later->body), QString("later"));
    QCOMPARE(later->attempt, 1u);
}

// A TTL of any size (a client may send INT64_MAX ms for "never") neither overflows into the past nor expires
// the message: its expiry is held as the latest time an entry can hold, also after a restart.
void TestTtlOverflow::testAHugeTtlMeansNeverAndSurvivesRestart() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.ttl = Millis(365LL * 24 * 3600 * 1000);  // the queue's own TTL, at its maximum, still applies
    h.declare("orders", policy);
    QVERIFY(confirmed(h.publish("orders", "forever", withTtl(Millis(INT64_MAX)))));
    QVERIFY(confirmed(h.publish("orders", "much later", withDelay(Millis(INT64_MAX / 2)))));
    h.advance(Millis(10LL * 24 * 3600 * 1000));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("orders"), uint64_t(2));
    auto held = browseAll(h, "orders");
    QCOMPARE(held.size(), size_t(2));
    QCOMPARE(held[0].expiresAt, h.clock().now() - 10LL * 24 * 3600 * 1000 + 365LL * 24 * 3600 * 1000);
    QCOMPARE(held[1].dueAt, depot::broker::TimeMs((1LL << 55) - 1));
    auto [consumer, inbox] = h.consume("orders");
    QCOMPARE(drained(h, *inbox), QStringList{"forever"});
}

void TestTtlOverflow::testRejectPublishOverflowNacksAndDropsNothing_data() {
    QTest::addColumn<QString>("held");  // what the three held messages are doing
    QTest::newRow("ready") << "ready";
    QTest::newRow("unacked") << "unacked";
    QTest::newRow("delayed") << "delayed";
}

void TestTtlOverflow::testRejectPublishOverflowNacksAndDropsNothing() {
    QFETCH(QString, held);
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxLength = 3;
    policy.overflow = Overflow::RejectPublish;
    h.declare("orders", policy);
    Message message = held == "delayed" ? withDelay(Millis(60'000)) : Message{};
    for (const char* body : {"a", "b", "c"})
        QVERIFY(confirmed(h.publish("orders", body, message)));
    uint64_t consumer = 0;
    std::shared_ptr<Inbox> inbox;
    std::vector<Delivery> taken;
    if (held == "unacked") {
        std::tie(consumer, inbox) = h.consume("orders", 0);
        taken = inbox->take(3);
        QCOMPARE(taken.size(), size_t(3));
    }
    PublishResult refused = h.publish("orders", "d");
    QCOMPARE(int(refused.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(refused.reason), int(NackReason::Overflow));
    QVERIFY(!refused.error.empty());
    QCOMPARE(h.depth("orders"), uint64_t(3));
    QCOMPARE(bodies(browseAll(h, "orders")), QStringList({"a", "b", "c"}));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
    QCOMPARE(h.queueStats("orders").counters.deadLettered, uint64_t(0));
    if (held == "unacked")
        QVERIFY(h.broker().ack(consumer, taken[0].tag).isOk());
    else
        QVERIFY(h.broker().deleteMessage("orders", browseAll(h, "orders")[0].sequence).isOk());
    QVERIFY(confirmed(h.publish("orders", "e")));  // one place free again
    QCOMPARE(bodies(browseAll(h, "orders")).size(), 3);
}

void TestTtlOverflow::testDeadLetterOldestMakesRoomForTheNewMessage() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxLength = 3;
    policy.overflow = Overflow::DeadLetterOldest;
    h.declare("orders", policy);
    for (const char* body : {"m1", "m2", "m3"})
        QVERIFY(confirmed(h.publish("orders", body)));
    QVERIFY(confirmed(h.publish("orders", "m4")));
    QCOMPARE(bodies(browseAll(h, "orders")), QStringList({"m2", "m3", "m4"}));
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(dead), QStringList({"m1"}));
    QCOMPARE(int(dead[0].death->reason), int(DeathReason::Overflow));
    QCOMPARE(QString::fromStdString(dead[0].death->sourceQueue), QString("orders"));
    QVERIFY(confirmed(h.publish("orders", "m5")));
    QCOMPARE(bodies(browseAll(h, "orders")), QStringList({"m3", "m4", "m5"}));
    QCOMPARE(bodies(browseAll(h, "orders.dlq")), QStringList({"m1", "m2"}));
    QueueStats stats = h.queueStats("orders");
    QCOMPARE(stats.counters.deadLettered, uint64_t(2));
    QCOMPARE(stats.counters.expired, uint64_t(0));
    QCOMPARE(stats.deadLetterDepth, uint64_t(2));
}

void TestTtlOverflow::testDeadLetterOldestRefusesWhenNothingIsWaiting() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxLength = 2;
    policy.overflow = Overflow::DeadLetterOldest;
    h.declare("orders", policy);
    QVERIFY(confirmed(h.publish("orders", "m1")));
    QVERIFY(confirmed(h.publish("orders", "m2")));
    auto [consumer, inbox] = h.consume("orders", 0);
    QCOMPARE(inbox->take(2).size(), size_t(2));  // both in a consumer's hands: nothing ready to drop
    PublishResult refused = h.publish("orders", "m3");
    QCOMPARE(int(refused.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(refused.reason), int(NackReason::Overflow));
    QCOMPARE(h.depth("orders"), uint64_t(2));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
}

// Publishes arriving together are staged before any is applied: the earlier ones of the burst are not "ready"
// yet, but they will be, and then the oldest makes room. None of the burst is refused.
void TestTtlOverflow::testDeadLetterOldestTakesABurstWithoutNacks() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxLength = 1;
    policy.overflow = Overflow::DeadLetterOldest;
    policy.dedupWindow = Millis(0);
    h.declare("orders", policy);
    constexpr int kBurst = 500;
    std::mutex mutex;
    std::condition_variable done;
    int answered = 0, nacked = 0;
    for (int i = 0; i < kBurst; ++i) {
        PublishRequest request;
        request.routingKey = "orders";
        request.message.body = "m" + std::to_string(i);
        h.broker().publish(std::move(request), [&](const PublishResult& result) {
            std::lock_guard lock(mutex);
            nacked += result.outcome != PublishOutcome::Confirmed;
            ++answered;
            done.notify_all();
        });
    }
    std::unique_lock lock(mutex);
    QVERIFY(done.wait_for(lock, std::chrono::seconds(20), [&] { return answered == kBurst; }));
    QCOMPARE(nacked, 0);
    lock.unlock();
    QCOMPARE(h.depth("orders"), uint64_t(1));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(kBurst - 1));
}

void TestTtlOverflow::testCountersForExpiredAndDeadLettered() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.ttl = kSecond;
    h.declare("orders", policy);
    for (const char* body : {"e1", "e2", "e3"})
        QVERIFY(confirmed(h.publish("orders", body)));
    h.advance(kSecond);
    QVERIFY(confirmed(h.publish("orders", "rejected")));
    auto [consumer, inbox] = h.consume("orders");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QVERIFY(h.broker().nack(consumer, delivery->tag, {false, "no"}).isOk());
    h.broker().runTimers();

    QueueStats stats = h.queueStats("orders");
    QCOMPARE(stats.counters.expired, uint64_t(3));
    QCOMPARE(stats.counters.deadLettered, uint64_t(4));
    QCOMPARE(h.queueStats("orders.dlq").counters.published, uint64_t(4));
    QCOMPARE(h.queueStats("orders.dlq").counters.expired, uint64_t(0));
    BrokerStats totals = h.broker().stats();
    QCOMPARE(totals.totals.expired, uint64_t(3));
    QCOMPARE(totals.totals.deadLettered, uint64_t(4));
}

QTEST_GUILESS_MAIN(TestTtlOverflow)
#include "TestTtlOverflow.moc"
