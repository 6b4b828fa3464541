#pragma once
// SqliteProbe: what the client-library tests need to look into an application's SQLite file from outside
// (the outbox table, the processed-ids ledger), on a connection of their own.
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "depot/Status.h"

namespace depot::test {

// Runs `sql` on `db`; the SQLite error as an IoError.
inline Status execSql(sqlite3* db, const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK)
        return Status::ok();
    Status status = Status::ioError(error ? error : "sqlite3_exec failed");
    sqlite3_free(error);
    return status;
}

// The first column of the first row of `sql`, read on a read-only connection of its own; -1 if anything fails.
inline int64_t queryInt(const std::string& database, const std::string& sql) {
    sqlite3* db = nullptr;
    int64_t value = -1;
    if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
            sqlite3_step(statement) == SQLITE_ROW)
            value = sqlite3_column_int64(statement, 0);
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return value;
}

inline int64_t countRows(const std::string& database, const std::string& table) {
    return queryInt(database, "SELECT COUNT(*) FROM " + table);
}

}  // namespace depot::test
