// CommitLog: open/close, appends, random reads, truncation and stats. See CommitLogImpl.h for the locking.

#include "depot/storage/CommitLog.h"

#include <algorithm>

#include "storage/CommitLogImpl.h"
#include "storage/RecordFormat.h"
#include "storage/SegmentReader.h"

namespace depot::storage {

CommitLog::CommitLog(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Result<std::unique_ptr<CommitLog>> CommitLog::open(const std::string& dir, CommitLogOptions options) {
    if (options.segmentSize < kSegmentHeaderSize + kFrameHeaderSize + 1)
        return Status::invalidArgument("segment size " + std::to_string(options.segmentSize) + " is too small");
    auto impl = std::make_unique<Impl>();
    impl->dir = dir;
    impl->options = options;
    impl->options.maxPayload = static_cast<uint32_t>(
        std::min<uint64_t>(options.maxPayload, options.segmentSize - kSegmentHeaderSize - kFrameHeaderSize));
    impl->fs = options.fileSystem ? options.fileSystem : &FileSystem::posix();
    Status recovered = impl->recover();
    if (!recovered.isOk())
        return Status(recovered.code(), "open commit log " + dir + ": " + recovered.message());
    impl->startThreads();
    return std::unique_ptr<CommitLog>(new CommitLog(std::move(impl)));
}

CommitLog::~CommitLog() {
    if (!m_impl)
        return;
    std::lock_guard appendLock(m_impl->appendMutex);
    m_impl->stopThreads();  // the flusher syncs everything written before it exits
    bool clean;
    uint64_t end;
    uint64_t round;
    {
        std::lock_guard lock(m_impl->mutex);
        clean = m_impl->failure.isOk() && m_impl->durable.load() == m_impl->written;
        end = m_impl->checkpointCeiling(m_impl->written);
        round = m_impl->generation;
    }
    if (clean && end != m_impl->checkpoint)
        m_impl->writeCheckpoint(end, round);
}

std::string CommitLog::Impl::sparePath() const { return dir + "/" + format::kSpareName; }

void CommitLog::Impl::failLocked(const Status& status) {
    if (failure.isOk())
        failure = status;
    durableChanged.notify_all();
    flusherWake.notify_all();
}

std::shared_ptr<Segment> CommitLog::Impl::segmentAt(uint64_t offset) const {
    auto it = std::upper_bound(segments.begin(), segments.end(), offset,
                               [](uint64_t value, const auto& segment) { return value < segment->baseOffset(); });
    return it == segments.begin() ? nullptr : *std::prev(it);
}

const CorruptRange* CommitLog::Impl::quarantinedAt(uint64_t offset) const {
    for (const CorruptRange& range : quarantine) {
        if (offset >= range.begin && offset < range.end)
            return &range;
    }
    return nullptr;
}

void CommitLog::Impl::addQuarantine(CorruptRange range) const {
    // Overlapping findings (a reader saw one record, a cursor its whole batch) become one range.
    for (CorruptRange& known : quarantine) {
        if (range.begin < known.end && known.begin < range.end) {
            known.begin = std::min(known.begin, range.begin);
            known.end = std::max(known.end, range.end);
            return;
        }
    }
    quarantine.push_back(std::move(range));
}

uint64_t CommitLog::Impl::checkpointCeiling(uint64_t wanted) const {
    for (const CorruptRange& range : quarantine) {
        std::shared_ptr<Segment> holding = segmentAt(range.begin);
        wanted = std::min(wanted, holding ? holding->baseOffset() : range.begin);
    }
    return wanted;
}

Result<std::shared_ptr<Segment>> CommitLog::Impl::takeSpare(uint64_t baseOffset) {
    std::unique_lock lock(mutex);
    spareChanged.wait(lock, [this] { return spareReady || !spareWanted || !preallocator.joinable(); });
    bool ready = spareReady;
    spareReady = false;
    lock.unlock();
    if (!ready)
        DEPOT_RETURN_IF_ERROR(prepareSpareFile(*fs, sparePath(), options.segmentSize));
    Result<std::shared_ptr<Segment>> segment = activateSpare(*fs, dir, sparePath(), baseOffset, options.segmentSize);
    if (options.preallocateAhead) {
        lock.lock();
        spareWanted = true;
        spareChanged.notify_all();
    }
    return segment;
}

Result<std::shared_ptr<Segment>> CommitLog::Impl::segmentForAppend(uint64_t batchBytes) {
    std::shared_ptr<Segment> active;
    uint64_t position;
    {
        std::lock_guard lock(mutex);
        active = segments.back();
        position = written;
    }
    if (position + batchBytes <= active->limitOffset())
        return active;
    // Nothing is written when the next segment cannot be made: the log stays writable (NoSpace is retryable).
    Result<std::shared_ptr<Segment>> next = takeSpare(position);
    if (!next)
        return next.status();
    std::lock_guard lock(mutex);
    active->seal(position);
    segments.push_back(*next);
    directoryDirty = true;
    return *next;
}

namespace {

// read()'s window: a consumer draining a backlog of 1 KiB messages gets about 60 from one pread.
constexpr size_t kReadAheadBytes = 64 << 10;

Status validateBatch(std::span<const RecordView> records, uint32_t maxPayload, uint64_t capacity, uint64_t& bytes) {
    if (records.empty())
        return Status::invalidArgument("append of an empty batch");
    bytes = 0;
    for (const RecordView& record : records) {
        if (record.type == 0 || record.type > kMaxRecordType)
            return Status::invalidArgument("record type " + std::to_string(record.type) + " is outside 1..127");
        if (record.payload.size() > maxPayload)
            return Status::tooLarge("record of " + std::to_string(record.payload.size()) +
                                    " bytes exceeds the maximum payload of " + std::to_string(maxPayload));
        bytes += kFrameHeaderSize + record.payload.size();
    }
    if (bytes > capacity)
        return Status::tooLarge("batch of " + std::to_string(bytes) + " bytes does not fit in one segment (" +
                                std::to_string(capacity) + " bytes)");
    return Status::ok();
}

void encodeBatch(std::span<const RecordView> records, uint64_t bytes, std::string& buffer) {
    constexpr size_t kKeptCapacity = 1u << 20;  // beyond this, a buffer four times too big is given back
    if (buffer.capacity() > kKeptCapacity && bytes * 4 < buffer.capacity())
        std::string().swap(buffer);
    buffer.resize(bytes);
    char* out = buffer.data();
    for (size_t i = 0; i < records.size(); ++i) {
        uint8_t typeByte = records[i].type | (i + 1 < records.size() ? format::kContinuesBit : 0);
        format::encodeFrameHeader(out, typeByte, records[i].payload);
        std::copy(records[i].payload.begin(), records[i].payload.end(), out + kFrameHeaderSize);
        out += kFrameHeaderSize + records[i].payload.size();
    }
}

}  // namespace

Result<CommitLog::Appended> CommitLog::append(std::span<const RecordView> records, Durability durability) {
    Impl& d = *m_impl;
    uint64_t bytes = 0;
    DEPOT_RETURN_IF_ERROR(
        validateBatch(records, d.options.maxPayload, d.options.segmentSize - kSegmentHeaderSize, bytes));

    std::lock_guard appendLock(d.appendMutex);
    std::string& buffer = d.appendBuffer;
    encodeBatch(records, bytes, buffer);
    {
        std::lock_guard lock(d.mutex);
        if (!d.failure.isOk())
            return Status::readOnly("commit log is read-only after an earlier failure (" + d.failure.toString() + ")");
        if (d.stopping)
            return Status::closed("commit log is closed");
    }
    Result<std::shared_ptr<Segment>> segment = d.segmentForAppend(bytes);
    if (!segment)
        return segment.status();
    const uint64_t first = d.written;  // only appenders change it, and we hold appendMutex
    Status status = writeFully((*segment)->file(), (*segment)->filePosition(first), buffer.data(), buffer.size());

    std::lock_guard lock(d.mutex);
    ++d.counters.writeCalls;
    if (!status.isOk()) {
        // Some of the batch may be in the page cache: nothing past the durable offset can be vouched for again.
        d.failLocked(status);
        return status;
    }
    Appended appended;
    appended.offsets.reserve(records.size());
    uint64_t offset = first;
    for (const RecordView& record : records) {
        appended.offsets.push_back(offset);
        offset += kFrameHeaderSize + record.payload.size();
    }
    d.written = appended.endOffset = offset;
    d.counters.appendedRecords += records.size();
    ++d.counters.appendedBatches;
    if (durability == Durability::Sync)
        d.syncWanted = std::max(d.syncWanted, offset);
    d.wakeFlusherFor(durability);
    return appended;
}

uint64_t CommitLog::writtenOffset() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->written;
}

uint64_t CommitLog::durableOffset() const { return m_impl->durable.load(); }

uint64_t CommitLog::startOffset() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->segments.front()->baseOffset();
}

Status CommitLog::waitDurable(uint64_t end, std::chrono::milliseconds timeout) {
    Impl& d = *m_impl;
    std::unique_lock lock(d.mutex);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    d.durableChanged.wait_until(lock, deadline,
                                [&] { return d.durable.load() >= end || !d.failure.isOk() || d.stopping; });
    if (d.durable.load() >= end)
        return Status::ok();
    if (!d.failure.isOk())
        return d.failure;
    if (d.stopping)
        return Status::closed("commit log closed before offset " + std::to_string(end) + " was durable");
    return Status::timedOut("offset " + std::to_string(end) + " not durable within " + std::to_string(timeout.count()) +
                            " ms");
}

Status CommitLog::flush() {
    uint64_t target;
    {
        std::lock_guard lock(m_impl->mutex);
        target = m_impl->written;
        m_impl->syncWanted = std::max(m_impl->syncWanted, target);
    }
    m_impl->flusherWake.notify_one();
    return waitDurable(target);
}

void CommitLog::setAsyncFlushInterval(std::chrono::milliseconds interval) {
    {
        std::lock_guard lock(m_impl->mutex);  // the flusher reads it under this lock
        m_impl->options.asyncFlushInterval = interval;
    }
    m_impl->flusherWake.notify_one();
}

void CommitLog::setDurableListener(DurableListener listener) {
    std::lock_guard lock(m_impl->listenerMutex);  // waits for a call in progress
    m_impl->listener = std::move(listener);
}

Result<Record> CommitLog::read(uint64_t offset) const {
    Record record;
    DEPOT_RETURN_IF_ERROR(read(offset, record));
    return record;
}

Status CommitLog::read(uint64_t offset, Record& into) const {
    const Impl& d = *m_impl;
    std::shared_ptr<Segment> segment;
    uint64_t limit, generation;
    {
        std::lock_guard lock(d.mutex);
        generation = d.generation;
        if (offset < d.segments.front()->baseOffset() || offset >= d.written)
            return Status::notFound("no record at offset " + std::to_string(offset) + " (log holds " +
                                    std::to_string(d.segments.front()->baseOffset()) + ".." +
                                    std::to_string(d.written) + ")");
        if (const CorruptRange* range = d.quarantinedAt(offset))
            return Status::corruption("offset " + std::to_string(offset) + " is in a quarantined range of " +
                                      range->segment + ": " + range->reason);
        segment = d.segmentAt(offset);
        limit = segment->sealed() ? segment->sealedEnd() : d.written;
    }
    std::unique_lock cacheLock(d.readCacheMutex);
    if (!d.readCache || &d.readCache->segment() != segment.get() || d.readCacheGeneration != generation) {
        d.readCache = std::make_unique<SegmentReader>(segment, limit, d.options.maxPayload, kReadAheadBytes);
        d.readCacheGeneration = generation;
    }
    SegmentReader& reader = *d.readCache;
    reader.setLimit(std::max(reader.limit(), limit));  // a sealed segment's end, or the log's written end by now
    Result<SegmentReader::Frame> frame = reader.frameAt(offset);
    if (!frame)
        return frame.status();
    if (frame->kind == SegmentReader::Kind::Record) {
        into.offset = offset;
        into.type = frame->header.type();
        into.payload.assign(frame->payload);
        return Status::ok();
    }
    std::string problem = frame->kind == SegmentReader::Kind::Invalid ? frame->problem : "no record header";
    Result<SegmentReader::BadRange> bad = reader.badRange(offset, *frame);
    d.readCache.reset();  // it read a bad frame: start afresh
    cacheLock.unlock();   // never held while taking mutex
    std::lock_guard lock(d.mutex);
    if (bad)
        d.addQuarantine({bad->begin, bad->end, segment->name(), problem + " at offset " + std::to_string(offset)});
    return Status::corruption(segment->name() + ": " + problem + " at offset " + std::to_string(offset));
}

CommitLogStats CommitLog::stats() const {
    const Impl& d = *m_impl;
    std::lock_guard lock(d.mutex);
    CommitLogStats stats = d.counters;
    stats.startOffset = d.segments.front()->baseOffset();
    stats.writtenOffset = d.written;
    stats.durableOffset = d.durable.load();
    stats.segmentCount = d.segments.size();
    for (const auto& segment : d.segments)
        stats.bytesOnDisk += segment->fileSize();
    stats.quarantined = d.quarantine;
    stats.readOnly = !d.failure.isOk();
    stats.failure = d.failure.isOk() ? std::string() : d.failure.toString();
    return stats;
}

const RecoveryReport& CommitLog::recoveryReport() const { return m_impl->recovery; }

Status CommitLog::failure() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->failure;
}

const std::string& CommitLog::directory() const { return m_impl->dir; }

}  // namespace depot::storage
