#include "support/TempDir.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace depot::test {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/depot-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data()))
        throw std::runtime_error("mkdtemp failed for " + pattern);
    m_path = buffer.data();
}

TempDir::~TempDir() {
    if (std::getenv("DEPOT_KEEP_TEMP"))  // for looking at a failed run's files
        return;
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
}

}  // namespace depot::test
