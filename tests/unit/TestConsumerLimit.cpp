// A consumer's delivery limit (ConsumerSpec::limit, CONSUME "limit"): a client that wants N messages gets N and
// no more, so nothing it never looked at comes back later with an attempt counted against it.
#include <QtTest>

#include <memory>
#include <string>

#include "support/BrokerChecks.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;
using depot::test::Inbox;
using depot::test::name;
using depot::test::nothingArrives;
using depot::test::text;

namespace {

std::pair<uint64_t, std::shared_ptr<Inbox>> consumeWithLimit(BrokerHarness& h, const std::string& queue,
                                                             uint64_t limit) {
    auto inbox = std::make_shared<Inbox>();
    ConsumerSpec spec{queue, 100, false, "limited"};
    spec.limit = limit;
    Result<uint64_t> id = h.broker().consume(spec, [inbox](Delivery&& d) { inbox->push(std::move(d)); });
    if (!id) qFatal("consume: %s", id.status().toString().c_str());
    return {*id, inbox};
}

}  // namespace

class TestConsumerLimit : public QObject {
    Q_OBJECT

private slots:
    void testNoMoreThanTheLimitIsDelivered() {
        BrokerHarness h;
        QVERIFY(h.ok());
        h.declare("q");
        for (int i = 1; i <= 5; ++i)
            QCOMPARE(name(h.publish("q", "m" + std::to_string(i)).outcome), name(PublishOutcome::Confirmed));
        auto [consumer, inbox] = consumeWithLimit(h, "q", 2);
        std::vector<Delivery> got = inbox->take(2);
        QCOMPARE(got.size(), size_t(2));
        CHECK_OK(h.broker().ack(consumer, got[0].tag));
        CHECK_OK(h.broker().ack(consumer, got[1].tag));
        QVERIFY(nothingArrives(h, *inbox));  // credit is free again, but the limit is reached
        QCOMPARE(h.queueStats("q").ready, uint64_t(3));
        CHECK_OK(h.broker().cancel(consumer));

        // The rest were never sent, so the next consumer sees them as first deliveries.
        auto [next, nextInbox] = h.consume("q");
        std::optional<Delivery> third = nextInbox->next();
        QVERIFY(third);
        QCOMPARE(text(third->body), QString("m3"));
        QCOMPARE(third->attempt, 1u);
        QVERIFY(!third->redelivered);
    }

    void testARetryToTheSameConsumerCountsTowardsTheLimit() {
        BrokerHarness h;
        QVERIFY(h.ok());
        QueuePolicy policy;
        policy.backoff = {Millis(0)};
        h.declare("retry", policy);
        QCOMPARE(name(h.publish("retry", "once").outcome), name(PublishOutcome::Confirmed));
        QCOMPARE(name(h.publish("retry", "twice").outcome), name(PublishOutcome::Confirmed));
        auto [consumer, inbox] = consumeWithLimit(h, "retry", 2);
        std::vector<Delivery> got = inbox->take(2);
        QCOMPARE(got.size(), size_t(2));
        CHECK_OK(h.broker().nack(consumer, got[0].tag, {.requeue = true, .error = "again"}));
        QVERIFY(nothingArrives(h, *inbox));
        QCOMPARE(h.queueStats("retry").ready, uint64_t(1));
    }

    void testZeroMeansNoLimit() {
        BrokerHarness h;
        QVERIFY(h.ok());
        h.declare("q");
        for (int i = 1; i <= 3; ++i)
            QCOMPARE(name(h.publish("q", "m" + std::to_string(i)).outcome), name(PublishOutcome::Confirmed));
        auto [consumer, inbox] = consumeWithLimit(h, "q", 0);
        QCOMPARE(inbox->take(3).size(), size_t(3));
    }
};

QTEST_GUILESS_MAIN(TestConsumerLimit)
#include "TestConsumerLimit.moc"
