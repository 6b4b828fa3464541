#include "catalog/CatalogSchema.h"

#include <sqlite3.h>

#include <span>
#include <string_view>

#include "catalog/Catalog.h"

namespace depot::catalog {

namespace {

// Stamped into the header (PRAGMA application_id) so another program's SQLite file is told apart from ours.
constexpr int64_t kApplicationId = 0x44505431;         // "DPT1"
constexpr int64_t kHistoryApplicationId = 0x44504831;  // "DPH1"

struct Migration {
    int version;
    const char* sql;
};

// Append only: a released migration is never edited, a change is a new entry.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE queues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a deleted queue's id is never handed out again
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    policy TEXT NOT NULL,
    dead_letter_queue TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE TABLE exchanges (
    name TEXT NOT NULL PRIMARY KEY,
    type TEXT NOT NULL,
    alternate_queue TEXT NOT NULL DEFAULT ''
);
CREATE TABLE bindings (
    id INTEGER PRIMARY KEY,
    exchange TEXT NOT NULL,
    queue TEXT NOT NULL,
    pattern TEXT NOT NULL,
    UNIQUE (exchange, queue, pattern)
);
CREATE INDEX bindings_queue ON bindings (queue);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    count INTEGER NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_target_at ON audit (target, at);
CREATE TABLE trace (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    queue TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    key TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX trace_message_id ON trace (message_id);
CREATE INDEX trace_key ON trace (key);
CREATE INDEX trace_at ON trace (at);
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    queue TEXT NOT NULL,  -- '' for the broker-wide sample
    published INTEGER NOT NULL,
    confirmed INTEGER NOT NULL,
    nacked INTEGER NOT NULL,
    delivered INTEGER NOT NULL,
    redelivered INTEGER NOT NULL,
    acked INTEGER NOT NULL,
    retried INTEGER NOT NULL,
    dead_lettered INTEGER NOT NULL,
    expired INTEGER NOT NULL,
    deduplicated INTEGER NOT NULL,
    ready INTEGER NOT NULL,
    unacked INTEGER NOT NULL,
    delayed INTEGER NOT NULL,
    dead_letter_depth INTEGER NOT NULL,
    unflushed INTEGER NOT NULL,
    confirm_p50_us INTEGER NOT NULL,
    confirm_p99_us INTEGER NOT NULL,
    fsync_p50_us INTEGER NOT NULL,
    fsync_p99_us INTEGER NOT NULL
);
CREATE INDEX metrics_queue_at ON metrics (queue, at);
CREATE INDEX metrics_at ON metrics (at);
)sql"},
    // Trace queries link events recorded with only a queue and sequence to the message they belong to.
    {2, R"sql(
CREATE INDEX trace_queue_sequence ON trace (queue, sequence);
)sql"},
    // Broker-wide settings an operator changes at runtime (default flush, async flush interval).
    {3, R"sql(
CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
)sql"},
    // Most trace events carry no key, and settlements no message id: partial indexes leave those rows out, which
    // saves a B-tree insert per event on the publish path. Queries repeat each index's condition.
    {4, R"sql(
DROP INDEX trace_message_id;
DROP INDEX trace_key;
DROP INDEX trace_queue_sequence;
CREATE INDEX trace_message_id ON trace (message_id) WHERE message_id <> '';
CREATE INDEX trace_key ON trace (key) WHERE key <> '';
CREATE INDEX trace_queue_sequence ON trace (queue, sequence) WHERE queue <> '';
)sql"},
    // Trace events and metrics samples moved to their own file (kHistoryMigrations); prepareCatalogSchema copies
    // a catalog's rows there before this runs.
    {5, R"sql(
DROP TABLE trace;
DROP TABLE metrics;
)sql"},
};

// The history file: trace events and metrics samples, never synced (docs/storage-format.md "Directory").
// Trace rows are found by id, key or (queue, sequence), and ordered and pruned by rowid, which grows with time:
// no index on `at`, one B-tree insert fewer per event.
constexpr Migration kHistoryMigrations[] = {
    {1, R"sql(
CREATE TABLE trace (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    queue TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    key TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX trace_message_id ON trace (message_id) WHERE message_id <> '';
CREATE INDEX trace_key ON trace (key) WHERE key <> '';
CREATE INDEX trace_queue_sequence ON trace (queue, sequence) WHERE queue <> '';
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    queue TEXT NOT NULL,  -- '' for the broker-wide sample
    published INTEGER NOT NULL,
    confirmed INTEGER NOT NULL,
    nacked INTEGER NOT NULL,
    delivered INTEGER NOT NULL,
    redelivered INTEGER NOT NULL,
    acked INTEGER NOT NULL,
    retried INTEGER NOT NULL,
    dead_lettered INTEGER NOT NULL,
    expired INTEGER NOT NULL,
    deduplicated INTEGER NOT NULL,
    ready INTEGER NOT NULL,
    unacked INTEGER NOT NULL,
    delayed INTEGER NOT NULL,
    dead_letter_depth INTEGER NOT NULL,
    unflushed INTEGER NOT NULL,
    confirm_p50_us INTEGER NOT NULL,
    confirm_p99_us INTEGER NOT NULL,
    fsync_p50_us INTEGER NOT NULL,
    fsync_p99_us INTEGER NOT NULL
);
CREATE INDEX metrics_queue_at ON metrics (queue, at);
CREATE INDEX metrics_at ON metrics (at);
)sql"},
    // Only a row without a message id is ever looked up by (queue, sequence) (Catalog::queryTrace links it to
    // the rows naming its message); a published or delivered row is found by its id. One B-tree insert fewer
    // for each of those.
    {2, R"sql(
DROP INDEX trace_queue_sequence;
CREATE INDEX trace_linked ON trace (queue, sequence) WHERE queue <> '' AND message_id = '';
)sql"},
    // A published or delivered event and the one that follows it (flushed, confirmed, acked) may share a row
    // (TraceRows.h): the follow-up's time, as ms after the row's `at`, and its detail. NULL in every other row.
    // Adding a column rewrites no row.
    {3, R"sql(
ALTER TABLE trace ADD COLUMN followup_after INTEGER;
ALTER TABLE trace ADD COLUMN followup_detail TEXT;
)sql"},
};

// The columns both schemas' trace and metrics tables have, for moving a catalog's history (version < 5).
constexpr const char* kTraceColumns = "id, at, kind, queue, sequence, message_id, key, detail";
constexpr const char* kMetricsColumns =
    "id, at, queue, published, confirmed, nacked, delivered, redelivered, acked, retried, dead_lettered, expired, "
    "deduplicated, ready, unacked, delayed, dead_letter_depth, unflushed, confirm_p50_us, confirm_p99_us, "
    "fsync_p50_us, fsync_p99_us";
constexpr int64_t kFirstCatalogWithoutHistory = 5;

struct Schema {
    const char* noun;  // in messages: "not a Depot catalog"
    int64_t applicationId;
    std::span<const Migration> migrations;
    const char* synchronous;  // PRAGMA synchronous value
    int64_t pageSize;         // bytes; 0: SQLite's default
    int64_t cacheKiB;         // the connection's page cache; 0: SQLite's default (2000 KiB)
};

const Schema kCatalogSchema{"catalog", kApplicationId, kMigrations, "FULL", 0, 0};
// Trace and metrics are history, not promises: a power cut may lose the last of them (or damage the file,
// which Catalog::open then sets aside). Never syncing keeps their writes off the commit log's disk queue.
// Its rows arrive by the hundred thousand a second, and SQLite spends two system calls on every page a commit
// writes to the WAL and two more copying it back at a checkpoint: 16 KiB pages instead of 4 KiB cut the
// history thread's system calls by about three quarters (docs/benchmarks.md "The history file's pages"). Its
// writes touch only the right edges of the table and indexes, so a small page cache serves them as well as the
// default 2000 KiB, which with 16 KiB pages filled up and cost a broker with a backlog 6 B per queued message.
const Schema kHistorySchema{"history file", kHistoryApplicationId, kHistoryMigrations, "OFF", 16384, 512};

static_assert(std::size(kMigrations) > 0 && kMigrations[std::size(kMigrations) - 1].version == Catalog::kSchemaVersion,
              "the last migration defines Catalog::kSchemaVersion");
static_assert(kMigrations[std::size(kMigrations) - 1].version >= kFirstCatalogWithoutHistory);

int64_t latestVersion(const Schema& schema) { return schema.migrations.back().version; }

Status notOurs(const Schema& schema, const std::string& path, std::string_view why) {
    return Status::corruption(path + " is not a Depot " + schema.noun + " (" + std::string(why) + ")");
}

// Reads the header fields without writing anything, so a file we refuse is left exactly as it was.
Result<int64_t> checkIdentity(SqliteDb& db, const Schema& schema, const std::string& path) {
    Result<int64_t> version = db.queryInt64("PRAGMA user_version", "read schema version of " + path);
    if (!version) {
        if ((sqlite3_extended_errcode(db.handle()) & 0xff) == SQLITE_NOTADB)
            return notOurs(schema, path, "not an SQLite database");
        return version.status();
    }
    if (*version > latestVersion(schema))
        return Status::corruption(path + ": " + schema.noun + " schema version " + std::to_string(*version) +
                                  " is newer than this build (" + std::to_string(latestVersion(schema)) + ")");
    Result<int64_t> applicationId = db.queryInt64("PRAGMA application_id", "read application id of " + path);
    if (!applicationId)
        return applicationId.status();
    if (*applicationId != 0 && *applicationId != schema.applicationId)
        return notOurs(schema, path, "SQLite database of another application or kind");
    if (*version == 0) {
        Result<int64_t> objects = db.queryInt64("SELECT count(*) FROM sqlite_master", "read schema of " + path);
        if (!objects)
            return objects.status();
        if (*objects > 0)
            return notOurs(schema, path, "SQLite database with tables but no schema version");
    }
    return version;
}

// Gives the file the schema's page size: a new file at once, an existing one (earlier builds made 4 KiB pages)
// by a VACUUM, which SQLite allows only outside WAL mode. Best effort and silent: a file another connection has
// open cannot leave WAL mode, and keeps its pages until a later start finds it alone; either size works.
void usePageSize(SqliteDb& db, const Schema& schema, const std::string& path) {
    if (schema.pageSize == 0)
        return;
    const std::string what = "set the page size of " + path;
    Result<int64_t> current = db.queryInt64("PRAGMA page_size", what);
    if (!current || *current == schema.pageSize)
        return;
    const std::string set = "PRAGMA page_size=" + std::to_string(schema.pageSize);
    Result<int64_t> pages = db.queryInt64("PRAGMA page_count", what);
    if (!pages)
        return;
    if (*pages == 0) {
        (void)db.exec(set.c_str(), what);
        return;
    }
    // Leaving WAL mode waits for the other connections: not for the usual 5 s when one keeps the file open.
    sqlite3_busy_timeout(db.handle(), 0);
    Result<std::string> mode = db.queryText("PRAGMA journal_mode=DELETE", what);
    if (mode && *mode == "delete" && db.exec(set.c_str(), what).isOk())
        (void)db.exec("VACUUM", what);
    sqlite3_busy_timeout(db.handle(), SqliteDb::kBusyTimeoutMs);
}

Status configure(SqliteDb& db, const Schema& schema, const std::string& path) {
    usePageSize(db, schema, path);
    Result<std::string> mode = db.queryText("PRAGMA journal_mode=WAL", "switch " + path + " to WAL");
    if (!mode)
        return mode.status();
    if (*mode != "wal")
        return Status::ioError("switch " + path + " to WAL: SQLite kept journal mode '" + *mode + "'");
    std::string synchronous = std::string("PRAGMA synchronous=") + schema.synchronous;
    DEPOT_RETURN_IF_ERROR(db.exec(synchronous.c_str(), "set synchronous on " + path));
    if (schema.cacheKiB != 0) {
        const std::string cache = "PRAGMA cache_size=-" + std::to_string(schema.cacheKiB);
        DEPOT_RETURN_IF_ERROR(db.exec(cache.c_str(), "set the page cache size on " + path));
    }
    return db.exec("PRAGMA foreign_keys=ON", "enable foreign keys on " + path);
}

Status migrate(SqliteDb& db, const Schema& schema, const std::string& path, int64_t from, int64_t to) {
    for (const Migration& migration : schema.migrations) {
        if (migration.version <= from || migration.version > to)
            continue;
        std::string what = "migrate " + path + " to schema version " + std::to_string(migration.version);
        Result<SqliteTransaction> transaction = SqliteTransaction::begin(db, what);
        if (!transaction)
            return transaction.status();
        // Another process may have migrated the file between our first look and taking the write lock.
        Result<int64_t> current = db.queryInt64("PRAGMA user_version", what);
        if (!current)
            return current.status();
        if (*current >= migration.version)
            continue;
        DEPOT_RETURN_IF_ERROR(db.exec(migration.sql, what));
        std::string stamp = "PRAGMA user_version=" + std::to_string(migration.version) +
                            "; PRAGMA application_id=" + std::to_string(schema.applicationId);
        DEPOT_RETURN_IF_ERROR(db.exec(stamp.c_str(), what));
        DEPOT_RETURN_IF_ERROR(transaction->commit());
    }
    return Status::ok();
}

// Copies a version 1-4 catalog's trace and metrics rows into the history file, replacing what it holds, in one
// transaction through an attached connection. The catalog drops its tables only afterwards (migration 5), so a
// crash in between copies them again on the next start rather than losing them.
Status copyHistory(SqliteDb& db, const std::string& path, const std::string& historyPath) {
    const std::string what = "move trace and metrics history from " + path + " to " + historyPath;
    Result<SqliteStatement> attach = db.prepare("ATTACH DATABASE ? AS history", what);
    if (!attach)
        return attach.status();
    DEPOT_RETURN_IF_ERROR(attach->bindAll(historyPath));
    DEPOT_RETURN_IF_ERROR(attach->run());
    Status copied = [&]() -> Status {
        Result<SqliteTransaction> transaction = SqliteTransaction::begin(db, what);
        if (!transaction)
            return transaction.status();
        const std::string sql = std::string("DELETE FROM history.trace; DELETE FROM history.metrics; ") +
                                "INSERT INTO history.trace (" + kTraceColumns + ") SELECT " + kTraceColumns +
                                " FROM main.trace; INSERT INTO history.metrics (" + kMetricsColumns + ") SELECT " +
                                kMetricsColumns + " FROM main.metrics;";
        DEPOT_RETURN_IF_ERROR(db.exec(sql.c_str(), what));
        return transaction->commit();
    }();
    Status detached = db.exec("DETACH DATABASE history", what);
    return copied.isOk() ? detached : copied;
}

// Checks the file is ours and no newer than this build, and configures the connection: its schema version.
Result<int64_t> ready(SqliteDb& db, const Schema& schema, const std::string& path) {
    Result<int64_t> version = checkIdentity(db, schema, path);
    if (!version)
        return version.status();
    DEPOT_RETURN_IF_ERROR(configure(db, schema, path));
    return version;
}

}  // namespace

Status prepareCatalogSchema(SqliteDb& db, const std::string& path, const std::string& historyPath) {
    Result<int64_t> version = ready(db, kCatalogSchema, path);
    if (!version)
        return version.status();
    const bool holdsHistory = *version > 0 && *version < kFirstCatalogWithoutHistory;
    if (holdsHistory)
        DEPOT_RETURN_IF_ERROR(copyHistory(db, path, historyPath));
    DEPOT_RETURN_IF_ERROR(migrate(db, kCatalogSchema, path, *version, latestVersion(kCatalogSchema)));
    // The dropped tables' pages would otherwise stay in the file as free pages for good.
    return holdsHistory ? db.exec("VACUUM", "compact " + path + " after moving its history out") : Status::ok();
}

Status prepareHistorySchema(SqliteDb& db, const std::string& path) {
    Result<int64_t> version = ready(db, kHistorySchema, path);
    if (!version)
        return version.status();
    return migrate(db, kHistorySchema, path, *version, latestVersion(kHistorySchema));
}

Status createOlderCatalogSchema(SqliteDb& db, const std::string& path, int version) {
    DEPOT_RETURN_IF_ERROR(configure(db, kCatalogSchema, path));
    return migrate(db, kCatalogSchema, path, 0, version);
}

Status createOlderHistorySchema(SqliteDb& db, const std::string& path, int version) {
    DEPOT_RETURN_IF_ERROR(configure(db, kHistorySchema, path));
    return migrate(db, kHistorySchema, path, 0, version);
}

}  // namespace depot::catalog
