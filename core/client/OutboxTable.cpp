#include "client/OutboxTable.h"

#include <sqlite3.h>

#include <cstdio>
#include <random>

#include "broker/ByteCodec.h"
#include "client/LocalSql.h"

namespace depot::client {

namespace {

constexpr const char* kPrefixKey = "id-prefix";

int64_t stateCode(OutboxState state) {
    switch (state) {
        case OutboxState::Pending:
            return 0;
        case OutboxState::Sent:
            return 1;
        case OutboxState::Failed:
            return 2;
    }
    return 0;
}

OutboxState stateFromCode(int64_t code) {
    return code == 1 ? OutboxState::Sent : code == 2 ? OutboxState::Failed : OutboxState::Pending;
}

std::string encodeHeaders(const broker::Headers& headers) {
    std::string out;
    broker::ByteWriter writer(out);
    writer.u32(uint32_t(headers.size()));
    for (const auto& [name, value] : headers) {
        writer.string(name);
        writer.string(value);
    }
    return out;
}

Result<broker::Headers> decodeHeaders(std::string_view bytes) {
    broker::ByteReader reader(bytes, "outbox headers");
    broker::Headers headers;
    const uint32_t count = reader.count("count", 8);
    headers.reserve(count);
    for (uint32_t i = 0; i < count && reader.ok(); ++i) {
        std::string name = reader.string("name");
        headers.emplace_back(std::move(name), reader.string("value"));
    }
    DEPOT_RETURN_IF_ERROR(reader.finish());
    return headers;
}

std::string randomPrefix() {
    std::random_device random;
    const uint64_t bits = (uint64_t(random()) << 32) ^ uint64_t(random());
    char text[32];
    std::snprintf(text, sizeof text, "outbox-%016llx", static_cast<unsigned long long>(bits));
    return text;
}

// Columns of an entry, in the order entryAt() reads them.
constexpr const char* kEntryColumns =
    "id, message_id, exchange, routing_key, state, attempts, last_error, outcome, created_at, next_attempt_at, "
    "COALESCE(sent_at, 0)";

OutboxEntry entryAt(const LocalStatement& row) {
    OutboxEntry entry;
    entry.row = row.int64At(0);
    entry.messageId = row.bytesAt(1);
    entry.exchange = row.bytesAt(2);
    entry.routingKey = row.bytesAt(3);
    entry.state = stateFromCode(row.int64At(4));
    entry.attempts = uint32_t(row.int64At(5));
    entry.lastError = row.bytesAt(6);
    entry.outcome = row.bytesAt(7);
    entry.createdAt = row.int64At(8);
    entry.nextAttemptAt = row.int64At(9);
    entry.sentAt = row.int64At(10);
    return entry;
}

Result<OutboxRow> dueRowAt(const LocalStatement& select) {
    OutboxRow row{entryAt(select), {}};
    broker::PublishRequest& request = row.request;
    request.exchange = row.entry.exchange;
    request.routingKey = row.entry.routingKey;
    request.message.id = row.entry.messageId;
    request.message.key = select.bytesAt(11);
    Result<broker::Headers> headers = decodeHeaders(select.bytesAt(12));
    if (!headers)
        return Status::corruption("outbox row " + std::to_string(row.entry.row) + ": " + headers.status().message());
    request.message.headers = std::move(headers).value();
    request.message.body = select.bytesAt(13);
    request.message.persistent = select.int64At(14) != 0;
    if (!select.isNullAt(15))
        request.message.ttl = Millis(select.int64At(15));
    if (!select.isNullAt(16))
        request.message.delay = Millis(select.int64At(16));
    request.producer = select.bytesAt(17);
    return row;
}

Status bindOptional(LocalStatement& statement, int index, const std::optional<Millis>& value) {
    return value ? statement.bind(index, int64_t(value->count())) : statement.bindNull(index);
}

}  // namespace

Result<std::string> OutboxTable::create(catalog::SqliteDb& db, const std::string& wanted) {
    const std::string schema =
        "CREATE TABLE IF NOT EXISTS " + m_table +
        " (id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, "
        "exchange TEXT NOT NULL, routing_key TEXT NOT NULL, message_key TEXT NOT NULL, headers BLOB NOT NULL, "
        "body BLOB NOT NULL, persistent INTEGER NOT NULL, ttl_ms INTEGER, delay_ms INTEGER, producer TEXT NOT NULL, "
        "state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', "
        "outcome TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, "
        "sent_at INTEGER);\n"
        "CREATE INDEX IF NOT EXISTS " +
        m_table + "_state ON " + m_table +
        " (state, id);\n"
        "CREATE TABLE IF NOT EXISTS " +
        m_table + "_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);";
    Result<catalog::SqliteTransaction> transaction = catalog::SqliteTransaction::begin(db, "outbox: create tables");
    if (!transaction)
        return transaction.status();
    DEPOT_RETURN_IF_ERROR(db.exec(schema.c_str(), "outbox: create tables"));
    Result<LocalStatement> insert = LocalStatement::prepare(
        db.handle(), "INSERT OR IGNORE INTO " + m_table + "_meta (name, value) VALUES (?1, ?2)", "outbox: id prefix");
    if (!insert)
        return insert.status();
    DEPOT_RETURN_IF_ERROR(insert->bindText(1, kPrefixKey));
    DEPOT_RETURN_IF_ERROR(insert->bindText(2, randomPrefix()));
    DEPOT_RETURN_IF_ERROR(insert->run());
    Result<LocalStatement> select = LocalStatement::prepare(
        db.handle(), "SELECT value FROM " + m_table + "_meta WHERE name = ?1", "outbox: id prefix");
    if (!select)
        return select.status();
    DEPOT_RETURN_IF_ERROR(select->bindText(1, kPrefixKey));
    Result<bool> row = select->step();
    if (!row)
        return row.status();
    std::string prefix = *row ? select->bytesAt(0) : std::string();
    DEPOT_RETURN_IF_ERROR(transaction->commit());
    return wanted.empty() ? prefix : wanted;
}

Result<std::string> OutboxTable::insert(sqlite3* db, const broker::PublishRequest& request, const std::string& prefix,
                                        int64_t now) {
    const broker::Message& message = request.message;
    Result<LocalStatement> insert = LocalStatement::prepare(
        db,
        "INSERT INTO " + m_table +
            " (message_id, exchange, routing_key, message_key, headers, body, persistent, "
            "ttl_ms, delay_ms, producer, created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
            "?11, ?11)",
        "outbox: insert row");
    if (!insert)
        return insert.status();
    DEPOT_RETURN_IF_ERROR(insert->bindText(1, message.id));
    DEPOT_RETURN_IF_ERROR(insert->bindText(2, request.exchange));
    DEPOT_RETURN_IF_ERROR(insert->bindText(3, request.routingKey));
    DEPOT_RETURN_IF_ERROR(insert->bindText(4, message.key));
    DEPOT_RETURN_IF_ERROR(insert->bindBlob(5, encodeHeaders(message.headers)));
    DEPOT_RETURN_IF_ERROR(insert->bindBlob(6, message.body));
    DEPOT_RETURN_IF_ERROR(insert->bind(7, message.persistent ? 1 : 0));
    DEPOT_RETURN_IF_ERROR(bindOptional(*insert, 8, message.ttl));
    DEPOT_RETURN_IF_ERROR(bindOptional(*insert, 9, message.delay));
    DEPOT_RETURN_IF_ERROR(insert->bindText(10, request.producer));
    DEPOT_RETURN_IF_ERROR(insert->bind(11, now));
    DEPOT_RETURN_IF_ERROR(insert->run());
    if (!message.id.empty())
        return message.id;
    // The id is fixed now, not derived at publish time, so a later change of idPrefix cannot rename a row
    // that may already have been published once.
    const int64_t row = sqlite3_last_insert_rowid(db);
    std::string id = prefix + "-" + std::to_string(row);
    Result<LocalStatement> update =
        LocalStatement::prepare(db, "UPDATE " + m_table + " SET message_id = ?1 WHERE id = ?2", "outbox: name row");
    if (!update)
        return update.status();
    DEPOT_RETURN_IF_ERROR(update->bindText(1, id));
    DEPOT_RETURN_IF_ERROR(update->bind(2, row));
    DEPOT_RETURN_IF_ERROR(update->run());
    return id;
}

Result<std::vector<OutboxRow>> OutboxTable::due(sqlite3* db, int64_t now, size_t limit) {
    Result<LocalStatement> select =
        LocalStatement::prepare(db,
                                std::string("SELECT ") + kEntryColumns +
                                    ", message_key, headers, body, persistent, ttl_ms, delay_ms, "
                                    "producer FROM " +
                                    m_table + " WHERE state = 0 AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
                                "outbox: read due rows");
    if (!select)
        return select.status();
    DEPOT_RETURN_IF_ERROR(select->bind(1, now));
    DEPOT_RETURN_IF_ERROR(select->bind(2, int64_t(limit)));
    std::vector<OutboxRow> rows;
    while (true) {
        Result<bool> step = select->step();
        if (!step)
            return step.status();
        if (!*step)
            return rows;
        Result<OutboxRow> row = dueRowAt(*select);
        if (!row)
            return row.status();
        rows.push_back(std::move(row).value());
    }
}

Status OutboxTable::record(catalog::SqliteDb& db, const std::vector<OutboxRowUpdate>& updates, int64_t now) {
    Result<catalog::SqliteTransaction> transaction = catalog::SqliteTransaction::begin(db, "outbox: record outcomes");
    if (!transaction)
        return transaction.status();
    Result<LocalStatement> update = LocalStatement::prepare(
        db.handle(),
        "UPDATE " + m_table +
            " SET state = ?2, outcome = ?3, last_error = ?4, next_attempt_at = ?5, "
            "attempts = attempts + 1, sent_at = CASE WHEN ?2 = 1 THEN ?6 ELSE sent_at END WHERE id = ?1 AND state = 0",
        "outbox: record outcome");
    if (!update)
        return update.status();
    for (const OutboxRowUpdate& row : updates) {
        DEPOT_RETURN_IF_ERROR(update->bind(1, row.row));
        DEPOT_RETURN_IF_ERROR(update->bind(2, stateCode(row.state)));
        DEPOT_RETURN_IF_ERROR(update->bindText(3, row.outcome));
        DEPOT_RETURN_IF_ERROR(update->bindText(4, row.error));
        DEPOT_RETURN_IF_ERROR(update->bind(5, row.nextAttemptAt));
        DEPOT_RETURN_IF_ERROR(update->bind(6, now));
        DEPOT_RETURN_IF_ERROR(update->run());
    }
    return transaction->commit();
}

Result<uint64_t> OutboxTable::deleteSentBefore(sqlite3* db, int64_t cutoff) {
    Result<LocalStatement> erase = LocalStatement::prepare(
        db, "DELETE FROM " + m_table + " WHERE state = 1 AND sent_at <= ?1", "outbox: delete sent rows");
    if (!erase)
        return erase.status();
    DEPOT_RETURN_IF_ERROR(erase->bind(1, cutoff));
    DEPOT_RETURN_IF_ERROR(erase->run());
    return uint64_t(sqlite3_changes(db));
}

Result<std::vector<OutboxEntry>> OutboxTable::list(sqlite3* db, OutboxState state, size_t limit) {
    Result<LocalStatement> select = LocalStatement::prepare(
        db, std::string("SELECT ") + kEntryColumns + " FROM " + m_table + " WHERE state = ?1 ORDER BY id LIMIT ?2",
        "outbox: list rows");
    if (!select)
        return select.status();
    DEPOT_RETURN_IF_ERROR(select->bind(1, stateCode(state)));
    DEPOT_RETURN_IF_ERROR(select->bind(2, int64_t(limit)));
    std::vector<OutboxEntry> entries;
    while (true) {
        Result<bool> step = select->step();
        if (!step)
            return step.status();
        if (!*step)
            return entries;
        entries.push_back(entryAt(*select));
    }
}

Result<uint64_t> OutboxTable::retryFailed(sqlite3* db, int64_t now) {
    Result<LocalStatement> update = LocalStatement::prepare(
        db, "UPDATE " + m_table + " SET state = 0, attempts = 0, outcome = '', next_attempt_at = ?1 WHERE state = 2",
        "outbox: retry failed rows");
    if (!update)
        return update.status();
    DEPOT_RETURN_IF_ERROR(update->bind(1, now));
    DEPOT_RETURN_IF_ERROR(update->run());
    return uint64_t(sqlite3_changes(db));
}

}  // namespace depot::client
