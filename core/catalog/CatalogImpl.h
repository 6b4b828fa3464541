#pragma once
// Catalog's private state, shared by Catalog.cpp (definitions) and CatalogQueries.cpp (history queries).
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "catalog/Catalog.h"
#include "catalog/CatalogWriter.h"
#include "catalog/Sqlite.h"

namespace depot::catalog {

// One SQLite file: the read-write connection, and a read-only one for queries so they never wait behind the
// writes (WAL lets readers and the writer proceed together).
struct CatalogFile {
    CatalogFile(std::string path, SqliteDb db) : path(std::move(path)), db(std::move(db)) {}

    // The read-only query connection, opened on first use. Call with readMutex held.
    Result<SqliteDb*> reader();

    const std::string path;
    std::mutex dbMutex;  // guards db
    SqliteDb db;
    std::mutex readMutex;  // guards readDb
    std::optional<SqliteDb> readDb;
};

struct Catalog::Impl {
    Impl(CatalogOptions options, std::string path, SqliteDb db, std::string historyPath, SqliteDb historyDb)
        : options(options),
          catalog(std::move(path), std::move(db)),
          history(std::move(historyPath), std::move(historyDb)) {}

    const CatalogOptions options;
    CatalogFile catalog;  // definitions, settings, audit: synced
    CatalogFile history;  // trace, metrics: never synced; definitions never wait for it
    // Declared last so they are destroyed (and drained) before the connections close.
    std::unique_ptr<CatalogWriter> auditWriter;    // into `catalog`, sharing its connection with definitions
    std::unique_ptr<CatalogWriter> historyWriter;  // into `history`, the only user of its read-write connection
};

}  // namespace depot::catalog
