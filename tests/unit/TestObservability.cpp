// What the broker tells about itself: per-message trace (in order, by id or key, with retention), counters and
// gauges that match what happened, per-second metrics history in the catalog (surviving a restart), and the
// audit log of operator actions.
#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "catalog/Catalog.h"
#include "support/BrokerHarness.h"
#include "support/TempDir.h"
#include "support/TraceLines.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

namespace {

constexpr auto kShort = std::chrono::milliseconds(300);  // for deliveries that must not come
// BrokerCore prunes the catalog (trace retention, history age) once at start and then every 10 minutes.
constexpr auto kPruneInterval = std::chrono::minutes(10);

QString text(std::string_view s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

QStringList kinds(const std::vector<TraceEvent>& events) {
    QStringList out;
    for (const TraceEvent& event : events)
        out << text(toString(event.kind));
    return out;
}

std::vector<TraceEvent> traceOf(BrokerHarness& h, const std::string& messageId, const std::string& key = {}) {
    auto events = h.broker().trace({messageId, key, 1000});
    if (!events)
        qWarning("trace failed: %s", events.status().toString().c_str());
    return events ? *events : std::vector<TraceEvent>{};
}

Message withId(const std::string& id, const std::string& key = {}) {
    Message message;
    message.id = id;
    message.key = key;
    return message;
}

QueuePolicy backoffPolicy(uint32_t maxAttempts) {
    QueuePolicy policy;
    policy.backoff = {Millis(1000)};
    policy.maxAttempts = maxAttempts;
    return policy;
}

uint64_t Counters::*counterField(const QString& name) {
    static const std::map<QString, uint64_t Counters::*> fields{
        {"published", &Counters::published},     {"confirmed", &Counters::confirmed},
        {"nacked", &Counters::nacked},           {"delivered", &Counters::delivered},
        {"redelivered", &Counters::redelivered}, {"acked", &Counters::acked},
        {"retried", &Counters::retried},         {"deadLettered", &Counters::deadLettered},
        {"expired", &Counters::expired},         {"deduplicated", &Counters::deduplicated},
    };
    return fields.at(name);
}

uint64_t gauge(const QueueStats& stats, const QString& name) {
    if (name == "ready")
        return stats.ready;
    if (name == "unacked")
        return stats.unacked;
    if (name == "delayed")
        return stats.delayed;
    if (name == "deadLetterDepth")
        return stats.deadLetterDepth;
    qFatal("unknown gauge %s", qPrintable(name));
}

// A fixed history every metrics test replays on a fresh broker:
//   "m" (backoff 1 s, 2 attempts): a, b, c, d published, a published again (duplicate); all four delivered;
//       a acked, b nacked (retry) then redelivered and nacked again (max-attempts), c rejected, d left unacked.
//   "t": e with a 1 s ttl (expires), f delayed by a minute.
//   "small" (max-length 1): one stored, one refused (overflow). And one publish to a queue that does not exist.
// Ends one second after it started, the clock having moved once.
bool runScenario(BrokerHarness& h) {
    h.declare("m", backoffPolicy(2));
    h.declare("t");
    QueuePolicy small;
    small.maxLength = 1;
    h.declare("small", small);
    for (std::string id : {"a", "b", "c", "d"})
        if (h.publish("m", id, withId(id)).outcome != PublishOutcome::Confirmed)
            return false;
    if (h.publish("m", "a", withId("a")).outcome != PublishOutcome::Duplicate)
        return false;
    if (h.publish("nowhere", "x").reason != NackReason::NoQueue)
        return false;
    if (h.publish("small", "x1").outcome != PublishOutcome::Confirmed)
        return false;
    if (h.publish("small", "x2").reason != NackReason::Overflow)
        return false;
    Message expiring;
    expiring.ttl = Millis(1000);
    Message delayed;
    delayed.delay = Millis(60000);
    if (h.publish("t", "e", expiring).outcome != PublishOutcome::Confirmed)
        return false;
    if (h.publish("t", "f", delayed).outcome != PublishOutcome::Confirmed)
        return false;
    auto [consumer, inbox] = h.consume("m", 10);
    auto first = inbox->take(4);
    if (first.size() != 4)
        return false;
    bool ok = h.broker().ack(consumer, first[0].tag).isOk() && h.broker().nack(consumer, first[1].tag).isOk() &&
              h.broker().nack(consumer, first[2].tag, {false, "bad"}).isOk();
    h.advance(std::chrono::seconds(1));
    auto retry = inbox->next();
    return ok && retry && retry->body == "b" && retry->attempt == 2 && h.broker().nack(consumer, retry->tag).isOk();
}

}  // namespace

class TestObservability : public QObject {
    Q_OBJECT

    BrokerStats m_scenario;  // stats at the end of runScenario(), taken once for the counter and gauge rows
    QueueStats scenarioQueue(const QString& name) const;

private slots:
    void initTestCase();
    // Trace.
    void testTraceFollowsAMessageThroughRetryToAck();
    void testTraceEndsWithTheDeadLetterAndItsReason_data();
    void testTraceEndsWithTheDeadLetterAndItsReason();
    void testTraceShowsWhoRequeuedADeadLetter();
    void testTraceFollowsAHalfMessageThroughCheckBackAndCommit();
    void testTraceOfOneMessageHoldsNoEventOfAnother();
    void testTraceByKeyFindsEveryMessageWithTheKey();
    void testCatalogLinksEventsWithoutIdByQueueAndSequence();
    void testTraceBeyondRetainedRowsIsPruned();
    void testTransientSequencesAreNotReusedAfterARestart();
    void testHistoryOlderThanRetentionIsPruned();
    // Metrics.
    void testCountersMatchWhatHappened_data();
    void testCountersMatchWhatHappened();
    void testTotalsAreTheSumOfQueuesAndRefusedPublishes();
    void testGaugesMatchWhatIsHeld_data();
    void testGaugesMatchWhatIsHeld();
    void testLatencyHistogramsCountConfirmsAndFirstDeliveries();
    void testHistoryHasBrokerWideAndPerQueueSamples();
    void testHistorySurvivesRestart();
    void testHistoryLatenciesCoverOnlyTheirSecond();
    // Audit.
    void testOperatorActionsAreAudited_data();
    void testOperatorActionsAreAudited();
    void testAuditFiltersByTarget();
    // Threads.
    void testTheBrokersThreadsAreNamed();
};

void TestObservability::initTestCase() {
    BrokerHarness h;
    QVERIFY(h.ok());
    QVERIFY(runScenario(h));
    m_scenario = h.broker().stats();
}

QueueStats TestObservability::scenarioQueue(const QString& name) const {
    for (const QueueStats& stats : m_scenario.queues)
        if (text(stats.name) == name)
            return stats;
    qFatal("no queue %s in the scenario", qPrintable(name));
}

void TestObservability::testTraceFollowsAMessageThroughRetryToAck() {
    BrokerHarness h;
    QVERIFY(h.ok());
    h.declare("orders", backoffPolicy(5));
    QCOMPARE(int(h.publish("orders", "hello", withId("m-1", "k-1")).outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto first = inbox->next();
    QVERIFY(first);
    QVERIFY(h.broker().nack(consumer, first->tag, {true, "busy"}).isOk());
    h.advance(std::chrono::seconds(1));
    auto second = inbox->next();
    QVERIFY(second);
    QCOMPARE(second->attempt, 2u);
    QVERIFY(h.broker().ack(consumer, second->tag).isOk());

    std::vector<TraceEvent> events = traceOf(h, "m-1");
    QCOMPARE(kinds(events), (QStringList{"published", "flushed", "confirmed", "delivered", "rejected",
                                         "retry-scheduled", "delivered", "acked"}));
    for (const TraceEvent& event : events) {
        QCOMPARE(text(event.queue), QString("orders"));
        QCOMPARE(event.sequence, first->sequence);
    }
    QVERIFY2(text(events[3].detail).contains("attempt 1"), events[3].detail.c_str());
    QVERIFY2(text(events[4].detail).contains("busy"), events[4].detail.c_str());
    QVERIFY2(text(events[5].detail).contains("1s"), events[5].detail.c_str());
    QVERIFY2(text(events[6].detail).contains("attempt 2"), events[6].detail.c_str());
    QCOMPARE(events[6].at, events[0].at + 1000);
    QVERIFY(std::is_sorted(events.begin(), events.end(),
                           [](const TraceEvent& a, const TraceEvent& b) { return a.at < b.at; }));
}

void TestObservability::testTraceEndsWithTheDeadLetterAndItsReason_data() {
    QTest::addColumn<QString>("how");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QString>("reason");
    QTest::newRow("rejected") << "reject" << QStringList{"published", "flushed",  "confirmed",
                                                         "delivered", "rejected", "dead-lettered"}
                              << "rejected";
    QTest::newRow("max-attempts") << "retry" << QStringList{"published", "flushed",  "confirmed",
                                                            "delivered", "rejected", "dead-lettered"}
                                  << "max-attempts";
    QTest::newRow("expired") << "expire" << QStringList{"published", "flushed", "confirmed", "expired", "dead-lettered"}
                             << "expired";
}

void TestObservability::testTraceEndsWithTheDeadLetterAndItsReason() {
    QFETCH(QString, how);
    QFETCH(QStringList, expected);
    QFETCH(QString, reason);
    BrokerHarness h;
    QueuePolicy policy = backoffPolicy(1);
    if (how == "expire")
        policy.ttl = Millis(1000);
    h.declare("orders", policy);
    QCOMPARE(int(h.publish("orders", "doomed", withId("m-1")).outcome), int(PublishOutcome::Confirmed));
    if (how == "expire") {
        h.advance(std::chrono::seconds(1));
    } else {
        auto [consumer, inbox] = h.consume("orders");
        auto delivery = inbox->next();
        QVERIFY(delivery);
        QVERIFY(h.broker().nack(consumer, delivery->tag, {how == "retry", "bad payload"}).isOk());
    }
    QCOMPARE(h.depth("orders.dlq"), uint64_t(1));
    std::vector<TraceEvent> events = traceOf(h, "m-1");
    QCOMPARE(kinds(events), expected);
    const TraceEvent& dead = events.back();
    QVERIFY2(text(dead.detail).startsWith(reason), dead.detail.c_str());
    QVERIFY2(text(dead.detail).contains("orders.dlq"), dead.detail.c_str());
    QCOMPARE(text(dead.queue), QString("orders"));
}

void TestObservability::testTraceShowsWhoRequeuedADeadLetter() {
    BrokerHarness h;
    h.declare("orders");
    QCOMPARE(int(h.publish("orders", "doomed", withId("m-1")).outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QVERIFY(h.broker().nack(consumer, delivery->tag, {false, "bad"}).isOk());
    QVERIFY(h.broker().cancel(consumer).isOk());
    RequeueRequest request;
    request.queue = "orders.dlq";
    request.actor.name = "olga";
    auto job = h.broker().requeue(request);
    QVERIFY(job.isOk());
    RequeueReport report = (*job)->wait();
    QCOMPARE(report.requeued, uint64_t(1));
    std::vector<TraceEvent> events = traceOf(h, "m-1");
    QVERIFY(!events.empty());
    QCOMPARE(text(toString(events.back().kind)), QString("requeued"));
    QVERIFY2(text(events.back().detail).contains("olga"), events.back().detail.c_str());
    QVERIFY2(text(events.back().detail).contains("orders"), events.back().detail.c_str());
}

void TestObservability::testTraceFollowsAHalfMessageThroughCheckBackAndCommit() {
    BrokerHarness h;
    h.declare("orders");
    PublishRequest request{"", "orders", withId("t-1", "k-1"), "shop", "tx-1"};
    request.message.body = "half";
    QCOMPARE(int(h.broker().publish(std::move(request)).get().outcome), int(PublishOutcome::Confirmed));
    h.advance(std::chrono::seconds(30));  // unresolved: checked back (nobody answers)
    QCOMPARE(int(h.broker().commitTransaction("tx-1").get().outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    std::vector<TraceEvent> events = traceOf(h, "t-1");
    QCOMPARE(kinds(events), (QStringList{"prepared", "check-back", "committed", "delivered", "acked"}));
    QVERIFY2(text(events[0].detail).contains("tx-1"), events[0].detail.c_str());
    QVERIFY2(text(events[1].detail).contains("shop"), events[1].detail.c_str());
    QCOMPARE(traceOf(h, "", "k-1").size(), events.size());
}

// The first message of a fresh broker sits at log offset 0: events recorded with sequence 0 for another
// message must not pull its events into that message's trace.
void TestObservability::testTraceOfOneMessageHoldsNoEventOfAnother() {
    BrokerHarness h;
    h.declare("orders");
    QCOMPARE(int(h.publish("orders", "one", withId("m-1")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("orders", "two", withId("m-2")).outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto deliveries = inbox->take(2);
    QCOMPARE(deliveries.size(), size_t(2));
    for (const Delivery& delivery : deliveries)
        QVERIFY(h.broker().ack(consumer, delivery.tag).isOk());
    for (const Delivery& delivery : deliveries) {
        std::vector<TraceEvent> events = traceOf(h, delivery.messageId);
        QCOMPARE(kinds(events), (QStringList{"published", "flushed", "confirmed", "delivered", "acked"}));
        for (const TraceEvent& event : events)
            QCOMPARE(event.sequence, delivery.sequence);
    }
}

void TestObservability::testTraceByKeyFindsEveryMessageWithTheKey() {
    BrokerHarness h;
    h.declare("orders");
    QCOMPARE(int(h.publish("orders", "a", withId("m-a", "cust-7")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("orders", "b", withId("m-b", "cust-8")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(int(h.publish("orders", "c", withId("m-c", "cust-7")).outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("orders");
    auto deliveries = inbox->take(3);
    QCOMPARE(deliveries.size(), size_t(3));
    std::set<uint64_t> sevens;
    for (const Delivery& delivery : deliveries) {
        QVERIFY(h.broker().ack(consumer, delivery.tag).isOk());
        if (delivery.key == "cust-7")
            sevens.insert(delivery.sequence);
    }
    QCOMPARE(sevens.size(), size_t(2));
    std::vector<TraceEvent> events = traceOf(h, "", "cust-7");
    std::set<std::string> ids;
    int acked = 0;
    for (const TraceEvent& event : events) {
        QVERIFY2(sevens.count(event.sequence), event.detail.c_str());
        if (!event.messageId.empty())
            ids.insert(event.messageId);
        acked += event.kind == TraceKind::Acked;
    }
    QVERIFY((ids == std::set<std::string>{"m-a", "m-c"}));
    QCOMPARE(acked, 2);
    QCOMPARE(events.size(), size_t(10));  // published, flushed, confirmed, delivered, acked for each
}

void TestObservability::testCatalogLinksEventsWithoutIdByQueueAndSequence() {
    test::TempDir dir;
    auto catalog = catalog::Catalog::open(dir.file("catalog.db"));
    QVERIFY(catalog.isOk());
    TimeMs at = 1000;
    auto event = [&](TraceKind kind, std::string queue, uint64_t sequence, std::string id) {
        return TraceEvent{at++, kind, std::move(queue), sequence, std::move(id), "", ""};
    };
    (*catalog)->appendTrace(broker::TraceBatch::of({
        event(TraceKind::Published, "q", 0, "m-1"), event(TraceKind::Published, "q", 40, "m-2"),
        event(TraceKind::Nacked, "", 0, "m-3"),           // refused publish: no queue, sequence 0
        event(TraceKind::Acked, "q", 0, ""),              // m-1's
        event(TraceKind::Acked, "", 40, ""),              // no queue: belongs to nobody
        event(TraceKind::RetryScheduled, "q", 40, ""),    // m-2's
        event(TraceKind::Acked, "r", 40, ""),             // same sequence, other queue
        event(TraceKind::Delivered, "q", 40, "m-other"),  // a recorded id is never overridden by the link
    }));
    QVERIFY((*catalog)->flush().isOk());
    auto sequencesOf = [&](const std::string& id, size_t limit) {
        QStringList out;
        Result<std::vector<TraceEvent>> events = (*catalog)->queryTrace({id, "", limit});
        if (!events)
            return QStringList{text(events.status().toString())};
        for (const TraceEvent& e : *events)
            out << QString("%1:%2:%3").arg(text(toString(e.kind)), text(e.queue)).arg(e.sequence);
        return out;
    };
    QCOMPARE(sequencesOf("m-1", 100), (QStringList{"published:q:0", "acked:q:0"}));
    QCOMPARE(sequencesOf("m-2", 100), (QStringList{"published:q:40", "retry-scheduled:q:40"}));
    QCOMPARE(sequencesOf("m-2", 1), (QStringList{"retry-scheduled:q:40"}));  // the newest, as before
    QCOMPARE(sequencesOf("m-3", 100), (QStringList{"nacked::0"}));
    QCOMPARE((*catalog)->queryTrace({})->size(), size_t(8));
}

void TestObservability::testTraceBeyondRetainedRowsIsPruned() {
    BrokerOptions options;
    options.traceRetentionRows = 3;
    BrokerHarness h({}, options);
    h.declare("orders");
    QVERIFY(h.broker().sync().isOk());  // the prune the broker runs at start is done before any row exists
    for (int i = 0; i < 10; ++i) {
        std::string id = "m" + std::to_string(i);
        QCOMPARE(int(h.publish("orders", id, withId(id)).outcome), int(PublishOutcome::Confirmed));
    }
    const std::vector<TraceEvent> before = traceOf(h, "");
    QCOMPARE(before.size(), size_t(30));  // published, flushed, confirmed for each: nothing pruned yet
    h.advance(kPruneInterval);
    // The newest three rows are kept. A publish's three events share a row when the history writer took them in
    // one batch (usually), else they are a published row and a flushed-and-confirmed one: three rows hold 3 to 9
    // of the newest events, and end with m9's.
    std::vector<TraceEvent> kept = traceOf(h, "");
    QVERIFY2(kept.size() >= 3 && kept.size() <= 9, std::to_string(kept.size()).c_str());
    QCOMPARE(test::traceLines(kept), test::traceLines({before.end() - ptrdiff_t(kept.size()), before.end()}));
    QCOMPARE(kinds(traceOf(h, "m9")), (QStringList{"published", "flushed", "confirmed"}));
    // m0's published event, which carried its id, is gone, and so are its other events.
    QVERIFY(traceOf(h, "m0").empty());
}

// A transient message's trace names it by (queue, sequence) after its published event; a restarted broker must
// not give a new message the number of one from before, or the old trace would show the new message's events.
void TestObservability::testTransientSequencesAreNotReusedAfterARestart() {
    BrokerHarness h;
    QueuePolicy policy;
    policy.durable = false;
    h.declare("scratch", policy);
    QCOMPARE(int(h.publish("scratch", "before", withId("old")).outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("scratch");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    const std::vector<TraceEvent> before = traceOf(h, "old");
    QCOMPARE(kinds(before), (QStringList{"published", "confirmed", "delivered", "acked"}));
    h.clock().advance(1);  // a restart takes a millisecond at least
    QVERIFY(h.restart().isOk());
    QCOMPARE(int(h.publish("scratch", "after", withId("new")).outcome), int(PublishOutcome::Confirmed));
    const std::vector<TraceEvent> after = traceOf(h, "new");
    QCOMPARE(kinds(after), (QStringList{"published", "confirmed"}));
    QVERIFY(after.front().sequence > before.front().sequence);
    QCOMPARE(kinds(traceOf(h, "old")), kinds(before));  // nothing of the new message
}

void TestObservability::testHistoryOlderThanRetentionIsPruned() {
    BrokerOptions options;
    options.historyRetention = std::chrono::minutes(1);
    BrokerHarness h({}, options);
    TimeMs start = h.clock().now();
    h.declare("orders");
    QCOMPARE(int(h.publish("orders", "old", withId("old")).outcome), int(PublishOutcome::Confirmed));
    h.advance(std::chrono::seconds(1));  // a sample that will be too old
    h.advance(kPruneInterval - std::chrono::seconds(11));
    QCOMPARE(int(h.publish("orders", "new", withId("new")).outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(traceOf(h, "old").size(), size_t(3));
    QCOMPARE(h.broker().history("", 0, INT64_MAX)->size(), size_t(2));
    h.advance(std::chrono::seconds(10));  // prunes everything before start + 9 minutes
    QVERIFY(traceOf(h, "old").empty());
    QCOMPARE(traceOf(h, "new").size(), size_t(3));
    auto history = h.broker().history("", 0, INT64_MAX);
    QVERIFY(history.isOk());
    QCOMPARE(history->size(), size_t(2));
    QCOMPARE(history->front().at, start + 590'000);
    QCOMPARE(history->back().at, start + 600'000);
}

void TestObservability::testCountersMatchWhatHappened_data() {
    QTest::addColumn<QString>("queue");
    QTest::addColumn<QString>("counter");
    QTest::addColumn<qulonglong>("expected");
    struct Row {
        const char* queue;
        const char* counter;
        qulonglong expected;
    };
    for (Row row : std::initializer_list<Row>{{"m", "published", 4},
                                              {"m", "confirmed", 4},
                                              {"m", "nacked", 0},
                                              {"m", "delivered", 5},
                                              {"m", "redelivered", 1},
                                              {"m", "acked", 1},
                                              {"m", "retried", 1},
                                              {"m", "deadLettered", 2},
                                              {"m", "expired", 0},
                                              {"m", "deduplicated", 1},
                                              {"m.dlq", "published", 2},
                                              {"m.dlq", "confirmed", 0},
                                              {"t", "published", 2},
                                              {"t", "confirmed", 2},
                                              {"t", "expired", 1},
                                              {"t", "deadLettered", 1},
                                              {"t", "delivered", 0},
                                              {"t.dlq", "published", 1},
                                              {"small", "published", 1},
                                              {"small", "confirmed", 1},
                                              {"small", "nacked", 1},
                                              // Broker-wide: dead-letter copies count as published in their DLQ; the
                                              // publish to a missing queue is nacked by the broker, not by a queue.
                                              {"", "published", 10},
                                              {"", "confirmed", 7},
                                              {"", "nacked", 2},
                                              {"", "delivered", 5},
                                              {"", "redelivered", 1},
                                              {"", "acked", 1},
                                              {"", "retried", 1},
                                              {"", "deadLettered", 3},
                                              {"", "expired", 1},
                                              {"", "deduplicated", 1}})
        QTest::addRow("%s %s", *row.queue ? row.queue : "total", row.counter)
            << row.queue << row.counter << row.expected;
}

void TestObservability::testCountersMatchWhatHappened() {
    QFETCH(QString, queue);
    QFETCH(QString, counter);
    QFETCH(qulonglong, expected);
    const Counters counters = queue.isEmpty() ? m_scenario.totals : scenarioQueue(queue).counters;
    QCOMPARE(qulonglong(counters.*counterField(counter)), expected);
}

void TestObservability::testTotalsAreTheSumOfQueuesAndRefusedPublishes() {
    const BrokerStats& stats = m_scenario;
    QCOMPARE(stats.queues.size(), size_t(6));  // m, t, small and their dead-letter queues
    for (const char* name : {"published", "confirmed", "delivered", "redelivered", "acked", "retried", "deadLettered",
                             "expired", "deduplicated", "nacked"}) {
        uint64_t sum = 0;
        for (const QueueStats& queue : stats.queues)
            sum += queue.counters.*counterField(name);
        uint64_t refused = QString(name) == "nacked" ? 1 : 0;  // the publish to "nowhere"
        QVERIFY2(stats.totals.*counterField(name) == sum + refused, name);
    }
}

void TestObservability::testGaugesMatchWhatIsHeld_data() {
    QTest::addColumn<QString>("queue");
    QTest::addColumn<QString>("gauge");
    QTest::addColumn<qulonglong>("expected");
    QTest::newRow("m ready") << "m"
                             << "ready" << 0ull;
    QTest::newRow("m unacked") << "m"
                               << "unacked" << 1ull;
    QTest::newRow("m delayed") << "m"
                               << "delayed" << 0ull;
    QTest::newRow("m dead letters") << "m"
                                    << "deadLetterDepth" << 2ull;
    QTest::newRow("m.dlq ready") << "m.dlq"
                                 << "ready" << 2ull;
    QTest::newRow("t delayed") << "t"
                               << "delayed" << 1ull;
    QTest::newRow("t ready") << "t"
                             << "ready" << 0ull;
    QTest::newRow("t dead letters") << "t"
                                    << "deadLetterDepth" << 1ull;
    QTest::newRow("small ready") << "small"
                                 << "ready" << 1ull;
    QTest::newRow("small dead letters") << "small"
                                        << "deadLetterDepth" << 0ull;
}

void TestObservability::testGaugesMatchWhatIsHeld() {
    QFETCH(QString, queue);
    QFETCH(QString, gauge);
    QFETCH(qulonglong, expected);
    QCOMPARE(qulonglong(::gauge(scenarioQueue(queue), gauge)), expected);
}

void TestObservability::testLatencyHistogramsCountConfirmsAndFirstDeliveries() {
    const BrokerStats& stats = m_scenario;
    QCOMPARE(stats.confirmLatency.count(), stats.totals.confirmed);
    QCOMPARE(stats.deliverLatency.count(), uint64_t(4));  // a, b, c, d; b's redelivery is not a first one
    QVERIFY(stats.confirmLatency.max() > 0);
}

// A second without publishes has no confirm or fsync latency in the history: the percentiles are of that second,
// not of everything since the broker started.
void TestObservability::testHistoryLatenciesCoverOnlyTheirSecond() {
    BrokerHarness h;
    h.declare("q");
    QVERIFY(h.publish("q", "one").outcome == PublishOutcome::Confirmed);
    h.advance(std::chrono::seconds(1));
    h.advance(std::chrono::seconds(1));
    auto samples = h.broker().history("", 0, INT64_MAX);
    QVERIFY(samples.isOk());
    QCOMPARE(samples->size(), size_t(2));
    QVERIFY((*samples)[0].fsyncP50Us > 0);
    QVERIFY((*samples)[0].confirmP50Us > 0);
    QCOMPARE((*samples)[1].fsyncP50Us, uint64_t(0));
    QCOMPARE((*samples)[1].fsyncP99Us, uint64_t(0));
    QCOMPARE((*samples)[1].confirmP50Us, uint64_t(0));
}

void TestObservability::testHistoryHasBrokerWideAndPerQueueSamples() {
    BrokerHarness h;
    TimeMs start = h.clock().now();
    QVERIFY(runScenario(h));  // sampled once, at start + 1 s, before the second nack of b
    h.advance(std::chrono::seconds(1));
    TimeMs last = h.clock().now();
    QCOMPARE(last, start + 2000);

    auto broker = h.broker().history("", 0, INT64_MAX);
    QVERIFY(broker.isOk());
    QCOMPARE(broker->size(), size_t(2));
    QCOMPARE((*broker)[0].at, start + 1000);
    const MetricsSample& total = broker->back();
    QCOMPARE(total.at, last);
    QCOMPARE(text(total.queue), QString());
    BrokerStats stats = h.broker().stats();
    for (const char* name : {"published", "confirmed", "nacked", "delivered", "acked", "retried", "deadLettered",
                             "expired", "deduplicated"})
        QVERIFY2(total.counters.*counterField(name) == stats.totals.*counterField(name),
                 qPrintable(QString("%1: %2 vs %3")
                                .arg(name)
                                .arg(total.counters.*counterField(name))
                                .arg(stats.totals.*counterField(name))));
    QCOMPARE(total.unacked, uint64_t(1));
    QCOMPARE(total.delayed, uint64_t(1));
    QCOMPARE(total.deadLetterDepth, uint64_t(3));
    QCOMPARE(total.ready, uint64_t(4));                         // x1 in small, three dead letters
    QCOMPARE((*broker)[0].counters.deadLettered, uint64_t(2));  // c, e; b died after the first sample

    auto m = h.broker().history("m", last, last);
    QVERIFY(m.isOk());
    QCOMPARE(m->size(), size_t(1));
    const MetricsSample& sample = m->front();
    QCOMPARE(text(sample.queue), QString("m"));
    QCOMPARE(sample.counters.published, uint64_t(4));
    QCOMPARE(sample.counters.delivered, uint64_t(5));
    QCOMPARE(sample.counters.deadLettered, uint64_t(2));
    QCOMPARE(sample.unacked, uint64_t(1));
    QCOMPARE(sample.deadLetterDepth, uint64_t(2));
    QCOMPARE(h.broker().history("m", 0, INT64_MAX)->size(), size_t(2));
    QCOMPARE(h.broker().history("nowhere", 0, INT64_MAX)->size(), size_t(0));
}

void TestObservability::testHistorySurvivesRestart() {
    BrokerHarness h;
    QVERIFY(runScenario(h));
    h.advance(std::chrono::seconds(1));
    auto before = h.broker().history("m", 0, INT64_MAX);
    QVERIFY(before.isOk());
    QCOMPARE(before->size(), size_t(2));
    QVERIFY(h.restart().isOk());
    auto after = h.broker().history("m", 0, INT64_MAX);
    QVERIFY(after.isOk());
    QCOMPARE(after->size(), size_t(2));
    QCOMPARE(after->back().at, before->back().at);
    QCOMPARE(after->back().counters.published, uint64_t(4));
    QCOMPARE(h.broker().history("", 0, INT64_MAX)->size(), size_t(2));
}

void TestObservability::testOperatorActionsAreAudited_data() {
    QTest::addColumn<QString>("action");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("actor");
    QTest::addColumn<qulonglong>("count");
    QTest::addColumn<QString>("detail");  // a part of it
    QTest::newRow("declare") << "declare-queue"
                             << "a"
                             << "alice" << 0ull << "";
    QTest::newRow("dead-letter queue") << "declare-queue"
                                       << "a.dlq"
                                       << "broker" << 0ull << "dead-letter";
    QTest::newRow("policy") << "update-policy"
                            << "a"
                            << "bob" << 0ull << "";
    QTest::newRow("purge") << "purge"
                           << "a"
                           << "carol" << 3ull << "";
    QTest::newRow("exchange") << "declare-exchange"
                              << "ex"
                              << "dave" << 0ull << "fanout";
    QTest::newRow("bind") << "bind"
                          << "ex"
                          << "dave" << 0ull << "a";
    QTest::newRow("delete") << "delete-queue"
                            << "a"
                            << "erin" << 2ull << "";
}

void TestObservability::testOperatorActionsAreAudited() {
    QFETCH(QString, action);
    QFETCH(QString, target);
    QFETCH(QString, actor);
    QFETCH(qulonglong, count);
    QFETCH(QString, detail);
    BrokerHarness h;
    Broker& b = h.broker();
    QVERIFY(b.declareQueue({"a"}, {"alice"}).isOk());
    QueuePolicy policy;
    policy.maxAttempts = 3;
    QVERIFY(b.updateQueuePolicy("a", policy, {"bob"}).isOk());
    for (int i = 0; i < 3; ++i)
        QCOMPARE(int(h.publish("a", "x").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(*b.purgeQueue("a", {"carol"}), uint64_t(3));
    QVERIFY(b.declareExchange({"ex", ExchangeType::Fanout, ""}, {"dave"}).isOk());
    QVERIFY(b.bind({"ex", "a", ""}, {"dave"}).isOk());
    for (int i = 0; i < 2; ++i)
        QCOMPARE(int(h.publishTo("ex", "", "y").outcome), int(PublishOutcome::Confirmed));
    QVERIFY(b.deleteQueue("a", {"erin"}).isOk());

    auto entries = b.audit();
    QVERIFY(entries.isOk());
    int found = 0;
    for (const AuditEntry& entry : *entries) {
        if (text(entry.action) != action || text(entry.target) != target)
            continue;
        ++found;
        QCOMPARE(text(entry.actor), actor);
        QCOMPARE(qulonglong(entry.count), count);
        QVERIFY2(text(entry.detail).contains(detail), entry.detail.c_str());
        QVERIFY(entry.ok);
        QCOMPARE(entry.at, h.clock().now());
    }
    QCOMPARE(found, 1);
}

void TestObservability::testAuditFiltersByTarget() {
    BrokerHarness h;
    QVERIFY(h.broker().declareQueue({"a"}, {"alice"}).isOk());
    QVERIFY(h.broker().declareQueue({"b"}, {"alice"}).isOk());
    QVERIFY(h.broker().purgeQueue("a", {"carol"}).isOk());
    auto entries = h.broker().audit({0, INT64_MAX, "a", 100});
    QVERIFY(entries.isOk());
    QStringList actions;
    for (const AuditEntry& entry : *entries) {
        QCOMPARE(text(entry.target), QString("a"));
        actions << text(entry.action);
    }
    QCOMPARE(actions, (QStringList{"declare-queue", "purge"}));
    QCOMPARE(h.broker().audit({0, INT64_MAX, "", 100})->size(), size_t(5));  // and b, a.dlq, b.dlq
}

// top -H, perf and gdb show thread names: an operator chasing a busy core must see which part of the broker it is.
void TestObservability::testTheBrokersThreadsAreNamed() {
    BrokerHarness h;
    QVERIFY(h.ok());
    h.declare("orders");
    QCOMPARE(int(h.publish("orders", "x", withId("m-1")).outcome), int(PublishOutcome::Confirmed));
    std::set<std::string> names;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        names.insert(name);
    }
    for (const char* expected : {"depot-broker", "depot-flusher", "depot-audit", "depot-history", "depot-prealloc"})
        QVERIFY2(names.count(expected), expected);
}

QTEST_GUILESS_MAIN(TestObservability)
#include "TestObservability.moc"
