// Transactions (half messages): prepared messages are confirmed but invisible until committed, discarded on
// rollback, checked back with their producer when left unresolved, dead-lettered (tx-unresolved) when nobody
// answers, and all of that survives a restart.
#include <QtTest>

#include <mutex>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

namespace {

constexpr auto kShort = std::chrono::milliseconds(300);  // for deliveries that must not come

PublishResult publishHalf(BrokerHarness& h, const std::string& queue, const std::string& body,
                          const std::string& transaction, const std::string& id = {},
                          const std::string& producer = "shop") {
    PublishRequest request;
    request.routingKey = queue;
    request.message.id = id;
    request.message.body = body;
    request.producer = producer;
    request.transaction = transaction;
    return h.broker().publish(std::move(request)).get();
}

// What a checker was asked, in order. Checkers run on the broker thread; the test reads from its own.
struct CheckLog {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> calls;  // (transaction, message id)

    void add(const std::string& transaction, const std::string& id) {
        std::lock_guard lock(mutex);
        calls.emplace_back(transaction, id);
    }
    std::vector<std::pair<std::string, std::string>> snapshot() {
        std::lock_guard lock(mutex);
        return calls;
    }
};

BrokerOptions quickChecks(uint32_t maxChecks) {
    BrokerOptions options;
    options.transactionCheckInterval = Millis(1000);
    options.transactionMaxChecks = maxChecks;
    return options;
}

QString text(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

class TestTransactions : public QObject {
    Q_OBJECT

private slots:
    void testPreparedMessageIsConfirmedButInvisible();
    void testResolvingMakesVisibleOrDiscards_data();
    void testResolvingMakesVisibleOrDiscards();
    void testResolvingAnUnknownTransactionIsNacked_data();
    void testResolvingAnUnknownTransactionIsNacked();
    void testMessagesOfOneTransactionBecomeVisibleTogether();
    void testUnresolvedTransactionIsCheckedBackAfterTheInterval();
    void testCheckBackGoesOnlyToTheTransactionsProducer();
    void testCheckerThatCommitsResolvesTheTransaction();
    void testUnansweredTransactionIsDeadLetteredAfterMaxChecks();
    void testPreparedTransactionSurvivesRestartAndCanBeCommitted();
    void testResolvedTransactionSurvivesRestart_data();
    void testResolvedTransactionSurvivesRestart();
    void testCommittedMessageMovedByCompactionStaysCommitted();
};

void TestTransactions::testPreparedMessageIsConfirmedButInvisible() {
    BrokerHarness h;
    QVERIFY(h.ok());
    h.declare("orders");
    auto [consumer, inbox] = h.consume("orders");
    PublishResult result = publishHalf(h, "orders", "half", "tx-1", "m-1");
    QCOMPARE(text(std::string(toString(result.outcome))), QString("confirmed"));
    QCOMPARE(text(result.messageId), QString("m-1"));
    h.broker().runTimers();
    QCOMPARE(h.depth("orders"), uint64_t(0));
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(1));
    QCOMPARE(h.broker().browse("orders")->matched, uint64_t(0));
    QVERIFY(!inbox->next(kShort));
}

void TestTransactions::testResolvingMakesVisibleOrDiscards_data() {
    QTest::addColumn<bool>("commit");
    QTest::addColumn<bool>("durable");
    QTest::addColumn<int>("delivered");
    QTest::newRow("commit") << true << true << 1;
    QTest::newRow("rollback") << false << true << 0;
    QTest::newRow("commit on a transient queue") << true << false << 1;
    QTest::newRow("rollback on a transient queue") << false << false << 0;
}

void TestTransactions::testResolvingMakesVisibleOrDiscards() {
    QFETCH(bool, commit);
    QFETCH(bool, durable);
    QFETCH(int, delivered);
    BrokerHarness h;
    QueuePolicy policy;
    policy.durable = durable;
    h.declare("orders", policy);
    auto [consumer, inbox] = h.consume("orders");
    QCOMPARE(int(publishHalf(h, "orders", "half", "tx-1").outcome), int(PublishOutcome::Confirmed));
    PublishResult resolved =
        (commit ? h.broker().commitTransaction("tx-1") : h.broker().rollbackTransaction("tx-1")).get();
    QCOMPARE(text(std::string(toString(resolved.outcome))), QString("confirmed"));
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(0));
    if (delivered) {
        auto delivery = inbox->next();
        QVERIFY(delivery);
        QCOMPARE(text(delivery->body), QString("half"));
        QCOMPARE(delivery->attempt, 1u);
        QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    } else {
        h.advance(std::chrono::minutes(1));  // not even a timer brings it back
        QVERIFY(!inbox->next(kShort));
        QCOMPARE(h.depth("orders"), uint64_t(0));
        QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
    }
    QCOMPARE(h.depth("orders"), uint64_t(0));
}

void TestTransactions::testResolvingAnUnknownTransactionIsNacked_data() {
    QTest::addColumn<bool>("commit");
    QTest::addColumn<bool>("resolvedBefore");
    QTest::newRow("commit never prepared") << true << false;
    QTest::newRow("rollback never prepared") << false << false;
    QTest::newRow("commit twice") << true << true;
    QTest::newRow("rollback after commit") << false << true;
}

void TestTransactions::testResolvingAnUnknownTransactionIsNacked() {
    QFETCH(bool, commit);
    QFETCH(bool, resolvedBefore);
    BrokerHarness h;
    h.declare("orders");
    if (resolvedBefore) {
        QCOMPARE(int(publishHalf(h, "orders", "half", "tx-9").outcome), int(PublishOutcome::Confirmed));
        QCOMPARE(int(h.broker().commitTransaction("tx-9").get().outcome), int(PublishOutcome::Confirmed));
    }
    PublishResult result =
        (commit ? h.broker().commitTransaction("tx-9") : h.broker().rollbackTransaction("tx-9")).get();
    QCOMPARE(text(std::string(toString(result.outcome))), QString("nacked"));
    QCOMPARE(int(result.reason), int(NackReason::Invalid));
    QVERIFY2(result.error.find("tx-9") != std::string::npos, result.error.c_str());
    QCOMPARE(h.depth("orders"), uint64_t(resolvedBefore ? 1 : 0));  // the earlier commit stands
}

void TestTransactions::testMessagesOfOneTransactionBecomeVisibleTogether() {
    BrokerHarness h;
    h.declare("orders");
    h.declare("invoices");
    auto [orderConsumer, orders] = h.consume("orders");
    auto [invoiceConsumer, invoices] = h.consume("invoices");
    QCOMPARE(int(publishHalf(h, "orders", "o1", "tx-1").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(publishHalf(h, "orders", "o2", "tx-1").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(publishHalf(h, "invoices", "i1", "tx-1").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(publishHalf(h, "orders", "other", "tx-2").outcome), int(PublishOutcome::Confirmed));
    h.broker().runTimers();
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(3));
    QCOMPARE(h.queueStats("invoices").prepared, uint64_t(1));
    QVERIFY(!orders->next(kShort));
    QCOMPARE(invoices->size(), size_t(0));

    QCOMPARE(int(h.broker().commitTransaction("tx-1").get().outcome), int(PublishOutcome::Confirmed));
    auto fromOrders = orders->take(2);
    QCOMPARE(fromOrders.size(), size_t(2));
    QCOMPARE(text(fromOrders[0].body), QString("o1"));
    QCOMPARE(text(fromOrders[1].body), QString("o2"));
    auto fromInvoices = invoices->take(1);
    QCOMPARE(fromInvoices.size(), size_t(1));
    QCOMPARE(text(fromInvoices[0].body), QString("i1"));
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(1));  // tx-2 is still open
    QVERIFY(!orders->next(kShort));
}

void TestTransactions::testUnresolvedTransactionIsCheckedBackAfterTheInterval() {
    BrokerHarness h;  // default interval: 30 s
    h.declare("orders");
    auto log = std::make_shared<CheckLog>();
    QVERIFY(
        h.broker()
            .setTransactionChecker("shop", [log](const std::string& tx, const std::string& id) { log->add(tx, id); })
            .isOk());
    QCOMPARE(int(publishHalf(h, "orders", "half", "tx-1", "m-1", "shop").outcome), int(PublishOutcome::Confirmed));
    h.advance(std::chrono::seconds(29));
    QCOMPARE(log->snapshot().size(), size_t(0));
    h.advance(std::chrono::seconds(1));
    auto calls = log->snapshot();
    QCOMPARE(calls.size(), size_t(1));
    QCOMPARE(text(calls[0].first), QString("tx-1"));
    QCOMPARE(text(calls[0].second), QString("m-1"));
    h.advance(std::chrono::seconds(30));  // still unresolved: asked again every interval
    QCOMPARE(log->snapshot().size(), size_t(2));
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(1));
    QCOMPARE(h.depth("orders"), uint64_t(0));
}

void TestTransactions::testCheckBackGoesOnlyToTheTransactionsProducer() {
    BrokerHarness h;
    h.declare("orders");
    auto shop = std::make_shared<CheckLog>();
    auto billing = std::make_shared<CheckLog>();
    QVERIFY(
        h.broker()
            .setTransactionChecker("shop", [shop](const std::string& tx, const std::string& id) { shop->add(tx, id); })
            .isOk());
    QVERIFY(h.broker()
                .setTransactionChecker(
                    "billing", [billing](const std::string& tx, const std::string& id) { billing->add(tx, id); })
                .isOk());
    QCOMPARE(int(publishHalf(h, "orders", "a", "tx-shop", "m-a", "shop").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(publishHalf(h, "orders", "b", "tx-billing", "m-b", "billing").outcome),
             int(PublishOutcome::Confirmed));
    h.advance(std::chrono::seconds(30));
    auto toShop = shop->snapshot();
    auto toBilling = billing->snapshot();
    QCOMPARE(toShop.size(), size_t(1));
    QCOMPARE(text(toShop[0].first), QString("tx-shop"));
    QCOMPARE(toBilling.size(), size_t(1));
    QCOMPARE(text(toBilling[0].first), QString("tx-billing"));
    QCOMPARE(text(toBilling[0].second), QString("m-b"));
    QVERIFY(h.broker().setTransactionChecker("billing", nullptr).isOk());  // unregistered: not asked any more
    h.advance(std::chrono::seconds(30));
    QCOMPARE(shop->snapshot().size(), size_t(2));
    QCOMPARE(billing->snapshot().size(), size_t(1));
}

void TestTransactions::testCheckerThatCommitsResolvesTheTransaction() {
    BrokerHarness h;
    h.declare("orders");
    auto [consumer, inbox] = h.consume("orders");
    auto log = std::make_shared<CheckLog>();
    Broker* broker = &h.broker();
    // The checker runs on the broker thread: it answers without waiting for the answer's confirm.
    QVERIFY(broker
                ->setTransactionChecker("shop",
                                        [log, broker](const std::string& tx, const std::string& id) {
                                            log->add(tx, id);
                                            (void)broker->commitTransaction(tx);
                                        })
                .isOk());
    QCOMPARE(int(publishHalf(h, "orders", "half", "tx-1", "m-1", "shop").outcome), int(PublishOutcome::Confirmed));
    QVERIFY(!inbox->next(kShort));
    h.advance(std::chrono::seconds(30));
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("half"));
    QCOMPARE(text(delivery->messageId), QString("m-1"));
    QCOMPARE(log->snapshot().size(), size_t(1));
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(0));
    h.advance(std::chrono::seconds(30));  // resolved: never asked again
    QCOMPARE(log->snapshot().size(), size_t(1));
}

void TestTransactions::testUnansweredTransactionIsDeadLetteredAfterMaxChecks() {
    BrokerHarness h({}, quickChecks(3));
    h.declare("orders");
    auto log = std::make_shared<CheckLog>();
    QVERIFY(
        h.broker()
            .setTransactionChecker("shop", [log](const std::string& tx, const std::string& id) { log->add(tx, id); })
            .isOk());
    QCOMPARE(int(publishHalf(h, "orders", "half", "tx-1", "m-1", "shop").outcome), int(PublishOutcome::Confirmed));
    for (int i = 0; i < 3; ++i)
        h.advance(std::chrono::seconds(1));
    QCOMPARE(log->snapshot().size(), size_t(3));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));  // the last check still gets its interval to be answered
    h.advance(std::chrono::seconds(1));
    QCOMPARE(log->snapshot().size(), size_t(3));
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(0));
    QCOMPARE(h.depth("orders"), uint64_t(0));
    BrowsePage dead = *h.broker().browse("orders.dlq");
    QCOMPARE(dead.messages.size(), size_t(1));
    const QueuedMessage& message = dead.messages[0];
    QCOMPARE(text(message.body), QString("half"));
    QCOMPARE(text(message.messageId), QString("m-1"));
    QVERIFY(message.death);
    QCOMPARE(text(std::string(toString(message.death->reason))), QString("tx-unresolved"));
    QCOMPARE(text(message.death->sourceQueue), QString("orders"));
    QCOMPARE(h.queueStats("orders").counters.deadLettered, uint64_t(1));
    QCOMPARE(h.queueStats("orders.dlq").counters.published, uint64_t(1));  // like any other dead letter
    PublishResult late = h.broker().commitTransaction("tx-1").get();       // too late: it is a dead letter now
    QCOMPARE(int(late.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(h.depth("orders"), uint64_t(0));
    QVERIFY(h.broker().sync().isOk());
    QVERIFY(h.restart().isOk());  // and it stays one
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(0));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(1));
}

void TestTransactions::testPreparedTransactionSurvivesRestartAndCanBeCommitted() {
    BrokerHarness h;
    h.declare("orders");
    QCOMPARE(int(publishHalf(h, "orders", "one", "tx-1").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(publishHalf(h, "orders", "two", "tx-1").outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(2));
    QCOMPARE(h.depth("orders"), uint64_t(0));
    QCOMPARE(int(h.broker().commitTransaction("tx-1").get().outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto deliveries = inbox->take(2);
    QCOMPARE(deliveries.size(), size_t(2));
    QCOMPARE(text(deliveries[0].body), QString("one"));
    QCOMPARE(text(deliveries[1].body), QString("two"));
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(0));
}

void TestTransactions::testResolvedTransactionSurvivesRestart_data() {
    QTest::addColumn<bool>("commit");
    QTest::newRow("committed") << true;
    QTest::newRow("rolled back") << false;
}

void TestTransactions::testResolvedTransactionSurvivesRestart() {
    QFETCH(bool, commit);
    BrokerHarness h;
    h.declare("orders");
    QCOMPARE(int(publishHalf(h, "orders", "one", "tx-1").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(publishHalf(h, "orders", "two", "tx-1").outcome), int(PublishOutcome::Confirmed));
    PublishResult resolved =
        (commit ? h.broker().commitTransaction("tx-1") : h.broker().rollbackTransaction("tx-1")).get();
    QCOMPARE(int(resolved.outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(0));
    BrowsePage page = *h.broker().browse("orders");
    QCOMPARE(page.messages.size(), size_t(commit ? 2 : 0));
    if (commit) {
        QCOMPARE(text(page.messages[0].body), QString("one"));
        QCOMPARE(text(page.messages[1].body), QString("two"));
    }
    // Resolved for good: a second answer after the restart finds nothing open.
    QCOMPARE(int(h.broker().commitTransaction("tx-1").get().outcome), int(PublishOutcome::Nacked));
    h.advance(std::chrono::minutes(10));  // and no check-back or dead-lettering brings anything back
    QCOMPARE(h.depth("orders"), uint64_t(commit ? 2 : 0));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
}

// Compaction copies long-lived messages forward so old segments can go: a committed half message copied that
// way must come back after a restart as the ordinary message it became, not as an open transaction.
void TestTransactions::testCommittedMessageMovedByCompactionStaysCommitted() {
    BrokerOptions options;
    options.segmentSize = 16 << 10;
    BrokerHarness h({}, options);
    h.declare("orders");
    QueuePolicy fast;
    fast.flush = FlushMode::Async;
    fast.dedupWindow = Millis(0);  // the dedup window would pin the filler's segments for five minutes
    h.declare("filler", fast);
    QCOMPARE(int(publishHalf(h, "orders", "keep", "tx-1").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.broker().commitTransaction("tx-1").get().outcome), int(PublishOutcome::Confirmed));
    size_t segmentsBefore = 0;
    {
        auto [consumer, inbox] = h.consume("filler", 0, true);
        for (int i = 0; i < 100; ++i)
            QCOMPARE(int(h.publish("filler", std::string(1024, 'x')).outcome), int(PublishOutcome::Confirmed));
        QCOMPARE(inbox->take(100).size(), size_t(100));
        QVERIFY(h.broker().cancel(consumer).isOk());
    }
    QVERIFY(h.broker().sync().isOk());
    segmentsBefore = h.broker().stats().logSegments;
    QVERIFY(segmentsBefore > 3);
    h.advance(std::chrono::seconds(10));  // reclaim: "keep" pins the first segment, so it is copied forward
    h.advance(std::chrono::seconds(10));  // and the segments behind it are deleted
    QVERIFY(h.broker().sync().isOk());
    QVERIFY2(h.broker().stats().logSegments < segmentsBefore, "compaction did not run: the test proves nothing");
    QCOMPARE(h.depth("orders"), uint64_t(1));

    QVERIFY(h.restart().isOk());
    QCOMPARE(h.queueStats("orders").prepared, uint64_t(0));
    BrowsePage page = *h.broker().browse("orders");
    QCOMPARE(page.messages.size(), size_t(1));
    QCOMPARE(text(page.messages[0].body), QString("keep"));
    h.advance(std::chrono::minutes(10));  // nothing to check back, nothing to dead-letter
    QCOMPARE(h.depth("orders"), uint64_t(1));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
}

QTEST_GUILESS_MAIN(TestTransactions)
#include "TestTransactions.moc"
