#include "catalog/CatalogWriter.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <limits>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "common/ThreadName.h"
#include "depot/Heap.h"

namespace depot::catalog {

struct CatalogWriter::Statements {
    SqliteStatement insertTrace;
    SqliteStatement insertAudit;
    SqliteStatement insertMetrics;
    SqliteStatement pruneTraceByAge;
    SqliteStatement pruneTraceByCount;
    SqliteStatement pruneMetricsByAge;
};

namespace {

Status prepareInto(SqliteDb& db, SqliteStatement& into, std::string_view sql, std::string what) {
    Result<SqliteStatement> statement = db.prepare(sql, std::move(what));
    if (!statement)
        return statement.status();
    into = std::move(*statement);
    return Status::ok();
}

}  // namespace

CatalogWriter::CatalogWriter(Kind kind, SqliteDb& db, std::mutex& dbMutex, CatalogOptions options)
    : m_kind(kind), m_db(db), m_dbMutex(dbMutex), m_options(options) {}

CatalogWriter::~CatalogWriter() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
    if (m_thread.joinable())
        m_thread.join();
}

Status CatalogWriter::start() {
    try {
        m_thread = std::thread([this] {
            nameThisThread(m_kind == Kind::History ? "depot-history" : "depot-audit");
            run();
        });
    } catch (const std::system_error& e) {
        return Status::unavailable(std::string("start the catalog writer thread: ") + e.what());
    }
    return Status::ok();
}

void CatalogWriter::queued() {
    ++m_queuedGeneration;
    if (m_idle)
        m_wake.notify_one();
}

bool CatalogWriter::appendTrace(const broker::TraceEvent& event) {
    std::lock_guard lock(m_mutex);
    if (m_pending.traceCount >= m_options.maxQueuedTrace) {
        m_dropped.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    ++m_pending.traceCount;
    m_pending.trace.emplace_back().add(event);
    queued();
    return true;
}

broker::TraceBatch CatalogWriter::appendTrace(broker::TraceBatch events) {
    std::lock_guard lock(m_mutex);
    broker::TraceBatch next;
    if (!m_spareTrace.empty()) {
        next = std::move(m_spareTrace.back());
        m_spareTrace.pop_back();
    }
    if (events.empty())
        return next;
    size_t room = m_options.maxQueuedTrace - std::min(m_options.maxQueuedTrace, m_pending.traceCount);
    if (events.size() > room) {
        m_dropped.fetch_add(events.size() - room, std::memory_order_relaxed);
        events.truncate(room);
    }
    if (events.empty())
        return next;
    m_pending.traceCount += events.size();
    m_pending.trace.push_back(std::move(events));
    queued();
    return next;
}

void CatalogWriter::appendAudit(broker::AuditEntry entry) {
    std::lock_guard lock(m_mutex);
    m_pending.audit.push_back(std::move(entry));
    queued();
}

void CatalogWriter::appendMetrics(std::vector<broker::MetricsSample> samples) {
    if (samples.empty())
        return;
    std::lock_guard lock(m_mutex);
    std::move(samples.begin(), samples.end(), std::back_inserter(m_pending.metrics));
    queued();
}

void CatalogWriter::prune(broker::TimeMs now) {
    std::lock_guard lock(m_mutex);
    m_pending.pruneAt = std::max(now, m_pending.pruneAt.value_or(now));
    queued();
}

Status CatalogWriter::flush() {
    std::unique_lock lock(m_mutex);
    uint64_t target = m_queuedGeneration;
    ++m_flushWaiters;
    m_wake.notify_one();
    m_committed.wait(lock, [&] { return m_writtenGeneration >= target || !m_thread.joinable(); });
    --m_flushWaiters;
    if (m_writtenGeneration < target)
        return Status::closed("catalog writer is not running");
    return m_firstError;
}

void CatalogWriter::run() {
    std::unique_ptr<Statements> statements;
    std::unique_lock lock(m_mutex);
    auto lastCommit = std::chrono::steady_clock::now() - kMinCommitInterval;
    size_t sinceTrim = 0;  // trace events written since the heap was last trimmed
    for (;;) {
        // Caught up after a burst: hand the memory its events took back, or the process keeps the burst's peak
        // size for good (glibc and tcmalloc keep freed heap). Not while events keep coming: the next burst reuses it.
        if (m_pending.empty() && sinceTrim >= kTrimAfterEvents) {
            lock.unlock();
            m_rowPlanner.release();
            releaseFreeHeap();
            lock.lock();
            sinceTrim = 0;
            if (m_stopping || !m_pending.empty())
                continue;
        }
        m_idle = true;
        m_wake.wait(lock, [&] { return m_stopping || !m_pending.empty(); });
        m_idle = false;
        if (m_pending.empty())
            break;  // stopping, and everything queued has been written
        // Gathers a busy broker's events into fewer, larger transactions; someone waiting in flush() is not kept.
        m_wake.wait_until(lock, lastCommit + kMinCommitInterval, [&] { return m_stopping || m_flushWaiters > 0; });
        lastCommit = std::chrono::steady_clock::now();
        Batch batch = std::exchange(m_pending, Batch{});
        uint64_t generation = m_queuedGeneration;
        lock.unlock();
        Status status = write(batch, statements);
        sinceTrim += batch.traceCount;
        std::vector<broker::TraceBatch> spares;  // written: emptied here, filled again by the broker thread
        for (broker::TraceBatch& written : batch.trace) {
            if (spares.size() == kSpareTraceBatches || written.capacity() > kSpareTraceBytes)
                continue;
            written.clear();
            spares.push_back(std::move(written));
        }
        batch = Batch{};  // freed outside the lock: the broker thread appends meanwhile
        lock.lock();
        for (broker::TraceBatch& spare : spares)
            if (m_spareTrace.size() < kSpareTraceBatches)
                m_spareTrace.push_back(std::move(spare));
        if (!status.isOk() && m_firstError.isOk())
            m_firstError = std::move(status);
        m_writtenGeneration = generation;
        m_committed.notify_all();
    }
    lock.unlock();
    // Finalizing touches the connection, which definitions may be using on another thread.
    std::lock_guard dbLock(m_dbMutex);
    statements.reset();
}

Status CatalogWriter::write(const Batch& batch, std::unique_ptr<Statements>& statements) {
    std::lock_guard lock(m_dbMutex);
    if (!statements) {
        // Prepared on first use rather than in start(), so a failure is retried with the next batch.
        Result<std::unique_ptr<Statements>> prepared = prepareStatements(m_db, m_kind);
        if (!prepared)
            return prepared.status();
        statements = std::move(*prepared);
    }
    return writeTransaction(batch, *statements);
}

Status CatalogWriter::writeTransaction(const Batch& batch, Statements& statements) {
    Result<SqliteTransaction> transaction =
        SqliteTransaction::begin(m_db, m_kind == Kind::History ? "write history batch" : "write audit batch");
    if (!transaction)
        return transaction.status();
    DEPOT_RETURN_IF_ERROR(insertAll(batch, statements));
    if (batch.pruneAt)
        DEPOT_RETURN_IF_ERROR(pruneOlder(*batch.pruneAt, statements));
    return transaction->commit();
}

Status CatalogWriter::insertAll(const Batch& batch, Statements& statements) {
    SqliteStatement& trace = statements.insertTrace;
    size_t rows = 0;
    for (const TraceRow& row : m_rowPlanner.plan(batch.trace)) {
        if (++rows % kRowsBetweenYields == 0)
            std::this_thread::yield();
        const broker::TraceEventView& e = row.event;
        DEPOT_RETURN_IF_ERROR(
            trace.bindAllUncopied(e.at, row.kind, e.queue, e.sequence, e.messageId, e.key, e.detail));
        if (row.followed) {
            DEPOT_RETURN_IF_ERROR(trace.bind(8, row.followUpAt - e.at));
            DEPOT_RETURN_IF_ERROR(trace.bindUncopied(9, row.followUpDetail));
        } else {
            DEPOT_RETURN_IF_ERROR(trace.bindNull(8));
            DEPOT_RETURN_IF_ERROR(trace.bindNull(9));
        }
        DEPOT_RETURN_IF_ERROR(trace.run());
    }
    SqliteStatement& audit = statements.insertAudit;
    for (const broker::AuditEntry& a : batch.audit) {
        DEPOT_RETURN_IF_ERROR(audit.bindAll(a.at, a.actor, a.action, a.target, a.detail, a.count, a.ok));
        DEPOT_RETURN_IF_ERROR(audit.run());
    }
    SqliteStatement& metrics = statements.insertMetrics;
    for (const broker::MetricsSample& m : batch.metrics) {
        const broker::Counters& c = m.counters;
        DEPOT_RETURN_IF_ERROR(metrics.bindAll(m.at, m.queue, c.published, c.confirmed, c.nacked, c.delivered,
                                              c.redelivered, c.acked, c.retried, c.deadLettered, c.expired,
                                              c.deduplicated, m.ready, m.unacked, m.delayed, m.deadLetterDepth,
                                              m.unflushed, m.confirmP50Us, m.confirmP99Us, m.fsyncP50Us, m.fsyncP99Us));
        DEPOT_RETURN_IF_ERROR(metrics.run());
    }
    return Status::ok();
}

Status CatalogWriter::pruneOlder(broker::TimeMs now, Statements& statements) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    int64_t retention = std::max<int64_t>(m_options.historyRetentionMs, 0);
    int64_t cutoff = now < kMin + retention ? kMin : now - retention;
    int64_t rows = int64_t(std::min<uint64_t>(m_options.traceRetentionRows, uint64_t(kMax)));
    DEPOT_RETURN_IF_ERROR(statements.pruneTraceByAge.bindAll(cutoff));
    DEPOT_RETURN_IF_ERROR(statements.pruneTraceByAge.run());
    DEPOT_RETURN_IF_ERROR(statements.pruneTraceByCount.bindAll(rows));
    DEPOT_RETURN_IF_ERROR(statements.pruneTraceByCount.run());
    DEPOT_RETURN_IF_ERROR(statements.pruneMetricsByAge.bindAll(cutoff));
    return statements.pruneMetricsByAge.run();
}

Result<std::unique_ptr<CatalogWriter::Statements>> CatalogWriter::prepareStatements(SqliteDb& db, Kind kind) {
    auto s = std::make_unique<CatalogWriter::Statements>();
    if (kind == Kind::Audit) {
        DEPOT_RETURN_IF_ERROR(
            prepareInto(db, s->insertAudit,
                        "INSERT INTO audit (at, actor, action, target, detail, count, ok) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        "insert audit entry"));
        return s;
    }
    DEPOT_RETURN_IF_ERROR(prepareInto(
        db, s->insertTrace,
        "INSERT INTO trace (at, kind, queue, sequence, message_id, key, detail, followup_after, followup_detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "insert trace event"));
    DEPOT_RETURN_IF_ERROR(prepareInto(
        db, s->insertMetrics,
        "INSERT INTO metrics (at, queue, published, confirmed, nacked, delivered, redelivered, acked, retried, "
        "dead_lettered, expired, deduplicated, ready, unacked, delayed, dead_letter_depth, unflushed, "
        "confirm_p50_us, confirm_p99_us, fsync_p50_us, fsync_p99_us) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "insert metrics sample"));
    // Rowids follow time (no index on `at`): everything before the first row that is new enough goes, found by
    // reading just the rows that are deleted anyway. With none new enough, all go.
    DEPOT_RETURN_IF_ERROR(prepareInto(db, s->pruneTraceByAge,
                                      "DELETE FROM trace WHERE id < coalesce((SELECT id FROM trace WHERE at >= ?1 "
                                      "ORDER BY id LIMIT 1), (SELECT max(id) FROM trace) + 1)",
                                      "prune trace events by age"));
    // Rowids grow with insertion, so the newest N rows are the ones within N of the largest rowid. Gaps left by
    // pruning by age only make this keep fewer, never more, than N.
    DEPOT_RETURN_IF_ERROR(prepareInto(db, s->pruneTraceByCount,
                                      "DELETE FROM trace WHERE id <= (SELECT max(id) FROM trace) - ?",
                                      "prune trace events beyond the retained row count"));
    DEPOT_RETURN_IF_ERROR(
        prepareInto(db, s->pruneMetricsByAge, "DELETE FROM metrics WHERE at < ?", "prune metrics history"));
    return s;
}

}  // namespace depot::catalog
