#include "broker/ByteCodec.h"

namespace depot::broker {

uint64_t ByteReader::take(size_t bytes, std::string_view field) {
    if (!ok())
        return 0;
    if (remaining() < bytes) {
        fail(field, "truncated: needs " + std::to_string(bytes) + " bytes, " + std::to_string(remaining()) + " left");
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = bytes; i-- > 0;)
        v = (v << 8) | static_cast<uint8_t>(m_in[m_pos + i]);
    m_pos += bytes;
    return v;
}

std::string ByteReader::string(std::string_view field) { return std::string(stringView(field)); }

std::string_view ByteReader::stringView(std::string_view field) {
    uint32_t length = u32(field);
    if (!ok())
        return {};
    if (length > remaining()) {
        fail(field, "length " + std::to_string(length) + " runs past the end (" + std::to_string(remaining()) +
                        " bytes left)");
        return {};
    }
    std::string_view bytes = m_in.substr(m_pos, length);
    m_pos += length;
    return bytes;
}

uint32_t ByteReader::checkCount(uint32_t count, size_t minElementSize, std::string_view field) {
    if (!ok())
        return 0;
    // 64-bit product: a u32 count times a small element size cannot overflow it.
    if (uint64_t(count) * minElementSize > remaining()) {
        fail(field,
             "count " + std::to_string(count) + " cannot fit in the " + std::to_string(remaining()) + " bytes left");
        return 0;
    }
    return count;
}

void ByteReader::fail(std::string_view field, std::string_view problem) {
    if (!ok())
        return;
    m_error.append(m_record).append(" record: field '").append(field).append("': ").append(problem);
}

Status ByteReader::finish() {
    if (ok() && remaining() != 0)
        m_error.append(m_record)
            .append(" record: ")
            .append(std::to_string(remaining()))
            .append(" trailing bytes after the last field");
    return ok() ? Status::ok() : Status::corruption(m_error);
}

}  // namespace depot::broker
