#pragma once
// Entry: what a queue keeps in memory per message. The payload stays in the commit log (or, for a message that
// never touches disk, in the TransientStore); this is the compact index entry DESIGN.md asks for.
#include <cstdint>

#include "depot/broker/Clock.h"

namespace depot::broker {

inline constexpr uint8_t kEntryInMemory = 0x01;  // payload in the TransientStore, keyed by sequence
inline constexpr uint8_t kEntryHasKey = 0x02;    // keyHash is meaningful (per-key ordering)

// The latest time an Entry holds (its expiry is 56 bits): later means never, in practice (a million years away).
inline constexpr TimeMs kLatestTime = (TimeMs(1) << 55) - 1;
// at + ms (both >= 0) without overflow: a TTL or delay of any size ends at kLatestTime at the latest.
inline TimeMs timeAfter(TimeMs at, int64_t ms) { return ms >= kLatestTime - at ? kLatestTime : at + ms; }

// One per queued message, in the queue's ready list: packed into 40 bytes (times in 48 and 56 bits: milliseconds
// since 1970 fit either for thousands of years), since a backlog of millions is held in RAM.
struct Entry {
    uint64_t offset = 0;    // of the MESSAGE record (persistent messages)
    uint64_t sequence = 0;  // the message's id in the broker: its first record's offset, or a transient number
    TimeMs publishedAt : 48 = 0;
    uint16_t attempts : 16 = 0;  // deliveries made
    TimeMs expiresAt : 56 = 0;   // 0 = never
    uint8_t flags : 8 = 0;
    uint32_t size = 0;      // payload bytes (record size)
    uint32_t keyHash = 0;

    bool inMemory() const { return flags & kEntryInMemory; }
    bool hasKey() const { return flags & kEntryHasKey; }
};
static_assert(sizeof(Entry) == 40, "Entry is held per queued message: keep it packed");

}  // namespace depot::broker
