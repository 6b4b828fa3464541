// Delivery and acknowledgement: prefetch credit, competing consumers, auto-ack (and the loss it allows), manual
// ack, ack timeouts, cancelled consumers, nack with and without requeue, and what a Delivery carries.
#include <QtTest>

#include <set>
#include <string>
#include <vector>

#include "support/BrokerChecks.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;
using depot::test::Inbox;
using depot::test::name;
using depot::test::nothingArrives;
using depot::test::text;

namespace {


std::vector<std::string> bodiesOf(const std::vector<Delivery>& deliveries) {
    std::vector<std::string> bodies;
    for (const Delivery& d : deliveries)
        bodies.push_back(d.body);
    return bodies;
}

}  // namespace

class TestDeliveryAcks : public QObject {
    Q_OBJECT

private slots:
    void testPrefetchLimitsUnackedDeliveries_data();
    void testPrefetchLimitsUnackedDeliveries();
    void testCompetingConsumersShareTheQueue();
    void testAutoAckSettlesAtSendAndLosesTheMessage();
    void testManualAckSettlesDurably();
    void testAckTimeoutRedelivers_data();
    void testAckTimeoutRedelivers();
    void testLateAckAfterTimeoutIsNotFound();
    void testTimedOutDeliveriesComeBackInOrder();
    void testAckTimeoutCountsAsAnAttempt();
    void testCancelRedeliversUnackedAtOnce();
    void testNackWithRequeueWaitsForBackoff();
    void testNackWithoutRequeueDeadLettersAtOnce();
    void testDeliveryCarriesTheMessage_data();
    void testDeliveryCarriesTheMessage();
};

void TestDeliveryAcks::testPrefetchLimitsUnackedDeliveries_data() {
    depot::test::addConsumerFirstRows();
}

void TestDeliveryAcks::testPrefetchLimitsUnackedDeliveries() {
    QFETCH(bool, consumerFirst);
    BrokerHarness h;
    QVERIFY(h.ok());
    h.declare("q");
    std::pair<uint64_t, std::shared_ptr<Inbox>> started;
    if (consumerFirst)
        started = h.consume("q", 2);
    for (int i = 1; i <= 5; ++i)
        QCOMPARE(name(h.publish("q", "m" + std::to_string(i)).outcome), name(PublishOutcome::Confirmed));
    if (!consumerFirst)
        started = h.consume("q", 2);
    auto [consumer, inbox] = started;

    std::vector<Delivery> first = inbox->take(2);
    QCOMPARE(first.size(), size_t(2));
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.queueStats("q").unacked, uint64_t(2));
    QCOMPARE(h.queueStats("q").ready, uint64_t(3));

    CHECK_OK(h.broker().ack(consumer, first[0].tag));
    auto third = inbox->next();
    QVERIFY(third);
    QCOMPARE(text(third->body), QString("m3"));
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.queueStats("q").unacked, uint64_t(2));
}

void TestDeliveryAcks::testCompetingConsumersShareTheQueue() {
    BrokerHarness h;
    h.declare("work");
    auto [a, inboxA] = h.consume("work", 1);
    auto [b, inboxB] = h.consume("work", 1);
    for (int i = 1; i <= 4; ++i)
        QCOMPARE(name(h.publish("work", "job" + std::to_string(i)).outcome), name(PublishOutcome::Confirmed));

    // Each consumer holds one (its whole credit); the other two wait for an ack.
    auto gotA = inboxA->next();
    auto gotB = inboxB->next();
    QVERIFY(gotA && gotB);
    QVERIFY(nothingArrives(h, *inboxA));
    QVERIFY(nothingArrives(h, *inboxB));
    QCOMPARE(h.queueStats("work").ready, uint64_t(2));

    std::multiset<std::string> seen{gotA->body, gotB->body};
    CHECK_OK(h.broker().ack(a, gotA->tag));
    CHECK_OK(h.broker().ack(b, gotB->tag));
    auto nextA = inboxA->next();
    auto nextB = inboxB->next();
    QVERIFY(nextA && nextB);
    seen.insert(nextA->body);
    seen.insert(nextB->body);
    QCOMPARE(seen, (std::multiset<std::string>{"job1", "job2", "job3", "job4"}));
    QCOMPARE(nextA->attempt, 1u);
    QCOMPARE(nextB->attempt, 1u);
}

void TestDeliveryAcks::testAutoAckSettlesAtSendAndLosesTheMessage() {
    BrokerHarness h;
    h.declare("q");
    for (int i = 1; i <= 3; ++i)
        QCOMPARE(name(h.publish("q", "order" + std::to_string(i)).outcome), name(PublishOutcome::Confirmed));
    // Prefetch 1 does not hold auto-acked deliveries back: nothing stays unacked.
    auto [consumer, inbox] = h.consume("q", 1, true);
    std::vector<Delivery> got = inbox->take(3);
    QCOMPARE(got.size(), size_t(3));
    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.queueStats("q").unacked, uint64_t(0));
    QCOMPARE(h.queueStats("q").counters.acked, uint64_t(3));
    QCOMPARE(h.broker().ack(consumer, got[0].tag).code(), StatusCode::NotFound);

    // The consumer "crashes" before processing: the broker has nothing left to give back, now or after a restart.
    CHECK_OK(h.broker().cancel(consumer));
    QCOMPARE(h.depth("q"), uint64_t(0));
    CHECK_OK(h.restart());
    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.broker().browse("q")->matched, uint64_t(0));
    auto [again, inbox2] = h.consume("q");
    QVERIFY(nothingArrives(h, *inbox2));
}

void TestDeliveryAcks::testManualAckSettlesDurably() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(name(h.publish("q", "keep").outcome), name(PublishOutcome::Confirmed));
    QCOMPARE(name(h.publish("q", "done").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    std::vector<Delivery> got = inbox->take(2);
    QCOMPARE(got.size(), size_t(2));
    QCOMPARE(h.queueStats("q").unacked, uint64_t(2));

    CHECK_OK(h.broker().ack(consumer, got[1].tag));
    QCOMPARE(h.queueStats("q").unacked, uint64_t(1));
    QCOMPARE(h.depth("q"), uint64_t(1));
    QCOMPARE(h.queueStats("q").counters.acked, uint64_t(1));

    // The unacked one comes back after a restart; the acked one never does.
    CHECK_OK(h.restart());
    QCOMPARE(h.depth("q"), uint64_t(1));
    auto [again, inbox2] = h.consume("q");
    auto back = inbox2->next();
    QVERIFY(back);
    QCOMPARE(text(back->body), QString("keep"));
    QVERIFY(nothingArrives(h, *inbox2));
}

void TestDeliveryAcks::testAckTimeoutRedelivers_data() {
    QTest::addColumn<qint64>("timeoutMs");  // 0: the policy's default
    QTest::addColumn<qint64>("expectedMs");
    QTest::newRow("default 60 s") << qint64(0) << qint64(60000);
    QTest::newRow("custom 5 s") << qint64(5000) << qint64(5000);
}

void TestDeliveryAcks::testAckTimeoutRedelivers() {
    QFETCH(qint64, timeoutMs);
    QFETCH(qint64, expectedMs);
    BrokerHarness h;
    QueuePolicy policy;
    if (timeoutMs)
        policy.ackTimeout = Millis(timeoutMs);
    h.declare("q", policy);
    QCOMPARE(name(h.publish("q", "slow").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto first = inbox->next();
    QVERIFY(first);
    QCOMPARE(first->attempt, 1u);
    QVERIFY(!first->redelivered);

    h.advance(Millis(expectedMs - 1000));
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.queueStats("q").unacked, uint64_t(1));

    h.advance(Millis(2000));
    auto second = inbox->next();
    QVERIFY(second);
    QCOMPARE(second->sequence, first->sequence);
    QCOMPARE(text(second->body), QString("slow"));
    QCOMPARE(second->attempt, 2u);
    QVERIFY(second->redelivered);
    QVERIFY(second->tag != first->tag);
    QueueStats stats = h.queueStats("q");
    QCOMPARE(stats.counters.redelivered, uint64_t(1));
    QCOMPARE(stats.counters.delivered, uint64_t(2));
    QCOMPARE(stats.unacked, uint64_t(1));
}

void TestDeliveryAcks::testLateAckAfterTimeoutIsNotFound() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(name(h.publish("q", "slow").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto first = inbox->next();
    QVERIFY(first);
    h.advance(Millis(61000));
    auto second = inbox->next();
    QVERIFY(second);

    QCOMPARE(h.broker().ack(consumer, first->tag).code(), StatusCode::NotFound);
    QCOMPARE(h.depth("q"), uint64_t(1));  // the late ack settled nothing
    CHECK_OK(h.broker().ack(consumer, second->tag));
    QCOMPARE(h.depth("q"), uint64_t(0));
}

void TestDeliveryAcks::testTimedOutDeliveriesComeBackInOrder() {
    BrokerHarness h;
    h.declare("q");
    for (const char* body : {"one", "two", "three"})
        QCOMPARE(name(h.publish("q", body).outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q", 3);
    QCOMPARE(inbox->take(3).size(), size_t(3));
    h.advance(Millis(61000));
    std::vector<Delivery> again = inbox->take(3);
    QCOMPARE(bodiesOf(again), (std::vector<std::string>{"one", "two", "three"}));
    for (const Delivery& d : again)
        QCOMPARE(d.attempt, 2u);
}

void TestDeliveryAcks::testAckTimeoutCountsAsAnAttempt() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.ackTimeout = Millis(5000);
    policy.maxAttempts = 2;
    h.declare("q", policy);
    QCOMPARE(name(h.publish("q", "ignored").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    QVERIFY(inbox->next());
    h.advance(Millis(5000));
    auto second = inbox->next();
    QVERIFY(second);
    QCOMPARE(second->attempt, 2u);
    h.advance(Millis(5000));  // the second timeout exhausts the attempts
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.depth("q"), uint64_t(0));
    BrowsePage page = *h.broker().browse("q.dlq");
    QCOMPARE(page.messages.size(), size_t(1));
    QVERIFY(page.messages[0].death);
    QCOMPARE(name(page.messages[0].death->reason), name(DeathReason::MaxAttempts));
    QCOMPARE(page.messages[0].death->attempts, 2u);
    QCOMPARE(text(page.messages[0].death->lastError), QString("no ack within 5s"));
}

void TestDeliveryAcks::testCancelRedeliversUnackedAtOnce() {
    BrokerHarness h;
    h.declare("q");
    auto [first, inboxFirst] = h.consume("q");
    QCOMPARE(name(h.publish("q", "one").outcome), name(PublishOutcome::Confirmed));
    QCOMPARE(name(h.publish("q", "two").outcome), name(PublishOutcome::Confirmed));
    std::vector<Delivery> held = inboxFirst->take(2);
    QCOMPARE(held.size(), size_t(2));
    auto [second, inboxSecond] = h.consume("q");
    QVERIFY(nothingArrives(h, *inboxSecond));

    CHECK_OK(h.broker().cancel(first));
    std::vector<Delivery> moved = inboxSecond->take(2);  // no clock movement: at once
    QCOMPARE(moved.size(), size_t(2));
    QCOMPARE(bodiesOf(moved), (std::vector<std::string>{"one", "two"}));
    for (const Delivery& d : moved) {
        QCOMPARE(d.consumer, second);
        QCOMPARE(d.attempt, 2u);
        QVERIFY(d.redelivered);
    }
    QCOMPARE(h.broker().ack(first, held[0].tag).code(), StatusCode::NotFound);
    QCOMPARE(h.broker().cancel(first).code(), StatusCode::NotFound);
    QCOMPARE(h.queueStats("q").counters.redelivered, uint64_t(2));
    QCOMPARE(h.queueStats("q").consumers, uint64_t(1));
}

void TestDeliveryAcks::testNackWithRequeueWaitsForBackoff() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(name(h.publish("q", "flaky").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto first = inbox->next();
    QVERIFY(first);
    CHECK_OK(h.broker().nack(consumer, first->tag, {true, "downstream busy"}));
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.queueStats("q").delayed, uint64_t(1));

    h.advance(Millis(999));
    QVERIFY(nothingArrives(h, *inbox));
    h.advance(Millis(1));
    auto second = inbox->next();
    QVERIFY(second);
    QCOMPARE(second->sequence, first->sequence);
    QCOMPARE(second->attempt, 2u);
    QVERIFY(second->redelivered);
    QCOMPARE(h.broker().ack(consumer, first->tag).code(), StatusCode::NotFound);
}

void TestDeliveryAcks::testNackWithoutRequeueDeadLettersAtOnce() {
    BrokerHarness h;
    h.declare("q");
    TimeMs publishedAt = h.clock().now();
    QCOMPARE(name(h.publish("q", "poison", Message{"p-1"}).outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto got = inbox->next();
    QVERIFY(got);
    h.clock().advance(500);
    CHECK_OK(h.broker().nack(consumer, got->tag, {false, "cannot parse body"}));
    QVERIFY(h.broker().sync().isOk());

    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.depth("q.dlq"), uint64_t(1));
    QueueStats stats = h.queueStats("q");
    QCOMPARE(stats.deadLetterDepth, uint64_t(1));
    QCOMPARE(stats.counters.deadLettered, uint64_t(1));
    BrowsePage page = *h.broker().browse("q.dlq");
    QCOMPARE(page.messages.size(), size_t(1));
    const QueuedMessage& dead = page.messages[0];
    QCOMPARE(text(dead.body), QString("poison"));
    QCOMPARE(text(dead.messageId), QString("p-1"));
    QVERIFY(dead.death);
    QCOMPARE(name(dead.death->reason), name(DeathReason::Rejected));
    QCOMPARE(text(dead.death->sourceQueue), QString("q"));
    QCOMPARE(text(dead.death->lastError), QString("cannot parse body"));
    QCOMPARE(dead.death->attempts, 1u);
    QCOMPARE(dead.death->firstDeathAt, publishedAt + 500);
    QCOMPARE(dead.death->lastDeathAt, publishedAt + 500);
    QVERIFY(nothingArrives(h, *inbox));
}

void TestDeliveryAcks::testDeliveryCarriesTheMessage_data() {
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QStringList>("headers");  // "name=value"
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("every field") << "order-17"
                                 << "customer-4" << QStringList{"type=order", "v=2"} << QByteArray("{\"total\":12}");
    QTest::newRow("empty body, no key, no headers") << "m-2"
                                                    << "" << QStringList{} << QByteArray();
    QTest::newRow("binary body") << "m-3"
                                 << "k" << QStringList{"empty="} << QByteArray("a\0b\xff\x01", 5);
    QTest::newRow("id assigned by the broker") << ""
                                               << "k" << QStringList{} << QByteArray("x");
}

void TestDeliveryAcks::testDeliveryCarriesTheMessage() {
    QFETCH(QString, id);
    QFETCH(QString, key);
    QFETCH(QStringList, headers);
    QFETCH(QByteArray, body);
    BrokerHarness h;
    h.declare("orders");
    h.clock().advance(12345);
    Message message;
    message.id = id.toStdString();
    message.key = key.toStdString();
    for (const QString& header : headers) {
        qsizetype eq = header.indexOf('=');
        message.headers.emplace_back(header.left(eq).toStdString(), header.mid(eq + 1).toStdString());
    }
    Headers expectedHeaders = message.headers;
    TimeMs publishedAt = h.clock().now();
    PublishResult result = h.publish("orders", body.toStdString(), message);
    QCOMPARE(name(result.outcome), name(PublishOutcome::Confirmed));
    h.clock().advance(700);

    auto [consumer, inbox] = h.consume("orders");
    auto d = inbox->next();
    QVERIFY(d);
    QCOMPARE(d->consumer, consumer);
    QCOMPARE(text(d->queue), QString("orders"));
    if (id.isEmpty())
        QVERIFY(!d->messageId.empty());
    else
        QCOMPARE(text(d->messageId), id);
    QCOMPARE(text(d->messageId), text(result.messageId));
    QCOMPARE(text(d->key), key);
    QCOMPARE(d->headers, expectedHeaders);
    QCOMPARE(QByteArray::fromStdString(d->body), body);
    QCOMPARE(d->publishedAt, publishedAt);
    QCOMPARE(d->attempt, 1u);
    QVERIFY(!d->redelivered);
    QVERIFY(!d->death);
    BrowsePage page = *h.broker().browse("orders");
    QCOMPARE(page.messages.size(), size_t(1));
    QCOMPARE(d->sequence, page.messages[0].sequence);
}

QTEST_GUILESS_MAIN(TestDeliveryAcks)
#include "TestDeliveryAcks.moc"
