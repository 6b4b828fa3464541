// Retries: the backoff schedule between failed deliveries, dead-lettering after max attempts, unlimited attempts,
// and attempt counts and retry due times that survive a restart.
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

QueuePolicy withBackoff(std::vector<Millis> backoff, uint32_t maxAttempts) {
    QueuePolicy policy;
    policy.backoff = std::move(backoff);
    policy.maxAttempts = maxAttempts;
    return policy;
}

NackOptions retry(std::string error) { return NackOptions{true, std::move(error)}; }

}  // namespace

class TestRetryBackoff : public QObject {
    Q_OBJECT

private slots:
    void testBackoffScheduleIsFollowedExactly_data();
    void testBackoffScheduleIsFollowedExactly();
    void testMaxAttemptsDeadLetters_data();
    void testMaxAttemptsDeadLetters();
    void testZeroMaxAttemptsRetriesForever();
    void testAttemptCountSurvivesRestart();
    void testRetryDueTimeSurvivesRestart();
    void testRetriesAreCounted();
};

void TestRetryBackoff::testBackoffScheduleIsFollowedExactly_data() {
    QTest::addColumn<QList<int>>("backoffMs");   // empty: the default policy's
    QTest::addColumn<QList<int>>("expectedMs");  // the wait after each failed delivery, in order
    QTest::newRow("default, last step repeats") << QList<int>{} << QList<int>{1000, 5000, 15000, 30000, 30000, 30000};
    QTest::newRow("custom, last step repeats") << QList<int>{100, 2000} << QList<int>{100, 2000, 2000, 2000};
    QTest::newRow("single step") << QList<int>{250} << QList<int>{250, 250, 250};
}

void TestRetryBackoff::testBackoffScheduleIsFollowedExactly() {
    QFETCH(QList<int>, backoffMs);
    QFETCH(QList<int>, expectedMs);
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxAttempts = 100;
    if (!backoffMs.isEmpty()) {
        policy.backoff.clear();
        for (int ms : backoffMs)
            policy.backoff.push_back(Millis(ms));
    }
    h.declare("q", policy);
    QCOMPARE(name(h.publish("q", "flaky").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    for (int i = 0; i < expectedMs.size(); ++i) {
        QCOMPARE(delivery->attempt, uint32_t(i + 1));
        CHECK_OK(h.broker().nack(consumer, delivery->tag, retry("failure " + std::to_string(i + 1))));
        h.advance(Millis(expectedMs[i] - 1));
        QVERIFY2(nothingArrives(h, *inbox), qPrintable(QString("retry %1 came early").arg(i + 1)));
        h.advance(Millis(1));
        delivery = inbox->next();
        QVERIFY2(delivery, qPrintable(QString("retry %1 did not come when due").arg(i + 1)));
        QVERIFY(delivery->redelivered);
    }
    QCOMPARE(delivery->attempt, uint32_t(expectedMs.size() + 1));
    CHECK_OK(h.broker().ack(consumer, delivery->tag));
    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.depth("q.dlq"), uint64_t(0));
}

void TestRetryBackoff::testMaxAttemptsDeadLetters_data() {
    QTest::addColumn<int>("maxAttempts");  // 0: the policy's default
    QTest::addColumn<int>("deliveries");
    QTest::newRow("default 5") << 0 << 5;
    QTest::newRow("1: the first failure is final") << 1 << 1;
    QTest::newRow("3") << 3 << 3;
}

void TestRetryBackoff::testMaxAttemptsDeadLetters() {
    QFETCH(int, maxAttempts);
    QFETCH(int, deliveries);
    BrokerHarness h;
    QueuePolicy policy;
    policy.backoff = {Millis(100)};
    if (maxAttempts)
        policy.maxAttempts = uint32_t(maxAttempts);
    h.declare("q", policy);
    QCOMPARE(name(h.publish("q", "doomed", Message{"d-1"}).outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    TimeMs firstFailure = 0;
    for (int attempt = 1; attempt <= deliveries; ++attempt) {
        auto delivery = inbox->next();
        QVERIFY2(delivery, qPrintable(QString("delivery %1 missing").arg(attempt)));
        QCOMPARE(delivery->attempt, uint32_t(attempt));
        QCOMPARE(h.depth("q.dlq"), uint64_t(0));
        if (attempt == 1)
            firstFailure = h.clock().now();
        CHECK_OK(h.broker().nack(consumer, delivery->tag, retry("error " + std::to_string(attempt))));
        h.advance(Millis(100));
    }
    QVERIFY(nothingArrives(h, *inbox));
    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.depth("q.dlq"), uint64_t(1));
    BrowsePage page = *h.broker().browse("q.dlq");
    QCOMPARE(page.messages.size(), size_t(1));
    const QueuedMessage& dead = page.messages[0];
    QCOMPARE(QString::fromStdString(dead.messageId), QString("d-1"));
    QVERIFY(dead.death);
    QCOMPARE(name(dead.death->reason), name(DeathReason::MaxAttempts));
    QCOMPARE(QString::fromStdString(dead.death->sourceQueue), QString("q"));
    QCOMPARE(dead.death->attempts, uint32_t(deliveries));
    QCOMPARE(QString::fromStdString(dead.death->lastError), QString("error %1").arg(deliveries));
    // Died once, at the last nack (the clock had moved 100 ms per failure since the first).
    TimeMs diedAt = firstFailure + 100 * (deliveries - 1);
    QCOMPARE(dead.death->firstDeathAt, diedAt);
    QCOMPARE(dead.death->lastDeathAt, diedAt);
    QCOMPARE(dead.death->deaths, 1u);
    QCOMPARE(h.queueStats("q").counters.deadLettered, uint64_t(1));
}

void TestRetryBackoff::testZeroMaxAttemptsRetriesForever() {
    BrokerHarness h;
    h.declare("q", withBackoff({Millis(100)}, 0));
    QCOMPARE(name(h.publish("q", "stubborn").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    constexpr uint32_t kFailures = 12;  // well past the default limit of 5
    for (uint32_t attempt = 1; attempt <= kFailures; ++attempt) {
        auto delivery = inbox->next();
        QVERIFY(delivery);
        QCOMPARE(delivery->attempt, attempt);
        CHECK_OK(h.broker().nack(consumer, delivery->tag, retry("again")));
        h.advance(Millis(100));
    }
    auto last = inbox->next();
    QVERIFY(last);
    QCOMPARE(last->attempt, kFailures + 1);
    QCOMPARE(h.depth("q.dlq"), uint64_t(0));
    QCOMPARE(h.queueStats("q").counters.deadLettered, uint64_t(0));
}

void TestRetryBackoff::testAttemptCountSurvivesRestart() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(name(h.publish("q", "flaky").outcome), name(PublishOutcome::Confirmed));
    {
        auto [consumer, inbox] = h.consume("q");
        auto first = inbox->next();
        QVERIFY(first);
        CHECK_OK(h.broker().nack(consumer, first->tag, retry("one")));
        h.advance(Millis(1000));
        auto second = inbox->next();
        QVERIFY(second);
        QCOMPARE(second->attempt, 2u);
        CHECK_OK(h.broker().nack(consumer, second->tag, retry("two")));
    }
    CHECK_OK(h.restart());
    auto [consumer, inbox] = h.consume("q");
    h.advance(Millis(5000));
    auto third = inbox->next();
    QVERIFY(third);
    QCOMPARE(third->attempt, 3u);
    QVERIFY(third->redelivered);
    QCOMPARE(QString::fromStdString(third->body), QString("flaky"));
}

void TestRetryBackoff::testRetryDueTimeSurvivesRestart() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(name(h.publish("q", "flaky").outcome), name(PublishOutcome::Confirmed));
    {
        auto [consumer, inbox] = h.consume("q");
        auto first = inbox->next();
        QVERIFY(first);
        CHECK_OK(h.broker().nack(consumer, first->tag, retry("one")));
        h.advance(Millis(1000));
        auto second = inbox->next();
        QVERIFY(second);
        CHECK_OK(h.broker().nack(consumer, second->tag, retry("two")));  // due in 5 s
    }
    h.advance(Millis(2000));
    CHECK_OK(h.restart());
    QCOMPARE(h.queueStats("q").delayed, uint64_t(1));
    auto [consumer, inbox] = h.consume("q");
    QVERIFY(nothingArrives(h, *inbox));
    h.advance(Millis(2999));
    QVERIFY(nothingArrives(h, *inbox));
    h.advance(Millis(1));
    auto third = inbox->next();
    QVERIFY(third);
    QCOMPARE(third->attempt, 3u);
}

void TestRetryBackoff::testRetriesAreCounted() {
    BrokerHarness h;
    h.declare("q", withBackoff({Millis(100)}, 3));
    QCOMPARE(name(h.publish("q", "x").outcome), name(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    for (int i = 0; i < 3; ++i) {
        auto delivery = inbox->next();
        QVERIFY(delivery);
        CHECK_OK(h.broker().nack(consumer, delivery->tag, retry("e")));
        h.advance(Millis(100));
    }
    QueueStats stats = h.queueStats("q");
    QCOMPARE(stats.counters.retried, uint64_t(2));  // the third failure dead-lettered instead
    QCOMPARE(stats.counters.delivered, uint64_t(3));
    QCOMPARE(stats.counters.redelivered, uint64_t(2));
    QCOMPARE(stats.counters.deadLettered, uint64_t(1));
    QCOMPARE(h.broker().stats().totals.retried, uint64_t(2));
}

QTEST_GUILESS_MAIN(TestRetryBackoff)
#include "TestRetryBackoff.moc"
