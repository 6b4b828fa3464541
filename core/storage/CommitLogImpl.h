#pragma once
// The shared state behind CommitLog, used by CommitLog.cpp (appends, reads), Recovery.cpp (open),
// Flusher.cpp (fdatasync and preallocation threads), CommitLogCursor.cpp and CommitLogReplication.cpp.
//
// Locking: appendMutex serializes writers (append, appendFramed, truncateAfter, dropBefore, resetTo, close) and
// is held across file writes; mutex guards every field below it and is never held across a sync. Lock order:
// appendMutex, then mutex.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "depot/storage/CommitLog.h"
#include "storage/Segment.h"
#include "storage/SegmentReader.h"

namespace depot::storage {

struct CommitLog::Impl {
    std::string dir;
    CommitLogOptions options;
    FileSystem* fs = nullptr;
    RecoveryReport recovery;

    std::mutex appendMutex;
    // append()'s framing buffer, under appendMutex. Kept between appends: a fresh buffer of a few hundred KiB per
    // append cost a large malloc and free each round, and the free made malloc consolidate its free lists.
    std::string appendBuffer;
    std::mutex checkpointMutex;  // serializes checkpoint writes with truncateAfter; taken before mutex

    mutable std::mutex mutex;
    std::vector<std::shared_ptr<Segment>> segments;  // ascending base offsets, contiguous; the last is active
    uint64_t written = 0;
    std::atomic<uint64_t> durable{0};
    uint64_t syncWanted = 0;      // a Sync append wants durable >= this
    uint64_t generation = 0;      // bumped by truncateAfter and resetTo: a sync round started before must not count
    uint64_t checkpoint = 0;      // last checkpoint written
    bool directoryDirty = false;  // a segment was created or removed since the last directory sync
    Status failure;               // non-OK: read-only
    bool failureReported = false;  // the listener was told
    bool stopping = false;
    mutable std::vector<CorruptRange> quarantine;
    // read()'s read-ahead: consecutive reads of a backlog (a consumer draining a queue) share one pread of a
    // window instead of one each. One segment of one generation (truncateAfter, resetTo bump it); dropBefore
    // clears it so a deleted segment's file is not kept open. Under readCacheMutex, never held while taking mutex.
    mutable std::mutex readCacheMutex;
    mutable std::unique_ptr<SegmentReader> readCache;
    mutable uint64_t readCacheGeneration = 0;
    // Batch ends readFramed() returned lately, so a replica asking from one is not made to rescan the segment to
    // prove it is a batch start. Valid for the generation they were found in (truncateAfter, resetTo).
    mutable std::vector<uint64_t> shippedEnds;
    mutable uint64_t shippedGeneration = 0;
    CommitLogStats counters;  // the counting fields only; the rest is filled in by stats()
    std::mutex listenerMutex;  // guards listener and is held around each call: never taken while holding mutex
    DurableListener listener;
    bool flusherSleeping = false;  // appends only wake a flusher that waits (it rechecks after every round)
    bool flusherTimed = false;     // ... and async appends only one that waits for something to flush at all

    std::condition_variable flusherWake;
    std::condition_variable durableChanged;
    std::thread flusher;

    bool spareReady = false;
    bool spareWanted = false;
    std::condition_variable spareChanged;
    std::thread preallocator;

    // Recovery.cpp
    Status recover();
    // Flusher.cpp
    void startThreads();
    void stopThreads();
    void flusherLoop();
    void preallocatorLoop();
    void syncRound(std::unique_lock<std::mutex>& lock);
    // Writes the checkpoint unless truncateAfter ran since `round` (the generation the offset was taken in).
    void writeCheckpoint(uint64_t offset, uint64_t round);
    void callListener(uint64_t durableOffset, const Status& status);  // requires mutex NOT held
    // CommitLog.cpp
    Result<std::shared_ptr<Segment>> segmentForAppend(uint64_t batchBytes);
    Result<std::shared_ptr<Segment>> takeSpare(uint64_t baseOffset);
    void failLocked(const Status& status);  // requires mutex
    // After an append (requires mutex). A flusher already waiting out the async interval flushes an async
    // append's bytes with the rest when it ends: waking it for each (an acks' round during a consume, say) costs
    // a futex call here and a context switch there, for nothing.
    void wakeFlusherFor(Durability durability) {
        if (flusherSleeping && (durability == Durability::Sync || !flusherTimed))
            flusherWake.notify_one();
    }
    std::shared_ptr<Segment> segmentAt(uint64_t offset) const;  // requires mutex
    uint64_t dataEnd(size_t index) const;                        // requires mutex
    const CorruptRange* quarantinedAt(uint64_t offset) const;   // requires mutex
    void addQuarantine(CorruptRange range) const;               // requires mutex
    // The highest checkpoint that still makes the next open scan (and so report) every quarantined range.
    uint64_t checkpointCeiling(uint64_t wanted) const;           // requires mutex
    std::string sparePath() const;
};

}  // namespace depot::storage
