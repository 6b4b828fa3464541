// Transaction check-backs through the client library against a real depotd: half messages left unresolved are
// checked back (TX_CHECK, after the broker's 30 s interval) with the session whose HELLO named the producer group,
// and the Producer's checker decides: commit delivers the message, rollback discards it. Slow by nature: it waits
// for the broker's check interval.
#include <QtTest>

#include <signal.h>

#include <map>
#include <mutex>
#include <string>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Producer.h"
#include "support/BrokerChecks.h"
#include "support/DepotdProcess.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::client;

namespace {

constexpr int kCheckBackWaitMs = 75000;  // the broker's first check-back comes after 30 s

broker::PublishRequest half(const std::string& queue, const std::string& transaction, const std::string& id) {
    broker::PublishRequest request;
    request.routingKey = queue;
    request.message.id = id;
    request.message.body = "half of " + transaction;
    request.transaction = transaction;
    return request;
}

}  // namespace

class TestClientTransactions : public QObject {
    Q_OBJECT

private slots:
    void testCheckerDecidesUnresolvedTransactions() {
        test::TempDir dir;
        test::DepotdProcess depotd(dir.path());
        QVERIFY2(depotd.start(), qPrintable(depotd.error()));
        ClientOptions options;
        options.endpoint = depotd.endpoint();
        options.producerGroup = "checked-producers";
        auto connection = Connection::connect(options);
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        Admin admin(*connection);
        QVERIFY(admin.declareQueue({"checked"}).isOk());

        Producer producer(*connection);
        std::mutex mutex;
        std::map<std::string, std::string> asked;  // transaction → message id
        CHECK_OK(producer.setTransactionChecker([&](const std::string& transaction, const std::string& messageId) {
            std::lock_guard lock(mutex);
            asked[transaction] = messageId;
            return transaction == "tx-keep" ? TransactionDecision::Commit : TransactionDecision::Rollback;
        }));
        QVERIFY(producer.send(half("checked", "tx-keep", "keep-1")).ok());
        QVERIFY(producer.send(half("checked", "tx-drop", "drop-1")).ok());
        auto answered = [&] {
            std::lock_guard lock(mutex);
            return asked.size() == 2;
        };
        QTRY_VERIFY_WITH_TIMEOUT(answered(), kCheckBackWaitMs);
        QCOMPARE(asked["tx-keep"], std::string("keep-1"));
        QCOMPARE(asked["tx-drop"], std::string("drop-1"));

        auto ready = [&] {
            Result<QueueDetails> queue = admin.showQueue("checked");
            return queue ? queue->stats.ready : UINT64_MAX;
        };
        QTRY_COMPARE_WITH_TIMEOUT(ready(), uint64_t(1), 20000);
        Result<broker::BrowsePage> page = admin.browse("checked");
        QVERIFY(page.isOk());
        QCOMPARE(page->messages.size(), size_t(1));
        QCOMPARE(page->messages[0].messageId, std::string("keep-1"));
        QCOMPARE(test::name(page->messages[0].state), QString("ready"));
        QCOMPARE(admin.showQueue("checked")->stats.prepared, uint64_t(0));
    }

    void testCheckerNeedsAProducerGroup() {
        test::TempDir dir;
        test::DepotdProcess depotd(dir.path());
        QVERIFY2(depotd.start(), qPrintable(depotd.error()));
        ClientOptions options;
        options.endpoint = depotd.endpoint();
        auto connection = Connection::connect(options);
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        Producer producer(*connection);
        Status status = producer.setTransactionChecker(
            [](const std::string&, const std::string&) { return TransactionDecision::Commit; });
        QCOMPARE(int(status.code()), int(StatusCode::InvalidArgument));
    }
};

QTEST_GUILESS_MAIN(TestClientTransactions)
#include "TestClientTransactions.moc"
