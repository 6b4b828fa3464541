#pragma once
// BenchEnvironment: what a benchmark result depends on besides the code — the machine and the file system the
// data lives on — and the scratch directory the benchmark writes into.

#include <chrono>
#include <cstdint>
#include <string>

namespace depot::bench {

struct FileSystemInfo {
    std::string type;        // from /proc/self/mountinfo ("ext4"), or "unknown"
    uint64_t magic = 0;      // statfs f_type
    std::string device;      // mount source ("/dev/vda")
    std::string majorMinor;  // st_dev of the directory ("254:0")
    std::string mountPoint;
    std::string mountOptions;
};

class BenchEnvironment {
public:
    static FileSystemInfo fileSystemOf(const std::string& path);
    static std::string cpuModel();
    static unsigned cpuCount();
    static std::string kernel();
    // "0.52 0.31 0.20": other work on the machine skews every number; the header shows how busy it was.
    static std::string loadAverage();
    // Lets the background work of earlier measurements finish so it is not billed to the next one: waits (up to
    // `timeout`) until every other thread of this process sleeps — a commit log's preallocator zero-filling a
    // spare segment, or its flusher in fdatasync, does not — then writes back the file system of `dir` (syncfs).
    static void settle(const std::string& dir, std::chrono::milliseconds timeout);
    // Creates a fresh `<parent>/depot-bench-XXXXXX` and returns its canonical path; on failure says why on stderr
    // (as "depot-bench <command>: ...") and returns an empty string.
    static std::string makeScratchDir(const std::string& parent, const char* command);
};

}  // namespace depot::bench
