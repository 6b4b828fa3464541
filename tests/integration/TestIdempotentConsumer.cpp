// client::IdempotentConsumer against a real depotd: a redelivery after a committed but unacknowledged delivery,
// and the same message id published twice with deduplication off, apply the business effect once; a failing
// handler leaves neither its business writes nor a ledger row and is retried; a rejected message is dead-lettered
// without a ledger row; pruning forgets old ids; scopes keep consumers with different purposes apart.
#include <QtTest>

#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/IdempotentConsumer.h"
#include "depot/client/Producer.h"
#include "support/BrokerChecks.h"
#include "support/DepotdProcess.h"
#include "support/SqliteProbe.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::client;
using depot::test::countRows;
using depot::test::execSql;
using depot::test::queryInt;

namespace {

constexpr Millis kWait{20000};  // generous: the machine is shared

// The application's schema: one account whose balance each payment message adds to.
void createAccounts(const std::string& database) {
    sqlite3* db = nullptr;
    sqlite3_open(database.c_str(), &db);
    (void)execSql(db,
                  "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
                  "INSERT INTO accounts VALUES (1, 0)");
    sqlite3_close(db);
}

int64_t balance(const std::string& database) { return queryInt(database, "SELECT balance FROM accounts WHERE id = 1"); }

// The business effect: the payment's amount (the body) added to the account, through the ledger's transaction.
Status applyPayment(const broker::Delivery& delivery, sqlite3* db) {
    return execSql(
        db, "UPDATE accounts SET balance = balance + " + std::to_string(std::stoll(delivery.body)) + " WHERE id = 1");
}

broker::Delivery fakeDelivery(const std::string& id, const std::string& body) {
    broker::Delivery delivery;
    delivery.queue = "payments";
    delivery.messageId = id;
    delivery.body = body;
    return delivery;
}

}  // namespace

class TestIdempotentConsumer : public QObject {
    Q_OBJECT

private:
    test::TempDir m_data;
    std::optional<test::DepotdProcess> m_depotd;
    std::shared_ptr<Connection> m_connection;
    std::unique_ptr<Admin> m_admin;
    std::unique_ptr<Producer> m_producer;
    int m_queues = 0;

    std::string declareQueue(const std::function<void(broker::QueuePolicy&)>& tweak = {}) {
        broker::QueueSpec spec;
        spec.name = "ledger-" + std::to_string(++m_queues);
        spec.policy.backoff = {Millis(50)};
        if (tweak)
            tweak(spec.policy);
        Result<broker::QueueInfo> declared = m_admin->declareQueue(spec);
        if (!declared)
            qFatal("declare %s: %s", spec.name.c_str(), declared.status().toString().c_str());
        return spec.name;
    }

    bool publish(const std::string& queue, const std::string& id, const std::string& body) {
        broker::PublishRequest request;
        request.routingKey = queue;
        request.message.id = id;
        request.message.body = body;
        return m_producer->send(request).ok();
    }

    bool drained(const std::string& queue) {
        Result<QueueDetails> details = m_admin->showQueue(queue);
        return details && details->stats.ready == 0 && details->stats.unacked == 0 && details->stats.delayed == 0;
    }

private slots:
    void initTestCase() {
        m_depotd.emplace(m_data.path());
        QVERIFY2(m_depotd->start(), qPrintable(m_depotd->error()));
        ClientOptions options;
        options.endpoint = m_depotd->endpoint();
        options.client = "test-idempotent-consumer";
        Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        m_connection = std::move(connection).value();
        m_admin = std::make_unique<Admin>(m_connection);
        m_producer = std::make_unique<Producer>(m_connection);
    }

    void cleanupTestCase() {
        m_producer.reset();
        m_admin.reset();
        if (m_connection)
            m_connection->close();
        m_depotd->kill(SIGTERM);
        QCOMPARE(m_depotd->waitForExit(), std::optional<int>(0));
    }

    void testRedeliveryAfterCommitIsNotAppliedAgain() {
        test::TempDir dir;
        const std::string database = dir.file("app.db");
        createAccounts(database);
        const std::string queue = declareQueue();
        QVERIFY(publish(queue, "pay-1", "25"));
        IdempotentOptions options;
        options.database = database;
        options.scope = queue;
        Result<std::unique_ptr<IdempotentConsumer>> ledger = IdempotentConsumer::open(options);
        CHECK_OK(ledger.status());
        ConsumerOptions consumerOptions;
        consumerOptions.queue = queue;
        Result<std::unique_ptr<Consumer>> consumer = Consumer::open(m_connection, consumerOptions);
        CHECK_OK(consumer.status());

        int calls = 0;
        const IdempotentHandler handler = [&](const broker::Delivery& delivery, sqlite3* db, DeliveryContext&) {
            ++calls;
            return applyPayment(delivery, db);
        };
        std::optional<broker::Delivery> first = (*consumer)->receive(kWait);
        QVERIFY(first.has_value());
        DeliveryContext context;
        QCOMPARE((*ledger)->handle(*first, handler, context), LedgerOutcome::Processed);
        QCOMPARE(context.decision(), DeliveryContext::Decision::Ack);
        QCOMPARE(balance(database), int64_t(25));
        // The ack is lost (a crash after the commit): the broker delivers the message again.
        CHECK_OK((*consumer)->nack(*first));
        std::optional<broker::Delivery> again = (*consumer)->receive(kWait);
        QVERIFY(again.has_value());
        QVERIFY(again->redelivered);
        QCOMPARE(again->messageId, std::string("pay-1"));
        DeliveryContext secondContext;
        QCOMPARE((*ledger)->handle(*again, handler, secondContext), LedgerOutcome::Skipped);
        QCOMPARE(secondContext.decision(), DeliveryContext::Decision::Ack);
        CHECK_OK((*consumer)->ack(*again));
        QCOMPARE(calls, 1);
        QCOMPARE(balance(database), int64_t(25));
        QTRY_VERIFY_WITH_TIMEOUT(drained(queue), kWait.count());
    }

    void testDuplicatePublishWithoutDedupIsAppliedOnce() {
        test::TempDir dir;
        const std::string database = dir.file("app.db");
        createAccounts(database);
        const std::string queue = declareQueue([](broker::QueuePolicy& policy) { policy.dedupWindow = Millis(0); });
        QVERIFY(publish(queue, "pay-7", "10"));
        QVERIFY(publish(queue, "pay-7", "10"));  // stored twice: the queue does not deduplicate
        QVERIFY(publish(queue, "pay-8", "5"));
        IdempotentOptions options;
        options.database = database;
        ConsumerOptions consumerOptions;
        consumerOptions.queue = queue;
        Result<std::unique_ptr<IdempotentConsumer>> consumer = IdempotentConsumer::subscribe(
            m_connection, consumerOptions, options,
            [](const broker::Delivery& delivery, sqlite3* db, DeliveryContext&) { return applyPayment(delivery, db); });
        CHECK_OK(consumer.status());
        QCOMPARE((*consumer)->scope(), queue);
        QTRY_COMPARE_WITH_TIMEOUT((*consumer)->stats().processed + (*consumer)->stats().skipped, uint64_t(3),
                                  kWait.count());
        QCOMPARE((*consumer)->stats().processed, uint64_t(2));
        QCOMPARE((*consumer)->stats().skipped, uint64_t(1));
        QCOMPARE(balance(database), int64_t(15));
        QTRY_VERIFY_WITH_TIMEOUT(drained(queue), kWait.count());  // the duplicate was acked, not left behind
        CHECK_OK((*consumer)->close());
    }

    void testFailedHandlerRollsBackAndIsRetried_data() {
        QTest::addColumn<QString>("failure");
        QTest::newRow("throws") << "throw";
        QTest::newRow("returns an error") << "status";
        QTest::newRow("asks for a retry") << "retry";
    }

    void testFailedHandlerRollsBackAndIsRetried() {
        QFETCH(QString, failure);
        test::TempDir dir;
        const std::string database = dir.file("app.db");
        createAccounts(database);
        const std::string queue = declareQueue();
        QVERIFY(publish(queue, "pay-3", "40"));
        std::atomic<uint32_t> lastAttempt{0};
        IdempotentOptions options;
        options.database = database;
        ConsumerOptions consumerOptions;
        consumerOptions.queue = queue;
        const std::string mode = failure.toStdString();
        Result<std::unique_ptr<IdempotentConsumer>> consumer = IdempotentConsumer::subscribe(
            m_connection, consumerOptions, options,
            [&](const broker::Delivery& delivery, sqlite3* db, DeliveryContext& context) -> Status {
                lastAttempt = delivery.attempt;
                DEPOT_RETURN_IF_ERROR(applyPayment(delivery, db));  // written, then the attempt fails
                if (delivery.attempt > 1)
                    return Status::ok();
                if (mode == "throw")
                    throw std::runtime_error("payment service down");
                if (mode == "retry") {
                    context.retry("payment service down");
                    return Status::ok();
                }
                return Status::unavailable("payment service down");
            });
        CHECK_OK(consumer.status());
        QTRY_COMPARE_WITH_TIMEOUT((*consumer)->stats().processed, uint64_t(1), kWait.count());
        QCOMPARE(lastAttempt.load(), uint32_t(2));
        QCOMPARE((*consumer)->stats().rolledBack, uint64_t(1));
        QCOMPARE(balance(database), int64_t(40));  // the failed attempt's write was rolled back
        QCOMPARE(*(*consumer)->contains("pay-3"), true);
        QTRY_VERIFY_WITH_TIMEOUT(drained(queue), kWait.count());
        CHECK_OK((*consumer)->close());
    }

    void testRejectedMessageIsDeadLetteredWithoutLedgerRow() {
        test::TempDir dir;
        const std::string database = dir.file("app.db");
        createAccounts(database);
        const std::string queue = declareQueue();
        QVERIFY(publish(queue, "pay-bad", "not a number"));
        IdempotentOptions options;
        options.database = database;
        ConsumerOptions consumerOptions;
        consumerOptions.queue = queue;
        Result<std::unique_ptr<IdempotentConsumer>> consumer = IdempotentConsumer::subscribe(
            m_connection, consumerOptions, options,
            [](const broker::Delivery& delivery, sqlite3* db, DeliveryContext& context) -> Status {
                DEPOT_RETURN_IF_ERROR(execSql(db, "UPDATE accounts SET balance = -1"));
                if (delivery.body == "not a number")
                    context.reject("unparseable amount");
                return Status::ok();
            });
        CHECK_OK(consumer.status());
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                Result<broker::BrowsePage> page = m_admin->browse(queue + ".dlq");
                return page && page->matched == 1;
            }(),
            kWait.count());
        Result<broker::BrowsePage> page = m_admin->browse(queue + ".dlq");
        QVERIFY(page->messages.front().death.has_value());
        QCOMPARE(page->messages.front().death->lastError, std::string("unparseable amount"));
        QCOMPARE(*(*consumer)->contains("pay-bad"), false);
        QCOMPARE(balance(database), int64_t(0));
        CHECK_OK((*consumer)->close());
    }

    void testPruningForgetsOldIds() {
        test::TempDir dir;
        const std::string database = dir.file("app.db");
        createAccounts(database);
        IdempotentOptions options;
        options.database = database;
        options.keep = Millis(0);                 // every row is old enough to prune
        options.pruneInterval = Millis(3600000);  // but only prune() does it in this test
        Result<std::unique_ptr<IdempotentConsumer>> ledger = IdempotentConsumer::open(options);
        CHECK_OK(ledger.status());
        const IdempotentHandler handler = [](const broker::Delivery& delivery, sqlite3* db, DeliveryContext&) {
            return applyPayment(delivery, db);
        };
        DeliveryContext context;
        (*ledger)->handle(fakeDelivery("pay-9", "3"), handler, context);
        QCOMPARE(*(*ledger)->contains("pay-9"), true);
        QCOMPARE(*(*ledger)->prune(), uint64_t(1));
        QCOMPARE(*(*ledger)->contains("pay-9"), false);
        // Forgotten: a redelivery now would be applied again (why `keep` must outlast every redelivery).
        QCOMPARE((*ledger)->handle(fakeDelivery("pay-9", "3"), handler, context), LedgerOutcome::Processed);
        QCOMPARE(balance(database), int64_t(6));
        ledger->reset();

        options.keep = Millis(7LL * 24 * 3600 * 1000);
        Result<std::unique_ptr<IdempotentConsumer>> keeping = IdempotentConsumer::open(options);
        CHECK_OK(keeping.status());
        QCOMPARE(*(*keeping)->prune(), uint64_t(0));
        QCOMPARE(*(*keeping)->contains("pay-9"), true);
    }

    void testScopesKeepDifferentPurposesApart() {
        test::TempDir dir;
        const std::string database = dir.file("app.db");
        createAccounts(database);
        const IdempotentHandler handler = [](const broker::Delivery& delivery, sqlite3* db, DeliveryContext&) {
            return applyPayment(delivery, db);
        };
        IdempotentOptions options;
        options.database = database;
        options.scope = "billing";
        auto billing = IdempotentConsumer::open(options);
        options.scope = "audit";
        auto audit = IdempotentConsumer::open(options);
        CHECK_OK(billing.status());
        CHECK_OK(audit.status());
        DeliveryContext context;
        QCOMPARE((*billing)->handle(fakeDelivery("m-1", "1"), handler, context), LedgerOutcome::Processed);
        QCOMPARE((*audit)->handle(fakeDelivery("m-1", "1"), handler, context), LedgerOutcome::Processed);
        QCOMPARE((*billing)->handle(fakeDelivery("m-1", "1"), handler, context), LedgerOutcome::Skipped);
        QCOMPARE(balance(database), int64_t(2));
    }

    void testHandlerEndingTheTransactionIsRetried() {
        test::TempDir dir;
        const std::string database = dir.file("app.db");
        createAccounts(database);
        IdempotentOptions options;
        options.database = database;
        Result<std::unique_ptr<IdempotentConsumer>> ledger = IdempotentConsumer::open(options);
        CHECK_OK(ledger.status());
        DeliveryContext context;
        const LedgerOutcome outcome = (*ledger)->handle(
            fakeDelivery("m-2", "1"),
            [](const broker::Delivery&, sqlite3* db, DeliveryContext&) { return execSql(db, "COMMIT"); }, context);
        QCOMPARE(outcome, LedgerOutcome::RolledBack);
        QCOMPARE(context.decision(), DeliveryContext::Decision::Retry);
        QCOMPARE(*(*ledger)->contains("m-2"), false);
    }
};

QTEST_GUILESS_MAIN(TestIdempotentConsumer)
#include "TestIdempotentConsumer.moc"
