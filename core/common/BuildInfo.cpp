#include "depot/BuildInfo.h"

#include <sqlite3.h>
#include <zmq.h>
#include <nlohmann/json_fwd.hpp>

#include "depot/Heap.h"

#ifndef DEPOT_VERSION
#error "DEPOT_VERSION must be defined by the build (core/CMakeLists.txt)"
#endif

namespace depot {

namespace {

std::string dotted(int major, int minor, int patch) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace

BuildInfo buildInfo() {
    BuildInfo info;
    info.depotVersion = DEPOT_VERSION;
    int major = 0;
    int minor = 0;
    int patch = 0;
    zmq_version(&major, &minor, &patch);
    info.zmqVersion = dotted(major, minor, patch);
    info.sqliteVersion = sqlite3_libversion();
    info.jsonVersion = dotted(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
    info.allocator = mallocName();
    return info;
}

std::string buildInfoText() {
    const BuildInfo info = buildInfo();
    return "Depot " + info.depotVersion + " (libzmq " + info.zmqVersion + ", SQLite " + info.sqliteVersion +
           ", nlohmann-json " + info.jsonVersion + ", malloc: " + info.allocator + ")";
}

}  // namespace depot
