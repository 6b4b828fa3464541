#pragma once
// ByteWriter / ByteReader: little-endian fixed-width integers and u32-length-prefixed strings, for the broker's
// log records (docs/storage-format.md, "Broker records").
//
// ByteReader is sticky: the first failure (truncation, a length or count that cannot fit in the bytes left, or a
// check the caller reports with fail()) is kept, every later read returns zero or empty without touching the
// input, and finish() returns it as Corruption naming the record and the field. So a decoder can read a whole
// layout straight through and check once, and a failed read can never drive an allocation or a loop.
#include <cstdint>
#include <string>
#include <string_view>

#include "depot/Status.h"

namespace depot::broker {

class ByteWriter {
public:
    explicit ByteWriter(std::string& out) : m_out(out), m_start(out.size()) {}

    void u8(uint8_t v) { m_out.push_back(static_cast<char>(v)); }
    void u16(uint16_t v) { putLittleEndian(v, 2); }
    void u32(uint32_t v) { putLittleEndian(v, 4); }
    void u64(uint64_t v) { putLittleEndian(v, 8); }
    void i64(int64_t v) { putLittleEndian(static_cast<uint64_t>(v), 8); }  // two's complement
    // Precondition: bytes.size() < 4 GiB (records are bounded by the log's maximum payload, far below).
    void string(std::string_view bytes) {
        u32(static_cast<uint32_t>(bytes.size()));
        m_out.append(bytes);
    }

    size_t written() const { return m_out.size() - m_start; }

private:
    void putLittleEndian(uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i)
            m_out.push_back(static_cast<char>(v >> (8 * i)));
    }

    std::string& m_out;
    size_t m_start;
};

class ByteReader {
public:
    // `record` names the record in error messages ("MESSAGE").
    ByteReader(std::string_view in, std::string_view record) : m_in(in), m_record(record) {}

    uint8_t u8(std::string_view field) { return static_cast<uint8_t>(take(1, field)); }
    uint16_t u16(std::string_view field) { return static_cast<uint16_t>(take(2, field)); }
    uint32_t u32(std::string_view field) { return static_cast<uint32_t>(take(4, field)); }
    uint64_t u64(std::string_view field) { return take(8, field); }
    int64_t i64(std::string_view field) { return static_cast<int64_t>(take(8, field)); }

    // u32 length + bytes. The length is checked against the bytes left before anything is allocated.
    std::string string(std::string_view field);
    // The same, as a view into the input (empty on failure).
    std::string_view stringView(std::string_view field);
    // A u32 element count, checked against the bytes left: `count * minElementSize` must fit, so a caller may
    // reserve `count` elements. Returns 0 on failure.
    uint32_t count(std::string_view field, size_t minElementSize) {
        return checkCount(u32(field), minElementSize, field);
    }
    // The same check for a count the caller read itself (a u16, say).
    uint32_t checkCount(uint32_t count, size_t minElementSize, std::string_view field);

    // Records a failure found by the caller (an out-of-range value); ignored if one is already recorded.
    void fail(std::string_view field, std::string_view problem);

    bool ok() const { return m_error.empty(); }
    size_t remaining() const { return m_in.size() - m_pos; }
    // OK when every read succeeded and the input was consumed exactly; else Corruption.
    Status finish();

private:
    uint64_t take(size_t bytes, std::string_view field);

    std::string_view m_in;
    std::string_view m_record;
    size_t m_pos = 0;
    std::string m_error;
};

}  // namespace depot::broker
