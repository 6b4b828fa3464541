// The flusher thread (group commit, periodic flush, checkpoints) and the preallocator thread (spare segments).

#include <chrono>

#include "common/ThreadName.h"
#include "storage/CommitLogImpl.h"
#include "storage/RecordFormat.h"

namespace depot::storage {

void CommitLog::Impl::startThreads() {
    flusher = std::thread([this] {
        nameThisThread("depot-flusher");
        flusherLoop();
    });
    if (options.preallocateAhead) {
        spareWanted = true;
        preallocator = std::thread([this] {
            nameThisThread("depot-prealloc");
            preallocatorLoop();
        });
    }
}

void CommitLog::Impl::stopThreads() {
    {
        std::lock_guard lock(mutex);
        stopping = true;
    }
    flusherWake.notify_all();
    spareChanged.notify_all();
    if (flusher.joinable())
        flusher.join();
    if (preallocator.joinable())
        preallocator.join();
    durableChanged.notify_all();
}

void CommitLog::Impl::flusherLoop() {
    using Clock = std::chrono::steady_clock;
    std::unique_lock lock(mutex);
    Clock::time_point lastRound = Clock::now();
    for (;;) {
        if (!failure.isOk()) {
            if (!failureReported) {
                failureReported = true;
                Status why = failure;
                uint64_t at = durable.load();
                lock.unlock();
                callListener(at, why);
                lock.lock();
            }
            if (stopping)
                return;
            flusherWake.wait(lock);
            continue;
        }
        uint64_t durableNow = durable.load();
        bool pending = written > durableNow || directoryDirty;
        if (stopping && !pending)
            return;
        if (syncWanted > durableNow || (stopping && pending) ||
            (pending && Clock::now() >= lastRound + options.asyncFlushInterval)) {
            syncRound(lock);
            lastRound = Clock::now();
        } else {
            flusherSleeping = true;
            flusherTimed = pending;
            if (pending)
                flusherWake.wait_until(lock, lastRound + options.asyncFlushInterval);
            else
                flusherWake.wait(lock);
            flusherSleeping = flusherTimed = false;
        }
    }
}

// One group commit: syncs every segment holding bytes in [durable, written) as of now, then the directory if a
// segment was created, and only then moves the durable offset. Called with `lock` held; releases it meanwhile.
void CommitLog::Impl::syncRound(std::unique_lock<std::mutex>& lock) {
    const uint64_t target = written;
    const uint64_t round = generation;
    const uint64_t from = durable.load();
    const bool syncDir = directoryDirty;
    directoryDirty = false;
    std::vector<std::shared_ptr<File>> files;
    for (const auto& segment : segments) {
        uint64_t end = segment->sealed() ? segment->sealedEnd() : target;
        if (end > from && segment->baseOffset() < target)
            files.push_back(segment->sharedFile());
    }
    lock.unlock();
    auto started = std::chrono::steady_clock::now();
    Status status;
    for (const auto& file : files) {
        status = file->sync();
        if (!status.isOk())
            break;
    }
    if (status.isOk() && syncDir)
        status = fs->syncDirectory(dir);
    auto took = std::chrono::steady_clock::now() - started;
    lock.lock();
    ++counters.syncs;
    counters.syncLatency.record(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
    if (!status.isOk()) {
        failLocked(status);
        return;
    }
    if (round != generation || target <= durable.load())
        return;
    durable = target;
    durableChanged.notify_all();

    // A checkpoint at the start of the segment holding the durable end lets the next open skip the segments
    // before it. Written only when that segment changes, so at most once per segment.
    std::shared_ptr<Segment> holding = segmentAt(target - 1);  // null if dropBefore removed it meanwhile
    uint64_t segmentStart = checkpointCeiling(holding ? holding->baseOffset() : 0);
    bool newCheckpoint = segmentStart != checkpoint && (segmentStart > checkpoint || !quarantine.empty());
    lock.unlock();
    if (newCheckpoint)
        writeCheckpoint(segmentStart, round);
    callListener(target, Status::ok());
    lock.lock();
}

void CommitLog::Impl::callListener(uint64_t durableOffset, const Status& status) {
    std::lock_guard listenerLock(listenerMutex);
    if (listener)
        listener(durableOffset, status);
}

void CommitLog::Impl::writeCheckpoint(uint64_t offset, uint64_t round) {
    // Best effort: a missing or old checkpoint only makes the next open scan more. One beyond the end of the
    // data would hide a truncation from recovery, hence the generation check under checkpointMutex.
    std::lock_guard checkpointLock(checkpointMutex);
    {
        std::lock_guard lock(mutex);
        if (round != generation)
            return;
    }
    const std::string path = dir + "/" + format::kCheckpointName;
    const std::string temporary = path + ".tmp";
    char bytes[format::kCheckpointSize];
    format::encodeCheckpoint(bytes, offset);
    Result<std::unique_ptr<File>> file = fs->open(temporary, FileSystem::OpenMode::CreateReadWrite);
    if (!file)
        return;
    bool ok =
        (*file)->truncate(0).isOk() && writeFully(**file, 0, bytes, sizeof bytes).isOk() && (*file)->sync().isOk();
    file->reset();
    if (ok && fs->rename(temporary, path).isOk() && fs->syncDirectory(dir).isOk()) {
        std::lock_guard lock(mutex);
        checkpoint = offset;
    }
}

void CommitLog::Impl::preallocatorLoop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
        if (spareWanted && !spareReady) {
            lock.unlock();
            Status prepared = prepareSpareFile(*fs, sparePath(), options.segmentSize);
            lock.lock();
            spareReady = prepared.isOk();
            spareWanted = false;  // on failure the next roll prepares one itself and reports the error
            spareChanged.notify_all();
            continue;
        }
        spareChanged.wait(lock);
    }
}

}  // namespace depot::storage
