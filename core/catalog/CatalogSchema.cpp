#include "catalog/CatalogSchema.h"

#include <sqlite3.h>

#include <string_view>

#include "catalog/Catalog.h"

namespace depot::catalog {

namespace {

// Stamped into the header (PRAGMA application_id) so another program's SQLite file is told apart from ours.
constexpr int64_t kApplicationId = 0x44505431;  // "DPT1"

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
};

static_assert(std::size(kMigrations) > 0 && kMigrations[std::size(kMigrations) - 1].version == Catalog::kSchemaVersion,
              "the last migration defines Catalog::kSchemaVersion");

Status notACatalog(const std::string& path, std::string_view why) {
    return Status::corruption(path + " is not a Depot catalog (" + std::string(why) + ")");
}

// Reads the header fields without writing anything, so a file we refuse is left exactly as it was.
Result<int64_t> checkIdentity(SqliteDb& db, const std::string& path) {
    Result<int64_t> version = db.queryInt64("PRAGMA user_version", "read catalog schema version of " + path);
    if (!version) {
        if ((sqlite3_extended_errcode(db.handle()) & 0xff) == SQLITE_NOTADB)
            return notACatalog(path, "not an SQLite database");
        return version.status();
    }
    if (*version > Catalog::kSchemaVersion)
        return Status::corruption(path + ": catalog schema version " + std::to_string(*version) +
                                  " is newer than this build (" + std::to_string(Catalog::kSchemaVersion) + ")");
    Result<int64_t> applicationId = db.queryInt64("PRAGMA application_id", "read application id of " + path);
    if (!applicationId)
        return applicationId.status();
    if (*applicationId != 0 && *applicationId != kApplicationId)
        return notACatalog(path, "SQLite database of another application");
    if (*version == 0) {
        Result<int64_t> objects = db.queryInt64("SELECT count(*) FROM sqlite_master", "read schema of " + path);
        if (!objects)
            return objects.status();
        if (*objects > 0)
            return notACatalog(path, "SQLite database with tables but no catalog schema version");
    }
    return version;
}

Status configure(SqliteDb& db, const std::string& path) {
    Result<std::string> mode = db.queryText("PRAGMA journal_mode=WAL", "switch " + path + " to WAL");
    if (!mode)
        return mode.status();
    if (*mode != "wal")
        return Status::ioError("switch " + path + " to WAL: SQLite kept journal mode '" + *mode + "'");
    DEPOT_RETURN_IF_ERROR(db.exec("PRAGMA synchronous=FULL", "set synchronous=FULL on " + path));
    return db.exec("PRAGMA foreign_keys=ON", "enable foreign keys on " + path);
}

Status migrate(SqliteDb& db, const std::string& path, int64_t from) {
    for (const Migration& migration : kMigrations) {
        if (migration.version <= from)
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
                            "; PRAGMA application_id=" + std::to_string(kApplicationId);
        DEPOT_RETURN_IF_ERROR(db.exec(stamp.c_str(), what));
        DEPOT_RETURN_IF_ERROR(transaction->commit());
    }
    return Status::ok();
}

}  // namespace

Status prepareCatalogSchema(SqliteDb& db, const std::string& path) {
    Result<int64_t> version = checkIdentity(db, path);
    if (!version)
        return version.status();
    DEPOT_RETURN_IF_ERROR(configure(db, path));
    return migrate(db, path, *version);
}

}  // namespace depot::catalog
