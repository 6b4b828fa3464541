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

struct Catalog::Impl {
    Impl(std::string path, CatalogOptions options, SqliteDb db)
        : path(std::move(path)), options(options), db(std::move(db)) {}

    // The read-only query connection, opened on first use. Call with readMutex held.
    Result<SqliteDb*> reader();

    const std::string path;
    const CatalogOptions options;
    std::mutex dbMutex;  // guards db: definitions on the caller's thread, batches on the writer's
    SqliteDb db;
    std::mutex readMutex;  // guards readDb; queries never wait for the writer's batches
    std::optional<SqliteDb> readDb;
    std::unique_ptr<CatalogWriter> writer;  // declared last so it is destroyed (and drained) before db closes
};

}  // namespace depot::catalog
