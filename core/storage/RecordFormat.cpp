#include "storage/RecordFormat.h"

#include <cstring>

#include "storage/Crc32c.h"

namespace depot::storage::format {

void putU32(char* out, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out[i] = static_cast<char>(v >> (8 * i));
}

void putU64(char* out, uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<char>(v >> (8 * i));
}

uint32_t getU32(const char* in) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = (v << 8) | static_cast<uint8_t>(in[i]);
    return v;
}

uint64_t getU64(const char* in) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | static_cast<uint8_t>(in[i]);
    return v;
}

uint32_t frameCrc(uint8_t typeByte, std::string_view payload) {
    uint32_t crc = crc32c::extend(0, &typeByte, 1);
    return crc32c::mask(crc32c::extend(crc, payload.data(), payload.size()));
}

void encodeFrameHeader(char* out, uint8_t typeByte, std::string_view payload) {
    putU32(out, frameCrc(typeByte, payload));
    putU32(out + 4, static_cast<uint32_t>(payload.size()));
    out[8] = static_cast<char>(typeByte);
}

FrameHeader decodeFrameHeader(const char* in) {
    return FrameHeader{getU32(in), getU32(in + 4), static_cast<uint8_t>(in[8])};
}

void encodeFrameHeader(char* out, const FrameHeader& header) {
    putU32(out, header.maskedCrc);
    putU32(out + 4, header.length);
    out[8] = static_cast<char>(header.typeByte);
}

Result<FrameView> parseFrame(std::string_view bytes, uint32_t maxPayload) {
    if (bytes.size() < kFrameHeaderSize)
        return Status::corruption("record header cut short: " + std::to_string(bytes.size()) + " of " +
                                  std::to_string(kFrameHeaderSize) + " bytes");
    FrameHeader header = decodeFrameHeader(bytes.data());
    if (header.type() == 0)
        return Status::corruption("record type 0");
    if (header.length > maxPayload)
        return Status::corruption("record length " + std::to_string(header.length) + " exceeds the maximum " +
                                  std::to_string(maxPayload));
    if (bytes.size() - kFrameHeaderSize < header.length)
        return Status::corruption("record cut short: payload of " + std::to_string(header.length) + " bytes, " +
                                  std::to_string(bytes.size() - kFrameHeaderSize) + " left");
    std::string_view payload = bytes.substr(kFrameHeaderSize, header.length);
    if (frameCrc(header.typeByte, payload) != header.maskedCrc)
        return Status::corruption("record checksum mismatch");
    return FrameView{header, payload};
}

void encodeSegmentHeader(char* out, const SegmentHeader& header) {
    std::memset(out, 0, kSegmentHeaderSize);
    std::memcpy(out, kSegmentMagic, sizeof kSegmentMagic);
    putU32(out + 8, kFormatVersion);
    putU32(out + 12, kSegmentHeaderSize);
    putU64(out + 16, header.baseOffset);
    putU64(out + 24, header.fileSize);
    putU32(out + 32, crc32c::mask(crc32c::value(out, 32)));
}

Result<SegmentHeader> decodeSegmentHeader(const char* in) {
    if (std::memcmp(in, kSegmentMagic, sizeof kSegmentMagic) != 0)
        return Status::corruption("bad segment magic");
    if (crc32c::unmask(getU32(in + 32)) != crc32c::value(in, 32))
        return Status::corruption("segment header checksum mismatch");
    if (getU32(in + 8) != kFormatVersion)
        return Status::corruption("unsupported segment format version " + std::to_string(getU32(in + 8)));
    if (getU32(in + 12) != kSegmentHeaderSize)
        return Status::corruption("unexpected segment header size");
    SegmentHeader header{getU64(in + 16), getU64(in + 24)};
    if (header.fileSize <= kSegmentHeaderSize + kFrameHeaderSize)
        return Status::corruption("segment file size in header is too small");
    return header;
}

std::string segmentFileName(uint64_t baseOffset) {
    std::string digits = std::to_string(baseOffset);
    return std::string(20 - digits.size(), '0') + digits + kSegmentSuffix;
}

std::optional<uint64_t> parseSegmentFileName(std::string_view name) {
    std::string_view suffix = kSegmentSuffix;
    if (name.size() != 20 + suffix.size() || name.substr(20) != suffix)
        return std::nullopt;
    uint64_t value = 0;
    for (char c : name.substr(0, 20)) {
        if (c < '0' || c > '9')
            return std::nullopt;
        uint64_t next = value * 10 + uint64_t(c - '0');
        if (next < value)
            return std::nullopt;
        value = next;
    }
    return value;
}

void encodeCheckpoint(char* out, uint64_t offset) {
    std::memset(out, 0, kCheckpointSize);
    putU64(out, offset);
    putU32(out + 8, crc32c::mask(crc32c::value(out, 8)));
}

std::optional<uint64_t> decodeCheckpoint(const char* in, size_t size) {
    if (size != kCheckpointSize || crc32c::unmask(getU32(in + 8)) != crc32c::value(in, 8))
        return std::nullopt;
    return getU64(in);
}

}  // namespace depot::storage::format
