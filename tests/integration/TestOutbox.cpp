// client::Outbox against a real depotd: rows written with the business change are published once each, a
// rolled-back change publishes nothing, a relay that crashed after the confirm and before recording it resends
// and the broker answers duplicate (the consumer sees one message), permanent nacks are kept as failed rows until
// retried, transient nacks are retried after backoff.
#include <QProcess>
#include <QtTest>

#include <signal.h>
#include <sqlite3.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/Outbox.h"
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

broker::PublishRequest toQueue(const std::string& queue, std::string body) {
    broker::PublishRequest request;
    request.routingKey = queue;
    request.message.body = std::move(body);
    return request;
}

}  // namespace

class TestOutbox : public QObject {
    Q_OBJECT

private:
    test::TempDir m_data;
    std::optional<test::DepotdProcess> m_depotd;
    std::shared_ptr<Connection> m_connection;
    std::unique_ptr<Admin> m_admin;
    int m_queues = 0;

    std::string declareQueue(const std::function<void(broker::QueuePolicy&)>& tweak = {}) {
        broker::QueueSpec spec;
        spec.name = "outbox-" + std::to_string(++m_queues);
        if (tweak)
            tweak(spec.policy);
        Result<broker::QueueInfo> declared = m_admin->declareQueue(spec);
        if (!declared)
            qFatal("declare %s: %s", spec.name.c_str(), declared.status().toString().c_str());
        return spec.name;
    }

    std::unique_ptr<Consumer> openConsumer(const std::string& queue) {
        ConsumerOptions options;
        options.queue = queue;
        Result<std::unique_ptr<Consumer>> consumer = Consumer::open(m_connection, options);
        if (!consumer)
            qFatal("consume %s: %s", queue.c_str(), consumer.status().toString().c_str());
        return std::move(consumer).value();
    }

    // Receives and acks `count` deliveries (fewer if they stop coming within the deadline).
    static std::vector<broker::Delivery> receive(Consumer& consumer, size_t count) {
        std::vector<broker::Delivery> deliveries;
        QDeadlineTimer deadline(kWait.count());
        while (deliveries.size() < count && !deadline.hasExpired()) {
            std::optional<broker::Delivery> delivery = consumer.receive(Millis(200));
            if (!delivery)
                continue;
            (void)consumer.ack(*delivery);
            deliveries.push_back(std::move(*delivery));
        }
        return deliveries;
    }

    static bool nothingMoreArrives(Consumer& consumer) { return !consumer.receive(Millis(500)).has_value(); }

    std::unique_ptr<Outbox> openOutbox(const std::string& database, OutboxOptions options = {}) {
        options.database = database;
        Result<std::unique_ptr<Outbox>> outbox = Outbox::open(m_connection, options);
        if (!outbox)
            qFatal("open outbox: %s", outbox.status().toString().c_str());
        return std::move(outbox).value();
    }

    // Business row + outbox row in one transaction of the outbox's connection.
    static Status placeOrder(Outbox& outbox, const std::string& queue, const std::string& item) {
        return outbox.transaction([&](sqlite3* db) -> Status {
            DEPOT_RETURN_IF_ERROR(execSql(db, "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT)"));
            DEPOT_RETURN_IF_ERROR(execSql(db, "INSERT INTO orders (item) VALUES ('" + item + "')"));
            return outbox.enqueue(db, toQueue(queue, "order " + item)).status();
        });
    }

private slots:
    void initTestCase() {
        m_depotd.emplace(m_data.path());
        QVERIFY2(m_depotd->start(), qPrintable(m_depotd->error()));
        ClientOptions options;
        options.endpoint = m_depotd->endpoint();
        options.client = "test-outbox";
        Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        m_connection = std::move(connection).value();
        m_admin = std::make_unique<Admin>(m_connection);
    }

    void cleanupTestCase() {
        m_admin.reset();
        if (m_connection)
            m_connection->close();
        m_depotd->kill(SIGTERM);
        QCOMPARE(m_depotd->waitForExit(), std::optional<int>(0));
    }

    void testRelayPublishesEachCommittedRowOnce() {
        test::TempDir dir;
        const std::string queue = declareQueue();
        auto consumer = openConsumer(queue);
        auto outbox = openOutbox(dir.file("app.db"));
        outbox->start();
        std::set<std::string> bodies;
        for (int i = 0; i < 20; ++i) {
            CHECK_OK(placeOrder(*outbox, queue, "item" + std::to_string(i)));
            bodies.insert("order item" + std::to_string(i));
        }
        const std::vector<broker::Delivery> deliveries = receive(*consumer, bodies.size());
        QCOMPARE(deliveries.size(), bodies.size());
        std::set<std::string> received;
        for (const broker::Delivery& delivery : deliveries)
            received.insert(delivery.body);
        QCOMPARE(received, bodies);
        QVERIFY(nothingMoreArrives(*consumer));
        QTRY_VERIFY_WITH_TIMEOUT(outbox->pending().isOk() && outbox->pending()->empty(), kWait.count());
        outbox->stop();
        QCOMPARE(countRows(dir.file("app.db"), "orders"), int64_t(20));
        CHECK_OK(outbox->lastRelayError());
    }

    void testRowsArePublishedInRowOrderWithTheirBytes() {
        test::TempDir dir;
        const std::string queue = declareQueue();
        auto consumer = openConsumer(queue);
        auto outbox = openOutbox(dir.file("app.db"));
        std::vector<std::string> ids;
        CHECK_OK(outbox->transaction([&](sqlite3* db) -> Status {
            for (int i = 0; i < 5; ++i) {
                broker::PublishRequest request = toQueue(queue, std::string("bin\0ary-", 8) + std::to_string(i));
                request.message.key = "customer-7";
                request.message.headers = {{"kind", "order"}, {"seq", std::to_string(i)}};
                Result<std::string> id = outbox->enqueue(db, request);
                DEPOT_RETURN_IF_ERROR(id.status());
                ids.push_back(*id);
            }
            return Status::ok();
        }));
        Result<RelayReport> report = outbox->relayOnce();
        CHECK_OK(report.status());
        QCOMPARE(report->published, size_t(5));
        QCOMPARE(report->confirmed, size_t(5));
        const std::vector<broker::Delivery> deliveries = receive(*consumer, 5);
        QCOMPARE(deliveries.size(), size_t(5));
        for (size_t i = 0; i < deliveries.size(); ++i) {
            QCOMPARE(deliveries[i].messageId, ids[i]);  // the outbox row's id is the message id
            QCOMPARE(deliveries[i].body, std::string("bin\0ary-", 8) + std::to_string(i));
            QCOMPARE(deliveries[i].key, std::string("customer-7"));
            const broker::Headers expected{{"kind", "order"}, {"seq", std::to_string(i)}};
            QVERIFY(deliveries[i].headers == expected);
        }
    }

    void testRolledBackTransactionPublishesNothing() {
        test::TempDir dir;
        const std::string queue = declareQueue();
        auto outbox = openOutbox(dir.file("app.db"));
        const Status status = outbox->transaction([&](sqlite3* db) -> Status {
            DEPOT_RETURN_IF_ERROR(execSql(db, "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)"));
            DEPOT_RETURN_IF_ERROR(outbox->enqueue(db, toQueue(queue, "never")).status());
            return Status::invalidArgument("payment declined");
        });
        QCOMPARE(status.code(), StatusCode::InvalidArgument);
        QCOMPARE(status.message(), std::string("payment declined"));
        Result<RelayReport> report = outbox->relayOnce();
        CHECK_OK(report.status());
        QCOMPARE(report->published, size_t(0));
        QCOMPARE(countRows(dir.file("app.db"), "depot_outbox"), int64_t(0));
        QCOMPARE(countRows(dir.file("app.db"), "orders"), int64_t(-1));  // the table's creation rolled back too

        const Status thrown = outbox->transaction([&](sqlite3* db) -> Status {
            (void)outbox->enqueue(db, toQueue(queue, "never either"));
            throw std::runtime_error("crashed in the middle");
        });
        QCOMPARE(thrown.code(), StatusCode::InvalidArgument);
        QCOMPARE(countRows(dir.file("app.db"), "depot_outbox"), int64_t(0));
    }

    void testEnqueueWorksInsideTheApplicationsOwnTransaction() {
        test::TempDir dir;
        const std::string queue = declareQueue();
        auto consumer = openConsumer(queue);
        auto outbox = openOutbox(dir.file("app.db"));
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(dir.file("app.db").c_str(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        CHECK_OK(execSql(db, "CREATE TABLE payments (id INTEGER PRIMARY KEY, amount INTEGER)"));

        Result<std::string> outside = outbox->enqueue(db, toQueue(queue, "not atomic"));
        QCOMPARE(outside.status().code(), StatusCode::InvalidArgument);

        CHECK_OK(execSql(db, "BEGIN IMMEDIATE"));
        CHECK_OK(execSql(db, "INSERT INTO payments (amount) VALUES (42)"));
        Result<std::string> id = outbox->enqueue(db, toQueue(queue, "paid 42"));
        CHECK_OK(id.status());
        // Not committed yet: the relay must not see it.
        QCOMPARE(outbox->relayOnce()->published, size_t(0));
        CHECK_OK(execSql(db, "COMMIT"));
        QCOMPARE(outbox->relayOnce()->confirmed, size_t(1));
        sqlite3_close(db);

        const std::vector<broker::Delivery> deliveries = receive(*consumer, 1);
        QCOMPARE(deliveries.size(), size_t(1));
        QCOMPARE(deliveries[0].messageId, *id);
        QCOMPARE(deliveries[0].body, std::string("paid 42"));

        // A connection to another database would write a row this outbox never relays.
        sqlite3* other = nullptr;
        QCOMPARE(sqlite3_open(dir.file("other.db").c_str(), &other), SQLITE_OK);
        CHECK_OK(execSql(other, "BEGIN"));
        QCOMPARE(outbox->enqueue(other, toQueue(queue, "lost")).status().code(), StatusCode::InvalidArgument);
        sqlite3_close(other);
    }

    void testCrashAfterConfirmResendsAndBrokerAnswersDuplicate() {
        test::TempDir dir;
        const std::string queue = declareQueue();
        auto consumer = openConsumer(queue);
        const std::string database = dir.file("app.db");
        {
            auto writer = openOutbox(database);
            for (int i = 0; i < 10; ++i)
                CHECK_OK(placeOrder(*writer, queue, "crash" + std::to_string(i)));
        }
        // A real process publishes the rows, sees them confirmed and dies before recording that.
        QProcess crasher;
        crasher.setProcessChannelMode(QProcess::ForwardedChannels);
        crasher.start(DEPOT_OUTBOX_CRASHER,
                      {QString::fromStdString(m_depotd->endpoint()), QString::fromStdString(database), "10"});
        QVERIFY(crasher.waitForFinished(int(kWait.count())));
        QCOMPARE(crasher.exitCode(), 42);

        auto outbox = openOutbox(database);  // the application restarts
        Result<std::vector<OutboxEntry>> pending = outbox->pending();
        CHECK_OK(pending.status());
        QCOMPARE(pending->size(), size_t(10));  // still pending: the crash came before the rows were marked sent
        Result<RelayReport> report = outbox->relayOnce();
        CHECK_OK(report.status());
        QCOMPARE(report->published, size_t(10));
        QCOMPARE(report->duplicates, size_t(10));  // the broker had them: same ids, stored once
        QCOMPARE(report->confirmed, size_t(0));
        QCOMPARE(outbox->pending()->size(), size_t(0));

        const std::vector<broker::Delivery> deliveries = receive(*consumer, 10);
        QCOMPARE(deliveries.size(), size_t(10));
        std::set<std::string> ids;
        for (const broker::Delivery& delivery : deliveries)
            ids.insert(delivery.messageId);
        QCOMPARE(ids.size(), size_t(10));
        QVERIFY(nothingMoreArrives(*consumer));
    }

    void testAbandonedRoundLeavesRowsPending() {
        test::TempDir dir;
        const std::string queue = declareQueue();
        OutboxOptions options;
        options.afterPublish = [](const OutboxEntry&, const SendResult&) {
            return Status::unavailable("simulated crash");
        };
        auto outbox = openOutbox(dir.file("app.db"), options);
        CHECK_OK(placeOrder(*outbox, queue, "a"));
        Result<RelayReport> report = outbox->relayOnce();
        QCOMPARE(report.status().code(), StatusCode::Unavailable);
        Result<std::vector<OutboxEntry>> pending = outbox->pending();
        QCOMPARE(pending->size(), size_t(1));
        QCOMPARE(pending->front().attempts, uint32_t(0));
    }

    void testPermanentNackIsKeptAsFailedUntilRetried() {
        test::TempDir dir;
        const std::string queue = "outbox-late-" + std::to_string(++m_queues);  // not declared yet
        auto outbox = openOutbox(dir.file("app.db"));
        CHECK_OK(placeOrder(*outbox, queue, "early"));
        Result<RelayReport> report = outbox->relayOnce();
        CHECK_OK(report.status());
        QCOMPARE(report->failed, size_t(1));
        Result<std::vector<OutboxEntry>> failed = outbox->failed();
        CHECK_OK(failed.status());
        QCOMPARE(failed->size(), size_t(1));
        QCOMPARE(failed->front().state, OutboxState::Failed);
        QCOMPARE(failed->front().outcome, std::string("nacked"));
        QVERIFY2(failed->front().lastError.find("no-queue") != std::string::npos, failed->front().lastError.c_str());
        QCOMPARE(outbox->pending()->size(), size_t(0));
        QCOMPARE(outbox->relayOnce()->published, size_t(0));  // failed rows are not retried on their own

        broker::QueueSpec spec;
        spec.name = queue;
        CHECK_OK(m_admin->declareQueue(spec).status());
        auto consumer = openConsumer(queue);
        QCOMPARE(*outbox->retryFailed(), uint64_t(1));
        QCOMPARE(outbox->relayOnce()->confirmed, size_t(1));
        QCOMPARE(outbox->failed()->size(), size_t(0));
        const std::vector<broker::Delivery> deliveries = receive(*consumer, 1);
        QCOMPARE(deliveries.size(), size_t(1));
        QCOMPARE(deliveries[0].body, std::string("order early"));
    }

    void testTransientNackIsRetriedAfterBackoff() {
        test::TempDir dir;
        const std::string queue = declareQueue([](broker::QueuePolicy& policy) {
            policy.maxLength = 1;
            policy.overflow = broker::Overflow::RejectPublish;
        });
        OutboxOptions options;
        options.backoff = {Millis(50)};
        auto outbox = openOutbox(dir.file("app.db"), options);
        CHECK_OK(placeOrder(*outbox, queue, "first"));
        CHECK_OK(placeOrder(*outbox, queue, "second"));
        Result<RelayReport> report = outbox->relayOnce();
        CHECK_OK(report.status());
        QCOMPARE(report->confirmed, size_t(1));
        QCOMPARE(report->retrying, size_t(1));  // the queue is full: overflow is worth another try
        Result<std::vector<OutboxEntry>> pending = outbox->pending();
        QCOMPARE(pending->size(), size_t(1));
        QCOMPARE(pending->front().attempts, uint32_t(1));
        QVERIFY2(pending->front().lastError.find("overflow") != std::string::npos, pending->front().lastError.c_str());

        auto consumer = openConsumer(queue);
        QCOMPARE(receive(*consumer, 1).size(), size_t(1));  // makes room
        outbox->start();
        const std::vector<broker::Delivery> second = receive(*consumer, 1);
        QCOMPARE(second.size(), size_t(1));
        QCOMPARE(second[0].body, std::string("order second"));
        QTRY_VERIFY_WITH_TIMEOUT(outbox->pending().isOk() && outbox->pending()->empty(), kWait.count());
    }

    void testInvalidOptionsAreRejected_data() {
        QTest::addColumn<QString>("database");
        QTest::addColumn<QString>("table");
        QTest::newRow("no database") << ""
                                     << "depot_outbox";
        QTest::newRow("table with a quote") << "app.db"
                                            << "x'; DROP TABLE orders; --";
        QTest::newRow("table starting with a digit") << "app.db"
                                                     << "1outbox";
    }

    void testInvalidOptionsAreRejected() {
        QFETCH(QString, database);
        QFETCH(QString, table);
        test::TempDir dir;
        OutboxOptions options;
        options.database = database.isEmpty() ? std::string() : dir.file(database.toStdString());
        options.table = table.toStdString();
        Result<std::unique_ptr<Outbox>> outbox = Outbox::open(m_connection, options);
        QCOMPARE(outbox.status().code(), StatusCode::InvalidArgument);
    }
};

QTEST_GUILESS_MAIN(TestOutbox)
#include "TestOutbox.moc"
