#include "support/LogFiles.h"

#include <chrono>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <QtGlobal>

#include "storage/RecordFormat.h"

namespace depot::test {

namespace fs = std::filesystem;

std::vector<SegmentFileInfo> segmentFiles(const std::string& logDir) {
    std::vector<SegmentFileInfo> files;
    for (const auto& entry : fs::directory_iterator(logDir)) {
        if (auto base = storage::format::parseSegmentFileName(entry.path().filename().string()))
            files.push_back({*base, entry.path().string()});
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.baseOffset < b.baseOffset; });
    return files;
}

SegmentFileInfo segmentHolding(const std::string& logDir, uint64_t offset, uint64_t* filePosition) {
    std::vector<SegmentFileInfo> files = segmentFiles(logDir);
    auto it = std::upper_bound(files.begin(), files.end(), offset,
                               [](uint64_t value, const SegmentFileInfo& f) { return value < f.baseOffset; });
    if (it == files.begin())
        throw std::runtime_error("no segment holds offset " + std::to_string(offset));
    --it;
    *filePosition = storage::kSegmentHeaderSize + (offset - it->baseOffset);
    return *it;
}

void flipBit(const std::string& path, uint64_t position, int bit) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(position));
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ (1 << bit));
    file.seekp(static_cast<std::streamoff>(position));
    file.write(&byte, 1);
    if (!file)
        throw std::runtime_error("flipBit failed on " + path);
}

void zeroFrom(const std::string& path, uint64_t position) {
    uint64_t size = fs::file_size(path);
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(position));
    std::string zeros(size > position ? size - position : 0, '\0');
    file.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    if (!file)
        throw std::runtime_error("zeroFrom failed on " + path);
}

void truncateFile(const std::string& path, uint64_t size) {
    fs::resize_file(path, size);
}

void copyDirectory(const std::string& from, const std::string& to) {
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

std::unique_ptr<storage::CommitLog> openLogOrDie(const std::string& dir, const storage::CommitLogOptions& options) {
    Result<std::unique_ptr<storage::CommitLog>> log = storage::CommitLog::open(dir, options);
    if (!log)
        qFatal("open failed: %s", log.status().toString().c_str());
    return std::move(*log);
}

std::vector<storage::Record> readAllOrDie(storage::CommitLog& log) {
    std::vector<storage::Record> records;
    storage::CommitLog::Cursor cursor = log.iterate(log.startOffset());
    for (;;) {
        Result<std::optional<storage::Record>> next = cursor.next();
        if (!next)
            qFatal("unexpected cursor failure: %s", next.status().toString().c_str());
        if (!*next)
            return records;
        records.push_back(std::move(**next));
    }
}

storage::CommitLogOptions smallSegments(uint64_t segmentSize) {
    storage::CommitLogOptions options;
    options.segmentSize = segmentSize;
    options.asyncFlushInterval = std::chrono::milliseconds(10);
    return options;
}

}  // namespace depot::test
