#pragma once
// DedupWindow: producer message ids seen within a queue's dedup window, as 64-bit hashes (the broker confirms a
// hit only after comparing the stored message's id, so a hash collision cannot drop a message).
//
// Every publish with an id looks here, so the map is an open-addressing table (linear probing, backward-shift
// deletion) in one array: no allocation per id and one cache line per lookup, where a node-based map cost an
// allocation per insert and a pointer chase per probe. Broker thread only.
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "depot/broker/Observability.h"

namespace depot::broker {

class DedupWindow {
public:
    std::optional<uint64_t> find(uint64_t hash) const;  // the sequence of the message stored with that id
    void insert(uint64_t hash, uint64_t sequence, TimeMs at);  // a later insert of the same hash wins
    void erase(uint64_t hash, uint64_t sequence);               // only if that hash still maps to that sequence
    void expire(TimeMs before);                                 // forgets what was inserted before `before`
    std::optional<uint64_t> minPersistentSequence() const;  // pins the log: the window must survive a restart
    size_t size() const { return m_size; }

private:
    struct Slot {
        uint64_t key = 0;  // 0: empty (a hash of 0 is stored as 1: a collision the id comparison settles)
        uint64_t sequence = 0;
    };
    struct Seen {
        uint64_t hash;
        uint64_t sequence;
        TimeMs at;
    };
    static uint64_t keyOf(uint64_t hash) { return hash ? hash : 1; }
    size_t home(uint64_t key) const { return size_t((key * 0x9E3779B97F4A7C15ull) >> m_shift); }
    size_t slotOf(uint64_t key) const;  // the slot holding key, or the empty slot ending its probe run
    void removeAt(size_t index);
    void resize(size_t capacity);

    std::deque<Seen> m_order;
    std::vector<Slot> m_slots;  // a power of two in size, at most half full
    size_t m_size = 0;
    int m_shift = 64;
};

}  // namespace depot::broker
