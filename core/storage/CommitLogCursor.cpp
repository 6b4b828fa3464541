// Cursor: reads the log batch by batch, so a batch is served only when every record of it verifies
// (a half-served batch could, say, settle a message whose dead-letter copy was lost).

#include <deque>

#include "storage/CommitLogImpl.h"
#include "storage/SegmentReader.h"

namespace depot::storage {

struct CommitLog::Cursor::State {
    const CommitLog::Impl* log = nullptr;
    uint64_t position = 0;
    CorruptRange lastCorrupt;
    std::unique_ptr<SegmentReader> reader;
    std::deque<Record> pending;  // verified records of the current batch not yet returned

    Result<std::optional<Record>> next();
    Status readBatch(std::shared_ptr<Segment> segment, uint64_t limit);
};

CommitLog::Cursor::Cursor(std::unique_ptr<State> state) : m_state(std::move(state)) {}
CommitLog::Cursor::~Cursor() = default;
CommitLog::Cursor::Cursor(Cursor&&) noexcept = default;
CommitLog::Cursor& CommitLog::Cursor::operator=(Cursor&&) noexcept = default;

uint64_t CommitLog::Cursor::position() const {
    return m_state->pending.empty() ? m_state->position : m_state->pending.front().offset;
}

const CorruptRange& CommitLog::Cursor::corruptRange() const {
    return m_state->lastCorrupt;
}

Result<std::optional<Record>> CommitLog::Cursor::next() {
    return m_state->next();
}

CommitLog::Cursor CommitLog::iterate(uint64_t from) const {
    auto state = std::make_unique<Cursor::State>();
    state->log = m_impl.get();
    state->position = from;
    return Cursor(std::move(state));
}

Result<std::optional<Record>> CommitLog::Cursor::State::next() {
    if (pending.empty()) {
        std::shared_ptr<Segment> segment;
        uint64_t limit;
        {
            std::lock_guard lock(log->mutex);
            position = std::max(position, log->segments.front()->baseOffset());
            if (position >= log->written)
                return std::optional<Record>();
            if (const CorruptRange* range = log->quarantinedAt(position)) {
                lastCorrupt = *range;
                position = range->end;
                return Status::corruption("skipped quarantined range " + std::to_string(range->begin) + ".." +
                                          std::to_string(range->end) + " of " + range->segment + ": " + range->reason);
            }
            segment = log->segmentAt(position);
            limit = segment->sealed() ? segment->sealedEnd() : log->written;
        }
        Status status = readBatch(std::move(segment), limit);
        if (!status.isOk())
            return status;
    }
    Record record = std::move(pending.front());
    pending.pop_front();
    return std::optional<Record>(std::move(record));
}

// Reads the batch at `position` into `pending`, or quarantines it and returns Corruption.
Status CommitLog::Cursor::State::readBatch(std::shared_ptr<Segment> segment, uint64_t limit) {
    if (!reader || &reader->segment() != segment.get())
        reader = std::make_unique<SegmentReader>(segment, limit, log->options.maxPayload);
    else
        reader->setLimit(limit);
    const uint64_t batchStart = position;
    uint64_t at = position;
    for (;;) {
        Result<SegmentReader::Frame> frame = reader->frameAt(at);
        if (!frame)
            return frame.status();
        if (frame->kind == SegmentReader::Kind::Record) {
            pending.push_back(Record{at, frame->header.type(), std::string(frame->payload)});
            at = frame->endOffset();
            if (frame->header.continues())
                continue;
            position = at;
            return Status::ok();
        }
        pending.clear();
        std::string problem = frame->kind == SegmentReader::Kind::Invalid ? frame->problem
                              : frame->kind == SegmentReader::Kind::Zero ? "zeroed record header"
                                                                         : "batch cut short by the end of the segment";
        Result<SegmentReader::BadRange> bad = reader->badRange(batchStart, *frame);
        if (!bad)
            return bad.status();
        lastCorrupt = {bad->begin, bad->end, segment->name(), problem + " at offset " + std::to_string(at)};
        {
            std::lock_guard lock(log->mutex);
            log->addQuarantine(lastCorrupt);
        }
        position = bad->end;
        return Status::corruption("quarantined " + std::to_string(bad->begin) + ".." + std::to_string(bad->end) +
                                  " of " + segment->name() + ": " + lastCorrupt.reason);
    }
}

}  // namespace depot::storage
