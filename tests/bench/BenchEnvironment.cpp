#include "BenchEnvironment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace depot::bench {

namespace {

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> result;
    for (std::string word; in >> word;)
        result.push_back(word);
    return result;
}

bool isUnder(const std::string& path, const std::string& mountPoint) {
    if (mountPoint == "/")
        return true;
    return path.compare(0, mountPoint.size(), mountPoint) == 0 &&
           (path.size() == mountPoint.size() || path[mountPoint.size()] == '/');
}

}  // namespace

// mountinfo: "id parent major:minor root mountpoint options [optional...] - fstype source superoptions".
// The mount with the directory's device and the longest mount point containing it is the one it lives on.
FileSystemInfo BenchEnvironment::fileSystemOf(const std::string& path) {
    FileSystemInfo info;
    info.type = "unknown";
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) == 0)
        info.magic = uint64_t(fs.f_type);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return info;
    info.majorMinor = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        const std::vector<std::string> fields = words(line);
        size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-")
            ++dash;
        if (dash + 2 >= fields.size() || fields[2] != info.majorMinor || !isUnder(path, fields[4]))
            continue;
        if (fields[4].size() >= info.mountPoint.size()) {
            info.mountPoint = fields[4];
            info.mountOptions = fields[5];
            info.type = fields[dash + 1];
            info.device = fields[dash + 2];
        }
    }
    return info;
}

std::string BenchEnvironment::cpuModel() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            const size_t colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
        }
    }
    return "unknown";
}

unsigned BenchEnvironment::cpuCount() { return std::thread::hardware_concurrency(); }

std::string BenchEnvironment::kernel() {
    struct utsname name {};
    if (::uname(&name) != 0)
        return "unknown";
    return std::string(name.sysname) + " " + name.release;
}

std::string BenchEnvironment::loadAverage() {
    double load[3] = {};
    if (::getloadavg(load, 3) != 3)
        return "unknown";
    char text[64];
    std::snprintf(text, sizeof text, "%.2f %.2f %.2f", load[0], load[1], load[2]);
    return text;
}

namespace {

// True when every thread of this process but the caller is sleeping (state S in /proc/self/task/<tid>/stat).
bool otherThreadsSleep() {
    const std::string self = std::to_string(::gettid());
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        if (task.path().filename() == self)
            continue;
        std::ifstream stat(task.path() / "stat");
        std::string line;
        std::getline(stat, line);
        const size_t close = line.rfind(')');  // the command name may contain spaces and parentheses
        if (close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'S')
            return false;
    }
    return true;
}

}  // namespace

void BenchEnvironment::settle(const std::string& dir, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int quiet = 0;
    while (quiet < 3 && std::chrono::steady_clock::now() < deadline) {
        quiet = otherThreadsSleep() ? quiet + 1 : 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::syncfs(fd);
        ::close(fd);
    }
}

std::string BenchEnvironment::makeScratchDir(const std::string& parent, const char* command) {
    std::string pattern = parent + "/depot-bench-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
        std::fprintf(stderr, "depot-bench %s: cannot create a directory in %s: %s\n", command, parent.c_str(),
                     std::strerror(errno));
        return {};
    }
    std::error_code ignored;
    std::string canonical = std::filesystem::canonical(pattern, ignored).string();
    return canonical.empty() ? pattern : canonical;
}

}  // namespace depot::bench
