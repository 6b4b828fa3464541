#pragma once
// OutboxTable: the SQL of one outbox table (and its "<table>_meta" beside it) in an application's database.
// Stateless apart from the table name: every call says which connection to use, so the application's own
// connection (enqueue), the outbox's connection (transaction, listings) and the relay's all share it.
#include <cstdint>
#include <string>
#include <vector>

#include "catalog/Sqlite.h"
#include "depot/Result.h"
#include "depot/broker/Message.h"
#include "depot/client/Outbox.h"

namespace depot::client {

// A row due for publishing.
struct OutboxRow {
    OutboxEntry entry;
    broker::PublishRequest request;  // with its message id
};

// What a relay round decided for one row.
struct OutboxRowUpdate {
    int64_t row = 0;
    OutboxState state = OutboxState::Pending;  // Sent, Failed, or Pending (retry at nextAttemptAt)
    std::string outcome;                       // "confirmed", "duplicate", "nacked", "unconfirmed"
    std::string error;
    int64_t nextAttemptAt = 0;
};

class OutboxTable {
public:
    explicit OutboxTable(std::string table) : m_table(std::move(table)) {}

    // Creates the tables if missing and returns the id prefix: `wanted` if not empty, else the database's own
    // (made at random the first time, then kept).
    Result<std::string> create(catalog::SqliteDb& db, const std::string& wanted);
    // Inserts a pending row (through any connection, inside the caller's transaction) and returns its message id.
    Result<std::string> insert(sqlite3* db, const broker::PublishRequest& request, const std::string& prefix,
                               int64_t now);
    // Pending rows with nextAttemptAt <= now, in row order.
    Result<std::vector<OutboxRow>> due(sqlite3* db, int64_t now, size_t limit);
    // All updates in one transaction; a row is only updated while it is still pending.
    Status record(catalog::SqliteDb& db, const std::vector<OutboxRowUpdate>& updates, int64_t now);
    Result<uint64_t> deleteSentBefore(sqlite3* db, int64_t cutoff);
    Result<std::vector<OutboxEntry>> list(sqlite3* db, OutboxState state, size_t limit);
    Result<uint64_t> retryFailed(sqlite3* db, int64_t now);

private:
    std::string m_table;
};

}  // namespace depot::client
