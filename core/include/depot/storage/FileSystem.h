#pragma once
// The small file interface every byte of the commit log goes through, so tests can inject faults
// (drop unsynced bytes = power loss, fail the Nth sync or write with EIO/ENOSPC, short writes).
// Contract: positional I/O only; no implicit caching; sync() is fdatasync(): when it returns OK, every byte
// written to this file before the call is on stable storage.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "depot/Result.h"

namespace depot::storage {

class File {
public:
    virtual ~File() = default;

    // Writes up to `size` bytes at `offset`; returns how many were written (may be fewer: a short write).
    virtual Result<size_t> writeAt(uint64_t offset, const void* data, size_t size) = 0;
    // Reads up to `size` bytes at `offset`; returns how many were read (fewer only at end of file).
    virtual Result<size_t> readAt(uint64_t offset, void* data, size_t size) const = 0;
    // fdatasync: durable once OK. A failure means the written-but-unsynced bytes may be lost.
    virtual Status sync() = 0;
    // Reserves real blocks for [0, size) so later writes in that range cannot fail for lack of space.
    virtual Status allocate(uint64_t size) = 0;
    virtual Status truncate(uint64_t size) = 0;
    virtual Result<uint64_t> size() const = 0;
    virtual const std::string& path() const = 0;
};

class FileSystem {
public:
    virtual ~FileSystem() = default;

    enum class OpenMode { ReadWrite, CreateReadWrite, ReadOnly };
    virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
    virtual Status rename(const std::string& from, const std::string& to) = 0;
    virtual Status remove(const std::string& path) = 0;
    virtual Status createDirectories(const std::string& path) = 0;
    // Makes renames, creations and removals inside `dir` durable (fsync on the directory).
    virtual Status syncDirectory(const std::string& dir) = 0;
    // Names (not paths) of the entries of `dir`.
    virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
    virtual bool exists(const std::string& path) = 0;

    // The real file system (POSIX calls). Shared, stateless.
    static FileSystem& posix();
};

// Writes all of `size` bytes at `offset`, continuing after short writes.
Status writeFully(File& file, uint64_t offset, const void* data, size_t size);
// Reads exactly `size` bytes at `offset`; a short read is reported as Corruption ("unexpected end of file").
Status readFully(const File& file, uint64_t offset, void* data, size_t size);

}  // namespace depot::storage
