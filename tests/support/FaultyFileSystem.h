#pragma once
// FaultyFileSystem: a FileSystem for tests that wraps a real one (default FileSystem::posix()) and can lose data
// the way a machine does when the power goes, or fail the way a sick disk does.
//
// What it remembers: for every file, an undo list of the changes (writeAt, truncate, allocate) made since the
// last successful sync() of that file; for every directory, the entry changes (create, rename, remove) made since
// its last syncDirectory(). Restoring the undo lists in reverse order gives back exactly the last synced content.
//
// Contracts:
// - sync(): a change is synced once a sync() of that file that *started after the change* returned OK. Changes
//   made while a sync() is running count as unsynced (the worst case). Any handle of the file syncs the file.
// - A failed sync() (injected or real) drops the file's unsynced changes on disk right away, like Linux after a
//   failed fsync marks the dirty pages clean without writing them. A later sync() succeeds: the fsyncgate trap.
// - powerLoss(): every file goes back to its synced content, directory changes not covered by a syncDirectory()
//   are undone (a created file vanishes, a rename is reversed, a removed file comes back with its synced
//   content), and every File opened before fails every later call with EIO. Files opened later work normally.
// - powerOff()/powerOn(): powerLoss() in two halves. Between them, the file system refuses everything (EIO),
//   so an object destroyed "after the crash" (a CommitLog's destructor) cannot open, write, rename or sync
//   anything. Prefer powerOff(); destroy the log; powerOn(); reopen — over powerLoss() when testing recovery.
// - Paths are compared after lexical normalization ("a//b/" == "a/b"); symlinks and hard links are not tracked.
//   createDirectories() is passed through and treated as durable. Directory renames are not modelled.
// - A removed file is renamed to "<dir>/.faulty-removed-N" until its directory is synced (then really removed);
//   list() hides those names.
// - File objects must not outlive the FaultyFileSystem. Every method is thread-safe (one mutex; the real
//   fdatasync and directory fsync run outside it so a writer is not blocked by a sync).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "depot/storage/FileSystem.h"

namespace depot::test {

class FaultyFileSystem : public storage::FileSystem {
public:
    explicit FaultyFileSystem(storage::FileSystem& base = storage::FileSystem::posix());
    ~FaultyFileSystem() override;
    FaultyFileSystem(const FaultyFileSystem&) = delete;
    FaultyFileSystem& operator=(const FaultyFileSystem&) = delete;

    // The nth File::sync() call from now (1 = the next one, counting calls on every file, failed ones included)
    // fails with errno `err` (EIO, ENOSPC ...) and drops that file's unsynced changes. Replaces an earlier one.
    void failSyncAt(int nth, int err);
    // The nth File::writeAt() call from now fails with errno `err`, writing nothing. Replaces an earlier one.
    void failWriteAt(int nth, int err);
    // While set, every writeAt() and allocate() fails with ENOSPC, writing nothing.
    void setNoSpace(bool noSpace);
    // Non-zero: writeAt() writes at most this many bytes per call and returns the count (a legal short write).
    void setShortWrites(size_t maxBytesPerCall);
    // Removes every injected fault (failSyncAt, failWriteAt, setNoSpace, setShortWrites). Power state unchanged.
    void clearFaults();

    void powerLoss();
    void powerOff();
    void powerOn();

    // Successful File::sync() calls (directory syncs not included).
    uint64_t syncCount() const;
    // Successful File::writeAt() calls (short ones included).
    uint64_t writeCount() const;
    // True if [fileOffset, fileOffset + size) lies within the file, no unsynced change touches it, and the file's
    // directory entry is durable (not created, renamed or removed since its directory's last sync).
    bool isSynced(const std::string& path, uint64_t fileOffset, uint64_t size) const;

    Result<std::unique_ptr<storage::File>> open(const std::string& path, OpenMode mode) override;
    Status rename(const std::string& from, const std::string& to) override;
    Status remove(const std::string& path) override;
    Status createDirectories(const std::string& path) override;
    Status syncDirectory(const std::string& dir) override;
    Result<std::vector<std::string>> list(const std::string& dir) override;
    bool exists(const std::string& path) override;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace depot::test
