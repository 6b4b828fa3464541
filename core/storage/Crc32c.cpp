#include "storage/Crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define DEPOT_CRC32C_X86_64 1
// The attribute (not only -msse4.2 on the file) keeps the hardware path compilable even if the file-wide flag goes.
#define DEPOT_TARGET_SSE42 __attribute__((target("sse4.2")))
#endif

namespace depot::storage::crc32c {
namespace {

constexpr uint32_t kReflectedPolynomial = 0x82f63b78u;

using Table = std::array<uint32_t, 256>;

// kSlicing[0][b] is the CRC state after feeding byte b to a zero state; kSlicing[k][b] additionally feeds k zero
// bytes, which lets the software path fold 8 input bytes with 8 independent lookups.
constexpr std::array<Table, 8> makeSlicingTables() {
    std::array<Table, 8> tables{};
    for (uint32_t byte = 0; byte < 256; ++byte) {
        uint32_t state = byte;
        for (int bit = 0; bit < 8; ++bit)
            state = (state >> 1) ^ (kReflectedPolynomial & (0u - (state & 1u)));
        tables[0][byte] = state;
    }
    for (size_t k = 1; k < tables.size(); ++k) {
        for (size_t byte = 0; byte < 256; ++byte) {
            uint32_t previous = tables[k - 1][byte];
            tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xffu];
        }
    }
    return tables;
}

constexpr std::array<Table, 8> kSlicing = makeSlicingTables();

inline uint64_t loadLittleEndian64(const unsigned char* p) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    if constexpr (std::endian::native == std::endian::big)
        word = __builtin_bswap64(word);
    return word;
}

// The CRC state (uninverted) after feeding 8 zero bytes to `state`.
constexpr uint32_t shiftEightZeroBytes(uint32_t state) {
    return kSlicing[7][state & 0xffu] ^ kSlicing[6][(state >> 8) & 0xffu] ^ kSlicing[5][(state >> 16) & 0xffu]
        ^ kSlicing[4][state >> 24];
}

#if DEPOT_CRC32C_X86_64

// The hardware path runs three independent instruction streams over adjacent blocks of kStreamBlock bytes, because
// one crc32 instruction has a latency of ~3 cycles but a throughput of one per cycle. The raw (uninverted) CRC is
// linear, so raw(s, A || B) == shift_|B|(raw(s, A)) ^ raw(0, B), where shift_n feeds n zero bytes; shift by one
// block is a fixed linear map on 32 bits, applied with four byte-indexed tables.
constexpr size_t kStreamBlock = 512;
static_assert(kStreamBlock % 8 == 0);

constexpr std::array<Table, 4> makeBlockShiftTables() {
    std::array<uint32_t, 32> shiftedBit{};
    for (int bit = 0; bit < 32; ++bit) {
        uint32_t state = 1u << bit;
        for (size_t done = 0; done < kStreamBlock; done += 8)
            state = shiftEightZeroBytes(state);
        shiftedBit[bit] = state;
    }
    std::array<Table, 4> tables{};
    for (int k = 0; k < 4; ++k) {
        for (uint32_t byte = 0; byte < 256; ++byte) {
            uint32_t shifted = 0;
            for (int bit = 0; bit < 8; ++bit) {
                if (byte & (1u << bit))
                    shifted ^= shiftedBit[k * 8 + bit];
            }
            tables[k][byte] = shifted;
        }
    }
    return tables;
}

constexpr std::array<Table, 4> kBlockShift = makeBlockShiftTables();

inline uint32_t shiftOneBlock(uint32_t state) {
    return kBlockShift[0][state & 0xffu] ^ kBlockShift[1][(state >> 8) & 0xffu]
        ^ kBlockShift[2][(state >> 16) & 0xffu] ^ kBlockShift[3][state >> 24];
}

// Consumes whole groups of three blocks; returns the updated raw state and advances p/size.
DEPOT_TARGET_SSE42 uint32_t hardwareThreeStreams(uint32_t state, const unsigned char*& p, size_t& size) {
    while (size >= 3 * kStreamBlock) {
        uint64_t a = state;
        uint64_t b = 0;
        uint64_t c = 0;
        for (size_t i = 0; i < kStreamBlock; i += 8) {
            a = _mm_crc32_u64(a, loadLittleEndian64(p + i));
            b = _mm_crc32_u64(b, loadLittleEndian64(p + kStreamBlock + i));
            c = _mm_crc32_u64(c, loadLittleEndian64(p + 2 * kStreamBlock + i));
        }
        state = shiftOneBlock(shiftOneBlock(uint32_t(a)) ^ uint32_t(b)) ^ uint32_t(c);
        p += 3 * kStreamBlock;
        size -= 3 * kStreamBlock;
    }
    return state;
}

#endif  // DEPOT_CRC32C_X86_64

using ExtendFunction = uint32_t (*)(uint32_t, const void*, size_t);

}  // namespace

uint32_t extendSoftware(uint32_t crc, const void* data, size_t size) {
    auto p = static_cast<const unsigned char*>(data);
    uint32_t state = ~crc;
    for (; size >= 8; size -= 8, p += 8) {
        uint64_t x = loadLittleEndian64(p) ^ state;
        state = kSlicing[7][x & 0xffu] ^ kSlicing[6][(x >> 8) & 0xffu] ^ kSlicing[5][(x >> 16) & 0xffu]
            ^ kSlicing[4][(x >> 24) & 0xffu] ^ kSlicing[3][(x >> 32) & 0xffu] ^ kSlicing[2][(x >> 40) & 0xffu]
            ^ kSlicing[1][(x >> 48) & 0xffu] ^ kSlicing[0][x >> 56];
    }
    for (; size > 0; --size, ++p)
        state = (state >> 8) ^ kSlicing[0][(state ^ *p) & 0xffu];
    return ~state;
}

#if DEPOT_CRC32C_X86_64

DEPOT_TARGET_SSE42 uint32_t extendHardware(uint32_t crc, const void* data, size_t size) {
    auto p = static_cast<const unsigned char*>(data);
    uint32_t state = ~crc;
    // Aligning first keeps the 8-byte loads from straddling cache lines.
    for (; size > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0; --size, ++p)
        state = _mm_crc32_u8(state, *p);
    state = hardwareThreeStreams(state, p, size);
    uint64_t wide = state;
    for (; size >= 8; size -= 8, p += 8)
        wide = _mm_crc32_u64(wide, loadLittleEndian64(p));
    state = uint32_t(wide);
    for (; size > 0; --size, ++p)
        state = _mm_crc32_u8(state, *p);
    return ~state;
}

bool hardwareAvailable() {
    static const bool kAvailable = [] {
        // Needed when this runs before constructors (another translation unit's static initializer).
        __builtin_cpu_init();
        return __builtin_cpu_supports("sse4.2") != 0;
    }();
    return kAvailable;
}

#else

// No hardware CRC-32C on this architecture: hardwareAvailable() is false, and a caller that ignores it still gets a
// correct result.
uint32_t extendHardware(uint32_t crc, const void* data, size_t size) { return extendSoftware(crc, data, size); }

bool hardwareAvailable() { return false; }

#endif  // DEPOT_CRC32C_X86_64

uint32_t extend(uint32_t crc, const void* data, size_t size) {
    // A function-local static, not a namespace-scope pointer, so callers in other static initializers are safe.
    static const ExtendFunction kImplementation = hardwareAvailable() ? &extendHardware : &extendSoftware;
    return kImplementation(crc, data, size);
}

}  // namespace depot::storage::crc32c
