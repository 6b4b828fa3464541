#pragma once
// LocalSql: statements on an application's own SQLite database, for the Outbox and the IdempotentConsumer. They
// write into the application's database (on its connection or on their own), so messages' bytes go in BLOB
// columns and every table name is one the application chose. Errors are catalog::sqliteStatus's.
#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/Sqlite.h"
#include "depot/Result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace depot::client {

class LocalStatement {
public:
    static Result<LocalStatement> prepare(sqlite3* db, std::string_view sql, std::string what);
    LocalStatement() = default;
    ~LocalStatement();
    LocalStatement(LocalStatement&& other) noexcept;
    LocalStatement& operator=(LocalStatement&& other) noexcept;
    LocalStatement(const LocalStatement&) = delete;
    LocalStatement& operator=(const LocalStatement&) = delete;

    // Parameters are numbered from 1.
    Status bind(int index, int64_t value);
    Status bindText(int index, std::string_view text);
    Status bindBlob(int index, std::string_view bytes);
    Status bindNull(int index);

    Result<bool> step();  // true: a row is ready to read
    Status run();         // steps to the end, for statements that return no rows

    int64_t int64At(int column) const;
    std::string bytesAt(int column) const;  // TEXT or BLOB, byte for byte
    bool isNullAt(int column) const;

private:
    LocalStatement(sqlite3_stmt* statement, std::string what) : m_statement(statement), m_what(std::move(what)) {}
    Status check(int rc) const;

    sqlite3_stmt* m_statement = nullptr;
    std::string m_what;
};

// [A-Za-z_][A-Za-z0-9_]{0,63}: a table name that can be pasted into SQL text as it is.
bool isSqlIdentifier(std::string_view name);

// Opens (creating) an application database for `what` ("outbox"): busy timeout 5 s, synchronous=FULL on this
// connection (a commit survives power loss), and with `wal` the database switched to WAL so readers and the
// writer do not block each other.
Result<catalog::SqliteDb> openLocalDatabase(const std::string& path, bool wal, std::string_view what);

// The file of `db`'s main database ("" for an in-memory or temporary one).
std::string databaseFile(sqlite3* db);
// Whether `db`'s main database is the file `path` (by name, else by device and inode), so a row written
// through `db` is one a connection opened on `path` reads.
bool isDatabaseFile(sqlite3* db, const std::string& path);

// Whether `db` is inside an explicit transaction (BEGIN without COMMIT/ROLLBACK yet).
bool inTransaction(sqlite3* db);

// Milliseconds since the Unix epoch (the wall clock: rows outlive the process).
int64_t wallClockMs();

}  // namespace depot::client
