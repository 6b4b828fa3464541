#pragma once
// Byte layout of segment headers, record frames and the checkpoint (docs/storage-format.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "depot/Result.h"
#include "depot/storage/CommitLog.h"

namespace depot::storage::format {

inline constexpr uint8_t kContinuesBit = 0x80;  // the next record belongs to the same batch
inline constexpr char kSegmentMagic[8] = {'D', 'E', 'P', 'O', 'T', 'L', 'O', 'G'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kCheckpointSize = 16;
inline constexpr const char* kSegmentSuffix = ".seg";
inline constexpr const char* kCheckpointName = "checkpoint";
inline constexpr const char* kSpareName = "prealloc.tmp";

void putU32(char* out, uint32_t v);
void putU64(char* out, uint64_t v);
uint32_t getU32(const char* in);
uint64_t getU64(const char* in);

// Frame header for a record whose type byte is `typeByte` (type | kContinuesBit when not last in its batch).
void encodeFrameHeader(char* out, uint8_t typeByte, std::string_view payload);
uint32_t frameCrc(uint8_t typeByte, std::string_view payload);

struct FrameHeader {
    uint32_t maskedCrc = 0;
    uint32_t length = 0;
    uint8_t typeByte = 0;
    bool isZero() const { return maskedCrc == 0 && length == 0 && typeByte == 0; }
    uint8_t type() const { return typeByte & ~kContinuesBit; }
    bool continues() const { return (typeByte & kContinuesBit) != 0; }
};
FrameHeader decodeFrameHeader(const char* in);
void encodeFrameHeader(char* out, const FrameHeader& header);  // the inverse of decodeFrameHeader

// A frame verified in memory (bytes shipped from another log): its header and its payload inside the buffer.
struct FrameView {
    FrameHeader header;
    std::string_view payload;
    size_t size() const { return kFrameHeaderSize + payload.size(); }
};
// Verifies the frame at the start of `bytes` as SegmentReader does on disk: type 1..127 (so a zero header is
// invalid), length at most `maxPayload` and within `bytes`, CRC. Corruption saying what is wrong otherwise.
Result<FrameView> parseFrame(std::string_view bytes, uint32_t maxPayload);

struct SegmentHeader {
    uint64_t baseOffset = 0;
    uint64_t fileSize = 0;
};
void encodeSegmentHeader(char* out /* kSegmentHeaderSize bytes */, const SegmentHeader& header);
// Corruption with the reason when the magic, version, size or CRC is wrong.
Result<SegmentHeader> decodeSegmentHeader(const char* in /* kSegmentHeaderSize bytes */);

std::string segmentFileName(uint64_t baseOffset);
std::optional<uint64_t> parseSegmentFileName(std::string_view name);

void encodeCheckpoint(char* out /* kCheckpointSize bytes */, uint64_t offset);
std::optional<uint64_t> decodeCheckpoint(const char* in, size_t size);

}  // namespace depot::storage::format
