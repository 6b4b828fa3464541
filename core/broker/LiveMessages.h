#pragma once
// LiveMessages: one queue's messages as the replayed log records leave them (recovery, and a replica until it is
// promoted), keyed by the offset of their MESSAGE record. Replay inserts one per message and a SETTLE erases it,
// millions of times at a restart: entries live in one array in the order first seen and a FlatHashMap64 maps an
// offset to its slot, where a node-based map cost an allocation, a rehash share and a free per message (about
// a third of a restart's CPU). Erased slots are tombstones until they outnumber the live ones. Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "broker/Entry.h"
#include "broker/FlatHashMap64.h"

namespace depot::broker {

struct LiveMessage {
    Entry entry;
    TimeMs dueAt = 0;
};

class LiveMessages {
public:
    void put(uint64_t offset, const LiveMessage& message);  // inserts, or replaces the one at that offset
    LiveMessage* find(uint64_t offset);
    bool erase(uint64_t offset);
    size_t size() const { return m_index.size(); }

    // Calls f(offset, message) for each message, in no particular order.
    template <typename F>
    void forEach(F&& f) const {
        for (const Slot& slot : m_slots)
            if (slot.live) f(slot.offset, slot.message);
    }
    // The messages in sequence order (the order the queue had them).
    std::vector<LiveMessage> sortedBySequence() const;

private:
    struct Slot {
        uint64_t offset = 0;
        LiveMessage message;
        bool live = true;
    };
    void compact();

    std::vector<Slot> m_slots;
    FlatHashMap64 m_index;  // offset -> index in m_slots
};

}  // namespace depot::broker
