#include "client/LocalSql.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <utility>

namespace depot::client {

Result<LocalStatement> LocalStatement::prepare(sqlite3* db, std::string_view sql, std::string what) {
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &statement, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(statement);
        return catalog::sqliteStatus(db, rc, what);
    }
    return LocalStatement(statement, std::move(what));
}

LocalStatement::~LocalStatement() { sqlite3_finalize(m_statement); }

LocalStatement::LocalStatement(LocalStatement&& other) noexcept
    : m_statement(std::exchange(other.m_statement, nullptr)), m_what(std::move(other.m_what)) {}

LocalStatement& LocalStatement::operator=(LocalStatement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(m_statement);
        m_statement = std::exchange(other.m_statement, nullptr);
        m_what = std::move(other.m_what);
    }
    return *this;
}

Status LocalStatement::check(int rc) const {
    return rc == SQLITE_OK ? Status::ok() : catalog::sqliteStatus(sqlite3_db_handle(m_statement), rc, m_what);
}

Status LocalStatement::bind(int index, int64_t value) { return check(sqlite3_bind_int64(m_statement, index, value)); }

Status LocalStatement::bindText(int index, std::string_view text) {
    // An empty view may have a null data pointer, which SQLite would store as NULL instead of ''.
    const char* data = text.data() ? text.data() : "";
    return check(sqlite3_bind_text64(m_statement, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Status LocalStatement::bindBlob(int index, std::string_view bytes) {
    const char* data = bytes.data() ? bytes.data() : "";
    return check(sqlite3_bind_blob64(m_statement, index, data, bytes.size(), SQLITE_TRANSIENT));
}

Status LocalStatement::bindNull(int index) { return check(sqlite3_bind_null(m_statement, index)); }

Result<bool> LocalStatement::step() {
    int rc = sqlite3_step(m_statement);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return catalog::sqliteStatus(sqlite3_db_handle(m_statement), rc, m_what);
}

Status LocalStatement::run() {
    Result<bool> row = step();
    while (row.isOk() && *row)
        row = step();
    sqlite3_reset(m_statement);
    return row.isOk() ? Status::ok() : row.status();
}

int64_t LocalStatement::int64At(int column) const { return sqlite3_column_int64(m_statement, column); }

std::string LocalStatement::bytesAt(int column) const {
    // sqlite3_column_blob returns TEXT values' bytes unconverted too.
    const void* data = sqlite3_column_blob(m_statement, column);
    const int size = sqlite3_column_bytes(m_statement, column);
    return data ? std::string(static_cast<const char*>(data), size_t(size)) : std::string();
}

bool LocalStatement::isNullAt(int column) const { return sqlite3_column_type(m_statement, column) == SQLITE_NULL; }

bool isSqlIdentifier(std::string_view name) {
    if (name.empty() || name.size() > 64)
        return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

Result<catalog::SqliteDb> openLocalDatabase(const std::string& path, bool wal, std::string_view what) {
    Result<catalog::SqliteDb> db = catalog::SqliteDb::open(path, catalog::SqliteDb::Mode::ReadWriteCreate);
    if (!db)
        return Status(db.status().code(), std::string(what) + ": " + db.status().message());
    if (wal) {
        // journal_mode answers with the mode in force; a database that cannot use WAL (some network file
        // systems) keeps its mode, which is still correct, only less concurrent.
        Result<std::string> mode = db->queryText("PRAGMA journal_mode=WAL", std::string(what) + ": journal_mode");
        if (!mode)
            return mode.status();
    }
    DEPOT_RETURN_IF_ERROR(db->exec("PRAGMA synchronous=FULL", std::string(what) + ": synchronous"));
    return db;
}

std::string databaseFile(sqlite3* db) {
    const char* file = sqlite3_db_filename(db, "main");
    return file ? file : "";
}

bool isDatabaseFile(sqlite3* db, const std::string& path) {
    const std::string file = databaseFile(db);
    if (file.empty() || path.empty())
        return false;  // in-memory or temporary databases are nobody else's file
    if (file == path)
        return true;
    std::error_code error;
    return std::filesystem::equivalent(file, path, error) && !error;
}

bool inTransaction(sqlite3* db) { return sqlite3_get_autocommit(db) == 0; }

int64_t wallClockMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace depot::client
