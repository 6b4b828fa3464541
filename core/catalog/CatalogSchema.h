#pragma once
// The catalog's schema and its migrations. The database's `PRAGMA user_version` is the number of the last
// migration applied; each migration runs in its own transaction together with the version bump, so a crash
// leaves the file at one version or the next, never in between.
#include <string>

#include "catalog/Sqlite.h"

namespace depot::catalog {

// Makes a freshly opened read-write connection ready: checks the file is a Depot catalog no newer than this
// build (Corruption otherwise, before anything is written), switches to WAL with synchronous=FULL and foreign
// keys on, and applies the migrations the file lacks.
Status prepareCatalogSchema(SqliteDb& db, const std::string& path);

}  // namespace depot::catalog
