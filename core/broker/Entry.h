#pragma once
// Entry: what a queue keeps in memory per message. The payload stays in the commit log (or, for a message that
// never touches disk, in the TransientStore); this is the compact index entry DESIGN.md asks for.
#include <cstdint>

#include "depot/broker/Clock.h"

namespace depot::broker {

inline constexpr uint8_t kEntryInMemory = 0x01;  // payload in the TransientStore, keyed by sequence
inline constexpr uint8_t kEntryHasKey = 0x02;    // keyHash is meaningful (per-key ordering)

struct Entry {
    uint64_t offset = 0;    // of the MESSAGE record (persistent messages)
    uint64_t sequence = 0;  // the message's id in the broker: its first record's offset, or a transient number
    TimeMs publishedAt = 0;
    TimeMs expiresAt = 0;   // 0 = never
    uint32_t size = 0;      // payload bytes (record size)
    uint32_t keyHash = 0;
    uint16_t attempts = 0;  // deliveries made
    uint8_t flags = 0;

    bool inMemory() const { return flags & kEntryInMemory; }
    bool hasKey() const { return flags & kEntryHasKey; }
};

}  // namespace depot::broker
