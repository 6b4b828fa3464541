// History queries: trace and metrics from the history file, audit from the catalog, each read through its file's
// read-only connection so they never wait behind the writer threads' batches.
#include <algorithm>
#include <cstddef>
#include <iterator>
#include <limits>
#include <optional>
#include <string>

#include "catalog/Catalog.h"
#include "catalog/CatalogImpl.h"
#include "catalog/TraceRows.h"

namespace depot::catalog {

using broker::AuditEntry;
using broker::MetricsSample;
using broker::TraceEvent;

namespace {

// SQLite's LIMIT takes an int64; a negative one means no limit, which is what SIZE_MAX asks for.
int64_t sqlLimit(size_t limit) { return limit > size_t(std::numeric_limits<int64_t>::max()) ? -1 : int64_t(limit); }

// Steps `statement` to the end, converting each row with `fromRow` (which returns Result<T>).
template <typename T, typename FromRow>
Result<std::vector<T>> collect(SqliteStatement& statement, FromRow fromRow) {
    std::vector<T> rows;
    for (;;) {
        Result<bool> row = statement.step();
        if (!row)
            return row.status();
        if (!*row)
            return rows;
        Result<T> value = fromRow(statement);
        if (!value)
            return value.status();
        rows.push_back(std::move(*value));
    }
}

// The events of one row: one, or more for a row joining them (TraceRows.h).
Result<std::vector<TraceEvent>> traceFromRow(const SqliteStatement& row) {
    TraceEvent first{row.int64At(0),   broker::TraceKind::Published, row.textAt(2), uint64_t(row.int64At(3)),
                     row.textAt(4), row.textAt(5),                 row.textAt(6)};
    std::optional<int64_t> followUpAfter;
    std::optional<std::string> followUpDetail;
    if (!row.isNullAt(7))
        followUpAfter = row.int64At(7);
    if (!row.isNullAt(8))
        followUpDetail = row.textAt(8);
    return traceEventsOfRow(std::move(first), row.textAt(1), followUpAfter, std::move(followUpDetail));
}

Result<AuditEntry> auditFromRow(const SqliteStatement& row) {
    return AuditEntry{row.int64At(0),           row.textAt(1),      row.textAt(2), row.textAt(3), row.textAt(4),
                      uint64_t(row.int64At(5)), row.int64At(6) != 0};
}

Result<MetricsSample> metricsFromRow(const SqliteStatement& row) {
    MetricsSample m;
    int column = 0;
    auto next = [&] { return uint64_t(row.int64At(column++)); };
    m.at = row.int64At(column++);
    m.queue = row.textAt(column++);
    broker::Counters& c = m.counters;
    for (uint64_t* field :
         {&c.published, &c.confirmed, &c.nacked, &c.delivered, &c.redelivered, &c.acked, &c.retried, &c.deadLettered,
          &c.expired, &c.deduplicated, &m.ready, &m.unacked, &m.delayed, &m.deadLetterDepth, &m.unflushed,
          &m.confirmP50Us, &m.confirmP99Us, &m.fsyncP50Us, &m.fsyncP99Us})
        *field = next();
    return m;
}

}  // namespace

Result<SqliteDb*> CatalogFile::reader() {
    if (!readDb) {
        Result<SqliteDb> opened = SqliteDb::open(path, SqliteDb::Mode::ReadOnly);
        if (!opened)
            return opened.status();
        readDb = std::move(*opened);
    }
    return &*readDb;
}

// The last `limit` matches recorded, returned oldest first: the inner query picks them, the outer one orders them.
// The broker records some events (acked, rejected, retry-scheduled, deleted) with only the queue and sequence
// that identify the message, so an event without a message id also matches when its (queue, sequence) is
// that of an event matching the id or key. Events without a queue (publish refusals, transaction events)
// carry no usable sequence and never link others. The unary + keeps SQLite from reading every id-less event
// through the message_id index: the (queue, sequence) index finds the linked ones directly.
Result<std::vector<TraceEvent>> Catalog::queryTrace(const broker::TraceQuery& query) {
    std::string match;
    // Each condition repeats its partial index's own (`<> ''`), or SQLite would not use the index.
    const std::string byId = "(message_id = ?1 AND message_id <> '')", byKey = "(key = ?2 AND key <> '')";
    if (!query.messageId.empty() && !query.key.empty())
        match = "(" + byId + " OR " + byKey + ")";
    else if (!query.messageId.empty())
        match = byId;
    else if (!query.key.empty())
        match = byKey;
    std::string where;
    if (!match.empty()) {
        std::string linking = "SELECT queue, sequence FROM trace WHERE " + match + " AND queue <> ''";
        // Spelled as trace_linked's own condition, so SQLite uses that index.
        where = "WHERE " + match + " OR (queue <> '' AND message_id = '' AND (queue, sequence) IN (" + linking + "))";
    }
    // The limit keeps the events recorded last (rowid: no index on `at` to keep up), shown in time order.
    std::string sql =
        "SELECT at, kind, queue, sequence, message_id, key, detail, followup_after, followup_detail FROM (SELECT * "
        "FROM trace " +
        where + " ORDER BY id DESC LIMIT ?3) ORDER BY at, id";
    std::lock_guard lock(m_impl->history.readMutex);
    Result<SqliteDb*> db = m_impl->history.reader();
    if (!db)
        return db.status();
    Result<SqliteStatement> statement = (*db)->prepare(sql, "query trace events");
    if (!statement)
        return statement.status();
    DEPOT_RETURN_IF_ERROR(statement->bindAll(query.messageId, query.key, sqlLimit(query.limit)));
    Result<std::vector<std::vector<TraceEvent>>> rows = collect<std::vector<TraceEvent>>(*statement, traceFromRow);
    if (!rows)
        return rows.status();
    std::vector<TraceEvent> events;
    for (std::vector<TraceEvent>& row : *rows)
        std::move(row.begin(), row.end(), std::back_inserter(events));
    // A row's second event may be later than the rows after it (an ack settles its delivery some ms on).
    std::stable_sort(events.begin(), events.end(),
                     [](const TraceEvent& a, const TraceEvent& b) { return a.at < b.at; });
    // A row holding two events may have taken the limit past: the oldest go.
    if (events.size() > query.limit)
        events.erase(events.begin(), events.end() - ptrdiff_t(query.limit));
    return events;
}

Result<std::vector<AuditEntry>> Catalog::queryAudit(const broker::AuditQuery& query) {
    std::string where = query.target.empty() ? "WHERE at >= ?1 AND at <= ?2"
                                             : "WHERE at >= ?1 AND at <= ?2 "
                                               "AND target = ?3";
    std::string sql = "SELECT at, actor, action, target, detail, count, ok FROM (SELECT * FROM audit " + where +
                      " ORDER BY at DESC, id DESC LIMIT ?4) ORDER BY at, id";
    std::lock_guard lock(m_impl->catalog.readMutex);
    Result<SqliteDb*> db = m_impl->catalog.reader();
    if (!db)
        return db.status();
    Result<SqliteStatement> statement = (*db)->prepare(sql, "query audit log");
    if (!statement)
        return statement.status();
    DEPOT_RETURN_IF_ERROR(statement->bindAll(query.from, query.to, query.target, sqlLimit(query.limit)));
    return collect<AuditEntry>(*statement, auditFromRow);
}

Result<std::vector<MetricsSample>> Catalog::queryMetrics(const std::string& queue, broker::TimeMs from,
                                                         broker::TimeMs to) {
    std::lock_guard lock(m_impl->history.readMutex);
    Result<SqliteDb*> db = m_impl->history.reader();
    if (!db)
        return db.status();
    Result<SqliteStatement> statement = (*db)->prepare(
        "SELECT at, queue, published, confirmed, nacked, delivered, redelivered, acked, retried, dead_lettered, "
        "expired, deduplicated, ready, unacked, delayed, dead_letter_depth, unflushed, confirm_p50_us, "
        "confirm_p99_us, fsync_p50_us, fsync_p99_us FROM metrics WHERE queue = ? AND at >= ? AND at <= ? "
        "ORDER BY at, id",
        "query metrics history of " + (queue.empty() ? std::string("the broker") : "queue '" + queue + "'"));
    if (!statement)
        return statement.status();
    DEPOT_RETURN_IF_ERROR(statement->bindAll(queue, from, to));
    return collect<MetricsSample>(*statement, metricsFromRow);
}

}  // namespace depot::catalog
