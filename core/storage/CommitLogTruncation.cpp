// Removing records: truncateAfter (a replica following its primary) and dropBefore (space reclamation).

#include <algorithm>
#include <vector>

#include "storage/CommitLogImpl.h"
#include "storage/RecordFormat.h"
#include "storage/SegmentReader.h"

namespace depot::storage {
namespace {

void clipQuarantine(std::vector<CorruptRange>& ranges, uint64_t begin, uint64_t end) {
    std::erase_if(ranges, [&](const CorruptRange& r) { return r.end <= begin || r.begin >= end; });
}

// A checkpoint past the new end would make recovery skip the zeroed range and trust stale bytes: move it back,
// or remove it when it cannot be rewritten.
Status lowerCheckpoint(CommitLog::Impl& d, uint64_t to, uint64_t end) {
    uint64_t round;
    {
        std::lock_guard checkpointLock(d.checkpointMutex);
        std::lock_guard lock(d.mutex);
        if (d.checkpoint <= end)
            return Status::ok();
        round = d.generation;
    }
    d.writeCheckpoint(to, round);
    {
        std::lock_guard lock(d.mutex);
        if (d.checkpoint <= end)
            return Status::ok();
        d.checkpoint = 0;
    }
    return d.fs->remove(d.dir + "/" + format::kCheckpointName);
}

}  // namespace

Status CommitLog::truncateAfter(uint64_t offset) {
    Impl& d = *m_impl;
    std::lock_guard appendLock(d.appendMutex);
    std::shared_ptr<Segment> keep;
    std::vector<std::shared_ptr<Segment>> removed;
    uint64_t oldEnd;
    {
        std::lock_guard lock(d.mutex);
        if (!d.failure.isOk())
            return Status::readOnly("commit log is read-only after an earlier failure (" + d.failure.toString() + ")");
        uint64_t start = d.segments.front()->baseOffset();
        if (offset < start || offset > d.written)
            return Status::invalidArgument("truncate offset " + std::to_string(offset) + " is outside " +
                                           std::to_string(start) + ".." + std::to_string(d.written));
        if (offset == d.written)
            return Status::ok();
        keep = d.segmentAt(offset);
        oldEnd = keep->sealed() ? keep->sealedEnd() : d.written;
        SegmentReader reader(keep, oldEnd, d.options.maxPayload, 4096);
        Result<SegmentReader::Frame> frame = reader.frameAt(offset);
        if (!frame || frame->kind != SegmentReader::Kind::Record)
            return Status::invalidArgument("truncate offset " + std::to_string(offset) + " is not a record boundary");
        auto it = std::find(d.segments.begin(), d.segments.end(), keep);
        removed.assign(std::next(it), d.segments.end());
        d.segments.erase(std::next(it), d.segments.end());
        keep->unseal();
        d.written = offset;
        d.durable = std::min(d.durable.load(), offset);
        d.syncWanted = std::min(d.syncWanted, offset);
        ++d.generation;  // a sync round in flight must not move durable past the new end
        clipQuarantine(d.quarantine, 0, offset);
        for (CorruptRange& range : d.quarantine)
            range.end = std::min(range.end, offset);
    }
    // Zeroed, not just forgotten: recovery must never find the removed records after the new end.
    Status status = writeZeros(keep->file(), keep->filePosition(offset), keep->filePosition(oldEnd));
    if (status.isOk())
        status = keep->file().sync();
    for (const auto& segment : removed) {
        if (status.isOk())
            status = d.fs->remove(d.dir + "/" + segment->name());
    }
    if (status.isOk())
        status = d.fs->syncDirectory(d.dir);
    if (status.isOk())
        status = lowerCheckpoint(d, keep->baseOffset(), offset);
    if (!status.isOk()) {
        std::lock_guard lock(d.mutex);
        d.failLocked(status);
    }
    return status;
}

Status CommitLog::dropBefore(uint64_t offset) {
    Impl& d = *m_impl;
    std::lock_guard appendLock(d.appendMutex);
    std::vector<std::shared_ptr<Segment>> removed;
    {
        std::lock_guard lock(d.mutex);
        while (d.segments.size() > 1 && d.segments.front()->sealedEnd() <= offset) {
            removed.push_back(d.segments.front());
            d.segments.erase(d.segments.begin());
        }
        clipQuarantine(d.quarantine, d.segments.front()->baseOffset(), UINT64_MAX);
    }
    if (!removed.empty()) {
        std::lock_guard cacheLock(d.readCacheMutex);
        d.readCache.reset();  // it may hold a removed segment's file open
    }
    for (const auto& segment : removed)
        DEPOT_RETURN_IF_ERROR(d.fs->remove(d.dir + "/" + segment->name()));
    if (!removed.empty())
        DEPOT_RETURN_IF_ERROR(d.fs->syncDirectory(d.dir));
    return Status::ok();
}

}  // namespace depot::storage
