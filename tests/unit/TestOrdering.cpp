// Ordering: a per-key queue keeps at most one message per key in flight, keys in parallel and each in publish
// order (also across retries and restarts); keyless messages are never held back; an operator can unblock a
// poisoned key; a FIFO queue delivers in publish order.
#include <QtTest>

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

QueuePolicy perKey() {
    QueuePolicy policy;
    policy.ordering = Ordering::PerKey;
    return policy;
}

// Publishes "key:body" items ("" key: none); each must be confirmed.
bool publishAll(BrokerHarness& h, const std::string& queue, const std::vector<std::string>& items) {
    for (const std::string& item : items) {
        size_t colon = item.find(':');
        Message message;
        message.key = item.substr(0, colon);
        if (h.publish(queue, item.substr(colon + 1), message).outcome != PublishOutcome::Confirmed)
            return false;
    }
    return true;
}

std::string label(const Delivery& d) { return d.key + ":" + d.body; }

std::vector<std::string> labels(const std::vector<Delivery>& deliveries) {
    std::vector<std::string> out;
    for (const Delivery& d : deliveries)
        out.push_back(label(d));
    return out;
}


}  // namespace

class TestOrdering : public QObject {
    Q_OBJECT

private slots:
    void testOneInFlightPerKeyAndKeysInParallel_data();
    void testOneInFlightPerKeyAndKeysInParallel();
    void testRetryKeepsOrderWithinKey();
    void testPendingRetryStillGoesFirstAfterRestart();
    void testKeylessMessagesAreNeverHeldBack();
    void testDeadLetteringHeadUnblocksPoisonedKey_data();
    void testDeadLetteringHeadUnblocksPoisonedKey();
    void testFifoQueueDeliversInPublishOrder();
};

void TestOrdering::testOneInFlightPerKeyAndKeysInParallel_data() {
    depot::test::addConsumerFirstRows();
}

void TestOrdering::testOneInFlightPerKeyAndKeysInParallel() {
    QFETCH(bool, consumerFirst);
    BrokerHarness h;
    QVERIFY(h.ok());
    h.declare("q", perKey());
    std::pair<uint64_t, std::shared_ptr<Inbox>> started;
    if (consumerFirst)
        started = h.consume("q", 10);
    QVERIFY(publishAll(h, "q", {"k1:a", "k1:b", "k2:x", "k2:y"}));
    if (!consumerFirst)
        started = h.consume("q", 10);
    auto [consumer, inbox] = started;

    std::vector<Delivery> first = inbox->take(2);
    QCOMPARE(labels(first), (std::vector<std::string>{"k1:a", "k2:x"}));
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.queueStats("q").ready, uint64_t(2));

    CHECK_OK(h.broker().ack(consumer, first[0].tag));
    auto b = inbox->next();
    QVERIFY(b);
    QCOMPARE(text(label(*b)), QString("k1:b"));
    QVERIFY(nothingArrives(h, *inbox));  // k2:y still waits for k2:x

    CHECK_OK(h.broker().ack(consumer, first[1].tag));
    auto y = inbox->next();
    QVERIFY(y);
    QCOMPARE(text(label(*y)), QString("k2:y"));
}

void TestOrdering::testRetryKeepsOrderWithinKey() {
    BrokerHarness h;
    h.declare("q", perKey());
    QVERIFY(publishAll(h, "q", {"k1:a", "k1:b", "k2:x"}));
    auto [consumer, inbox] = h.consume("q", 10);
    std::vector<Delivery> first = inbox->take(2);
    QCOMPARE(labels(first), (std::vector<std::string>{"k1:a", "k2:x"}));

    CHECK_OK(h.broker().nack(consumer, first[0].tag, {true, "try later"}));
    QVERIFY(nothingArrives(h, *inbox));  // k1:b must not overtake k1:a while it waits for its retry
    h.advance(Millis(999));
    QVERIFY(nothingArrives(h, *inbox));
    h.advance(Millis(1));
    auto again = inbox->next();
    QVERIFY(again);
    QCOMPARE(text(label(*again)), QString("k1:a"));
    QCOMPARE(again->attempt, 2u);
    QVERIFY(nothingArrives(h, *inbox));

    CHECK_OK(h.broker().ack(consumer, again->tag));
    auto b = inbox->next();
    QVERIFY(b);
    QCOMPARE(text(label(*b)), QString("k1:b"));
    QCOMPARE(b->attempt, 1u);
}

void TestOrdering::testPendingRetryStillGoesFirstAfterRestart() {
    BrokerHarness h;
    h.declare("q", perKey());
    QVERIFY(publishAll(h, "q", {"k1:a", "k1:b"}));
    {
        auto [consumer, inbox] = h.consume("q", 10);
        auto a = inbox->next();
        QVERIFY(a);
        CHECK_OK(h.broker().nack(consumer, a->tag, {true, "try later"}));
    }
    CHECK_OK(h.restart());
    auto [consumer, inbox] = h.consume("q", 10);
    QVERIFY(nothingArrives(h, *inbox));  // k1:a is waiting for its retry, so k1:b waits too
    h.advance(Millis(1000));
    auto again = inbox->next();
    QVERIFY(again);
    QCOMPARE(text(label(*again)), QString("k1:a"));
    QCOMPARE(again->attempt, 2u);
    QVERIFY(nothingArrives(h, *inbox));
    CHECK_OK(h.broker().ack(consumer, again->tag));
    auto b = inbox->next();
    QVERIFY(b);
    QCOMPARE(text(label(*b)), QString("k1:b"));
}

void TestOrdering::testKeylessMessagesAreNeverHeldBack() {
    BrokerHarness h;
    h.declare("q", perKey());
    QVERIFY(publishAll(h, "q", {"k1:a", "k1:b", ":n1", ":n2", ":n3", "k1:c"}));
    auto [consumer, inbox] = h.consume("q", 10);
    std::vector<Delivery> got = inbox->take(4);
    QCOMPARE(labels(got), (std::vector<std::string>{"k1:a", ":n1", ":n2", ":n3"}));
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.queueStats("q").ready, uint64_t(2));
}

void TestOrdering::testDeadLetteringHeadUnblocksPoisonedKey_data() {
    QTest::addColumn<bool>("headInFlight");
    QTest::newRow("head waiting for its retry") << false;
    QTest::newRow("head in a consumer's hands") << true;
}

void TestOrdering::testDeadLetteringHeadUnblocksPoisonedKey() {
    QFETCH(bool, headInFlight);
    BrokerHarness h;
    QueuePolicy policy = perKey();
    policy.maxAttempts = 0;  // the head would be retried forever
    policy.backoff = {Millis(100)};
    h.declare("q", policy);
    QVERIFY(publishAll(h, "q", {"k1:poison", "k1:next", "k2:other"}));
    auto [consumer, inbox] = h.consume("q", 10);
    std::vector<Delivery> first = inbox->take(2);
    QCOMPARE(labels(first), (std::vector<std::string>{"k1:poison", "k2:other"}));
    CHECK_OK(h.broker().ack(consumer, first[1].tag));
    Delivery head = first[0];
    for (int i = 0; i < 3; ++i) {
        CHECK_OK(h.broker().nack(consumer, head.tag, {true, "cannot handle"}));
        h.advance(Millis(100));
        auto again = inbox->next();
        QVERIFY(again);
        QCOMPARE(text(label(*again)), QString("k1:poison"));
        head = *again;
    }
    QVERIFY(nothingArrives(h, *inbox));
    if (!headInFlight)
        CHECK_OK(h.broker().nack(consumer, head.tag, {true, "cannot handle"}));

    CHECK_OK(h.broker().deadLetterMessage("q", head.sequence, Actor{"operator"}));
    auto next = inbox->next();
    QVERIFY(next);
    QCOMPARE(text(label(*next)), QString("k1:next"));
    QCOMPARE(next->attempt, 1u);
    h.advance(Millis(100));
    QVERIFY(nothingArrives(h, *inbox));  // the poisoned head is gone for good
    if (headInFlight)
        QCOMPARE(h.broker().ack(consumer, head.tag).code(), StatusCode::NotFound);

    BrowsePage dlq = *h.broker().browse("q.dlq");
    QCOMPARE(dlq.messages.size(), size_t(1));
    QCOMPARE(text(dlq.messages[0].body), QString("poison"));
    QVERIFY(dlq.messages[0].death);
    QCOMPARE(name(dlq.messages[0].death->reason), name(DeathReason::Rejected));
    QCOMPARE(h.depth("q"), uint64_t(1));  // k1:next, unacked
}

void TestOrdering::testFifoQueueDeliversInPublishOrder() {
    BrokerHarness h;
    h.declare("q");  // ordering none
    std::vector<std::string> items;
    for (int i = 0; i < 20; ++i)
        items.push_back("k" + std::to_string(i % 3) + ":m" + std::to_string(i));
    QVERIFY(publishAll(h, "q", items));
    auto [consumer, inbox] = h.consume("q", 100);
    std::vector<Delivery> got = inbox->take(items.size());
    QCOMPARE(labels(got), items);  // keys do not hold anything back in a FIFO queue
    for (size_t i = 1; i < got.size(); ++i)
        QVERIFY(got[i - 1].sequence < got[i].sequence);
}

QTEST_GUILESS_MAIN(TestOrdering)
#include "TestOrdering.moc"
