#pragma once
// A thin RAII layer over the SQLite C API. Every failure is a Status whose message names what was being done
// and carries sqlite3_errmsg's text: "insert trace: database or disk is full".
//
// Neither class is thread-safe: the catalog guards each connection with its own mutex.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "depot/Result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace depot::catalog {

// "<what>: <message>" with a code chosen from `rc`: NOTADB/CORRUPT → Corruption, FULL → NoSpace,
// READONLY → ReadOnly, BUSY/LOCKED → Unavailable, CONSTRAINT → InvalidArgument, anything else → IoError.
Status sqliteStatus(sqlite3* db, int rc, std::string_view what);

class SqliteStatement {
public:
    SqliteStatement() = default;
    SqliteStatement(sqlite3_stmt* statement, std::string what);
    ~SqliteStatement();
    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement& operator=(SqliteStatement&& other) noexcept;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    // Parameters are numbered from 1. Unsigned 64-bit values are stored as their two's-complement int64 and
    // read back with a cast, so they round-trip exactly.
    Status bind(int index, int64_t value);
    Status bind(int index, std::string_view text);
    // Binds without copying: `text` must stay valid and unchanged until the statement has run and been reset.
    Status bindUncopied(int index, std::string_view text);
    Status bindNull(int index);
    template <typename... Values>
    Status bindAll(const Values&... values) {
        int index = 0;
        Status status;
        ((status = status.isOk() ? bindOne(++index, values) : status), ...);
        return status;
    }
    // As bindAll, with text bound by bindUncopied: for rows written straight after binding, from values that
    // outlive the run (a copy per text column was a malloc and a memcpy per row).
    template <typename... Values>
    Status bindAllUncopied(const Values&... values) {
        int index = 0;
        Status status;
        ((status = status.isOk() ? bindOne(++index, values, false) : status), ...);
        return status;
    }

    Result<bool> step();  // true: a row is ready to read; false: the statement is done
    Status run();         // steps to the end and resets, for statements that return no rows
    void reset();         // ready to run again; bindings are kept until rebound

    int64_t int64At(int column) const;
    std::string textAt(int column) const;
    bool isNullAt(int column) const;
    const std::string& what() const { return m_what; }

private:
    template <typename T>
    Status bindOne(int index, const T& value, bool copy = true) {
        if constexpr (std::is_integral_v<T>)
            return bind(index, static_cast<int64_t>(value));
        else
            return copy ? bind(index, std::string_view(value)) : bindUncopied(index, std::string_view(value));
    }

    sqlite3_stmt* m_statement = nullptr;
    std::string m_what;
};

class SqliteDb {
public:
    enum class Mode { ReadWriteCreate, ReadOnly };
    static constexpr int kBusyTimeoutMs = 5000;

    // The handle is opened without SQLite's own mutex (callers serialize) and with a busy timeout of 5 s.
    static Result<SqliteDb> open(const std::string& path, Mode mode);
    SqliteDb() = default;
    ~SqliteDb();
    SqliteDb(SqliteDb&& other) noexcept;
    SqliteDb& operator=(SqliteDb&& other) noexcept;
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;

    Status exec(const char* sql, std::string_view what);  // one or more statements; rows are ignored
    Result<SqliteStatement> prepare(std::string_view sql, std::string what);
    Result<int64_t> queryInt64(const char* sql, std::string_view what);  // first column of the first row
    Result<std::string> queryText(const char* sql, std::string_view what);
    int64_t lastInsertRowid() const;
    int changes() const;
    sqlite3* handle() const { return m_db; }

private:
    explicit SqliteDb(sqlite3* db) : m_db(db) {}
    sqlite3* m_db = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolled back on destruction unless committed. IMMEDIATE takes the write lock up
// front, so a transaction never fails half-way with SQLITE_BUSY on upgrading a read lock.
class SqliteTransaction {
public:
    static Result<SqliteTransaction> begin(SqliteDb& db, std::string_view what);
    ~SqliteTransaction();
    SqliteTransaction(SqliteTransaction&& other) noexcept;
    SqliteTransaction& operator=(SqliteTransaction&&) = delete;
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;

    Status commit();

private:
    SqliteTransaction(SqliteDb& db, std::string_view what) : m_db(&db), m_what(what) {}
    SqliteDb* m_db;
    std::string m_what;
    bool m_open = true;
};

}  // namespace depot::catalog
