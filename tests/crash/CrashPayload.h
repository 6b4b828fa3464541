#pragma once
// CrashPayload: the record content shared by depot-crash-writer and TestCrashRecovery. A payload is the 64-bit
// sequence number (little-endian) followed by a body whose length (16..2000 bytes) and bytes are a pure function of
// the sequence number, so the parent can verify any record it reads back from the sequence number alone.
// Header-only and plain C++ so the writer can link depot_storage and nothing else.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace depot::test {

class CrashPayload {
public:
    static constexpr uint8_t kRecordType = 1;
    static constexpr size_t kSeqSize = 8;
    static constexpr size_t kMinBody = 16;
    static constexpr size_t kMaxBody = 2000;
    // Both the writer and the parent open the log with this segment size, small enough that segments roll
    // several times during the test.
    static constexpr uint64_t kSegmentSize = 1ull << 20;

    static size_t payloadSize(uint64_t seq) { return kSeqSize + kMinBody + mix(seq) % (kMaxBody - kMinBody + 1); }

    static std::string make(uint64_t seq) {
        std::string payload(payloadSize(seq), '\0');
        putSeq(payload.data(), seq);
        uint64_t state = seq ^ kBodySalt;
        for (size_t pos = kSeqSize; pos < payload.size(); pos += 8) {
            uint64_t word = next(state);
            std::memcpy(payload.data() + pos, &word, std::min<size_t>(8, payload.size() - pos));
        }
        return payload;
    }

    // The sequence number of a payload, or nothing if it is too short to hold one.
    static std::optional<uint64_t> seqOf(std::string_view payload) {
        if (payload.size() < kSeqSize)
            return std::nullopt;
        uint64_t seq = 0;
        for (size_t i = 0; i < kSeqSize; ++i)
            seq |= uint64_t(uint8_t(payload[i])) << (8 * i);
        return seq;
    }

    // True when `payload` is exactly what make(seq) produces for its own sequence number. Compares in place:
    // the test checks every record of a growing log after every crash.
    static bool isValid(std::string_view payload) {
        std::optional<uint64_t> seq = seqOf(payload);
        if (!seq || payload.size() != payloadSize(*seq))
            return false;
        uint64_t state = *seq ^ kBodySalt;
        size_t pos = kSeqSize;
        for (; pos + 8 <= payload.size(); pos += 8) {
            uint64_t stored;
            std::memcpy(&stored, payload.data() + pos, 8);
            if (stored != next(state))
                return false;
        }
        const uint64_t last = next(state);
        if (pos < payload.size() && std::memcmp(payload.data() + pos, &last, payload.size() - pos) != 0)
            return false;
        return true;
    }

private:
    static constexpr uint64_t kBodySalt = 0x6a09e667f3bcc909ull;

    // splitmix64: a fast, well-mixed step; quality only needs to make bodies differ per sequence number.
    static uint64_t next(uint64_t& state) {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    static uint64_t mix(uint64_t seq) {
        uint64_t state = seq;
        return next(state);
    }
    static void putSeq(char* out, uint64_t seq) {
        for (size_t i = 0; i < kSeqSize; ++i)
            out[i] = char(uint8_t(seq >> (8 * i)));
    }
};

}  // namespace depot::test
