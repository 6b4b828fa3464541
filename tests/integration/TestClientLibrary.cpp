// The C++ client library against a real depotd process: publishing in the three modes with confirms and the
// broker's nack reasons, deduplication, backpressure under a small unconfirmed window, consuming with manual acks,
// a throwing handler (retry, attempt 2), a rejecting handler (dead letter), durable acks, transactions, every
// admin operation, and reconnection after depotd is SIGKILLed and restarted: unconfirmed publishes are resent and
// stored once, subscriptions come back.
#include <QtTest>

#include <signal.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/Producer.h"
#include "support/BrokerChecks.h"
#include "support/DepotdProcess.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::client;
using depot::test::DepotdProcess;
using depot::test::TempDir;

namespace {

constexpr int kWaitMs = 20000;

// sendAsync's outcome, waited for (an unconfirmed result naming the wait if no callback came in time).
SendResult asyncOutcome(Producer& producer, broker::PublishRequest request, const SendOptions& options) {
    auto outcome = std::make_shared<std::promise<SendResult>>();
    std::future<SendResult> future = outcome->get_future();
    producer.sendAsync(std::move(request), [outcome](const SendResult& r) { outcome->set_value(r); }, options);
    if (future.wait_for(std::chrono::milliseconds(kWaitMs)) != std::future_status::ready)
        return SendResult{Status::ioError("test: no callback within " + std::to_string(kWaitMs) + " ms"), {}};
    return future.get();
}

void checkUnconfirmed(const SendResult& result, StatusCode code, const std::string& saying) {
    QVERIFY2(result.unconfirmed(), result.status.toString().c_str());
    QCOMPARE(int(result.status.code()), int(code));
    QVERIFY2(result.status.message().find(saying) != std::string::npos, result.status.toString().c_str());
}

ClientOptions optionsFor(const std::string& endpoint) {
    ClientOptions options;
    options.endpoint = endpoint;
    options.client = "test-client-library";
    options.producerGroup = "test-producers";
    return options;
}

broker::PublishRequest to(const std::string& queue, const std::string& body, const std::string& id = {}) {
    broker::PublishRequest request;
    request.routingKey = queue;
    request.message.body = body;
    request.message.id = id;
    return request;
}

broker::QueuePolicy quickRetries() {
    broker::QueuePolicy policy;
    policy.backoff = {Millis(50)};
    policy.maxAttempts = 5;
    return policy;
}

// Deliveries seen by a push handler (which runs on the consumer's thread).
struct Seen {
    std::mutex mutex;
    std::vector<broker::Delivery> deliveries;

    void add(const broker::Delivery& delivery) {
        std::lock_guard lock(mutex);
        deliveries.push_back(delivery);
    }
    size_t size() {
        std::lock_guard lock(mutex);
        return deliveries.size();
    }
    std::vector<broker::Delivery> all() {
        std::lock_guard lock(mutex);
        return deliveries;
    }
};

}  // namespace

class TestClientLibrary : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<TempDir> m_dir;
    std::unique_ptr<DepotdProcess> m_depotd;
    std::shared_ptr<Connection> m_connection;
    std::unique_ptr<Admin> m_admin;
    std::unique_ptr<Producer> m_producer;

    // Declares a fresh queue named after the running test.
    std::string declare(const std::string& suffix = {}, broker::QueuePolicy policy = {}) {
        std::string name = std::string(QTest::currentTestFunction()) + suffix;
        if (QTest::currentDataTag())
            name += std::string("-") + QTest::currentDataTag();
        for (char& c : name)
            if (c == ' ')
                c = '-';
        Result<broker::QueueInfo> info = m_admin->declareQueue({name, policy});
        if (!info)
            qWarning("declare %s: %s", name.c_str(), info.status().toString().c_str());
        return name;
    }

    uint64_t depth(const std::string& queue) {
        Result<QueueDetails> details = m_admin->showQueue(queue);
        return details ? details->stats.ready + details->stats.unacked + details->stats.delayed : UINT64_MAX;
    }

private slots:
    void initTestCase() {
        m_dir = std::make_unique<TempDir>();
        m_depotd = std::make_unique<DepotdProcess>(m_dir->path());
        QVERIFY2(m_depotd->start(), qPrintable(m_depotd->error()));
        auto connection = Connection::connect(optionsFor(m_depotd->endpoint()));
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        m_connection = std::move(connection).value();
        m_admin = std::make_unique<Admin>(m_connection);
        m_producer = std::make_unique<Producer>(m_connection);
        QCOMPARE(m_connection->server().server, std::string("depotd"));
        QVERIFY(m_connection->connected());
    }

    void cleanupTestCase() {
        m_producer.reset();
        m_admin.reset();
        if (m_connection)
            m_connection->close();
        if (m_depotd) {
            m_depotd->kill(SIGTERM);
            const std::optional<int> exit = m_depotd->waitForExit();
            QVERIFY2(exit == std::optional<int>(0), qPrintable(m_depotd->output()));
        }
    }

    void testSyncSendIsConfirmed() {
        const std::string queue = declare();
        SendResult result = m_producer->send(to(queue, "hello"));
        QVERIFY2(result.ok(), result.status.toString().c_str());
        QCOMPARE(test::name(result.result.outcome), QString("confirmed"));
        QVERIFY(!result.result.messageId.empty());  // assigned by the client
        QCOMPARE(depth(queue), uint64_t(1));
    }

    void testAsyncSendsAllCallBackConfirmed() {
        const std::string queue = declare();
        constexpr int kCount = 500;
        std::mutex mutex;
        std::map<std::string, std::string> outcomes;
        for (int i = 0; i < kCount; ++i) {
            m_producer->sendAsync(to(queue, "m" + std::to_string(i)), [&](const SendResult& result) {
                std::lock_guard lock(mutex);
                outcomes[result.result.messageId] = std::string(outcomeName(result));
            });
        }
        CHECK_OK(m_producer->flush(Millis(kWaitMs)));
        QCOMPARE(outcomes.size(), size_t(kCount));
        for (const auto& [id, outcome] : outcomes)
            QCOMPARE(outcome, std::string("confirmed"));
        QCOMPARE(depth(queue), uint64_t(kCount));
    }

    void testOnewayMessagesArrive() {
        const std::string queue = declare();
        for (int i = 0; i < 20; ++i)
            CHECK_OK(m_producer->sendOneway(to(queue, "fire and forget")));
        QTRY_COMPARE_WITH_TIMEOUT(depth(queue), uint64_t(20), kWaitMs);
    }

    void testNackReasons_data() {
        QTest::addColumn<QString>("exchange");
        QTest::addColumn<QString>("routingKey");
        QTest::addColumn<int>("bodySize");
        QTest::addColumn<QString>("reason");
        QTest::newRow("no queue") << ""
                                  << "no-such-queue" << 10 << "no-queue";
        QTest::newRow("no exchange") << "no-such-exchange"
                                     << "k" << 10 << "no-exchange";
        QTest::newRow("too large") << ""
                                   << "QUEUE" << int(4 * 1024 * 1024 + 1) << "too-large";
    }
    void testNackReasons() {
        QFETCH(QString, exchange);
        QFETCH(QString, routingKey);
        QFETCH(int, bodySize);
        QFETCH(QString, reason);
        broker::PublishRequest request;
        request.exchange = exchange.toStdString();
        request.routingKey = routingKey == "QUEUE" ? declare() : routingKey.toStdString();
        request.message.body.assign(size_t(bodySize), 'x');
        SendResult result = m_producer->send(request);
        QVERIFY2(result.nacked(), result.status.toString().c_str());  // an answer, not a timeout
        QCOMPARE(test::name(result.result.reason), reason);
        QVERIFY(!result.result.error.empty());
    }

    void testSameIdIsStoredOnceAndReportedDuplicate() {
        const std::string queue = declare();
        SendResult first = m_producer->send(to(queue, "once", "order-17"));
        SendResult second = m_producer->send(to(queue, "once", "order-17"));
        QVERIFY2(first.ok(), first.status.toString().c_str());
        QCOMPARE(test::name(first.result.outcome), QString("confirmed"));
        QVERIFY(second.ok());
        QCOMPARE(test::name(second.result.outcome), QString("duplicate"));
        QCOMPARE(second.result.messageId, std::string("order-17"));
        QCOMPARE(depth(queue), uint64_t(1));
    }

    void testManualAckConsumesEachMessageOnce() {
        const std::string queue = declare();
        for (int i = 0; i < 50; ++i)
            QVERIFY(m_producer->send(to(queue, std::to_string(i))).ok());
        Seen seen;
        auto consumer = Consumer::subscribe(m_connection, {queue, 10, false, "worker"},
                                            [&](const broker::Delivery& d, DeliveryContext&) { seen.add(d); });
        QVERIFY2(consumer.isOk(), consumer.status().toString().c_str());
        QTRY_COMPARE_WITH_TIMEOUT(seen.size(), size_t(50), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(depth(queue), uint64_t(0), kWaitMs);  // every ack arrived
        CHECK_OK((*consumer)->close());
        std::set<std::string> bodies;
        for (const broker::Delivery& d : seen.all()) {
            QCOMPARE(d.attempt, uint32_t(1));
            QCOMPARE(d.consumer, (*consumer)->id());
            bodies.insert(d.body);
        }
        QCOMPARE(bodies.size(), size_t(50));
    }

    void testThrowingHandlerRetriesWithAttemptTwo() {
        const std::string queue = declare({}, quickRetries());
        QVERIFY(m_producer->send(to(queue, "flaky", "flaky-1")).ok());
        Seen seen;
        auto consumer = Consumer::subscribe(m_connection, {queue}, [&](const broker::Delivery& d, DeliveryContext&) {
            seen.add(d);
            if (d.attempt == 1)
                throw std::runtime_error("database unavailable");
        });
        QVERIFY2(consumer.isOk(), consumer.status().toString().c_str());
        QTRY_COMPARE_WITH_TIMEOUT(seen.size(), size_t(2), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(depth(queue), uint64_t(0), kWaitMs);
        CHECK_OK((*consumer)->close());
        std::vector<broker::Delivery> all = seen.all();
        QCOMPARE(all[0].attempt, uint32_t(1));
        QCOMPARE(all[1].attempt, uint32_t(2));
        QVERIFY(all[1].redelivered);
        QCOMPARE(all[1].messageId, std::string("flaky-1"));
        // The exception's text went to the broker with the nack.
        Result<std::vector<broker::TraceEvent>> events = m_admin->trace({"flaky-1", {}, 100});
        QVERIFY2(events.isOk(), events.status().toString().c_str());
        bool mentioned = false;
        for (const broker::TraceEvent& event : *events)
            mentioned = mentioned || event.detail.find("database unavailable") != std::string::npos;
        QVERIFY(mentioned);
    }

    void testRejectingHandlerDeadLettersWithItsError() {
        const std::string queue = declare();
        QVERIFY(m_producer->send(to(queue, "poison", "poison-1")).ok());
        auto consumer = Consumer::subscribe(
            m_connection, {queue},
            [](const broker::Delivery&, DeliveryContext& context) { context.reject("cannot parse"); });
        QVERIFY2(consumer.isOk(), consumer.status().toString().c_str());
        const std::string dlq = queue + ".dlq";
        QTRY_COMPARE_WITH_TIMEOUT(depth(dlq), uint64_t(1), kWaitMs);
        CHECK_OK((*consumer)->close());
        QCOMPARE(depth(queue), uint64_t(0));
        Result<broker::BrowsePage> page = m_admin->browse(dlq);
        QVERIFY2(page.isOk(), page.status().toString().c_str());
        QCOMPARE(page->messages.size(), size_t(1));
        const broker::QueuedMessage& dead = page->messages[0];
        QCOMPARE(dead.messageId, std::string("poison-1"));
        QVERIFY(dead.death.has_value());
        QCOMPARE(test::name(dead.death->reason), QString("rejected"));
        QCOMPARE(dead.death->lastError, std::string("cannot parse"));
        QCOMPARE(dead.death->sourceQueue, queue);
    }

    void testDurableAckIsAnsweredAndSettlesOnce() {
        const std::string queue = declare();
        QVERIFY(m_producer->send(to(queue, "durable")).ok());
        auto consumer = Consumer::open(m_connection, {queue, 1});
        QVERIFY2(consumer.isOk(), consumer.status().toString().c_str());
        std::optional<broker::Delivery> delivery = (*consumer)->receive(Millis(kWaitMs));
        QVERIFY(delivery.has_value());
        QCOMPARE(delivery->body, std::string("durable"));
        CHECK_OK((*consumer)->ackDurable(*delivery));
        QCOMPARE(depth(queue), uint64_t(0));  // durable reply came: nothing left, not even unacked
        Status again = (*consumer)->ackDurable(*delivery);
        QCOMPARE(int(again.code()), int(StatusCode::Unavailable));
        QVERIFY(!(*consumer)->receive(Millis(200)).has_value());
        CHECK_OK((*consumer)->close());
    }

    void testPullNackWithRequeueRedelivers() {
        const std::string queue = declare({}, quickRetries());
        QVERIFY(m_producer->send(to(queue, "again")).ok());
        auto consumer = Consumer::open(m_connection, {queue});
        QVERIFY2(consumer.isOk(), consumer.status().toString().c_str());
        std::optional<broker::Delivery> first = (*consumer)->receive(Millis(kWaitMs));
        QVERIFY(first.has_value());
        CHECK_OK((*consumer)->nack(*first, {true, "try later"}));
        std::optional<broker::Delivery> second = (*consumer)->receive(Millis(kWaitMs));
        QVERIFY(second.has_value());
        QCOMPARE(second->attempt, uint32_t(2));
        QVERIFY(second->tag != first->tag);
        CHECK_OK((*consumer)->nackDurable(*second, {false, "give up"}));
        QCOMPARE(depth(queue + ".dlq"), uint64_t(1));
    }

    void testConsumingAMissingQueueIsNotFound() {
        auto consumer = Consumer::open(m_connection, {"no-such-queue-here"});
        QVERIFY(!consumer.isOk());
        QCOMPARE(int(consumer.status().code()), int(StatusCode::NotFound));
    }

    void testTransactionCommitDeliversAndRollbackDiscards() {
        const std::string queue = declare();
        broker::PublishRequest kept = to(queue, "kept");
        kept.transaction = "tx-commit";
        broker::PublishRequest dropped = to(queue, "dropped");
        dropped.transaction = "tx-rollback";
        QVERIFY(m_producer->send(kept).ok());
        QVERIFY(m_producer->send(dropped).ok());
        QCOMPARE(depth(queue), uint64_t(0));  // half messages are invisible
        SendResult committed = m_producer->commit("tx-commit");
        QVERIFY2(committed.ok(), committed.status.toString().c_str());
        SendResult rolledBack = m_producer->rollback("tx-rollback");
        QVERIFY2(rolledBack.status.isOk(), rolledBack.status.toString().c_str());
        QCOMPARE(depth(queue), uint64_t(1));
        // protocol.md says ERROR not-found; depotd answers a nack (invalid). Either way it is not confirmed.
        SendResult unknown = m_producer->commit("tx-never-started");
        QVERIFY(!unknown.ok());
        QVERIFY2(unknown.nacked() || unknown.status.code() == StatusCode::NotFound, unknown.status.toString().c_str());
        CHECK_OK(m_producer->setTransactionChecker(
            [](const std::string&, const std::string&) { return TransactionDecision::Unknown; }));
    }

    void testSmallWindowMeansWaitingNotBusy() {
        TempDir dir;
        DepotdProcess depotd(dir.path(), {"--max-unconfirmed", "4"});
        QVERIFY2(depotd.start(), qPrintable(depotd.error()));
        auto connection = Connection::connect(optionsFor(depotd.endpoint()));
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        QCOMPARE((*connection)->server().maxUnconfirmed, uint32_t(4));
        Admin admin(*connection);
        QVERIFY(admin.declareQueue({"window"}).isOk());
        Producer producer(*connection);
        std::atomic<int> confirmed{0}, other{0};
        for (int i = 0; i < 300; ++i)
            producer.sendAsync(to("window", "w"), [&](const SendResult& r) { (r.ok() ? confirmed : other)++; });
        CHECK_OK(producer.flush(Millis(kWaitMs)));
        QCOMPARE(other.load(), 0);
        QCOMPARE(confirmed.load(), 300);
    }

    // An async publish's deadline runs from the moment it is sent: one in flight to a broker that never answers
    // ends unconfirmed (timed out) after it, and one that cannot be sent (no session) ends unavailable after it.
    void testAsyncSendsEndUnconfirmedAtTheirDeadline() {
        TempDir dir;
        DepotdProcess depotd(dir.path());
        QVERIFY2(depotd.start(), qPrintable(depotd.error()));
        ClientOptions options = optionsFor(depotd.endpoint());
        options.heartbeat = Millis(60000);  // the session outlives the pause: the publish is sent, then unanswered
        auto connection = Connection::connect(options);
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        options.heartbeat = Millis(200);  // this one notices the broker's end soon
        auto losing = Connection::connect(options);
        QVERIFY2(losing.isOk(), losing.status().toString().c_str());
        Admin admin(*connection);
        QVERIFY(admin.declareQueue({"deadline"}).isOk());
        Producer producer(*connection);
        SendOptions quick;
        quick.timeout = Millis(300);
        QVERIFY(depotd.pause());
        checkUnconfirmed(asyncOutcome(producer, to("deadline", "unanswered"), quick), StatusCode::TimedOut,
                         "may or may not be stored");
        depotd.kill(SIGCONT);
        depotd.kill(SIGKILL);
        QTRY_VERIFY_WITH_TIMEOUT(!(*losing)->connected(), kWaitMs);
        Producer unsentProducer(*losing);
        checkUnconfirmed(asyncOutcome(unsentProducer, to("deadline", "no session"), quick), StatusCode::Unavailable,
                         "not sent within 300 ms");
    }

    void testAdminOperationsRoundTrip() {
        broker::QueueSpec spec{"admin-orders", quickRetries()};
        Result<broker::QueueInfo> declared = m_admin->declareQueue(spec);
        QVERIFY2(declared.isOk(), declared.status().toString().c_str());
        QCOMPARE(declared->name, spec.name);
        QCOMPARE(declared->deadLetterQueue, std::string("admin-orders.dlq"));
        QVERIFY(m_admin->declareQueue(spec).isOk());  // the same definition again: a no-op

        broker::QueuePolicy changed = spec.policy;
        changed.maxAttempts = 9;
        Result<broker::QueueInfo> updated = m_admin->updateQueue(spec.name, changed);
        QVERIFY2(updated.isOk(), updated.status().toString().c_str());
        QCOMPARE(updated->policy.maxAttempts, uint32_t(9));

        CHECK_OK(m_admin->declareExchange({"admin-events", broker::ExchangeType::Topic, ""}));
        CHECK_OK(m_admin->bind({"admin-events", spec.name, "order.*"}));
        Result<std::vector<broker::ExchangeSpec>> exchanges = m_admin->listExchanges();
        QVERIFY(exchanges.isOk());
        QVERIFY(std::any_of(exchanges->begin(), exchanges->end(), [](auto& e) { return e.name == "admin-events"; }));
        Result<std::vector<broker::Binding>> bindings = m_admin->listBindings();
        QVERIFY(bindings.isOk());
        QVERIFY(std::count(bindings->begin(), bindings->end(), broker::Binding{"admin-events", spec.name, "order.*"}));

        broker::PublishRequest request = to("", "{\"order\": 1}", "admin-msg-1");
        request.exchange = "admin-events";
        request.routingKey = "order.created";
        request.message.headers = {{"source", "test"}};
        QVERIFY(m_producer->send(request).ok());
        QVERIFY(m_producer->send(to(spec.name, "second")).ok());

        Result<QueueDetails> shown = m_admin->showQueue(spec.name);
        QVERIFY2(shown.isOk(), shown.status().toString().c_str());
        QCOMPARE(shown->stats.ready, uint64_t(2));
        Result<std::vector<QueueDetails>> queues = m_admin->listQueues();
        QVERIFY(queues.isOk());
        QVERIFY(std::any_of(queues->begin(), queues->end(), [&](auto& q) { return q.info.name == spec.name; }));

        Result<broker::BrowsePage> page = m_admin->browse(spec.name);
        QVERIFY2(page.isOk(), page.status().toString().c_str());
        QCOMPARE(page->matched, uint64_t(2));
        QCOMPARE(page->messages[0].body, std::string("{\"order\": 1}"));
        QCOMPARE(page->messages[0].headers, (broker::Headers{{"source", "test"}}));
        QCOMPARE(depth(spec.name), uint64_t(2));  // browsing took nothing

        CHECK_OK(m_admin->deadLetterMessage(spec.name, page->messages[1].sequence));
        CHECK_OK(m_admin->deleteMessage(spec.name, page->messages[0].sequence));
        QCOMPARE(depth(spec.name), uint64_t(0));
        // The move into the dead-letter queue becomes visible once its batch is durable, a moment later.
        QTRY_COMPARE_WITH_TIMEOUT(depth("admin-orders.dlq"), uint64_t(1), kWaitMs);

        Result<RequeueStarted> job = m_admin->startRequeue({"admin-orders.dlq"});
        QVERIFY2(job.isOk(), job.status().toString().c_str());
        QCOMPARE(job->total, uint64_t(1));
        QTRY_VERIFY_WITH_TIMEOUT(m_admin->requeueStatus(job->job).isOk() && m_admin->requeueStatus(job->job)->finished,
                                 kWaitMs);
        Result<RequeueStatus> status = m_admin->requeueStatus(job->job);
        QVERIFY(status->report.has_value());
        QCOMPARE(status->report->requeued, uint64_t(1));
        QCOMPARE(depth(spec.name), uint64_t(1));  // back in its source queue
        Status cancelled = m_admin->cancelRequeue(987654);
        QCOMPARE(int(cancelled.code()), int(StatusCode::NotFound));

        Result<uint64_t> purged = m_admin->purgeQueue(spec.name);
        QVERIFY2(purged.isOk(), purged.status().toString().c_str());
        QCOMPARE(*purged, uint64_t(1));

        Result<std::vector<broker::TraceEvent>> trace = m_admin->trace({"admin-msg-1", {}, 100});
        QVERIFY(trace.isOk());
        QVERIFY(
            std::any_of(trace->begin(), trace->end(), [](auto& e) { return e.kind == broker::TraceKind::Published; }));
        Result<std::vector<broker::AuditEntry>> audit = m_admin->audit({});
        QVERIFY(audit.isOk());
        QVERIFY(std::any_of(audit->begin(), audit->end(), [&](auto& e) {
            return e.target == spec.name && e.actor.find("test-client-library") != std::string::npos;
        }));
        QVERIFY(m_admin->history("", 0, INT64_MAX).isOk());
        Result<broker::BrokerStats> stats = m_admin->stats();
        QVERIFY2(stats.isOk(), stats.status().toString().c_str());
        QVERIFY(stats->totals.published >= 2);
        Result<std::vector<SessionInfo>> sessions = m_admin->sessions();
        QVERIFY(sessions.isOk());
        QVERIFY(
            std::any_of(sessions->begin(), sessions->end(), [](auto& s) { return s.client == "test-client-library"; }));

        CHECK_OK(m_admin->unbind({"admin-events", spec.name, "order.*"}));
        CHECK_OK(m_admin->deleteExchange("admin-events"));
        CHECK_OK(m_admin->deleteQueue(spec.name));
        Result<QueueDetails> gone = m_admin->showQueue(spec.name);
        QCOMPARE(int(gone.status().code()), int(StatusCode::NotFound));
        QVERIFY(gone.status().message().rfind("not-found: ", 0) == 0);
    }

    void testRawCallReturnsTheReplyJson() {
        const std::string queue = declare();
        Result<std::string> reply = m_admin->call("queue.show", "{\"name\": \"" + queue + "\"}");
        QVERIFY2(reply.isOk(), reply.status().toString().c_str());
        QVERIFY(reply->find("\"queue\"") != std::string::npos);
        QVERIFY(reply->find(queue) != std::string::npos);
        QCOMPARE(int(m_admin->call("no.such.op").status().code()), int(StatusCode::InvalidArgument));
        QCOMPARE(int(m_admin->call("queue.list", "[1]").status().code()), int(StatusCode::InvalidArgument));
        Result<std::string> invalid = m_admin->call("queue.declare", "{\"name\": \"\"}");
        QCOMPARE(int(invalid.status().code()), int(StatusCode::InvalidArgument));
    }

    void testDeadBrokerGivesUnavailableNamingItAndUnconfirmedNotNacked() {
        TempDir dir;
        DepotdProcess depotd(dir.path());
        QVERIFY2(depotd.start(), qPrintable(depotd.error()));
        ClientOptions options = optionsFor(depotd.endpoint());
        options.heartbeat = Millis(200);
        options.requestTimeout = Millis(1500);
        auto connection = Connection::connect(options);
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        Admin admin(*connection);
        Producer producer(*connection);
        QVERIFY(admin.declareQueue({"doomed"}).isOk());
        depotd.kill(SIGKILL);
        QTRY_VERIFY_WITH_TIMEOUT(!(*connection)->connected(), kWaitMs);
        Result<broker::BrokerStats> stats = admin.stats();
        QCOMPARE(int(stats.status().code()), int(StatusCode::Unavailable));
        QVERIFY2(stats.status().message().find(depotd.endpoint()) != std::string::npos,
                 stats.status().message().c_str());
        SendResult sent = producer.send(to("doomed", "lost?"));
        QVERIFY(sent.unconfirmed());
        QVERIFY(!sent.nacked());
        QVERIFY(!sent.result.messageId.empty());
        QCOMPARE(int(producer.sendOneway(to("doomed", "x")).code()), int(StatusCode::Unavailable));
        auto refused = Connection::connect(options);
        QCOMPARE(int(refused.status().code()), int(StatusCode::Unavailable));
    }

    void testReconnectResendsUnconfirmedAndRestoresSubscriptions() {
        TempDir dir;
        DepotdProcess depotd(dir.path());
        QVERIFY2(depotd.start(), qPrintable(depotd.error()));
        ClientOptions options = optionsFor(depotd.endpoint());
        options.heartbeat = Millis(500);
        options.requestTimeout = Millis(30000);
        auto connected = Connection::connect(options);
        QVERIFY2(connected.isOk(), connected.status().toString().c_str());
        std::shared_ptr<Connection> connection = *connected;
        Admin admin(connection);
        QVERIFY(admin.declareQueue({"survivor"}).isOk());

        Seen seen;
        auto consumer = Consumer::subscribe(connection, {"survivor", 50},
                                            [&](const broker::Delivery& d, DeliveryContext&) { seen.add(d); });
        QVERIFY2(consumer.isOk(), consumer.status().toString().c_str());

        // Publishes in flight (and some not yet sent) when depotd dies, more while it is down.
        Producer producer(connection);
        std::mutex mutex;
        std::map<std::string, std::string> outcomes;
        auto record = [&](const SendResult& r) {
            std::lock_guard lock(mutex);
            outcomes[r.result.messageId] = std::string(outcomeName(r)) + " " + r.status.toString();
        };
        for (int i = 0; i < 300; ++i)
            producer.sendAsync(to("survivor", "before-" + std::to_string(i)), record);
        depotd.kill(SIGKILL);
        for (int i = 0; i < 50; ++i)
            producer.sendAsync(to("survivor", "during-" + std::to_string(i)), record);
        QVERIFY2(depotd.restart(), qPrintable(depotd.error()));

        CHECK_OK(producer.flush(Millis(40000)));
        QCOMPARE(outcomes.size(), size_t(350));
        for (const auto& [id, outcome] : outcomes)
            QVERIFY2(outcome.rfind("confirmed", 0) == 0 || outcome.rfind("duplicate", 0) == 0, outcome.c_str());
        QVERIFY(connection->sessions() >= 2);

        // The subscription came back by itself: every confirmed message arrives, and none was stored twice (each
        // id has one broker sequence, however often it was delivered).
        auto allDelivered = [&] {
            std::set<std::string> ids;
            for (const broker::Delivery& d : seen.all())
                ids.insert(d.messageId);
            return ids.size() == outcomes.size();
        };
        QTRY_VERIFY_WITH_TIMEOUT(allDelivered(), 40000);
        std::map<std::string, std::set<uint64_t>> sequences;
        for (const broker::Delivery& d : seen.all()) {
            QVERIFY(outcomes.count(d.messageId));
            sequences[d.messageId].insert(d.sequence);
        }
        for (const auto& [id, stored] : sequences)
            QVERIFY2(stored.size() == 1, id.c_str());
        QTRY_COMPARE_WITH_TIMEOUT(admin.showQueue("survivor")->stats.ready + admin.showQueue("survivor")->stats.unacked,
                                  uint64_t(0), kWaitMs);
        CHECK_OK((*consumer)->close());
    }
};

QTEST_GUILESS_MAIN(TestClientLibrary)
#include "TestClientLibrary.moc"
