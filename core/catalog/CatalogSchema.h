#pragma once
// The schemas of the catalog and of its history file, and their migrations. The database's `PRAGMA user_version` is the
// number of the last migration applied; each migration runs in its own transaction together with the version bump, so a
// crash leaves the file at one version or the next, never in between.
#include <string>

#include "catalog/Sqlite.h"

namespace depot::catalog {

// Makes a freshly opened read-write connection ready: checks the file is a Depot catalog no newer than this
// build (Corruption otherwise, before anything is written), switches to WAL with synchronous=FULL and foreign
// keys on, and applies the migrations the file lacks. A catalog older than version 5 holds trace and metrics
// history itself: its rows move to `historyPath`, which prepareHistorySchema must have made ready.
Status prepareCatalogSchema(SqliteDb& db, const std::string& path, const std::string& historyPath);

// The same for the history file (trace events, metrics samples), with its own application id and versions,
// and synchronous=OFF: nothing in it is ever synced.
Status prepareHistorySchema(SqliteDb& db, const std::string& path);

// For tests of migrations: makes an empty file the catalog an older build (schema `version`) would have made.
Status createOlderCatalogSchema(SqliteDb& db, const std::string& path, int version);
// The same for the history file.
Status createOlderHistorySchema(SqliteDb& db, const std::string& path, int version);

}  // namespace depot::catalog
