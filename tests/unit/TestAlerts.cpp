// Alert thresholds: each metric raises when its value reaches the threshold and clears when it falls below, each
// transition is audited, rules outlive a restart, and bad rules are refused.
#include <QtTest>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

namespace {

constexpr Millis kSecond{1000};

QString text(const std::string& s) { return QString::fromStdString(s); }

AlertState alertOn(BrokerHarness& h, const std::string& queue, AlertMetric metric) {
    auto alerts = h.broker().alerts();
    if (alerts)
        for (const AlertState& state : *alerts)
            if (state.rule.queue == queue && state.rule.metric == metric) return state;
    return {};
}

QStringList transitions(BrokerHarness& h, const std::string& queue) {
    QStringList out;
    auto entries = h.broker().audit({0, INT64_MAX, queue, 100});
    if (entries)
        for (const AuditEntry& e : *entries)
            if (e.action.rfind("alert-", 0) == 0) out << text(e.action + ": " + e.detail);
    return out;
}

void deadLetter(BrokerHarness& h, const std::string& queue, int n) {
    auto [consumer, inbox] = h.consume(queue, 1);
    for (int i = 0; i < n; ++i) {
        auto delivery = inbox->next();
        QVERIFY(delivery);
        QVERIFY(h.broker().nack(consumer, delivery->tag, {false, "bad"}).isOk());
    }
    QVERIFY(h.broker().cancel(consumer).isOk());
}

}  // namespace

class TestAlerts : public QObject {
    Q_OBJECT

private slots:
    void testDeadLetterDepthRaisesThenClears() {
        BrokerHarness h;
        h.declare("orders");
        QVERIFY(h.broker().setAlert({"orders", AlertMetric::DeadLetterDepth, 2}, Actor{"ops"}));
        for (const char* body : {"a", "b"}) QVERIFY(h.publish("orders", body).outcome == PublishOutcome::Confirmed);
        deadLetter(h, "orders", 1);
        h.advance(kSecond);
        QVERIFY(!alertOn(h, "orders", AlertMetric::DeadLetterDepth).firing);
        QCOMPARE(alertOn(h, "orders", AlertMetric::DeadLetterDepth).value, uint64_t(1));
        deadLetter(h, "orders", 1);
        h.advance(kSecond);
        const AlertState raised = alertOn(h, "orders", AlertMetric::DeadLetterDepth);
        QVERIFY(raised.firing);
        QVERIFY(raised.since > 0);
        QVERIFY(h.broker().purgeQueue("orders.dlq").isOk());
        h.advance(kSecond);
        QVERIFY(!alertOn(h, "orders", AlertMetric::DeadLetterDepth).firing);
        QCOMPARE(transitions(h, "orders"),
                 QStringList({"alert-raised: dlq-depth 2 >= 2", "alert-cleared: dlq-depth 0 < 2"}));
    }

    void testBacklogAndOldestAge() {
        BrokerHarness h;
        h.declare("orders");
        QVERIFY(h.broker().setAlert({"orders", AlertMetric::Backlog, 3}));
        QVERIFY(h.broker().setAlert({"orders", AlertMetric::OldestAge, 5000}));
        for (const char* body : {"a", "b", "c"}) QVERIFY(h.publish("orders", body).outcome == PublishOutcome::Confirmed);
        h.advance(kSecond);
        QVERIFY(alertOn(h, "orders", AlertMetric::Backlog).firing);
        QVERIFY(!alertOn(h, "orders", AlertMetric::OldestAge).firing);
        h.advance(Millis(5000));
        QVERIFY(alertOn(h, "orders", AlertMetric::OldestAge).firing);
        QVERIFY(alertOn(h, "orders", AlertMetric::OldestAge).value >= 5000);
    }

    void testGrowthCountsTheLastMinuteOnly() {
        BrokerHarness h;
        h.declare("orders");
        QVERIFY(h.broker().setAlert({"orders", AlertMetric::DeadLetterGrowth, 2}));
        h.advance(kSecond);  // the window starts before the failures
        for (const char* body : {"a", "b"}) QVERIFY(h.publish("orders", body).outcome == PublishOutcome::Confirmed);
        deadLetter(h, "orders", 2);
        h.advance(kSecond);
        QVERIFY(alertOn(h, "orders", AlertMetric::DeadLetterGrowth).firing);
        for (int i = 0; i < 62; ++i) h.advance(kSecond);
        QVERIFY(!alertOn(h, "orders", AlertMetric::DeadLetterGrowth).firing);
        QCOMPARE(alertOn(h, "orders", AlertMetric::DeadLetterGrowth).value, uint64_t(0));
    }

    void testRulesOutliveARestartAndCanBeDeleted() {
        BrokerHarness h;
        h.declare("orders");
        QVERIFY(h.broker().setAlert({"orders", AlertMetric::Backlog, 10}));
        QVERIFY(h.broker().setAlert({"orders", AlertMetric::Backlog, 20}));  // changes, does not add
        QVERIFY(h.restart().isOk());
        auto alerts = h.broker().alerts();
        QCOMPARE(alerts->size(), size_t(1));
        QCOMPARE((*alerts)[0].rule.threshold, uint64_t(20));
        QVERIFY(h.broker().deleteAlert("orders", AlertMetric::Backlog).isOk());
        QCOMPARE(h.broker().deleteAlert("orders", AlertMetric::Backlog).code(), StatusCode::NotFound);
        QVERIFY(h.restart().isOk());
        QVERIFY(h.broker().alerts()->empty());
    }

    void testBadRulesAreRefused() {
        BrokerHarness h;
        h.declare("orders");
        QCOMPARE(h.broker().setAlert({"nowhere", AlertMetric::Backlog, 1}).status().code(), StatusCode::NotFound);
        QCOMPARE(h.broker().setAlert({"orders", AlertMetric::Backlog, 0}).status().code(),
                 StatusCode::InvalidArgument);
        QVERIFY(h.broker().alerts()->empty());
    }
};

QTEST_GUILESS_MAIN(TestAlerts)
#include "TestAlerts.moc"
