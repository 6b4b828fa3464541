// The SQLite catalog against a real database file: definitions and their durability, schema versioning,
// refusal of foreign files, the history writer (trace, audit, metrics), dropping, pruning and queries.
#include <QtTest>

#include <atomic>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catalog/Catalog.h"
#include "catalog/CatalogSchema.h"
#include "catalog/Sqlite.h"
#include "catalog/TraceRows.h"
#include "support/TempDir.h"
#include "support/TraceLines.h"

using namespace depot;
using namespace depot::broker;
using namespace depot::catalog;

#define CHECK_OK(expr)                                                  \
    do {                                                                \
        const ::depot::Status checkStatus_ = (expr);                    \
        QVERIFY2(checkStatus_.isOk(), checkStatus_.toString().c_str()); \
    } while (0)

namespace {

constexpr TimeMs kNow = 1'700'000'000'000;

QStringList eventLines(const std::vector<TraceEvent>& events) { return test::traceLines(events, kNow); }

std::unique_ptr<Catalog> openCatalog(const std::string& path, CatalogOptions options = {}) {
    Result<std::unique_ptr<Catalog>> catalog = Catalog::open(path, options);
    if (!catalog) {
        qWarning("open %s: %s", path.c_str(), catalog.status().toString().c_str());
        return nullptr;
    }
    return std::move(*catalog);
}

// Every field differs from QueuePolicy's default.
QueuePolicy unusualPolicy() {
    QueuePolicy policy;
    policy.durable = false;
    policy.flush = FlushMode::Async;
    policy.maxAttempts = 9;
    policy.backoff = {Millis(250), Millis(750), Millis(86'400'000)};
    policy.ackTimeout = Millis(12'345);
    policy.ttl = Millis(60'000);
    policy.maxLength = 1000;
    policy.overflow = Overflow::DeadLetterOldest;
    policy.ordering = Ordering::PerKey;
    policy.dedupWindow = Millis(0);
    policy.deadLetterQueue = "orders.parking";
    return policy;
}

QueueInfo queueInfo(const std::string& name, QueuePolicy policy = {}, QueueKind kind = QueueKind::Normal) {
    QueueInfo queue;
    queue.name = name;
    queue.policy = std::move(policy);
    queue.kind = kind;
    queue.deadLetterQueue = kind == QueueKind::Normal ? name + ".dlq" : "";
    queue.createdAt = kNow;
    return queue;
}

TraceEvent traceEvent(TimeMs at, const std::string& id, const std::string& key, TraceKind kind = TraceKind::Published) {
    return TraceEvent{at, kind, "orders", uint64_t(at - kNow), id, key, "detail of " + id};
}

MetricsSample metricsSample(TimeMs at, const std::string& queue, uint64_t base) {
    MetricsSample m;
    m.at = at;
    m.queue = queue;
    Counters& c = m.counters;
    uint64_t value = base;
    for (uint64_t* field :
         {&c.published, &c.confirmed, &c.nacked, &c.delivered, &c.redelivered, &c.acked, &c.retried, &c.deadLettered,
          &c.expired, &c.deduplicated, &m.ready, &m.unacked, &m.delayed, &m.deadLetterDepth, &m.unflushed,
          &m.confirmP50Us, &m.confirmP99Us, &m.fsyncP50Us, &m.fsyncP99Us})
        *field = value++;
    return m;
}

bool sameSample(const MetricsSample& a, const MetricsSample& b) {
    const Counters& x = a.counters;
    const Counters& y = b.counters;
    return a.at == b.at && a.queue == b.queue && x.published == y.published && x.confirmed == y.confirmed &&
           x.nacked == y.nacked && x.delivered == y.delivered && x.redelivered == y.redelivered && x.acked == y.acked &&
           x.retried == y.retried && x.deadLettered == y.deadLettered && x.expired == y.expired &&
           x.deduplicated == y.deduplicated && a.ready == b.ready && a.unacked == b.unacked && a.delayed == b.delayed &&
           a.deadLetterDepth == b.deadLetterDepth && a.unflushed == b.unflushed && a.confirmP50Us == b.confirmP50Us &&
           a.confirmP99Us == b.confirmP99Us && a.fsyncP50Us == b.fsyncP50Us && a.fsyncP99Us == b.fsyncP99Us;
}

std::vector<std::string> messageIds(const std::vector<TraceEvent>& events) {
    std::vector<std::string> ids;
    for (const TraceEvent& e : events)
        ids.push_back(e.messageId);
    return ids;
}

void execOnFile(const std::string& path, const char* sql) {
    Result<SqliteDb> db = SqliteDb::open(path, SqliteDb::Mode::ReadWriteCreate);
    QVERIFY2(db.isOk(), db.status().toString().c_str());
    CHECK_OK(db->exec(sql, "test setup"));
}

// `content` as the file's bytes, or, when it starts with "sql:", the SQL after that run on a new database there.
void makeFile(const std::string& path, const QByteArray& content) {
    if (content.startsWith("sql:"))
        execOnFile(path, content.mid(4).constData());
    else
        std::ofstream(path, std::ios::binary).write(content.constData(), content.size());
}

// -1 when the query fails (a missing table, say).
int64_t int64OnFile(const std::string& path, const char* sql) {
    Result<SqliteDb> db = SqliteDb::open(path, SqliteDb::Mode::ReadOnly);
    if (!db)
        return -1;
    Result<int64_t> value = db->queryInt64(sql, "test check");
    return value ? *value : -1;
}

}  // namespace

class TestCatalog : public QObject {
    Q_OBJECT

private slots:
    void testDefinitionsSurviveReopen() {
        test::TempDir dir;
        const std::string path = dir.file("catalog.db");
        QueueInfo orders = queueInfo("orders", unusualPolicy());
        QueueInfo parking = queueInfo("orders.parking", {}, QueueKind::DeadLetter);
        {
            auto catalog = openCatalog(path);
            QVERIFY(catalog);
            Result<uint32_t> id = catalog->insertQueue(orders);
            QVERIFY(id.isOk());
            orders.id = *id;
            id = catalog->insertQueue(parking);
            QVERIFY(id.isOk());
            parking.id = *id;
            CHECK_OK(catalog->upsertExchange({"events", ExchangeType::Topic, "unroutable"}));
            CHECK_OK(catalog->upsertExchange({"fan", ExchangeType::Direct, ""}));
            CHECK_OK(catalog->upsertExchange({"fan", ExchangeType::Fanout, ""}));  // replaces the first
            CHECK_OK(catalog->insertBinding({"events", "orders", "order.*.created"}));
            CHECK_OK(catalog->insertBinding({"fan", "orders", ""}));
            CHECK_OK(catalog->insertBinding({"fan", "orders", ""}));  // identical: accepted, stored once
        }
        auto catalog = openCatalog(path);
        QVERIFY(catalog);
        Result<std::vector<QueueInfo>> queues = catalog->loadQueues();
        QVERIFY(queues.isOk());
        QCOMPARE(queues->size(), size_t(2));
        for (const auto& [loaded, expected] : {std::pair{(*queues)[0], orders}, std::pair{(*queues)[1], parking}}) {
            QCOMPARE(loaded.id, expected.id);
            QCOMPARE(loaded.name, expected.name);
            QVERIFY(loaded.policy == expected.policy);
            QVERIFY(loaded.kind == expected.kind);
            QCOMPARE(loaded.deadLetterQueue, expected.deadLetterQueue);
            QCOMPARE(loaded.createdAt, expected.createdAt);
        }
        Result<std::vector<ExchangeSpec>> exchanges = catalog->loadExchanges();
        QVERIFY(exchanges.isOk());
        QCOMPARE(exchanges->size(), size_t(2));
        QCOMPARE((*exchanges)[0].name, std::string("events"));
        QVERIFY((*exchanges)[0].type == ExchangeType::Topic);
        QCOMPARE((*exchanges)[0].alternateQueue, std::string("unroutable"));
        QCOMPARE((*exchanges)[1].name, std::string("fan"));
        QVERIFY((*exchanges)[1].type == ExchangeType::Fanout);
        Result<std::vector<Binding>> bindings = catalog->loadBindings();
        QVERIFY(bindings.isOk());
        QVERIFY((*bindings == std::vector<Binding>{{"events", "orders", "order.*.created"}, {"fan", "orders", ""}}));
    }

    void testUpdateQueueChangesPolicyAndKind() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        QueueInfo queue = queueInfo("orders");
        Result<uint32_t> id = catalog->insertQueue(queue);
        QVERIFY(id.isOk());
        queue.id = *id;
        queue.policy = unusualPolicy();
        queue.kind = QueueKind::DeadLetter;
        queue.deadLetterQueue = "";
        CHECK_OK(catalog->updateQueue(queue));
        Result<std::vector<QueueInfo>> queues = catalog->loadQueues();
        QVERIFY(queues.isOk());
        QCOMPARE(queues->size(), size_t(1));
        QVERIFY(queues->front().policy == unusualPolicy());
        QVERIFY(queues->front().kind == QueueKind::DeadLetter);
        QCOMPARE(queues->front().deadLetterQueue, std::string());
        queue.id = *id + 100;
        QCOMPARE(catalog->updateQueue(queue).code(), StatusCode::NotFound);
    }

    void testQueueIdsAreNeverReused() {
        test::TempDir dir;
        const std::string path = dir.file("catalog.db");
        uint32_t idB = 0;
        {
            auto catalog = openCatalog(path);
            QVERIFY(catalog);
            Result<uint32_t> idA = catalog->insertQueue(queueInfo("a"));
            QVERIFY(idA.isOk());
            CHECK_OK(catalog->deleteQueue(*idA));
            Result<uint32_t> b = catalog->insertQueue(queueInfo("b"));
            QVERIFY(b.isOk());
            QVERIFY(*b > *idA);
            idB = *b;
            CHECK_OK(catalog->deleteQueue(idB));  // the newest id is deleted too: still not handed out again
        }
        auto catalog = openCatalog(path);
        QVERIFY(catalog);
        Result<uint32_t> idC = catalog->insertQueue(queueInfo("a"));
        QVERIFY(idC.isOk());
        QVERIFY(*idC > idB);
        QCOMPARE(catalog->deleteQueue(idB).code(), StatusCode::NotFound);
    }

    void testDeletingQueueDeletesItsBindings() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        Result<uint32_t> orders = catalog->insertQueue(queueInfo("orders"));
        QVERIFY(orders.isOk());
        QVERIFY(catalog->insertQueue(queueInfo("audit")).isOk());
        CHECK_OK(catalog->upsertExchange({"events", ExchangeType::Topic, ""}));
        CHECK_OK(catalog->insertBinding({"events", "orders", "order.#"}));
        CHECK_OK(catalog->insertBinding({"events", "audit", "#"}));
        CHECK_OK(catalog->deleteQueue(*orders));
        Result<std::vector<Binding>> bindings = catalog->loadBindings();
        QVERIFY(bindings.isOk());
        QVERIFY((*bindings == std::vector<Binding>{{"events", "audit", "#"}}));
        Result<std::vector<QueueInfo>> queues = catalog->loadQueues();
        QVERIFY(queues.isOk());
        QCOMPARE(queues->size(), size_t(1));
        QCOMPARE(queues->front().name, std::string("audit"));
    }

    void testDeletingExchangeDeletesItsBindings() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        CHECK_OK(catalog->upsertExchange({"a", ExchangeType::Fanout, ""}));
        CHECK_OK(catalog->upsertExchange({"b", ExchangeType::Fanout, ""}));
        CHECK_OK(catalog->insertBinding({"a", "q", ""}));
        CHECK_OK(catalog->insertBinding({"b", "q", ""}));
        CHECK_OK(catalog->deleteExchange("a"));
        QCOMPARE(catalog->deleteExchange("a").code(), StatusCode::NotFound);
        Result<std::vector<Binding>> bindings = catalog->loadBindings();
        QVERIFY(bindings.isOk());
        QVERIFY((*bindings == std::vector<Binding>{{"b", "q", ""}}));
        QCOMPARE(catalog->loadExchanges()->size(), size_t(1));
    }

    void testDeletingAbsentBindingIsNotFound() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        CHECK_OK(catalog->insertBinding({"ex", "q", "k"}));
        QCOMPARE(catalog->deleteBinding({"ex", "q", "other"}).code(), StatusCode::NotFound);
        CHECK_OK(catalog->deleteBinding({"ex", "q", "k"}));
        QCOMPARE(catalog->deleteBinding({"ex", "q", "k"}).code(), StatusCode::NotFound);
    }

    void testDuplicateQueueNameIsRejected() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        QVERIFY(catalog->insertQueue(queueInfo("orders")).isOk());
        Result<uint32_t> again = catalog->insertQueue(queueInfo("orders", unusualPolicy()));
        QVERIFY(!again.isOk());
        QVERIFY2(again.status().message().find("orders") != std::string::npos, again.status().toString().c_str());
        Result<std::vector<QueueInfo>> queues = catalog->loadQueues();
        QVERIFY(queues.isOk());
        QCOMPARE(queues->size(), size_t(1));
        QVERIFY(queues->front().policy == QueuePolicy{});
    }

    void testNewerSchemaVersionIsRefused() {
        test::TempDir dir;
        const std::string path = dir.file("catalog.db");
        QVERIFY(openCatalog(path));
        execOnFile(path, ("PRAGMA user_version = " + std::to_string(Catalog::kSchemaVersion + 1)).c_str());
        Result<std::unique_ptr<Catalog>> catalog = Catalog::open(path);
        QVERIFY(!catalog.isOk());
        QCOMPARE(catalog.status().code(), StatusCode::Corruption);
        const std::string expected = "catalog schema version " + std::to_string(Catalog::kSchemaVersion + 1) +
                                     " is newer than this build (" + std::to_string(Catalog::kSchemaVersion) + ")";
        QVERIFY2(catalog.status().message().find(expected) != std::string::npos, catalog.status().toString().c_str());
    }

    void testForeignFileIsRefused_data() {
        QTest::addColumn<QByteArray>("content");  // for makeFile()
        QTest::newRow("text") << QByteArray("this is not a database, just some text that is long enough\n");
        QTest::newRow("binary") << QByteArray(8192, '\x5a');
        QTest::newRow("truncated sqlite header") << QByteArray("SQLite format 3\0\x10\0", 19);
        QTest::newRow("sqlite of another program") << QByteArray("sql:CREATE TABLE songs (title TEXT)");
        QTest::newRow("other application id") << QByteArray("sql:PRAGMA application_id = 12345");
    }
    void testForeignFileIsRefused() {
        QFETCH(QByteArray, content);
        test::TempDir dir;
        const std::string path = dir.file("catalog.db");
        makeFile(path, content);
        Result<std::unique_ptr<Catalog>> catalog = Catalog::open(path);
        QVERIFY(!catalog.isOk());
        QCOMPARE(catalog.status().code(), StatusCode::Corruption);
        QVERIFY2(catalog.status().message().find("is not a Depot catalog") != std::string::npos,
                 catalog.status().toString().c_str());
    }

    void testTraceAndMetricsLiveInTheHistoryFileAuditInTheCatalog() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        QVERIFY(catalog->appendTrace(traceEvent(kNow, "m1", "k1")));
        catalog->appendMetrics({metricsSample(kNow, "orders", 1)});
        catalog->appendAudit({kNow, "alice", "purge", "orders", "", 3, true});
        CHECK_OK(catalog->flush());
        QCOMPARE(int64OnFile(dir.file("history.db"), "SELECT count(*) FROM trace"), int64_t(1));
        QCOMPARE(int64OnFile(dir.file("history.db"), "SELECT count(*) FROM metrics"), int64_t(1));
        QCOMPARE(int64OnFile(dir.file("catalog.db"), "SELECT count(*) FROM audit"), int64_t(1));
        QCOMPARE(int64OnFile(dir.file("catalog.db"),
                             "SELECT count(*) FROM sqlite_master WHERE name IN ('trace', 'metrics')"),
                 int64_t(0));
    }

    // A sync publish's flushed and confirmed events share one row; they read back exactly as recorded.
    void testFlushedAndConfirmedShareARowAndReadBackAsTwoEvents() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        auto event = [](TraceKind kind, uint64_t sequence, std::string detail) {
            return TraceEvent{kNow, kind, "orders", sequence, "", "", std::move(detail)};
        };
        const std::vector<TraceEvent> recorded{
            event(TraceKind::Flushed, 7, "fdatasync"), event(TraceKind::Confirmed, 7, ""),
            event(TraceKind::Flushed, 8, "fdatasync"), event(TraceKind::Confirmed, 8, "a detail: not paired"),
            event(TraceKind::Flushed, 9, "fdatasync"), event(TraceKind::Confirmed, 10, ""),  // other messages
        };
        catalog->appendTrace(broker::TraceBatch::of(recorded));
        CHECK_OK(catalog->flush());
        QCOMPARE(int64OnFile(dir.file("history.db"), "SELECT count(*) FROM trace"), int64_t(5));
        Result<std::vector<TraceEvent>> events = catalog->queryTrace({});
        QVERIFY(events.isOk());
        QCOMPARE(events->size(), recorded.size());
        for (size_t i = 0; i < recorded.size(); ++i) {
            const TraceEvent& a = (*events)[i];
            const TraceEvent& b = recorded[i];
            QCOMPARE(std::string(toString(a.kind)), std::string(toString(b.kind)));
            QCOMPARE(a.sequence, b.sequence);
            QCOMPARE(a.detail, b.detail);
            QCOMPARE(a.at, b.at);
            QCOMPARE(a.queue, b.queue);
        }
        Result<std::vector<TraceEvent>> last = catalog->queryTrace({"", "", 1});
        QVERIFY(last.isOk());
        QCOMPARE(last->size(), size_t(1));
        QCOMPARE(last->front().sequence, uint64_t(10));
    }

    // A delivery and the ack that settles it, written in one batch with nothing else recorded for the message
    // between them, share one row and read back as the two events, each at its own time and with its own detail,
    // in time order among the others. An ack whose delivery is in another batch, or that follows a requeue and
    // redelivery, keeps the events between in their place.
    void testDeliveryAndItsAckShareARowAndReadBackAsTwoEvents() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        auto event = [](TimeMs at, TraceKind kind, std::string queue, uint64_t sequence, std::string id,
                        std::string detail) {
            return TraceEvent{kNow + at, kind, std::move(queue), sequence, std::move(id), "", std::move(detail)};
        };
        const std::vector<TraceEvent> first{
            event(0, TraceKind::Delivered, "orders", 7, "m7", "attempt 1 to consumer 3 (billing)"),
            event(1, TraceKind::Published, "orders", 8, "m8", ""),
            event(2, TraceKind::Delivered, "orders", 9, "m9", "attempt 1 to consumer 3 (billing)"),
            event(3, TraceKind::Delivered, "orders", 10, "m10", "attempt 1 to consumer 3 (billing)"),
            event(4, TraceKind::Acked, "orders", 7, "", "by billing"),
            event(5, TraceKind::Requeued, "orders", 9, "", "nacked by billing"),
            event(6, TraceKind::Delivered, "orders", 9, "m9", "attempt 2 to consumer 3 (billing)"),
            event(7, TraceKind::Acked, "orders", 9, "", "by billing"),
            event(8, TraceKind::Acked, "audit", 10, "", "by auditor"),  // another queue's message 10
        };
        catalog->appendTrace(broker::TraceBatch::of(first));
        CHECK_OK(catalog->flush());
        catalog->appendTrace(broker::TraceBatch::of({event(9, TraceKind::Acked, "orders", 10, "", "by billing")}));
        CHECK_OK(catalog->flush());
        // 10 events: the ack of 7 and the second ack of 9 joined their deliveries.
        QCOMPARE(int64OnFile(dir.file("history.db"), "SELECT count(*) FROM trace"), int64_t(8));
        QCOMPARE(int64OnFile(dir.file("history.db"), "SELECT count(*) FROM trace WHERE kind = 'delivered+acked'"),
                 int64_t(2));
        std::vector<TraceEvent> recorded = first;
        recorded.push_back(event(9, TraceKind::Acked, "orders", 10, "", "by billing"));
        Result<std::vector<TraceEvent>> events = catalog->queryTrace({});
        QVERIFY2(events.isOk(), events.status().toString().c_str());
        QCOMPARE(eventLines(*events), eventLines(recorded));
        // A trace by id finds the ack in the delivery's row, and the linked ones in their own rows.
        Result<std::vector<TraceEvent>> nine = catalog->queryTrace({"m9", "", 10});
        QVERIFY(nine.isOk());
        QStringList kinds;
        for (const TraceEvent& e : *nine)
            kinds << QString::fromStdString(std::string(toString(e.kind)));
        QCOMPARE(kinds, (QStringList{"delivered", "requeued", "delivered", "acked"}));
        Result<std::vector<TraceEvent>> seven = catalog->queryTrace({"m7", "", 10});
        QVERIFY(seven.isOk() && seven->size() == 2);
        QCOMPARE(seven->back().detail, std::string("by billing"));
        QCOMPARE(seven->back().at, kNow + 4);
        Result<std::vector<TraceEvent>> ten = catalog->queryTrace({"m10", "", 10});
        QVERIFY(ten.isOk());
        QCOMPARE(ten->size(), size_t(2));
    }

    // A published event and what follows it for the message in the same batch (a sync publish's flushed and
    // confirmed, an async publish's confirmed) share one row; a confirm with a detail, or a second queue's
    // copy of a fanned-out message, keep their own. Read back, every event is as recorded, in time order.
    void testPublishedAndItsConfirmShareARowAndReadBackAsRecorded() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        auto event = [](TimeMs at, TraceKind kind, std::string queue, uint64_t sequence, std::string id,
                        std::string key, std::string detail) {
            return TraceEvent{kNow + at, kind, std::move(queue), sequence, std::move(id), std::move(key),
                              std::move(detail)};
        };
        const std::vector<TraceEvent> recorded{
            event(0, TraceKind::Published, "orders", 1, "m1", "k1", ""),
            event(0, TraceKind::Published, "orders", 2, "m2", "", ""),
            event(2, TraceKind::Flushed, "orders", 1, "", "", "fdatasync"),
            event(2, TraceKind::Confirmed, "orders", 1, "", "", ""),
            event(3, TraceKind::Confirmed, "orders", 2, "", "", ""),  // async: no flushed
            event(4, TraceKind::Published, "orders", 3, "m3", "", ""),
            event(5, TraceKind::Flushed, "orders", 3, "", "", "fdatasync"),
            event(5, TraceKind::Confirmed, "orders", 3, "", "", "with a detail"),
            event(6, TraceKind::Published, "orders", 4, "m4", "", ""),
            event(6, TraceKind::Published, "audit", 9, "m4", "", ""),
            event(7, TraceKind::Flushed, "orders", 4, "", "", "fdatasync"),
            event(7, TraceKind::Confirmed, "orders", 4, "", "", ""),
        };
        catalog->appendTrace(broker::TraceBatch::of(recorded));
        CHECK_OK(catalog->flush());
        const std::string history = dir.file("history.db");
        QCOMPARE(int64OnFile(history, "SELECT count(*) FROM trace"), int64_t(6));
        QCOMPARE(int64OnFile(history, "SELECT count(*) FROM trace WHERE kind = 'published+flushed+confirmed'"),
                 int64_t(2));
        Result<std::vector<TraceEvent>> events = catalog->queryTrace({});
        QVERIFY2(events.isOk(), events.status().toString().c_str());
        QCOMPARE(eventLines(*events), eventLines(recorded));
        Result<std::vector<TraceEvent>> one = catalog->queryTrace({"", "k1", 10});
        QVERIFY(one.isOk());
        QCOMPARE(eventLines(*one), eventLines({recorded[0], recorded[2], recorded[3]}));
    }

    // The writer's planner keeps its buffers from batch to batch, and gives them back when told (the writer
    // does once it has caught up after a burst), then plans the next batch as before.
    void testRowPlannerGivesItsBuffersBack() {
        std::vector<TraceEvent> burst;
        for (uint64_t sequence = 1; sequence <= 50'000; ++sequence)
            burst.push_back(TraceEvent{kNow, TraceKind::Published, "orders", sequence, "m", "", ""});
        std::vector<broker::TraceBatch> chunks;
        chunks.push_back(broker::TraceBatch::of(burst));
        TraceRowPlanner planner;
        QCOMPARE(planner.plan(chunks).size(), burst.size());
        QVERIFY(planner.capacity() >= burst.size());
        planner.release();
        QCOMPARE(planner.capacity(), size_t(0));
        chunks.clear();
        chunks.push_back(broker::TraceBatch::of({burst[0], TraceEvent{kNow + 1, TraceKind::Confirmed, "orders", 1,
                                                                      "", "", ""}}));
        const std::vector<TraceRow>& rows = planner.plan(chunks);
        QCOMPARE(rows.size(), size_t(1));
        QCOMPARE(rows[0].kind, std::string_view("published+confirmed"));
        QCOMPARE(rows[0].followUpAt, kNow + 1);
    }

    // A row whose kind joins events that never share a row is refused as damage, not read as something else.
    void testUnknownJoinedKindIsCorruption() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        CHECK_OK(catalog->flush());
        {
            Result<SqliteDb> db = SqliteDb::open(dir.file("history.db"), SqliteDb::Mode::ReadWriteCreate);
            QVERIFY(db.isOk());
            CHECK_OK(db->exec("INSERT INTO trace (at, kind, queue, sequence, message_id, key, detail, "
                              "followup_after, followup_detail) VALUES "
                              "(1700000000000, 'published+acked', 'orders', 7, 'm7', '', '', 1, '')",
                              "plant a row no build writes"));
        }
        Result<std::vector<TraceEvent>> events = catalog->queryTrace({"m7", "", 10});
        QVERIFY(!events.isOk());
        QCOMPARE(events.status().code(), StatusCode::Corruption);
    }

    // A definition is a promise made now: it must not wait while history's file is busy (a trace batch, a
    // console query, another process reading it).
    void testDefinitionsDoNotWaitForTheHistoryFile() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        Result<SqliteDb> other = SqliteDb::open(dir.file("history.db"), SqliteDb::Mode::ReadWriteCreate);
        QVERIFY(other.isOk());
        CHECK_OK(other->exec("BEGIN IMMEDIATE", "hold history's write lock"));
        QVERIFY(catalog->insertQueue(queueInfo("orders")).isOk());
        CHECK_OK(catalog->putSettings({{"flush/default", "async"}}));
        QCOMPARE(catalog->loadQueues()->size(), size_t(1));
        CHECK_OK(other->exec("ROLLBACK", "release history's write lock"));
    }

    // A catalog from before the history file (schema 4) keeps its trace and metrics: they move to history.db.
    void testVersionFourCatalogMovesItsHistoryOut() {
        test::TempDir dir;
        const std::string path = dir.file("catalog.db");
        {
            Result<SqliteDb> db = SqliteDb::open(path, SqliteDb::Mode::ReadWriteCreate);
            QVERIFY(db.isOk());
            CHECK_OK(createOlderCatalogSchema(*db, path, 4));
            CHECK_OK(
                db->exec("INSERT INTO queues (name, kind, policy, created_at) VALUES ('orders', 'normal', '{}', 1);"
                         "INSERT INTO trace (at, kind, queue, sequence, message_id, key, detail) VALUES "
                         "  (1700000000000, 'published', 'orders', 7, 'm1', 'k1', 'old'),"
                         "  (1700000000001, 'acked', 'orders', 7, '', '', 'old');"
                         "INSERT INTO metrics SELECT 1, 1700000000000, 'orders', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"
                         "  11, 12, 13, 14, 15, 16, 17, 18, 19;",
                         "fill a version 4 catalog"));
        }
        // Rows a crash left behind in history.db after an earlier, unfinished move are replaced, not doubled.
        {
            const std::string history = dir.file("history.db");
            Result<SqliteDb> db = SqliteDb::open(history, SqliteDb::Mode::ReadWriteCreate);
            QVERIFY(db.isOk());
            CHECK_OK(prepareHistorySchema(*db, history));
            CHECK_OK(
                db->exec("INSERT INTO trace (at, kind, queue, sequence, message_id, key, detail) VALUES "
                         "(1700000000000, 'published', 'orders', 7, 'm1', 'k1', 'copied before a crash')",
                         "leave a half-finished move behind"));
        }
        QCOMPARE(int64OnFile(path, "PRAGMA user_version"), int64_t(4));
        for (int open = 0; open < 2; ++open) {
            auto catalog = openCatalog(path);
            QVERIFY(catalog);
            Result<std::vector<TraceEvent>> trace = catalog->queryTrace({"m1", "", 10});
            QVERIFY2(trace.isOk(), trace.status().toString().c_str());
            QCOMPARE(trace->size(), size_t(2));
            QCOMPARE(std::string(toString(trace->back().kind)), std::string("acked"));
            Result<std::vector<MetricsSample>> metrics = catalog->queryMetrics("orders", 0, INT64_MAX);
            QVERIFY(metrics.isOk());
            QCOMPARE(metrics->size(), size_t(1));
            QCOMPARE(metrics->front().fsyncP99Us, uint64_t(19));
            QCOMPARE(catalog->loadQueues()->size(), size_t(1));
        }
        QCOMPARE(int64OnFile(path, "PRAGMA user_version"), int64_t(Catalog::kSchemaVersion));
        QCOMPARE(int64OnFile(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('trace', 'metrics')"),
                 int64_t(0));
    }

    // History schema 2 indexes by (queue, sequence) only the rows without a message id; a version 1 file keeps
    // its rows, and a trace by id still finds the events linked to the message.
    void testVersionOneHistoryIsMigratedAndStillLinked() {
        test::TempDir dir;
        const std::string history = dir.file("history.db");
        {
            Result<SqliteDb> db = SqliteDb::open(history, SqliteDb::Mode::ReadWriteCreate);
            QVERIFY(db.isOk());
            CHECK_OK(createOlderHistorySchema(*db, history, 1));
            CHECK_OK(db->exec("INSERT INTO trace (at, kind, queue, sequence, message_id, key, detail) VALUES "
                              "  (1700000000000, 'published', 'orders', 7, 'm1', 'k1', ''),"
                              "  (1700000000001, 'flushed+confirmed', 'orders', 7, '', '', 'fdatasync'),"
                              "  (1700000000002, 'published', 'orders', 8, 'm2', '', ''),"
                              "  (1700000000003, 'acked', 'orders', 7, '', '', 'by billing');",
                              "fill a version 1 history file"));
        }
        QCOMPARE(int64OnFile(history, "PRAGMA user_version"), int64_t(1));
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        Result<std::vector<TraceEvent>> trace = catalog->queryTrace({"m1", "", 10});
        QVERIFY2(trace.isOk(), trace.status().toString().c_str());
        QStringList kinds;
        for (const TraceEvent& event : *trace)
            kinds << QString::fromStdString(std::string(toString(event.kind)));
        QCOMPARE(kinds, (QStringList{"published", "flushed", "confirmed", "acked"}));
        catalog.reset();
        QCOMPARE(int64OnFile(history, "PRAGMA user_version"), int64_t(3));
        QCOMPARE(int64OnFile(history, "SELECT count(*) FROM sqlite_master WHERE name = 'trace_queue_sequence'"),
                 int64_t(0));
        QCOMPARE(int64OnFile(history, "SELECT count(*) FROM sqlite_master WHERE name = 'trace_linked'"), int64_t(1));
    }

    // The history file has 16 KiB pages (fewer system calls per trace row); one an earlier build made with 4 KiB
    // pages is converted at open, keeping its rows, unless another connection has it open: then it is used as
    // it is, and converted at a later open.
    void testHistoryFileGetsSixteenKiBPages() {
        test::TempDir dir;
        const std::string history = dir.file("history.db");
        for (int i = 0; i < 3; ++i) {
            auto catalog = openCatalog(dir.file("catalog.db"));
            QVERIFY(catalog);
            QVERIFY(catalog->appendTrace(traceEvent(kNow + i, "m" + std::to_string(i), "")));
            CHECK_OK(catalog->flush());
        }
        QCOMPARE(int64OnFile(history, "PRAGMA page_size"), int64_t(16384));
        {
            Result<SqliteDb> db = SqliteDb::open(history, SqliteDb::Mode::ReadWriteCreate);
            QVERIFY(db.isOk());
            CHECK_OK(db->exec("PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM; PRAGMA journal_mode=WAL",
                              "give the history file 4 KiB pages"));
        }
        QCOMPARE(int64OnFile(history, "PRAGMA page_size"), int64_t(4096));
        auto traceOf = [&](Catalog& catalog, const std::string& id) {
            Result<std::vector<TraceEvent>> trace = catalog.queryTrace({id, "", 10});
            return trace ? trace->size() : size_t(99);
        };
        {
            Result<SqliteDb> reader = SqliteDb::open(history, SqliteDb::Mode::ReadOnly);
            QVERIFY(reader.isOk());
            QCOMPARE(reader->queryInt64("SELECT count(*) FROM trace", "hold the file open").value(), int64_t(3));
            auto catalog = openCatalog(dir.file("catalog.db"));
            QVERIFY(catalog);
            QVERIFY(catalog->appendTrace(traceEvent(kNow + 3, "m3", "")));
            CHECK_OK(catalog->flush());
            QCOMPARE(traceOf(*catalog, "m3"), size_t(1));
        }
        QCOMPARE(int64OnFile(history, "PRAGMA page_size"), int64_t(4096));
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        QCOMPARE(int64OnFile(history, "PRAGMA page_size"), int64_t(16384));
        {
            Result<SqliteDb> db = SqliteDb::open(history, SqliteDb::Mode::ReadOnly);
            QVERIFY(db.isOk());
            QCOMPARE(db->queryText("PRAGMA journal_mode", "test check").value(), std::string("wal"));
        }
        for (const char* id : {"m0", "m1", "m2", "m3"})
            QCOMPARE(traceOf(*catalog, id), size_t(1));
    }

    void testDamagedHistoryFileIsSetAsideAndANewOneBegun_data() {
        QTest::addColumn<QByteArray>("content");  // for makeFile()
        QTest::newRow("binary") << QByteArray(8192, '\x5a');
        QTest::newRow("a catalog, not a history file") << QByteArray("sql:PRAGMA application_id = 1146115121");
        QTest::newRow("newer history schema") << QByteArray("sql:PRAGMA user_version = 99");
    }
    void testDamagedHistoryFileIsSetAsideAndANewOneBegun() {
        QFETCH(QByteArray, content);
        test::TempDir dir;
        const std::string history = dir.file("history.db");
        makeFile(history, content);
        std::ifstream before(history, std::ios::binary);
        const std::string original((std::istreambuf_iterator<char>(before)), std::istreambuf_iterator<char>());
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        QVERIFY(catalog->appendTrace(traceEvent(kNow, "m1", "k1")));
        CHECK_OK(catalog->flush());
        QCOMPARE(catalog->queryTrace({"m1", "", 10})->size(), size_t(1));
        std::ifstream aside(history + ".damaged", std::ios::binary);
        const std::string kept((std::istreambuf_iterator<char>(aside)), std::istreambuf_iterator<char>());
        QVERIFY(kept == original);
    }

    void testHistoryIsQueryableAfterFlushAndReopen() {
        test::TempDir dir;
        const std::string path = dir.file("catalog.db");
        const AuditEntry entry{kNow, "alice", "purge", "orders", "{\"why\":\"test\"}", 42, false};
        const MetricsSample broker = metricsSample(kNow, "", 1);
        const MetricsSample orders = metricsSample(kNow, "orders", 1000);
        const MetricsSample maxed = metricsSample(kNow + 1000, "orders", std::numeric_limits<uint64_t>::max() - 30);
        {
            auto catalog = openCatalog(path);
            QVERIFY(catalog);
            QVERIFY(catalog->appendTrace(traceEvent(kNow, "m1", "k1", TraceKind::RetryScheduled)));
            catalog->appendAudit(entry);
            catalog->appendMetrics({broker, orders, maxed});
            CHECK_OK(catalog->flush());
            QCOMPARE(catalog->queryTrace({})->size(), size_t(1));
            QCOMPARE(catalog->queryAudit({})->size(), size_t(1));
            QCOMPARE(catalog->queryMetrics("orders", 0, INT64_MAX)->size(), size_t(2));
            catalog->appendAudit(
                {kNow + 1, "bob", "requeue", "orders.dlq", "", 1, true});  // committed by the destructor
        }
        auto catalog = openCatalog(path);
        QVERIFY(catalog);
        Result<std::vector<TraceEvent>> trace = catalog->queryTrace({"m1", "", 10});
        QVERIFY(trace.isOk());
        QCOMPARE(trace->size(), size_t(1));
        const TraceEvent& event = trace->front();
        QVERIFY(event.kind == TraceKind::RetryScheduled);
        QCOMPARE(event.at, kNow);
        QCOMPARE(event.queue, std::string("orders"));
        QCOMPARE(event.key, std::string("k1"));
        QCOMPARE(event.detail, std::string("detail of m1"));
        Result<std::vector<AuditEntry>> audit = catalog->queryAudit({});
        QVERIFY(audit.isOk());
        QCOMPARE(audit->size(), size_t(2));
        const AuditEntry& first = audit->front();
        QVERIFY(first.at == entry.at && first.actor == entry.actor && first.action == entry.action &&
                first.target == entry.target && first.detail == entry.detail && first.count == entry.count &&
                first.ok == entry.ok);
        QCOMPARE(audit->back().actor, std::string("bob"));
        Result<std::vector<MetricsSample>> brokerRows = catalog->queryMetrics("", 0, INT64_MAX);
        QVERIFY(brokerRows.isOk());
        QCOMPARE(brokerRows->size(), size_t(1));
        QVERIFY(sameSample(brokerRows->front(), broker));
        Result<std::vector<MetricsSample>> queueRows = catalog->queryMetrics("orders", kNow, kNow + 1000);
        QVERIFY(queueRows.isOk());
        QCOMPARE(queueRows->size(), size_t(2));
        QVERIFY(sameSample((*queueRows)[0], orders));
        QVERIFY(sameSample((*queueRows)[1], maxed));
        QCOMPARE(catalog->queryMetrics("orders", kNow + 1, kNow + 999)->size(), size_t(0));
    }

    void testTraceQueryMatchesIdOrKey_data() {
        QTest::addColumn<QString>("messageId");
        QTest::addColumn<QString>("key");
        QTest::addColumn<int>("limit");
        QTest::addColumn<QStringList>("expected");  // message ids, in the order returned
        QTest::newRow("by id") << "m2"
                               << "" << 100 << QStringList{"m2", "m2"};
        QTest::newRow("by key") << ""
                                << "blue" << 100 << QStringList{"m1", "m1", "m3"};
        QTest::newRow("id or key") << "m2"
                                   << "blue" << 100 << QStringList{"m1", "m1", "m2", "m3", "m2"};
        QTest::newRow("everything") << ""
                                    << "" << 100 << QStringList{"m1", "m1", "m2", "m3", "m4", "m2"};
        QTest::newRow("limit keeps the last recorded") << ""
                                                       << "" << 2 << QStringList{"m1", "m2"};
        QTest::newRow("no match") << "m9"
                                  << "green" << 100 << QStringList{};
    }
    void testTraceQueryMatchesIdOrKey() {
        QFETCH(QString, messageId);
        QFETCH(QString, key);
        QFETCH(int, limit);
        QFETCH(QStringList, expected);
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        // The last event is the earliest: results are ordered by time, then by arrival; the limit keeps the
        // events recorded last.
        catalog->appendTrace(broker::TraceBatch::of({
            traceEvent(kNow + 10, "m1", "blue"),
            traceEvent(kNow + 20, "m2", "red"),
            traceEvent(kNow + 30, "m3", "blue"),
            traceEvent(kNow + 30, "m4", ""),
            traceEvent(kNow + 40, "m2", "red", TraceKind::Acked),
        }));
        QVERIFY(catalog->appendTrace(traceEvent(kNow + 5, "m1", "blue", TraceKind::Delivered)));
        CHECK_OK(catalog->flush());
        Result<std::vector<TraceEvent>> events =
            catalog->queryTrace({messageId.toStdString(), key.toStdString(), size_t(limit)});
        QVERIFY(events.isOk());
        std::vector<std::string> ids = messageIds(*events);
        QStringList actual;
        for (const std::string& id : ids)
            actual << QString::fromStdString(id);
        QCOMPARE(actual, expected);
    }

    void testAuditQueryFiltersByTimeAndTarget() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        for (int i = 0; i < 6; ++i)
            catalog->appendAudit(
                {kNow + i, "alice", "purge", i % 2 ? "orders" : "billing", std::to_string(i), 0, true});
        CHECK_OK(catalog->flush());
        Result<std::vector<AuditEntry>> orders = catalog->queryAudit({kNow + 1, kNow + 3, "orders", 100});
        QVERIFY(orders.isOk());
        QCOMPARE(orders->size(), size_t(2));
        QCOMPARE((*orders)[0].detail, std::string("1"));
        QCOMPARE((*orders)[1].detail, std::string("3"));
        Result<std::vector<AuditEntry>> newest = catalog->queryAudit({0, INT64_MAX, "", 2});
        QVERIFY(newest.isOk());
        QCOMPARE(newest->size(), size_t(2));
        QCOMPARE((*newest)[0].detail, std::string("4"));
        QCOMPARE((*newest)[1].detail, std::string("5"));
    }

    void testTraceIsDroppedWhenWriterFallsBehindButAuditIsNot() {
        test::TempDir dir;
        CatalogOptions options;
        options.maxQueuedTrace = 0;  // the writer is always "too far behind"
        auto catalog = openCatalog(dir.file("catalog.db"), options);
        QVERIFY(catalog);
        QVERIFY(!catalog->appendTrace(traceEvent(kNow, "m1", "")));
        catalog->appendTrace(broker::TraceBatch::of({traceEvent(kNow, "m2", ""), traceEvent(kNow, "m3", "")}));
        for (int i = 0; i < 50; ++i)
            catalog->appendAudit({kNow + i, "alice", "purge", "orders", "", 0, true});
        catalog->appendMetrics({metricsSample(kNow, "", 0)});
        CHECK_OK(catalog->flush());
        QCOMPARE(catalog->droppedTrace(), uint64_t(3));
        QCOMPARE(catalog->queryTrace({})->size(), size_t(0));
        QCOMPARE(catalog->queryAudit({})->size(), size_t(50));
        QCOMPARE(catalog->queryMetrics("", 0, INT64_MAX)->size(), size_t(1));
    }

    // A batch the writer has written comes back, emptied, for the next events: its buffer is reused rather
    // than freed on the writer's thread and allocated again on the broker's. Its events are in history first.
    void testWrittenTraceBatchComesBackEmptyForReuse() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        broker::TraceBatch first =
            broker::TraceBatch::of({traceEvent(kNow, "m1", "k1"), traceEvent(kNow + 1, "m2", "k2")});
        const size_t bytes = first.bytes();
        broker::TraceBatch next = catalog->appendTrace(std::move(first));
        QVERIFY(next.empty());  // nothing written yet: a new batch
        CHECK_OK(catalog->flush());
        broker::TraceBatch reused = catalog->appendTrace(broker::TraceBatch::of({traceEvent(kNow + 2, "m3", "")}));
        QVERIFY(reused.empty());
        QVERIFY(reused.capacity() >= bytes);
        CHECK_OK(catalog->flush());
        Result<std::vector<TraceEvent>> trace = catalog->queryTrace({});
        QVERIFY(trace.isOk());
        QVERIFY((messageIds(*trace) == std::vector<std::string>{"m1", "m2", "m3"}));
    }

    void testTraceBatchBeyondTheQueueLimitIsCutAndCounted() {
        test::TempDir dir;
        CatalogOptions options;
        options.maxQueuedTrace = 3;
        auto catalog = openCatalog(dir.file("catalog.db"), options);
        QVERIFY(catalog);
        std::vector<TraceEvent> events;
        for (int i = 0; i < 10; ++i)
            events.push_back(traceEvent(kNow + i, "m" + std::to_string(i), ""));
        catalog->appendTrace(broker::TraceBatch::of(events));  // nothing else is queued: 3 fit, 7 are dropped
        CHECK_OK(catalog->flush());
        QCOMPARE(catalog->droppedTrace(), uint64_t(7));
        Result<std::vector<TraceEvent>> stored = catalog->queryTrace({});
        QVERIFY(stored.isOk());
        QVERIFY((messageIds(*stored) == std::vector<std::string>{"m0", "m1", "m2"}));
    }

    void testConcurrentAppendsDefinitionsAndQueriesAllLand() {
        test::TempDir dir;
        auto catalog = openCatalog(dir.file("catalog.db"));
        QVERIFY(catalog);
        constexpr int kThreads = 4;
        constexpr int kEach = 500;
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i) {
                    catalog->appendTrace(traceEvent(kNow + i, "t" + std::to_string(t), "k"));
                    catalog->appendAudit({kNow + i, "thread", "poke", "q" + std::to_string(t), "", 1, true});
                    if (i % 100 == 0)
                        (void)catalog->flush();
                }
            });
        }
        std::atomic<int> failures{0};
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                if (!catalog->insertQueue(queueInfo("queue" + std::to_string(i))).isOk())
                    ++failures;
                if (!catalog->queryTrace({"t0", "", 10}).isOk() || !catalog->queryAudit({}).isOk())
                    ++failures;
            }
        });
        for (std::thread& thread : threads)
            thread.join();
        CHECK_OK(catalog->flush());
        QCOMPARE(failures.load(), 0);
        QCOMPARE(catalog->droppedTrace(), uint64_t(0));
        QCOMPARE(catalog->queryTrace({"", "k", SIZE_MAX})->size(), size_t(kThreads * kEach));
        QCOMPARE(catalog->queryAudit({0, INT64_MAX, "", SIZE_MAX})->size(), size_t(kThreads * kEach));
        QCOMPARE(catalog->loadQueues()->size(), size_t(50));
    }

    void testPruneRemovesOldHistoryAndKeepsNew() {
        test::TempDir dir;
        CatalogOptions options;
        options.historyRetentionMs = 60'000;
        auto catalog = openCatalog(dir.file("catalog.db"), options);
        QVERIFY(catalog);
        const TimeMs now = kNow + 3'600'000;
        catalog->appendTrace(broker::TraceBatch::of({
            traceEvent(now - 60'001, "old", ""), traceEvent(now - 60'000, "edge", ""), traceEvent(now - 1, "new", "")}));
        catalog->appendMetrics({metricsSample(now - 120'000, "", 1), metricsSample(now - 30'000, "", 2)});
        catalog->appendAudit({now - 3'000'000, "alice", "purge", "orders", "", 0, true});
        catalog->prune(now);
        CHECK_OK(catalog->flush());
        Result<std::vector<TraceEvent>> trace = catalog->queryTrace({});
        QVERIFY(trace.isOk());
        QVERIFY((messageIds(*trace) == std::vector<std::string>{"edge", "new"}));
        Result<std::vector<MetricsSample>> metrics = catalog->queryMetrics("", 0, INT64_MAX);
        QVERIFY(metrics.isOk());
        QCOMPARE(metrics->size(), size_t(1));
        QCOMPARE(metrics->front().at, now - 30'000);
        QCOMPARE(catalog->queryAudit({})->size(), size_t(1));  // the audit log is not history: it is kept
    }

    void testPruneKeepsOnlyTheNewestTraceRows() {
        test::TempDir dir;
        CatalogOptions options;
        options.traceRetentionRows = 4;
        auto catalog = openCatalog(dir.file("catalog.db"), options);
        QVERIFY(catalog);
        for (int round = 0; round < 2; ++round) {
            for (int i = 0; i < 10; ++i)
                QVERIFY(
                    catalog->appendTrace(traceEvent(kNow + round * 10 + i, "r" + std::to_string(round * 10 + i), "")));
            CHECK_OK(catalog->flush());
            QCOMPARE(catalog->queryTrace({})->size(), size_t(round == 0 ? 10 : 14));  // retention acts on prune
            catalog->prune(kNow);
            CHECK_OK(catalog->flush());
            const int last = round * 10 + 9;
            std::vector<std::string> expected;
            for (int i = last - 3; i <= last; ++i)
                expected.push_back("r" + std::to_string(i));
            Result<std::vector<TraceEvent>> trace = catalog->queryTrace({});
            QVERIFY(trace.isOk());
            QVERIFY((messageIds(*trace) == expected));
        }
    }
};

QTEST_GUILESS_MAIN(TestCatalog)
#include "TestCatalog.moc"
