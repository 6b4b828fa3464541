#pragma once
// Helpers for tests that damage commit log files on purpose: where a record's bytes live, bit flips, copies.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "depot/storage/CommitLog.h"

namespace depot::test {

struct SegmentFileInfo {
    uint64_t baseOffset = 0;
    std::string path;
};

// The *.seg files of a log directory in offset order.
std::vector<SegmentFileInfo> segmentFiles(const std::string& logDir);
// The segment file holding `offset` and the byte position of that offset inside it (64-byte header first).
SegmentFileInfo segmentHolding(const std::string& logDir, uint64_t offset, uint64_t* filePosition);
void flipBit(const std::string& path, uint64_t position, int bit);
void zeroFrom(const std::string& path, uint64_t position);  // zeros from position to the end of the file
void truncateFile(const std::string& path, uint64_t size);
void copyDirectory(const std::string& from, const std::string& to);

// Options for tests that roll segments often: small segments (4 KiB by default), a 10 ms periodic flush.
storage::CommitLogOptions smallSegments(uint64_t segmentSize = 4096);
// Opens the log, aborting the test with the reason when it cannot.
std::unique_ptr<storage::CommitLog> openLogOrDie(const std::string& dir, const storage::CommitLogOptions& options);
// Every record from the log's start, aborting the test on any corruption.
std::vector<storage::Record> readAllOrDie(storage::CommitLog& log);

}  // namespace depot::test
