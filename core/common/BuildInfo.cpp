#include "depot/BuildInfo.h"

#include <dlfcn.h>
#include <sqlite3.h>
#include <zmq.h>
#include <nlohmann/json_fwd.hpp>

#ifndef DEPOT_VERSION
#error "DEPOT_VERSION must be defined by the build (core/CMakeLists.txt)"
#endif

namespace depot {

namespace {

std::string dotted(int major, int minor, int patch) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

// Asked at run time, not decided at build time: what counts is the malloc this process ended up with (the programs
// link tcmalloc, a program using the libraries has its own). tcmalloc answers tc_version(); anything else is
// reported as the C library's.
std::string allocatorName() {
    using Version = const char* (*)(int*, int*, const char**);
    if (auto version = reinterpret_cast<Version>(::dlsym(RTLD_DEFAULT, "tc_version"))) {
        int major = 0, minor = 0;
        const char* patch = nullptr;
        if (const char* name = version(&major, &minor, &patch))
            return name;
    }
    return "libc malloc";
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
    info.allocator = allocatorName();
    return info;
}

std::string buildInfoText() {
    const BuildInfo info = buildInfo();
    return "Depot " + info.depotVersion + " (libzmq " + info.zmqVersion + ", SQLite " + info.sqliteVersion +
           ", nlohmann-json " + info.jsonVersion + ", malloc: " + info.allocator + ")";
}

}  // namespace depot
