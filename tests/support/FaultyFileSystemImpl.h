#pragma once
// The state behind FaultyFileSystem, shared by FaultyFileSystem.cpp (directory operations, power, observers)
// and FaultyFile.cpp (the File wrapper that records undo entries). Private to tests/support.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "support/FaultyFileSystem.h"

namespace depot::test {
namespace faulty {

inline constexpr std::string_view kTrashPrefix = ".faulty-removed-";

// One change to a file since its last successful sync. Reverting it writes back what [offset, offset + length of
// bytes or zeros) held and sets the size back, which returns the file to its state just before the change.
struct Undo {
    uint64_t seq = 0;
    uint64_t offset = 0;
    std::string bytes;
    uint64_t zeros = 0;  // the old bytes were this many zeros (kept compact: preallocated segments are zeros)
    uint64_t previousSize = 0;
    uint64_t touchedBegin = 0;  // the byte range the change touched, for isSynced()
    uint64_t touchedEnd = 0;
};

struct FileState {
    std::string path;  // where the file is now (changes with rename and remove-to-trash)
    std::vector<Undo> undo;
    uint64_t nextSeq = 0;
};

struct DirOp {
    enum class Kind { Create, Rename, Remove };
    Kind kind;
    uint64_t seq;
    std::string from;  // Rename: old path; Remove: the removed path
    std::string to;    // Create: the new file; Rename: new path; Remove: the trash path
    std::set<std::string> pendingDirs;  // durable once every one of them was synced
};

std::string normalize(const std::string& path);
std::string parentOf(const std::string& path);
Status powerIsOff(const std::string& what);
Status revert(storage::File& base, const Undo& undo);

}  // namespace faulty

// Every field is guarded by `mutex`; every method requires it.
struct FaultyFileSystem::Impl {
    explicit Impl(storage::FileSystem& baseFs) : base(baseFs) {}

    storage::FileSystem& base;
    mutable std::mutex mutex;
    uint64_t epoch = 0;  // bumped by powerOff(): handles from an older epoch are dead
    bool off = false;

    int syncFaultIn = 0;
    int syncFaultErr = 0;
    int writeFaultIn = 0;
    int writeFaultErr = 0;
    bool noSpace = false;
    size_t shortWrites = 0;

    uint64_t syncs = 0;
    uint64_t writes = 0;
    uint64_t trashCounter = 0;
    uint64_t nextOpSeq = 0;
    std::map<std::string, std::shared_ptr<faulty::FileState>> files;  // by current path
    std::vector<faulty::DirOp> dirOps;                                // not yet durable, oldest first

    bool alive(uint64_t handleEpoch) const { return !off && handleEpoch == epoch; }
    // Counts one call down; returns `err` on the call that reaches zero, else 0.
    static int take(int& countdown, int err) {
        if (countdown <= 0)
            return 0;
        return --countdown == 0 ? err : 0;
    }

    std::shared_ptr<faulty::FileState> stateFor(const std::string& path);
    void move(const std::string& from, const std::string& to);
    void addOp(faulty::DirOp::Kind kind, std::string from, std::string to);
    void dropUnsynced(faulty::FileState& state);  // restores the synced content of one file on disk
    Status moveToTrash(const std::string& path);
    void undoOp(const faulty::DirOp& op);
    void finishOp(const faulty::DirOp& op);
    void restoreAll();
    bool entryIsDurable(const std::string& path) const;
};

// The File handed out by FaultyFileSystem::open(): forwards to `base`, recording undo entries in `state`.
std::unique_ptr<storage::File> makeFaultyFile(FaultyFileSystem::Impl& fs, std::unique_ptr<storage::File> base,
                                              std::shared_ptr<faulty::FileState> state, std::string path);

}  // namespace depot::test
