#pragma once
// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
// extend() picks the SSE4.2 instruction when the CPU has it (checked once at startup), else a
// slicing-by-8 table implementation. Both are exposed so tests can check each against known vectors.

#include <cstddef>
#include <cstdint>

namespace depot::storage::crc32c {

// CRC of data appended to a stream whose CRC so far is `crc` (0 for a new stream).
uint32_t extend(uint32_t crc, const void* data, size_t size);
inline uint32_t value(const void* data, size_t size) { return extend(0, data, size); }

uint32_t extendSoftware(uint32_t crc, const void* data, size_t size);
// Requires hardwareAvailable().
uint32_t extendHardware(uint32_t crc, const void* data, size_t size);
bool hardwareAvailable();

// Stored CRCs are masked (LevelDB's trick): the CRC of data that itself contains CRCs is otherwise weak.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t unmask(uint32_t masked) {
    uint32_t rot = masked - kMaskDelta;
    return (rot >> 17) | (rot << 15);
}

}  // namespace depot::storage::crc32c
