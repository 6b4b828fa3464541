#pragma once
// BuildInfo: the versions Depot was built with and runs against, for --version, logs and bug reports.
// Deliberately free of third-party headers: callers need not see libzmq, SQLite or nlohmann-json.

#include <string>

namespace depot {

struct BuildInfo {
    std::string depotVersion;   // "0.1.0"
    std::string zmqVersion;     // the libzmq loaded at run time
    std::string sqliteVersion;  // the SQLite library loaded at run time
    std::string jsonVersion;    // nlohmann-json is header-only: the version compiled in
    std::string allocator;      // the malloc in use: "gperftools 2.10" (tcmalloc) when loaded, else "libc malloc"
};

BuildInfo buildInfo();
// One line: "Depot 0.1.0 (libzmq 4.3.4, SQLite 3.40.1, nlohmann-json 3.11.2, malloc: gperftools 2.10)"
std::string buildInfoText();

}  // namespace depot
