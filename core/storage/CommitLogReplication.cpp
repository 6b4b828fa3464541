// Log shipping: readFramed (on the primary), appendFramed and resetTo (on a replica). The rules are in
// docs/storage-format.md ("Replication copies"); CommitLogImpl.h has the locking.

#include <algorithm>

#include "storage/CommitLogImpl.h"
#include "storage/RecordFormat.h"
#include "storage/SegmentReader.h"

namespace depot::storage {
namespace {

constexpr size_t kShippedEndsKept = 16;  // a few replicas, each asking again from the end of its last answer

Status readOnlyStatus(const Status& failure) {
    return Status::readOnly("commit log is read-only after an earlier failure (" + failure.toString() + ")");
}

// What readFramed may read, decided under the log's mutex.
struct ReadPlan {
    std::shared_ptr<Segment> segment;  // holds `from`; reading stops at its end (the caller asks again)
    uint64_t dataEnd = 0;              // where the segment's records end: its sealed end or the written end
    uint64_t stop = 0;                 // min(limit, dataEnd, the next quarantined range)
    bool stopIsQuarantine = false;
    uint64_t generation = 0;
    bool knownBatchStart = false;            // no scan needed to prove `from` is a batch start
    std::vector<CorruptRange> rangesBefore;  // quarantined ranges between the segment's base and `from`
};

bool isShippedEnd(const CommitLog::Impl& d, uint64_t offset) {  // requires mutex
    if (d.shippedGeneration != d.generation) {
        d.shippedEnds.clear();
        d.shippedGeneration = d.generation;
    }
    return std::find(d.shippedEnds.begin(), d.shippedEnds.end(), offset) != d.shippedEnds.end();
}

Result<ReadPlan> planRead(const CommitLog::Impl& d, uint64_t from, uint64_t limit) {
    std::lock_guard lock(d.mutex);
    const uint64_t start = d.segments.front()->baseOffset();
    if (from < start || from > d.written)
        return Status::notFound("offset " + std::to_string(from) + " is outside the log (it holds " +
                                std::to_string(start) + ".." + std::to_string(d.written) + ")");
    if (limit < from)
        return Status::invalidArgument("limit " + std::to_string(limit) + " is before offset " + std::to_string(from));
    if (const CorruptRange* range = d.quarantinedAt(from))
        return Status::corruption("offset " + std::to_string(from) + " is in the quarantined range " +
                                  std::to_string(range->begin) + ".." + std::to_string(range->end) + " of " +
                                  range->segment + ": " + range->reason);
    ReadPlan plan;
    plan.segment = d.segmentAt(from);
    plan.dataEnd = plan.segment->sealed() ? plan.segment->sealedEnd() : d.written;
    plan.stop = std::min(limit, plan.dataEnd);
    plan.generation = d.generation;
    plan.knownBatchStart = from == plan.segment->baseOffset() || from == d.written || isShippedEnd(d, from);
    for (const CorruptRange& range : d.quarantine) {
        if (range.begin > from && range.begin < plan.stop) {
            plan.stop = range.begin;
            plan.stopIsQuarantine = true;
        }
        if (range.end == from)
            plan.knownBatchStart = true;  // cursors, too, go on at the end of a quarantined range
        if (range.end < from && range.end > plan.segment->baseOffset())
            plan.rangesBefore.push_back(range);
    }
    return plan;
}

// `frame` (not a verified record) was found in the batch starting at `batchStart`: quarantines what the cursor
// would and returns Corruption, unless the log was truncated or reset meanwhile (the bytes may be new ones).
Status quarantineBad(const CommitLog::Impl& d, SegmentReader& reader, uint64_t batchStart,
                     const SegmentReader::Frame& frame, uint64_t generation) {
    std::string problem = frame.kind == SegmentReader::Kind::Invalid ? frame.problem
                          : frame.kind == SegmentReader::Kind::Zero  ? "zeroed record header"
                                                                     : "batch cut short by the end of the segment";
    Result<SegmentReader::BadRange> bad = reader.badRange(batchStart, frame);
    if (!bad)
        return bad.status();
    const std::string& segment = reader.segment().name();
    std::lock_guard lock(d.mutex);
    if (d.generation != generation)
        return Status::unavailable("commit log was truncated or reset while reading; ask again");
    d.addQuarantine({bad->begin, bad->end, segment, problem + " at offset " + std::to_string(frame.offset)});
    return Status::corruption("quarantined " + std::to_string(bad->begin) + ".." + std::to_string(bad->end) + " of " +
                              segment + ": " + problem + " at offset " + std::to_string(frame.offset));
}

// The log keeps no index of batches: walk the segment's records from its base to see whether `from` is where
// one batch ends and the next begins. Rare (a replica's first request); later requests hit the shipped ends.
Status checkBatchStart(const CommitLog::Impl& d, const ReadPlan& plan, uint64_t from) {
    if (plan.knownBatchStart)
        return Status::ok();
    SegmentReader reader(plan.segment, plan.dataEnd, d.options.maxPayload);
    uint64_t at = plan.segment->baseOffset();
    uint64_t batchStart = at;
    while (at < from) {
        auto skipped = std::find_if(plan.rangesBefore.begin(), plan.rangesBefore.end(),
                                    [at](const CorruptRange& r) { return at >= r.begin && at < r.end; });
        if (skipped != plan.rangesBefore.end()) {
            at = batchStart = skipped->end;
            continue;
        }
        Result<SegmentReader::Frame> frame = reader.frameAt(at);
        if (!frame)
            return frame.status();
        if (frame->kind != SegmentReader::Kind::Record)
            return quarantineBad(d, reader, batchStart, *frame, plan.generation);
        at = frame->endOffset();
        if (!frame->header.continues())
            batchStart = at;
    }
    if (batchStart == from)
        return Status::ok();
    return Status::invalidArgument("offset " + std::to_string(from) + " is not a batch start (it is inside " +
                                   (at == from ? "a batch)" : "a record)"));
}

// Reading reached `plan.stop`; `cut` when a batch runs past it. Past the limit, that batch is left for a later
// call; into a quarantined range, it can never be shipped whole: asking again would get the same empty answer.
Result<FramedRange> stopAt(const ReadPlan& plan, FramedRange range, uint64_t batchStart, bool cut) {
    if (cut && plan.stopIsQuarantine)
        return Status::corruption("the batch at offset " + std::to_string(batchStart) +
                                  " runs into the quarantined range at " + std::to_string(plan.stop));
    return range;
}

// Copies whole batches from `from` until `plan.stop` or `maxBytes` (the first batch always, whatever its size).
Result<FramedRange> copyBatches(const CommitLog::Impl& d, const ReadPlan& plan, uint64_t from, size_t maxBytes) {
    FramedRange range{from, from, {}};
    const size_t window = std::clamp<size_t>(maxBytes, 4096, 1 << 20);
    SegmentReader reader(plan.segment, plan.dataEnd, d.options.maxPayload, window);
    std::string batch;  // the batch being read: shipped only once it is whole
    uint64_t at = from;
    for (;;) {
        const uint64_t batchStart = at - batch.size();
        // A batch unfinished at the end of the segment's data goes on to frameAt(), which reports it.
        if (at >= plan.stop && (batch.empty() || at < plan.dataEnd))
            return stopAt(plan, std::move(range), batchStart, !batch.empty());
        Result<SegmentReader::Frame> frame = reader.frameAt(at);
        if (!frame)
            return frame.status();
        if (frame->kind != SegmentReader::Kind::Record)
            return quarantineBad(d, reader, batchStart, *frame, plan.generation);
        if (frame->endOffset() > plan.stop)
            return stopAt(plan, std::move(range), batchStart, true);
        const size_t begin = batch.size();
        batch.resize(begin + kFrameHeaderSize);
        format::encodeFrameHeader(batch.data() + begin, frame->header);
        batch.append(frame->payload);
        at = frame->endOffset();
        if (!range.bytes.empty() && range.bytes.size() + batch.size() > maxBytes)
            return range;  // this batch would pass maxBytes: left for a later call
        if (frame->header.continues())
            continue;
        range.bytes += batch;
        range.end = at;
        batch.clear();
        if (range.bytes.size() >= maxBytes)
            return range;
    }
}

// Remembers where an answer ended, so the next request from there is cheap. False when the log was truncated or
// reset while reading: the bytes read may be older than the log's current contents.
bool rememberShippedEnd(const CommitLog::Impl& d, uint64_t end, uint64_t generation) {
    std::lock_guard lock(d.mutex);
    if (d.generation != generation)
        return false;
    if (!isShippedEnd(d, end)) {
        if (d.shippedEnds.size() == kShippedEndsKept)
            d.shippedEnds.erase(d.shippedEnds.begin());
        d.shippedEnds.push_back(end);
    }
    return true;
}

}  // namespace

Result<FramedRange> CommitLog::readFramed(uint64_t from, uint64_t limit, size_t maxBytes) const {
    const Impl& d = *m_impl;
    Result<ReadPlan> plan = planRead(d, from, limit);
    if (!plan)
        return plan.status();
    DEPOT_RETURN_IF_ERROR(checkBatchStart(d, *plan, from));
    Result<FramedRange> range = copyBatches(d, *plan, from, maxBytes);
    if (range && !rememberShippedEnd(d, range->end, plan->generation))
        return Status::unavailable("commit log was truncated or reset while reading; ask again");
    return range;
}

namespace {

struct ShippedBatch {
    size_t end = 0;  // position in the shipped bytes after its last record
    uint64_t records = 0;
};

// Verifies every frame of `bytes` (which start at offset `from`) and cuts them into batches. Nothing is written
// unless all of it is good, so a damaged copy never leaves half a range behind.
Result<std::vector<ShippedBatch>> splitBatches(std::string_view bytes, uint64_t from, uint32_t maxPayload,
                                               uint64_t capacity) {
    std::vector<ShippedBatch> batches;
    ShippedBatch current;
    size_t batchStart = 0;
    size_t largest = 0;
    size_t at = 0;
    while (at < bytes.size()) {
        Result<format::FrameView> frame = format::parseFrame(bytes.substr(at), maxPayload);
        if (!frame)
            return Status::corruption("shipped record at offset " + std::to_string(from + at) + ": " +
                                      frame.status().message());
        at += frame->size();
        ++current.records;
        if (frame->header.continues())
            continue;
        current.end = at;
        batches.push_back(current);
        largest = std::max(largest, at - batchStart);
        current = {};
        batchStart = at;
    }
    if (current.records > 0)
        return Status::corruption("shipped bytes end inside the batch at offset " + std::to_string(from + batchStart) +
                                  " (the last record has the continues bit set)");
    if (largest > capacity)
        return Status::tooLarge("shipped batch of " + std::to_string(largest) + " bytes does not fit in one segment (" +
                                std::to_string(capacity) + " bytes)");
    return batches;
}

// Writes whole batches that all fit in `segment` with one write call, then publishes them as append() does.
Status writeBatches(CommitLog::Impl& d, Segment& segment, uint64_t first, std::string_view bytes, size_t batches,
                    uint64_t records, Durability durability) {
    Status status = writeFully(segment.file(), segment.filePosition(first), bytes.data(), bytes.size());
    std::lock_guard lock(d.mutex);
    ++d.counters.writeCalls;
    if (!status.isOk()) {
        d.failLocked(status);  // some of it may be in the page cache: nothing past durable can be vouched for
        return status;
    }
    d.written = first + bytes.size();
    d.counters.appendedRecords += records;
    d.counters.appendedBatches += batches;
    if (durability == Durability::Sync)
        d.syncWanted = std::max(d.syncWanted, d.written);
    d.wakeFlusherFor(durability);
    return Status::ok();
}

}  // namespace

Result<uint64_t> CommitLog::appendFramed(uint64_t from, std::string_view bytes, Durability durability) {
    Impl& d = *m_impl;
    Result<std::vector<ShippedBatch>> batches =
        splitBatches(bytes, from, d.options.maxPayload, d.options.segmentSize - kSegmentHeaderSize);
    if (!batches)
        return batches.status();

    std::lock_guard appendLock(d.appendMutex);
    {
        std::lock_guard lock(d.mutex);
        if (!d.failure.isOk())
            return readOnlyStatus(d.failure);
        if (d.stopping)
            return Status::closed("commit log is closed");
        if (from != d.written)
            return Status::invalidArgument("shipped bytes start at offset " + std::to_string(from) +
                                           " but the log's written end is " + std::to_string(d.written));
    }
    size_t done = 0;  // bytes of `bytes` written so far, always a batch end
    for (size_t next = 0; next < batches->size();) {
        // Like append(): roll when the next batch does not fit; then write every batch that fits with it.
        Result<std::shared_ptr<Segment>> segment = d.segmentForAppend((*batches)[next].end - done);
        if (!segment)
            return segment.status();
        const uint64_t first = from + done;
        uint64_t records = 0;
        size_t last = next;
        for (; last < batches->size() && first + ((*batches)[last].end - done) <= (*segment)->limitOffset(); ++last)
            records += (*batches)[last].records;
        const size_t end = (*batches)[last - 1].end;
        DEPOT_RETURN_IF_ERROR(
            writeBatches(d, **segment, first, bytes.substr(done, end - done), last - next, records, durability));
        done = end;
        next = last;
    }
    return from + bytes.size();
}

namespace {

// Removes the checkpoint (it names offsets of the old log, and would make recovery call a torn tail corruption),
// then the segments newest first, each removal durable before the next, so a crash leaves a prefix of the old
// log; then creates the empty segment at `offset` and makes its name durable.
Result<std::shared_ptr<Segment>> replaceSegments(CommitLog::Impl& d, const std::vector<std::shared_ptr<Segment>>& old,
                                                 uint64_t offset) {
    DEPOT_RETURN_IF_ERROR(d.fs->remove(d.dir + "/" + format::kCheckpointName));
    DEPOT_RETURN_IF_ERROR(d.fs->syncDirectory(d.dir));
    for (auto it = old.rbegin(); it != old.rend(); ++it) {
        DEPOT_RETURN_IF_ERROR(d.fs->remove(d.dir + "/" + (*it)->name()));
        DEPOT_RETURN_IF_ERROR(d.fs->syncDirectory(d.dir));
    }
    Result<std::shared_ptr<Segment>> fresh = d.takeSpare(offset);  // zero-filled and synced, header synced
    if (!fresh)
        return fresh.status();
    DEPOT_RETURN_IF_ERROR(d.fs->syncDirectory(d.dir));
    return fresh;
}

}  // namespace

Status CommitLog::resetTo(uint64_t offset) {
    Impl& d = *m_impl;
    if (offset > UINT64_MAX - d.options.segmentSize)
        return Status::invalidArgument("cannot start a segment at offset " + std::to_string(offset));
    std::lock_guard appendLock(d.appendMutex);
    std::lock_guard checkpointLock(d.checkpointMutex);  // no checkpoint of the old log is written meanwhile
    std::vector<std::shared_ptr<Segment>> old;
    {
        std::lock_guard lock(d.mutex);
        if (!d.failure.isOk())
            return readOnlyStatus(d.failure);
        if (d.stopping)
            return Status::closed("commit log is closed");
        old = d.segments;
    }
    Result<std::shared_ptr<Segment>> fresh = replaceSegments(d, old, offset);
    std::lock_guard lock(d.mutex);
    if (!fresh) {
        d.failLocked(fresh.status());
        return fresh.status();
    }
    d.segments = {*fresh};
    d.written = offset;
    d.durable = offset;
    d.syncWanted = offset;
    ++d.generation;  // a sync round or checkpoint of the old log must not count; shipped ends are stale
    d.checkpoint = 0;
    d.directoryDirty = false;
    d.quarantine.clear();
    d.durableChanged.notify_all();
    return Status::ok();
}

}  // namespace depot::storage
