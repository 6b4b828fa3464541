// Broker-wide settings (default flush for new queues, async flush interval): validated, kept in the catalog
// across restarts, applied at runtime, audited with what changed. And policy updates audited the same way.
#include <QtTest>

#include <sqlite3.h>

#include "support/BrokerHarness.h"
#include "support/SqliteProbe.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

namespace {

QString text(const std::string& s) { return QString::fromStdString(s); }
QString flushName(FlushMode mode) { return text(std::string(toString(mode))); }

BrokerSettings asyncEvery(Millis interval) { return {FlushMode::Async, interval}; }

QueueSpec withBrokerFlush(const std::string& name) {
    QueueSpec spec{name, QueuePolicy{}, QueueKind::Normal};
    spec.brokerFlush = true;
    return spec;
}

// The newest audit entry for `target`.
AuditEntry lastAudit(Broker& broker, const std::string& target) {
    auto entries = broker.audit({0, INT64_MAX, target, 100});
    if (!entries || entries->empty()) return {};
    return entries->back();
}

void storeSetting(const std::string& catalog, const std::string& key, const std::string& value) {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(catalog.c_str(), &db), SQLITE_OK);
    Status status = depot::test::execSql(db, "INSERT OR REPLACE INTO settings (key, value) VALUES ('" + key +
                                                 "', '" + value + "')");
    sqlite3_close(db);
    QVERIFY2(status.isOk(), status.message().c_str());
}

}  // namespace

class TestBrokerSettings : public QObject {
    Q_OBJECT

private slots:
    void testSettingsStartFromTheOptions() {
        BrokerOptions options;
        options.asyncFlushInterval = Millis(250);
        BrokerHarness h({}, options);
        auto settings = h.broker().settings();
        QVERIFY(settings);
        QCOMPARE(flushName(settings->defaultFlush), QString("sync"));
        QCOMPARE(settings->asyncFlushInterval.count(), 250);
        QCOMPARE(h.broker().stats().asyncFlushIntervalMs, uint64_t(250));
    }

    void testConfiguredSettingsOutliveARestart() {
        BrokerHarness h;
        auto applied = h.broker().configure(asyncEvery(Millis(40)), Actor{"op"});
        QVERIFY2(applied, applied.status().message().c_str());
        QVERIFY(h.restart().isOk());
        auto settings = h.broker().settings();
        QVERIFY(settings);
        QVERIFY(*settings == asyncEvery(Millis(40)));
        const BrokerStats stats = h.broker().stats();
        QCOMPARE(flushName(stats.defaultFlush), QString("async"));
        QCOMPARE(stats.asyncFlushIntervalMs, uint64_t(40));
    }

    void testDefaultFlushIsGivenOnlyToQueuesThatDoNotChoose() {
        BrokerHarness h;
        h.declare("before");  // sync, declared before the change
        QVERIFY(h.broker().configure(asyncEvery(Millis(100))));
        auto following = h.broker().declareQueue(withBrokerFlush("following"));
        QVERIFY(following);
        QCOMPARE(flushName(following->policy.flush), QString("async"));
        auto chosen = h.broker().declareQueue({"chosen", QueuePolicy{}, QueueKind::Normal});  // explicit sync
        QVERIFY(chosen);
        QCOMPARE(flushName(chosen->policy.flush), QString("sync"));
        QCOMPARE(flushName(h.queueStats("before").flush), QString("sync"));
        // Redeclaring the way it was declared is accepted as the same queue.
        QVERIFY(h.broker().declareQueue(withBrokerFlush("following")));
    }

    void testOutOfRangeIntervalIsRefusedAndNothingChanges_data() {
        QTest::addColumn<int>("milliseconds");
        QTest::newRow("zero") << 0;
        QTest::newRow("negative") << -5;
        QTest::newRow("over a minute") << 60001;
    }

    void testOutOfRangeIntervalIsRefusedAndNothingChanges() {
        QFETCH(int, milliseconds);
        BrokerHarness h;
        auto refused = h.broker().configure(asyncEvery(Millis(milliseconds)));
        QVERIFY(!refused);
        QCOMPARE(refused.status().code(), StatusCode::InvalidArgument);
        QVERIFY2(refused.status().message().find("async-flush-interval") != std::string::npos,
                 refused.status().message().c_str());
        QVERIFY(*h.broker().settings() == BrokerSettings{});
    }

    void testConfigureIsAuditedWithWhatChanged() {
        BrokerHarness h;
        QVERIFY(h.broker().configure(asyncEvery(Millis(250)), Actor{"alice"}));
        const AuditEntry entry = lastAudit(h.broker(), "broker");
        QCOMPARE(text(entry.action), QString("configure-broker"));
        QCOMPARE(text(entry.actor), QString("alice"));
        QCOMPARE(text(entry.detail), QString("default-flush sync -> async; async-flush-interval 100ms -> 250ms"));
        QVERIFY(entry.ok);
    }

    void testPolicyUpdateIsAuditedWithWhatChanged() {
        BrokerHarness h;
        h.declare("orders");
        QueuePolicy policy;
        policy.flush = FlushMode::Async;
        policy.maxAttempts = 3;
        QVERIFY(h.broker().updateQueuePolicy("orders", policy, Actor{"bob"}));
        AuditEntry entry = lastAudit(h.broker(), "orders");
        QCOMPARE(text(entry.action), QString("update-policy"));
        QCOMPARE(text(entry.detail), QString("flush sync -> async; max-attempts 5 -> 3"));
        QVERIFY(h.broker().updateQueuePolicy("orders", policy, Actor{"bob"}));
        QCOMPARE(text(lastAudit(h.broker(), "orders").detail), QString("no change"));
    }

    // The periodic flush follows the interval as soon as it is configured: with a minute, an async confirm is
    // still at risk a moment later; switched to 1 ms, it is flushed without another publish.
    void testIntervalChangeTakesEffectAtOnce() {
        BrokerHarness h;
        QVERIFY(h.broker().configure(asyncEvery(Millis(60000))));
        h.declare("fast", QueuePolicy{.flush = FlushMode::Async});
        QVERIFY(h.publish("fast", "m").outcome == PublishOutcome::Confirmed);
        QTest::qWait(300);
        QCOMPARE(h.broker().stats().unflushedMessages, uint64_t(1));
        QVERIFY(h.broker().configure(asyncEvery(Millis(1))));
        QTRY_COMPARE_WITH_TIMEOUT(h.broker().stats().unflushedMessages, uint64_t(0), 10000);
    }

    void testACorruptStoredSettingRefusesToOpen_data() {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::newRow("interval not a number") << "async-flush-interval-ms" << "soon";
        QTest::newRow("interval out of range") << "async-flush-interval-ms" << "0";
        QTest::newRow("unknown flush mode") << "default-flush" << "sometimes";
    }

    void testACorruptStoredSettingRefusesToOpen() {
        QFETCH(QString, key);
        QFETCH(QString, value);
        BrokerHarness h;
        QVERIFY(h.broker().configure(asyncEvery(Millis(100))));
        h.close();
        storeSetting(h.dir() + "/catalog.db", key.toStdString(), value.toStdString());
        Status reopened = h.restart();
        QCOMPARE(reopened.code(), StatusCode::Corruption);
        QVERIFY2(reopened.message().find("setting") != std::string::npos, reopened.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestBrokerSettings)
#include "TestBrokerSettings.moc"
