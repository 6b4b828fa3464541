#pragma once
// SegmentReader: verified, buffered sequential reads of the records of one segment, up to a limit offset.
// Used by recovery, cursors and random reads; it never returns a payload whose CRC did not match.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "depot/Result.h"
#include "storage/RecordFormat.h"
#include "storage/Segment.h"

namespace depot::storage {

class SegmentReader {
public:
    // Reads records of `segment` that end at or before `limit`. `window` is the read-ahead size.
    SegmentReader(std::shared_ptr<Segment> segment, uint64_t limit, uint32_t maxPayload, size_t window = 1 << 20);

    enum class Kind {
        Record,   // a verified record
        Limit,    // offset == limit: nothing more to read
        Zero,     // an all-zero header: the end of written data in the last segment, an anomaly anywhere else
        Invalid,  // failed verification; `problem` says how
    };
    struct Frame {
        Kind kind = Kind::Limit;
        uint64_t offset = 0;
        format::FrameHeader header;
        std::string_view payload;  // valid until the next call
        std::string problem;
        uint64_t endOffset() const { return offset + kFrameHeaderSize + header.length; }
    };
    // IO errors come back as a Status; everything about the bytes themselves comes back as a Frame.
    Result<Frame> frameAt(uint64_t offset);

    struct BadRange {
        uint64_t begin = 0;
        uint64_t end = 0;
        bool resynced = false;  // the bad record's length led to a valid record (or exactly to the limit)
    };
    // The batch that starts at `batchStart` holds the invalid frame `bad`. Returns what to quarantine: the whole
    // batch when the records after `bad` can be followed, otherwise everything from `batchStart` to the limit.
    Result<BadRange> badRange(uint64_t batchStart, const Frame& bad);

    uint64_t limit() const { return m_limit; }
    void setLimit(uint64_t limit);
    const Segment& segment() const { return *m_segment; }
    uint64_t bytesRead() const { return m_bytesRead; }

private:
    Status ensure(uint64_t offset, size_t size);
    std::string_view view(uint64_t offset, size_t size) const;
    Frame invalid(uint64_t offset, const format::FrameHeader& header, std::string problem) const;

    std::shared_ptr<Segment> m_segment;
    uint64_t m_limit;
    uint32_t m_maxPayload;
    size_t m_window;
    std::string m_buffer;
    uint64_t m_bufferOffset = 0;  // offset of m_buffer[0]
    uint64_t m_bytesRead = 0;
};

}  // namespace depot::storage
