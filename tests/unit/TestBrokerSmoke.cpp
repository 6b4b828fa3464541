// The broker's basic life: declare, publish with confirm, deliver, ack, restart.
#include <QtTest>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

class TestBrokerSmoke : public QObject {
    Q_OBJECT

private slots:
    void testConfirmedMessageIsDeliveredAndAckedOnce();
    void testUnackedMessageSurvivesRestart();
    void testAckedMessageDoesNotComeBackAfterRestart();
};

void TestBrokerSmoke::testConfirmedMessageIsDeliveredAndAckedOnce() {
    BrokerHarness h;
    QVERIFY(h.ok());
    h.declare("orders");
    PublishResult result = h.publish("orders", "hello");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(QString::fromStdString(delivery->body), QString("hello"));
    QCOMPARE(delivery->attempt, 1u);
    QVERIFY(!delivery->redelivered);
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    QVERIFY(!h.broker().ack(consumer, delivery->tag).isOk());
    QCOMPARE(h.depth("orders"), uint64_t(0));
}

void TestBrokerSmoke::testUnackedMessageSurvivesRestart() {
    BrokerHarness h;
    h.declare("orders");
    QCOMPARE(int(h.publish("orders", "one").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("orders", "two").outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    QCOMPARE(inbox->take(2).size(), size_t(2));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("orders"), uint64_t(2));
    auto [again, inbox2] = h.consume("orders");
    auto deliveries = inbox2->take(2);
    QCOMPARE(deliveries.size(), size_t(2));
    QCOMPARE(QString::fromStdString(deliveries[0].body), QString("one"));
    QCOMPARE(QString::fromStdString(deliveries[1].body), QString("two"));
}

void TestBrokerSmoke::testAckedMessageDoesNotComeBackAfterRestart() {
    BrokerHarness h;
    h.declare("orders");
    QCOMPARE(int(h.publish("orders", "one").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("orders", "two").outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto first = inbox->next();
    QVERIFY(first);
    QVERIFY(h.broker().ack(consumer, first->tag).isOk());
    QVERIFY(h.broker().sync().isOk());
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("orders"), uint64_t(1));
    BrowsePage page = *h.broker().browse("orders");
    QCOMPARE(page.messages.size(), size_t(1));
    QCOMPARE(QString::fromStdString(page.messages[0].body), QString("two"));
}

QTEST_GUILESS_MAIN(TestBrokerSmoke)
#include "TestBrokerSmoke.moc"
