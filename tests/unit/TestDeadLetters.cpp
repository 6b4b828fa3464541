// Dead letters: death records, named DLQs, side-effect-free browsing with filters and paging, requeue (one, by
// filter, edited, bulk and cancellable, to missing targets), delete, purge, audit, and survival across a restart.
#include <QtTest>

#include <algorithm>
#include <set>
#include <thread>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;
using depot::test::Inbox;

namespace {

constexpr Millis kSecond{1000};

bool confirmed(const PublishResult& result) { return result.outcome == PublishOutcome::Confirmed; }

// Takes `n` deliveries from `queue` and rejects each (no requeue) with `error`: each dies at once, reason rejected.
bool rejectNext(BrokerHarness& h, const std::string& queue, size_t n, const std::string& error) {
    auto [consumer, inbox] = h.consume(queue, 1);
    bool ok = true;
    for (size_t i = 0; i < n && ok; ++i) {
        auto delivery = inbox->next();
        ok = delivery && h.broker().nack(consumer, delivery->tag, {false, error}).isOk();
    }
    return h.broker().cancel(consumer).isOk() && ok;
}

std::vector<QueuedMessage> browseAll(BrokerHarness& h, const std::string& queue, MessageFilter filter = {}) {
    BrowseOptions options;
    options.limit = SIZE_MAX;
    options.filter = std::move(filter);
    auto page = h.broker().browse(queue, options);
    return page ? page->messages : std::vector<QueuedMessage>{};
}

QStringList bodies(const std::vector<QueuedMessage>& messages) {
    QStringList out;
    for (const QueuedMessage& message : messages)
        out << QString::fromStdString(message.body);
    return out;
}

QStringList sorted(QStringList list) {
    list.sort();
    return list;
}

std::optional<RequeueReport> runRequeue(BrokerHarness& h, RequeueRequest request) {
    auto job = h.broker().requeue(std::move(request));
    if (!job)
        return std::nullopt;
    return (*job)->wait();
}

RequeueRequest requeueOf(const std::string& dlq, MessageFilter filter, const std::string& actor = "alice") {
    RequeueRequest request;
    request.queue = dlq;
    request.filter = std::move(filter);
    request.actor = Actor{actor};
    return request;
}

MessageFilter bySequence(uint64_t sequence) {
    MessageFilter filter;
    filter.sequences = {sequence};
    return filter;
}

// Everything an observer could notice about a queue, as one comparable line.
QString fingerprint(const QueueStats& s) {
    const Counters& c = s.counters;
    return QStringLiteral(
               "ready=%1 unacked=%2 delayed=%3 bytes=%4 dlq=%5 published=%6 delivered=%7 redelivered=%8 "
               "acked=%9 retried=%10 deadLettered=%11 expired=%12")
        .arg(s.ready)
        .arg(s.unacked)
        .arg(s.delayed)
        .arg(s.bytes)
        .arg(s.deadLetterDepth)
        .arg(c.published)
        .arg(c.delivered)
        .arg(c.redelivered)
        .arg(c.acked)
        .arg(c.retried)
        .arg(c.deadLettered)
        .arg(c.expired);
}

QStringList fingerprint(const std::vector<QueuedMessage>& messages) {
    QStringList out;
    for (const QueuedMessage& m : messages)
        out << QStringLiteral("%1 %2 %3 attempts=%4 due=%5 deaths=%6")
                   .arg(m.sequence)
                   .arg(QString::fromStdString(m.body))
                   .arg(QString::fromStdString(std::string(toString(m.state))))
                   .arg(m.attempts)
                   .arg(m.dueAt)
                   .arg(m.death ? m.death->deaths : 0);
    return out;
}

// Four dead letters in the shared DLQ "errors", one second apart from t0 = the clock at the call:
//   t0       "alpha one"   from a, rejected,     lastError "timeout talking to db"
//   t0+1000  "alpha two"   from a, max-attempts, lastError "parse error"
//   t0+2000  "beta pay"    from b, rejected,     lastError "card declined", header tenant=acme
//   t0+3000  "beta refund" from b, expired
bool buildMixedDeadLetters(BrokerHarness& h) {
    QueuePolicy a;
    a.maxAttempts = 1;
    a.deadLetterQueue = "errors";
    QueuePolicy b;
    b.deadLetterQueue = "errors";
    h.declare("a", a);
    h.declare("b", b);
    Message pay;
    pay.headers = {{"tenant", "acme"}};
    if (!confirmed(h.publish("a", "alpha one")) || !confirmed(h.publish("a", "alpha two")) ||
        !confirmed(h.publish("b", "beta pay", pay)))
        return false;
    auto [consumerA, inboxA] = h.consume("a", 1);
    auto one = inboxA->next();
    if (!one || !h.broker().nack(consumerA, one->tag, {false, "timeout talking to db"}).isOk())
        return false;
    auto two = inboxA->next();
    h.advance(kSecond);
    if (!two || !h.broker().nack(consumerA, two->tag, {true, "parse error"}).isOk())
        return false;
    if (!h.broker().cancel(consumerA).isOk())
        return false;
    h.advance(kSecond);
    if (!rejectNext(h, "b", 1, "card declined"))
        return false;
    Message refund;
    refund.ttl = kSecond;
    if (!confirmed(h.publish("b", "beta refund", refund)))
        return false;
    h.advance(kSecond);
    return h.depth("errors") == 4 && h.depth("a") == 0 && h.depth("b") == 0;
}

}  // namespace

class TestDeadLetters : public QObject {
    Q_OBJECT

private slots:
    void testDeathRecordIsSeenByBrowseAndByDlqConsumer();
    void testEachWayOfDyingIsRecorded_data();
    void testEachWayOfDyingIsRecorded();
    void testNamedDeadLetterQueueIsCreatedAndUsed();
    void testBrowsingHasNoSideEffects();
    void testBrowseFilters_data();
    void testBrowseFilters();
    void testBrowsePaging_data();
    void testBrowsePaging();
    void testRequeueOneBySequence_data();
    void testRequeueOneBySequence();
    void testRequeueWithEditedBodyAndHeaders();
    void testRequeueByFilterMovesExactlyTheMatches_data();
    void testRequeueByFilterMovesExactlyTheMatches();
    void testBulkRequeueCanBeCancelledWithoutLosingOrDuplicating();
    void testFailedRequeueReportsEachAndMovesNothing_data();
    void testFailedRequeueReportsEachAndMovesNothing();
    void testDeleteMessageRemovesExactlyOne();
    void testPurgeEmptiesDeadLetterQueue();
    void testOperatorActionsAreAudited();
    void testDeadLettersAndLineageSurviveRestart();
};

void TestDeadLetters::testDeathRecordIsSeenByBrowseAndByDlqConsumer() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxAttempts = 2;
    policy.backoff = {kSecond};
    h.declare("orders", policy);
    TimeMs t0 = h.clock().now();
    PublishResult published = h.publish("orders", "payload");
    QVERIFY(confirmed(published));
    auto [consumer, inbox] = h.consume("orders");
    auto first = inbox->next();
    QVERIFY(first);
    QVERIFY(h.broker().nack(consumer, first->tag, {true, "first failure"}).isOk());
    h.advance(kSecond);
    auto second = inbox->next();
    QVERIFY(second);
    QCOMPARE(second->attempt, 2u);
    h.advance(Millis(500));
    QVERIFY(h.broker().nack(consumer, second->tag, {true, "second failure"}).isOk());
    QVERIFY(h.broker().cancel(consumer).isOk());

    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(dead.size(), size_t(1));
    QCOMPARE(QString::fromStdString(dead[0].body), QString("payload"));
    QCOMPARE(dead[0].messageId, published.messageId);
    QVERIFY(dead[0].death);
    const DeathRecord& death = *dead[0].death;
    QCOMPARE(int(death.reason), int(DeathReason::MaxAttempts));
    QCOMPARE(QString::fromStdString(death.sourceQueue), QString("orders"));
    QCOMPARE(death.attempts, 2u);
    QCOMPARE(death.firstDeathAt, t0 + 1500);
    QCOMPARE(death.lastDeathAt, t0 + 1500);
    QCOMPARE(death.deaths, 1u);
    QCOMPARE(QString::fromStdString(death.lastError), QString("second failure"));
    QVERIFY(death.requeues.empty());
    QCOMPARE(h.depth("orders"), uint64_t(0));

    auto [dlqConsumer, dlqInbox] = h.consume("orders.dlq");
    auto delivery = dlqInbox->next();
    QVERIFY(delivery);
    QCOMPARE(QString::fromStdString(delivery->queue), QString("orders.dlq"));
    QCOMPARE(QString::fromStdString(delivery->body), QString("payload"));
    QCOMPARE(delivery->attempt, 1u);
    QVERIFY(delivery->death);
    QVERIFY(*delivery->death == death);
}

void TestDeadLetters::testEachWayOfDyingIsRecorded_data() {
    QTest::addColumn<QString>("how");
    QTest::addColumn<int>("reason");
    QTest::addColumn<uint>("attempts");
    QTest::addColumn<QString>("lastError");  // null: not given by anyone, not checked
    QTest::newRow("nack without requeue") << "reject" << int(DeathReason::Rejected) << 1u << "bad input";
    QTest::newRow("last attempt failed") << "max-attempts" << int(DeathReason::MaxAttempts) << 1u << "still bad";
    QTest::newRow("ttl passed") << "expire" << int(DeathReason::Expired) << 0u << QString();
    QTest::newRow("queue full") << "overflow" << int(DeathReason::Overflow) << 0u << QString();
    QTest::newRow("operator") << "operator" << int(DeathReason::Rejected) << 0u << QString();
}

void TestDeadLetters::testEachWayOfDyingIsRecorded() {
    QFETCH(QString, how);
    QFETCH(int, reason);
    QFETCH(uint, attempts);
    QFETCH(QString, lastError);
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxAttempts = 1;
    if (how == "overflow") {
        policy.maxLength = 1;
        policy.overflow = Overflow::DeadLetterOldest;
    }
    h.declare("orders", policy);
    h.advance(Millis(10'000));
    Message message;
    if (how == "expire")
        message.ttl = kSecond;
    QVERIFY(confirmed(h.publish("orders", "victim", message)));
    if (how == "reject" || how == "max-attempts") {
        auto [consumer, inbox] = h.consume("orders");
        auto delivery = inbox->next();
        QVERIFY(delivery);
        QVERIFY(h.broker().nack(consumer, delivery->tag, {how == "max-attempts", lastError.toStdString()}).isOk());
        QVERIFY(h.broker().cancel(consumer).isOk());
    } else if (how == "expire") {
        h.advance(kSecond);
    } else if (how == "overflow") {
        QVERIFY(confirmed(h.publish("orders", "newcomer")));
    } else {
        auto waiting = browseAll(h, "orders");
        QCOMPARE(waiting.size(), size_t(1));
        QVERIFY(h.broker().deadLetterMessage("orders", waiting[0].sequence, Actor{"ops"}).isOk());
    }
    h.broker().runTimers();
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(dead.size(), size_t(1));
    QCOMPARE(QString::fromStdString(dead[0].body), QString("victim"));
    QVERIFY(dead[0].death);
    QCOMPARE(int(dead[0].death->reason), reason);
    QCOMPARE(QString::fromStdString(dead[0].death->sourceQueue), QString("orders"));
    QCOMPARE(dead[0].death->attempts, attempts);
    QCOMPARE(dead[0].death->deaths, 1u);
    QCOMPARE(dead[0].death->firstDeathAt, h.clock().now());
    QCOMPARE(dead[0].death->lastDeathAt, h.clock().now());
    if (!lastError.isNull())
        QCOMPARE(QString::fromStdString(dead[0].death->lastError), lastError);
}

void TestDeadLetters::testNamedDeadLetterQueueIsCreatedAndUsed() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.deadLetterQueue = "errors";
    QueueInfo info = h.declare("orders", policy);
    QCOMPARE(QString::fromStdString(info.deadLetterQueue), QString("errors"));
    auto queues = h.broker().listQueues();
    QVERIFY(queues);
    QStringList names;
    for (const QueueInfo& queue : *queues) {
        names << QString::fromStdString(queue.name);
        if (queue.name == "errors")
            QCOMPARE(int(queue.kind), int(QueueKind::DeadLetter));
    }
    QCOMPARE(names, QStringList({"errors", "orders"}));

    QVERIFY(confirmed(h.publish("orders", "bad")));
    QVERIFY(rejectNext(h, "orders", 1, "nope"));
    auto dead = browseAll(h, "errors");
    QCOMPARE(bodies(dead), QStringList({"bad"}));
    QCOMPARE(QString::fromStdString(dead[0].death->sourceQueue), QString("orders"));
    QCOMPARE(h.queueStats("orders").deadLetterDepth, uint64_t(1));
    QCOMPARE(int(h.broker().browse("orders.dlq").status().code()), int(StatusCode::NotFound));
}

void TestDeadLetters::testBrowsingHasNoSideEffects() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.maxAttempts = 3;
    policy.backoff = {kSecond};
    h.declare("orders", policy);
    for (const char* body : {"m1", "m2", "m3", "m4", "m5", "m6"})
        QVERIFY(confirmed(h.publish("orders", body)));
    auto [consumer, inbox] = h.consume("orders", 2);
    auto firstTwo = inbox->take(2);
    QCOMPARE(firstTwo.size(), size_t(2));
    QVERIFY(h.broker().nack(consumer, firstTwo[0].tag, {true, "retry me"}).isOk());
    QVERIFY(inbox->next());  // m3
    QVERIFY(h.broker().nack(consumer, firstTwo[1].tag, {false, "kill me"}).isOk());
    QVERIFY(inbox->next());  // m4
    // Now: m5, m6 ready; m1 waiting for its retry; m3, m4 unacked; m2 dead.
    QVERIFY(h.broker().sync().isOk());
    QString before = fingerprint(h.queueStats("orders"));
    QString dlqBefore = fingerprint(h.queueStats("orders.dlq"));
    QStringList browsedBefore = fingerprint(browseAll(h, "orders"));
    QStringList dlqBrowsedBefore = fingerprint(browseAll(h, "orders.dlq"));
    QCOMPARE(browsedBefore.size(), 5);
    QCOMPARE(dlqBrowsedBefore.size(), 1);

    std::vector<BrowseOptions> variants(6);
    variants[1].bodies = false;
    variants[2].start = 1;
    variants[2].limit = 2;
    variants[3].filter.text = "m5";
    variants[4].filter.reason = DeathReason::Rejected;
    variants[5].filter.from = h.clock().now() - 1;
    for (int round = 0; round < 3; ++round)
        for (const BrowseOptions& options : variants) {
            QVERIFY(h.broker().browse("orders", options));
            QVERIFY(h.broker().browse("orders.dlq", options));
        }
    QVERIFY(h.broker().sync().isOk());

    QCOMPARE(fingerprint(h.queueStats("orders")), before);
    QCOMPARE(fingerprint(h.queueStats("orders.dlq")), dlqBefore);
    QCOMPARE(fingerprint(browseAll(h, "orders")), browsedBefore);
    QCOMPARE(fingerprint(browseAll(h, "orders.dlq")), dlqBrowsedBefore);
    QCOMPARE(inbox->size(), size_t(0));
    auto [dlqConsumer, dlqInbox] = h.consume("orders.dlq");
    auto dead = dlqInbox->next();
    QVERIFY(dead);
    QCOMPARE(dead->attempt, 1u);  // browsing the DLQ delivered nothing
    QVERIFY(!dead->redelivered);
}

void TestDeadLetters::testBrowseFilters_data() {
    QTest::addColumn<QString>("sourceQueue");
    QTest::addColumn<int>("reason");        // -1: any
    QTest::addColumn<qint64>("fromAfter");  // ms after t0; -1: open
    QTest::addColumn<qint64>("toAfter");    // ms after t0; -1: open
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("expected");
    const QStringList all{"alpha one", "alpha two", "beta pay", "beta refund"};
    QTest::newRow("no filter") << "" << -1 << -1ll << -1ll << "" << all;
    QTest::newRow("source a") << "a" << -1 << -1ll << -1ll << "" << QStringList{"alpha one", "alpha two"};
    QTest::newRow("source b") << "b" << -1 << -1ll << -1ll << "" << QStringList{"beta pay", "beta refund"};
    QTest::newRow("source unknown") << "c" << -1 << -1ll << -1ll << "" << QStringList{};
    QTest::newRow("reason rejected") << "" << int(DeathReason::Rejected) << -1ll << -1ll << ""
                                     << QStringList{"alpha one", "beta pay"};
    QTest::newRow("reason max-attempts") << "" << int(DeathReason::MaxAttempts) << -1ll << -1ll << ""
                                         << QStringList{"alpha two"};
    QTest::newRow("reason expired") << "" << int(DeathReason::Expired) << -1ll << -1ll << ""
                                    << QStringList{"beta refund"};
    QTest::newRow("source and reason") << "b" << int(DeathReason::Rejected) << -1ll << -1ll << ""
                                       << QStringList{"beta pay"};
    QTest::newRow("time range inclusive") << "" << -1 << 1000ll << 2000ll << "" << QStringList{"alpha two", "beta pay"};
    QTest::newRow("from only") << "" << -1 << 2500ll << -1ll << "" << QStringList{"beta refund"};
    QTest::newRow("to only") << "" << -1 << -1ll << 999ll << "" << QStringList{"alpha one"};
    QTest::newRow("text in body") << "" << -1 << -1ll << -1ll << "refund" << QStringList{"beta refund"};
    QTest::newRow("text in header value") << "" << -1 << -1ll << -1ll << "acme" << QStringList{"beta pay"};
    QTest::newRow("text in header name") << "" << -1 << -1ll << -1ll << "tenant" << QStringList{"beta pay"};
    QTest::newRow("text in last error") << "" << -1 << -1ll << -1ll << "timeout" << QStringList{"alpha one"};
    QTest::newRow("text and source") << "a" << -1 << -1ll << -1ll << "parse" << QStringList{"alpha two"};
    QTest::newRow("text nowhere") << "" << -1 << -1ll << -1ll << "zzzz" << QStringList{};
}

void TestDeadLetters::testBrowseFilters() {
    QFETCH(QString, sourceQueue);
    QFETCH(int, reason);
    QFETCH(qint64, fromAfter);
    QFETCH(qint64, toAfter);
    QFETCH(QString, text);
    QFETCH(QStringList, expected);
    BrokerHarness h;
    TimeMs t0 = h.clock().now();
    QVERIFY(buildMixedDeadLetters(h));
    BrowseOptions options;
    options.filter.sourceQueue = sourceQueue.toStdString();
    if (reason >= 0)
        options.filter.reason = DeathReason(reason);
    if (fromAfter >= 0)
        options.filter.from = t0 + fromAfter;
    if (toAfter >= 0)
        options.filter.to = t0 + toAfter;
    options.filter.text = text.toStdString();
    auto page = h.broker().browse("errors", options);
    QVERIFY(page);
    QCOMPARE(bodies(page->messages), expected);
    QCOMPARE(page->matched, uint64_t(expected.size()));
}

void TestDeadLetters::testBrowsePaging_data() {
    QTest::addColumn<int>("start");
    QTest::addColumn<int>("limit");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<int>("matched");
    QTest::newRow("first page") << 0 << 3 << "" << QStringList{"m0 even", "m1 odd", "m2 even"} << 10;
    QTest::newRow("middle page") << 3 << 3 << "" << QStringList{"m3 odd", "m4 even", "m5 odd"} << 10;
    QTest::newRow("last partial page") << 9 << 3 << "" << QStringList{"m9 odd"} << 10;
    QTest::newRow("past the end") << 12 << 3 << "" << QStringList{} << 10;
    QTest::newRow("limit zero counts only") << 0 << 0 << "" << QStringList{} << 10;
    QTest::newRow("filtered page") << 1 << 2 << "odd" << QStringList{"m3 odd", "m5 odd"} << 5;
    QTest::newRow("filtered last page") << 4 << 2 << "odd" << QStringList{"m9 odd"} << 5;
}

void TestDeadLetters::testBrowsePaging() {
    QFETCH(int, start);
    QFETCH(int, limit);
    QFETCH(QString, text);
    QFETCH(QStringList, expected);
    QFETCH(int, matched);
    BrokerHarness h;
    h.declare("orders");
    for (int i = 0; i < 10; ++i)
        QVERIFY(confirmed(h.publish("orders", "m" + std::to_string(i) + (i % 2 ? " odd" : " even"))));
    QVERIFY(rejectNext(h, "orders", 10, "no"));
    BrowseOptions options;
    options.start = size_t(start);
    options.limit = size_t(limit);
    options.filter.text = text.toStdString();
    auto page = h.broker().browse("orders.dlq", options);
    QVERIFY(page);
    QCOMPARE(bodies(page->messages), expected);
    QCOMPARE(page->matched, uint64_t(matched));
}

void TestDeadLetters::testRequeueOneBySequence_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("arrivesIn");
    QTest::newRow("to its source queue") << ""
                                         << "orders";
    QTest::newRow("to another queue") << "replay"
                                      << "replay";
}

void TestDeadLetters::testRequeueOneBySequence() {
    QFETCH(QString, target);
    QFETCH(QString, arrivesIn);
    BrokerHarness h;
    h.declare("orders");
    h.declare("replay");
    QVERIFY(confirmed(h.publish("orders", "one")));
    PublishResult two = h.publish("orders", "two");
    QVERIFY(confirmed(two));
    QVERIFY(rejectNext(h, "orders", 2, "boom"));
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(dead), QStringList({"one", "two"}));
    h.advance(kSecond);

    RequeueRequest request = requeueOf("orders.dlq", bySequence(dead[1].sequence));
    request.target = target.toStdString();
    auto report = runRequeue(h, request);
    QVERIFY(report);
    QCOMPARE(report->requeued, uint64_t(1));
    QCOMPARE(report->failed, uint64_t(0));
    QVERIFY(!report->cancelled);
    QCOMPARE(report->items.size(), size_t(1));
    QCOMPARE(report->items[0].sequence, dead[1].sequence);
    QCOMPARE(report->items[0].messageId, two.messageId);
    QCOMPARE(QString::fromStdString(report->items[0].target), arrivesIn);
    QVERIFY(report->items[0].status.isOk());
    QCOMPARE(bodies(browseAll(h, "orders.dlq")), QStringList({"one"}));
    QCOMPARE(h.depth(arrivesIn.toStdString()), uint64_t(1));
    QCOMPARE(h.depth("orders") + h.depth("replay"), uint64_t(1));

    auto [consumer, inbox] = h.consume(arrivesIn.toStdString());
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(QString::fromStdString(delivery->body), QString("two"));
    QCOMPARE(delivery->messageId, two.messageId);
    QCOMPARE(delivery->attempt, 1u);
    QVERIFY(!delivery->redelivered);
    QVERIFY(delivery->death);
    QCOMPARE(int(delivery->death->reason), int(DeathReason::Rejected));
    QCOMPARE(QString::fromStdString(delivery->death->lastError), QString("boom"));
    QCOMPARE(delivery->death->requeues.size(), size_t(1));
    const RequeueEvent& event = delivery->death->requeues[0];
    QCOMPARE(QString::fromStdString(event.by), QString("alice"));
    QCOMPARE(QString::fromStdString(event.fromQueue), QString("orders.dlq"));
    QCOMPARE(QString::fromStdString(event.toQueue), arrivesIn);
    QCOMPARE(event.at, h.clock().now());
}

void TestDeadLetters::testRequeueWithEditedBodyAndHeaders() {
    BrokerHarness h;
    h.declare("orders");
    Message original;
    original.headers = {{"version", "1"}};
    QVERIFY(confirmed(h.publish("orders", "broken body", original)));
    QVERIFY(confirmed(h.publish("orders", "left alone", original)));
    QVERIFY(rejectNext(h, "orders", 2, "schema error"));
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(dead.size(), size_t(2));

    RequeueRequest request = requeueOf("orders.dlq", bySequence(dead[0].sequence));
    request.body = "fixed body";
    request.headers = Headers{{"version", "2"}, {"fixed-by", "alice"}};
    auto report = runRequeue(h, request);
    QVERIFY(report);
    QCOMPARE(report->requeued, uint64_t(1));

    auto [consumer, inbox] = h.consume("orders");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(QString::fromStdString(delivery->body), QString("fixed body"));
    QVERIFY(delivery->headers == (Headers{{"version", "2"}, {"fixed-by", "alice"}}));
    auto untouched = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(untouched), QStringList({"left alone"}));
    QVERIFY(untouched[0].headers == original.headers);
}

void TestDeadLetters::testRequeueByFilterMovesExactlyTheMatches_data() {
    QTest::addColumn<QString>("sourceQueue");
    QTest::addColumn<int>("reason");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("moved");
    QTest::newRow("by source queue") << "a" << -1 << "" << QStringList{"alpha one", "alpha two"};
    QTest::newRow("by reason") << "" << int(DeathReason::Rejected) << "" << QStringList{"alpha one", "beta pay"};
    QTest::newRow("by text in last error") << "" << -1 << "declined" << QStringList{"beta pay"};
    QTest::newRow("by text in body") << "" << -1 << "refund" << QStringList{"beta refund"};
    QTest::newRow("matching nothing") << "" << -1 << "zzzz" << QStringList{};
}

void TestDeadLetters::testRequeueByFilterMovesExactlyTheMatches() {
    QFETCH(QString, sourceQueue);
    QFETCH(int, reason);
    QFETCH(QString, text);
    QFETCH(QStringList, moved);
    BrokerHarness h;
    QVERIFY(buildMixedDeadLetters(h));
    MessageFilter filter;
    filter.sourceQueue = sourceQueue.toStdString();
    if (reason >= 0)
        filter.reason = DeathReason(reason);
    filter.text = text.toStdString();
    auto report = runRequeue(h, requeueOf("errors", filter));
    QVERIFY(report);
    QCOMPARE(report->requeued, uint64_t(moved.size()));
    QCOMPARE(report->failed, uint64_t(0));

    QStringList arrived = bodies(browseAll(h, "a")) + bodies(browseAll(h, "b"));
    QCOMPARE(sorted(arrived), sorted(moved));
    QStringList remaining = bodies(browseAll(h, "errors"));
    QCOMPARE(remaining.size() + moved.size(), 4);
    for (const QString& body : moved)
        QVERIFY2(!remaining.contains(body), qPrintable(body));
    for (const QueuedMessage& message : browseAll(h, "a"))
        QCOMPARE(QString::fromStdString(message.death->sourceQueue), QString("a"));
    for (const QueuedMessage& message : browseAll(h, "b"))
        QCOMPARE(QString::fromStdString(message.death->sourceQueue), QString("b"));
}

void TestDeadLetters::testBulkRequeueCanBeCancelledWithoutLosingOrDuplicating() {
    constexpr size_t kCount = 2000;
    BrokerHarness h;
    QueuePolicy policy;
    policy.flush = FlushMode::Async;  // quick setup: the requeue itself is what is under test
    h.declare("bulk", policy);
    std::vector<std::future<PublishResult>> pending;
    for (size_t i = 0; i < kCount; ++i) {
        PublishRequest request{"", "bulk", Message{}, "", ""};
        request.message.body = "message " + std::to_string(i);
        pending.push_back(h.broker().publish(std::move(request)));
    }
    for (auto& future : pending)
        QVERIFY(confirmed(future.get()));
    QVERIFY(rejectNext(h, "bulk", kCount, "bulk failure"));
    QCOMPARE(h.depth("bulk.dlq"), uint64_t(kCount));

    RequeueRequest request = requeueOf("bulk.dlq", {});
    request.ratePerSecond = 500;
    auto job = h.broker().requeue(request);
    QVERIFY(job);
    QCOMPARE((*job)->total(), uint64_t(kCount));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((*job)->done() < 100 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    QVERIFY((*job)->done() >= 100);
    (*job)->cancel();
    RequeueReport report = (*job)->wait();
    QVERIFY((*job)->finished());
    QVERIFY(report.cancelled);
    QCOMPARE(report.requeued + report.failed, (*job)->done());
    QCOMPARE(report.items.size(), size_t((*job)->done()));
    QVERIFY(report.requeued < kCount);
    QCOMPARE(report.failed, uint64_t(0));

    QCOMPARE(h.depth("bulk"), report.requeued);
    QCOMPARE(h.depth("bulk") + h.depth("bulk.dlq"), uint64_t(kCount));
    std::set<std::string> ids, requeuedIds;
    for (const char* queue : {"bulk", "bulk.dlq"})
        for (const QueuedMessage& message : browseAll(h, queue))
            ids.insert(message.messageId);
    QCOMPARE(ids.size(), kCount);
    for (const QueuedMessage& message : browseAll(h, "bulk"))
        requeuedIds.insert(message.messageId);
    for (const RequeueItem& item : report.items)
        QVERIFY(requeuedIds.count(item.messageId));
}

void TestDeadLetters::testFailedRequeueReportsEachAndMovesNothing_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<bool>("deleteSource");
    QTest::addColumn<bool>("badEdit");  // edited headers that no publish would accept
    QTest::addColumn<int>("code");
    QTest::newRow("named target does not exist") << "nowhere" << false << false << int(StatusCode::NotFound);
    QTest::newRow("source queue was deleted") << "" << true << false << int(StatusCode::NotFound);
    QTest::newRow("invalid edited headers") << "" << false << true << int(StatusCode::InvalidArgument);
}

void TestDeadLetters::testFailedRequeueReportsEachAndMovesNothing() {
    QFETCH(QString, target);
    QFETCH(bool, deleteSource);
    QFETCH(bool, badEdit);
    QFETCH(int, code);
    BrokerHarness h;
    h.declare("orders");
    for (const char* body : {"x", "y", "z"})
        QVERIFY(confirmed(h.publish("orders", body)));
    QVERIFY(rejectNext(h, "orders", 3, "failed"));
    if (deleteSource)
        QVERIFY(h.broker().deleteQueue("orders").isOk());
    QStringList before = fingerprint(browseAll(h, "orders.dlq"));
    QCOMPARE(before.size(), 3);

    RequeueRequest request = requeueOf("orders.dlq", {});
    request.target = target.toStdString();
    if (badEdit)
        request.headers = Headers{{"", "nameless"}};
    auto job = h.broker().requeue(request);
    QVERIFY2(job, job ? "" : job.status().toString().c_str());
    RequeueReport report = (*job)->wait();
    QCOMPARE(report.requeued, uint64_t(0));
    QCOMPARE(report.failed, uint64_t(3));
    QCOMPARE(report.items.size(), size_t(3));
    for (const RequeueItem& item : report.items)
        QCOMPARE(int(item.status.code()), code);
    QCOMPARE(fingerprint(browseAll(h, "orders.dlq")), before);  // same messages, same order, same records
    for (const QueuedMessage& message : browseAll(h, "orders.dlq"))
        QVERIFY(message.death->requeues.empty());
}

void TestDeadLetters::testDeleteMessageRemovesExactlyOne() {
    BrokerHarness h;
    h.declare("orders");
    for (const char* body : {"first", "second", "third"})
        QVERIFY(confirmed(h.publish("orders", body)));
    QVERIFY(rejectNext(h, "orders", 3, "failed"));
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(dead.size(), size_t(3));
    QVERIFY(h.broker().deleteMessage("orders.dlq", dead[1].sequence, Actor{"bob"}).isOk());
    QCOMPARE(bodies(browseAll(h, "orders.dlq")), QStringList({"first", "third"}));
    QCOMPARE(int(h.broker().deleteMessage("orders.dlq", dead[1].sequence).code()), int(StatusCode::NotFound));
    QCOMPARE(bodies(browseAll(h, "orders.dlq")), QStringList({"first", "third"}));
    QVERIFY(h.restart().isOk());
    QCOMPARE(bodies(browseAll(h, "orders.dlq")), QStringList({"first", "third"}));
}

void TestDeadLetters::testPurgeEmptiesDeadLetterQueue() {
    BrokerHarness h;
    h.declare("orders");
    for (int i = 0; i < 5; ++i)
        QVERIFY(confirmed(h.publish("orders", "dead " + std::to_string(i))));
    QVERIFY(rejectNext(h, "orders", 5, "failed"));
    QVERIFY(confirmed(h.publish("orders", "alive")));
    auto purged = h.broker().purgeQueue("orders.dlq", Actor{"carol"});
    QVERIFY(purged);
    QCOMPARE(*purged, uint64_t(5));
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
    QVERIFY(browseAll(h, "orders.dlq").empty());
    QCOMPARE(bodies(browseAll(h, "orders")), QStringList({"alive"}));
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.depth("orders.dlq"), uint64_t(0));
    QCOMPARE(bodies(browseAll(h, "orders")), QStringList({"alive"}));
    auto again = h.broker().purgeQueue("orders.dlq");
    QVERIFY(again);
    QCOMPARE(*again, uint64_t(0));
}

void TestDeadLetters::testOperatorActionsAreAudited() {
    BrokerHarness h;
    h.declare("orders");
    for (int i = 0; i < 6; ++i)
        QVERIFY(confirmed(h.publish("orders", "m" + std::to_string(i))));
    QVERIFY(rejectNext(h, "orders", 6, "failed"));
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(dead.size(), size_t(6));
    MessageFilter firstTwo;
    firstTwo.sequences = {dead[0].sequence, dead[1].sequence};
    auto requeued = runRequeue(h, requeueOf("orders.dlq", firstTwo, "alice"));
    QVERIFY(requeued);
    QCOMPARE(requeued->requeued, uint64_t(2));
    RequeueRequest edit = requeueOf("orders.dlq", bySequence(dead[2].sequence), "dave");
    edit.body = "edited";
    QVERIFY(runRequeue(h, edit));
    QVERIFY(h.broker().deleteMessage("orders.dlq", dead[3].sequence, Actor{"bob"}).isOk());
    auto purged = h.broker().purgeQueue("orders.dlq", Actor{"carol"});
    QVERIFY(purged);
    QCOMPARE(*purged, uint64_t(2));

    AuditQuery query;
    query.target = "orders.dlq";
    auto entries = h.broker().audit(query);
    QVERIFY(entries);
    QStringList seen;
    for (const AuditEntry& entry : *entries)
        seen << QStringLiteral("%1 by %2 count %3 ok %4")
                    .arg(QString::fromStdString(entry.action), QString::fromStdString(entry.actor))
                    .arg(entry.count)
                    .arg(entry.ok);
    QVERIFY2(seen.contains("requeue by alice count 2 ok 1"), qPrintable(seen.join("; ")));
    QVERIFY2(seen.contains("edit-requeue by dave count 1 ok 1"), qPrintable(seen.join("; ")));
    QVERIFY2(seen.contains("delete-message by bob count 1 ok 1"), qPrintable(seen.join("; ")));
    QVERIFY2(seen.contains("purge by carol count 2 ok 1"), qPrintable(seen.join("; ")));
}

void TestDeadLetters::testDeadLettersAndLineageSurviveRestart() {
    BrokerHarness h;
    h.declare("orders");
    TimeMs t0 = h.clock().now();
    QVERIFY(confirmed(h.publish("orders", "p1")));
    QVERIFY(confirmed(h.publish("orders", "p2")));
    QVERIFY(rejectNext(h, "orders", 2, "first death"));
    auto dead = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(dead), QStringList({"p1", "p2"}));
    h.advance(kSecond);
    QVERIFY(runRequeue(h, requeueOf("orders.dlq", bySequence(dead[0].sequence), "alice")));
    h.advance(kSecond);
    QVERIFY(rejectNext(h, "orders", 1, "second death"));  // p1 dies again
    h.advance(kSecond);
    QVERIFY(runRequeue(h, requeueOf("orders.dlq", bySequence(dead[1].sequence), "bob")));  // p2 waits in orders
    auto beforeDlq = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(beforeDlq), QStringList({"p1"}));

    QVERIFY(h.broker().sync().isOk());
    QVERIFY(h.restart().isOk());

    auto afterDlq = browseAll(h, "orders.dlq");
    QCOMPARE(bodies(afterDlq), QStringList({"p1"}));
    QVERIFY(afterDlq[0].death);
    QVERIFY(*afterDlq[0].death == *beforeDlq[0].death);
    const DeathRecord& p1 = *afterDlq[0].death;
    QCOMPARE(p1.deaths, 2u);
    QCOMPARE(p1.firstDeathAt, t0);
    QCOMPARE(p1.lastDeathAt, t0 + 2000);
    QCOMPARE(QString::fromStdString(p1.lastError), QString("second death"));
    QCOMPARE(p1.requeues.size(), size_t(1));
    QCOMPARE(p1.requeues[0].at, t0 + 1000);
    QCOMPARE(QString::fromStdString(p1.requeues[0].by), QString("alice"));
    QCOMPARE(QString::fromStdString(p1.requeues[0].fromQueue), QString("orders.dlq"));
    QCOMPARE(QString::fromStdString(p1.requeues[0].toQueue), QString("orders"));

    auto [consumer, inbox] = h.consume("orders");
    auto p2 = inbox->next();
    QVERIFY(p2);
    QCOMPARE(QString::fromStdString(p2->body), QString("p2"));
    QCOMPARE(p2->attempt, 1u);
    QVERIFY(p2->death);
    QCOMPARE(p2->death->deaths, 1u);
    QCOMPARE(QString::fromStdString(p2->death->lastError), QString("first death"));
    QCOMPARE(p2->death->requeues.size(), size_t(1));
    QCOMPARE(QString::fromStdString(p2->death->requeues[0].by), QString("bob"));
    QCOMPARE(p2->death->requeues[0].at, t0 + 3000);

    auto [dlqConsumer, dlqInbox] = h.consume("orders.dlq");
    auto p1Delivery = dlqInbox->next();
    QVERIFY(p1Delivery);
    QVERIFY(p1Delivery->death);
    QVERIFY(*p1Delivery->death == p1);
}

QTEST_GUILESS_MAIN(TestDeadLetters)
#include "TestDeadLetters.moc"
