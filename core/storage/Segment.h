#pragma once
// Segment: one preallocated segment file of the commit log. Immutable identity (base offset, size, file);
// where its data ends is known to the owner (the next segment's base, or the log's written offset).

#include <cstdint>
#include <memory>
#include <string>

#include "depot/Result.h"
#include "depot/storage/CommitLog.h"
#include "depot/storage/FileSystem.h"

namespace depot::storage {

class Segment {
public:
    Segment(uint64_t baseOffset, uint64_t fileSize, std::string name, std::shared_ptr<File> file);

    uint64_t baseOffset() const { return m_baseOffset; }
    uint64_t fileSize() const { return m_fileSize; }
    // The largest offset a record of this segment may end at.
    uint64_t limitOffset() const { return m_baseOffset + m_fileSize - kSegmentHeaderSize; }
    uint64_t filePosition(uint64_t offset) const { return kSegmentHeaderSize + (offset - m_baseOffset); }
    const std::string& name() const { return m_name; }
    File& file() const { return *m_file; }
    std::shared_ptr<File> sharedFile() const { return m_file; }

    // Where the records of a sealed segment end (the next segment's base). Guarded by the log's mutex.
    bool sealed() const { return m_sealedEnd != kActive; }
    uint64_t sealedEnd() const { return m_sealedEnd; }
    void seal(uint64_t end) { m_sealedEnd = end; }
    void unseal() { m_sealedEnd = kActive; }

private:
    static constexpr uint64_t kActive = UINT64_MAX;
    uint64_t m_sealedEnd = kActive;
    uint64_t m_baseOffset;
    uint64_t m_fileSize;
    std::string m_name;
    std::shared_ptr<File> m_file;
};

// Writes zeros over the file positions [from, to).
Status writeZeros(File& file, uint64_t from, uint64_t to);

// Creates `path` as a spare segment: `fileSize` bytes reserved and written with zeros, then synced, so later
// appends neither allocate blocks nor change the file size (fdatasync then writes data only). NoSpace when the
// disk cannot hold it; the partial file is removed.
Status prepareSpareFile(FileSystem& fs, const std::string& path, uint64_t fileSize);

// Turns the spare at `sparePath` into the segment starting at `baseOffset`: writes and syncs the header, then
// renames it. The rename becomes durable with the log's next directory sync.
Result<std::shared_ptr<Segment>> activateSpare(FileSystem& fs, const std::string& dir, const std::string& sparePath,
                                               uint64_t baseOffset, uint64_t fileSize);

}  // namespace depot::storage
