#include "storage/SegmentReader.h"

#include <algorithm>

namespace depot::storage {

SegmentReader::SegmentReader(std::shared_ptr<Segment> segment, uint64_t limit, uint32_t maxPayload, size_t window)
    : m_segment(std::move(segment)), m_limit(limit), m_maxPayload(maxPayload), m_window(window) {}

void SegmentReader::setLimit(uint64_t limit) {
    if (limit < m_limit)
        m_buffer.clear();  // bytes past the new limit may be rewritten
    m_limit = limit;
}

Status SegmentReader::ensure(uint64_t offset, size_t size) {
    if (offset >= m_bufferOffset && offset + size <= m_bufferOffset + m_buffer.size())
        return Status::ok();
    // Read a window starting at `offset`, never past the limit (bytes beyond it may still be changing).
    size_t length = static_cast<size_t>(std::min<uint64_t>(std::max(m_window, size), m_limit - offset));
    m_buffer.resize(length);
    m_bufferOffset = offset;
    Status status = readFully(m_segment->file(), m_segment->filePosition(offset), m_buffer.data(), length);
    if (!status.isOk()) {
        m_buffer.clear();
        return status;
    }
    m_bytesRead += length;
    return Status::ok();
}

std::string_view SegmentReader::view(uint64_t offset, size_t size) const {
    return std::string_view(m_buffer).substr(static_cast<size_t>(offset - m_bufferOffset), size);
}

SegmentReader::Frame SegmentReader::invalid(uint64_t offset, const format::FrameHeader& header,
                                            std::string problem) const {
    Frame frame;
    frame.kind = Kind::Invalid;
    frame.offset = offset;
    frame.header = header;
    frame.problem = std::move(problem);
    return frame;
}

Result<SegmentReader::Frame> SegmentReader::frameAt(uint64_t offset) {
    Frame frame;
    frame.offset = offset;
    if (offset >= m_limit)
        return frame;  // Kind::Limit
    if (m_limit - offset < kFrameHeaderSize)
        return invalid(offset, {}, "record header cut short by the end of the segment data");
    DEPOT_RETURN_IF_ERROR(ensure(offset, kFrameHeaderSize));
    frame.header = format::decodeFrameHeader(view(offset, kFrameHeaderSize).data());
    if (frame.header.isZero()) {
        frame.kind = Kind::Zero;
        return frame;
    }
    if (frame.header.type() == 0)
        return invalid(offset, frame.header, "record type 0");
    if (frame.header.length > m_maxPayload)
        return invalid(offset, frame.header, "record length " + std::to_string(frame.header.length) +
                                                 " exceeds the maximum " + std::to_string(m_maxPayload));
    if (m_limit - offset - kFrameHeaderSize < frame.header.length)
        return invalid(offset, frame.header, "record cut short by the end of the segment data");
    DEPOT_RETURN_IF_ERROR(ensure(offset, kFrameHeaderSize + frame.header.length));
    std::string_view payload = view(offset + kFrameHeaderSize, frame.header.length);
    if (format::frameCrc(frame.header.typeByte, payload) != frame.header.maskedCrc)
        return invalid(offset, frame.header, "record checksum mismatch");
    frame.kind = Kind::Record;
    frame.payload = payload;
    return frame;
}

Result<SegmentReader::BadRange> SegmentReader::badRange(uint64_t batchStart, const Frame& bad) {
    BadRange range{batchStart, m_limit, false};
    uint64_t length = bad.header.length;
    if (bad.kind == Kind::Zero || length > m_maxPayload || m_limit - bad.offset < kFrameHeaderSize + length)
        return range;
    uint64_t next = bad.offset + kFrameHeaderSize + length;
    bool continues = bad.header.continues();
    for (;;) {
        Result<Frame> frame = frameAt(next);
        if (!frame)
            return frame.status();
        if (frame->kind == Kind::Limit && continues)
            return range;  // the batch never finished: everything to the limit is suspect
        if (frame->kind == Kind::Limit || (frame->kind == Kind::Record && !continues)) {
            range.end = next;
            range.resynced = true;
            return range;
        }
        if (frame->kind != Kind::Record)
            return range;
        continues = frame->header.continues();
        next = frame->endOffset();
    }
}

}  // namespace depot::storage

