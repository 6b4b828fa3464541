#include "catalog/Sqlite.h"

#include <sqlite3.h>

#include <mutex>
#include <utility>

namespace depot::catalog {

Status sqliteStatus(sqlite3* db, int rc, std::string_view what) {
    // The connection's message is more specific than sqlite3_errstr's, but only when it belongs to this error.
    std::string message =
        (db && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff)) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    std::string text = std::string(what) + ": " + message;
    switch (rc & 0xff) {
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            return Status::corruption(std::move(text));
        case SQLITE_FULL:
            return Status::noSpace(std::move(text));
        case SQLITE_READONLY:
            return Status::readOnly(std::move(text));
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return Status::unavailable(std::move(text));
        case SQLITE_CONSTRAINT:
            return Status::invalidArgument(std::move(text));
        default:
            return Status::ioError(std::move(text));
    }
}

SqliteStatement::SqliteStatement(sqlite3_stmt* statement, std::string what)
    : m_statement(statement), m_what(std::move(what)) {}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(m_statement); }

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : m_statement(std::exchange(other.m_statement, nullptr)), m_what(std::move(other.m_what)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(m_statement);
        m_statement = std::exchange(other.m_statement, nullptr);
        m_what = std::move(other.m_what);
    }
    return *this;
}

Status SqliteStatement::bind(int index, int64_t value) {
    int rc = sqlite3_bind_int64(m_statement, index, value);
    return rc == SQLITE_OK ? Status::ok() : sqliteStatus(sqlite3_db_handle(m_statement), rc, m_what);
}

Status SqliteStatement::bind(int index, std::string_view text) {
    // An empty view may have a null data pointer, which SQLite would store as NULL instead of ''.
    const char* data = text.data() ? text.data() : "";
    int rc = sqlite3_bind_text64(m_statement, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return rc == SQLITE_OK ? Status::ok() : sqliteStatus(sqlite3_db_handle(m_statement), rc, m_what);
}

Status SqliteStatement::bindUncopied(int index, std::string_view text) {
    const char* data = text.data() ? text.data() : "";
    int rc = sqlite3_bind_text64(m_statement, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
    return rc == SQLITE_OK ? Status::ok() : sqliteStatus(sqlite3_db_handle(m_statement), rc, m_what);
}

Status SqliteStatement::bindNull(int index) {
    int rc = sqlite3_bind_null(m_statement, index);
    return rc == SQLITE_OK ? Status::ok() : sqliteStatus(sqlite3_db_handle(m_statement), rc, m_what);
}

Result<bool> SqliteStatement::step() {
    int rc = sqlite3_step(m_statement);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return sqliteStatus(sqlite3_db_handle(m_statement), rc, m_what);
}

Status SqliteStatement::run() {
    Result<bool> row = step();
    while (row.isOk() && *row)
        row = step();
    sqlite3_reset(m_statement);
    return row.isOk() ? Status::ok() : row.status();
}

void SqliteStatement::reset() { sqlite3_reset(m_statement); }

int64_t SqliteStatement::int64At(int column) const { return sqlite3_column_int64(m_statement, column); }

std::string SqliteStatement::textAt(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_statement, column));
    return text ? std::string(text, size_t(sqlite3_column_bytes(m_statement, column))) : std::string();
}

bool SqliteStatement::isNullAt(int column) const { return sqlite3_column_type(m_statement, column) == SQLITE_NULL; }

Result<SqliteDb> SqliteDb::open(const std::string& path, Mode mode) {
    // SQLite's memory statistics take a global mutex around every allocation: a tenth of the catalog writer's
    // time under a busy trace. Nothing here reads them. Only possible before SQLite initializes, hence first.
    static std::once_flag configured;
    std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
    int flags = SQLITE_OPEN_NOMUTEX;
    flags |= mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    SqliteDb db(raw);  // sqlite3_open_v2 may return a handle even on failure; it must be closed either way
    if (rc != SQLITE_OK)
        return sqliteStatus(raw, rc, "open catalog " + path);
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(m_db); }

SqliteDb::SqliteDb(SqliteDb&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
    if (this != &other) {
        sqlite3_close_v2(m_db);
        m_db = std::exchange(other.m_db, nullptr);
    }
    return *this;
}

Status SqliteDb::exec(const char* sql, std::string_view what) {
    int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::ok() : sqliteStatus(m_db, rc, what);
}

Result<SqliteStatement> SqliteDb::prepare(std::string_view sql, std::string what) {
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v3(m_db, sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK)
        return sqliteStatus(m_db, rc, what);
    return SqliteStatement(statement, std::move(what));
}

Result<int64_t> SqliteDb::queryInt64(const char* sql, std::string_view what) {
    Result<SqliteStatement> statement = prepare(sql, std::string(what));
    if (!statement)
        return statement.status();
    Result<bool> row = statement->step();
    if (!row)
        return row.status();
    return *row ? statement->int64At(0) : int64_t(0);
}

Result<std::string> SqliteDb::queryText(const char* sql, std::string_view what) {
    Result<SqliteStatement> statement = prepare(sql, std::string(what));
    if (!statement)
        return statement.status();
    Result<bool> row = statement->step();
    if (!row)
        return row.status();
    return *row ? statement->textAt(0) : std::string();
}

int64_t SqliteDb::lastInsertRowid() const { return sqlite3_last_insert_rowid(m_db); }

int SqliteDb::changes() const { return sqlite3_changes(m_db); }

Result<SqliteTransaction> SqliteTransaction::begin(SqliteDb& db, std::string_view what) {
    DEPOT_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE", std::string(what) + ": begin"));
    return SqliteTransaction(db, what);
}

SqliteTransaction::~SqliteTransaction() {
    if (m_open && m_db)
        (void)m_db->exec("ROLLBACK", m_what);
}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_what(std::move(other.m_what)), m_open(other.m_open) {}

Status SqliteTransaction::commit() {
    Status status = m_db->exec("COMMIT", m_what + ": commit");
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY); the destructor then rolls it back.
    m_open = !status.isOk();
    return status;
}

}  // namespace depot::catalog
