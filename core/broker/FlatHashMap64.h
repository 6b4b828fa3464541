#pragma once
// FlatHashMap64: a map from 64-bit keys to 64-bit values in one array (open addressing, linear probing,
// backward-shift deletion). For the per-publish lookups of the broker thread: no allocation per key and one cache
// line per lookup, where a node-based map cost an allocation per insert and a pointer chase per probe. It holds an
// entry per message in a dedup window (millions), so it stays between half and three quarters full: any capacity
// (a key's home slot is its multiplied hash scaled to the capacity), grown by half. Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "broker/LargeTableAllocator.h"

namespace depot::broker {

class FlatHashMap64 {
public:
    const uint64_t* find(uint64_t key) const;
    uint64_t* find(uint64_t key) { return const_cast<uint64_t*>(std::as_const(*this).find(key)); }
    uint64_t& operator[](uint64_t key);  // inserts 0 when absent
    bool erase(uint64_t key);
    size_t size() const { return m_size + (m_hasZero ? 1 : 0); }
    bool empty() const { return size() == 0; }
    // Gives memory back after a burst: call when the map may have shrunk a lot.
    void shrinkToFit();

private:
    struct Slot {
        uint64_t key = 0;  // 0: empty (the key 0 itself lives in m_zeroValue)
        uint64_t value = 0;
    };
    size_t home(uint64_t key) const;
    size_t next(size_t index) const { return index + 1 == m_slots.size() ? 0 : index + 1; }
    size_t slotOf(uint64_t key) const;  // the slot holding key, or the empty slot ending its probe run
    void removeAt(size_t index);
    void resize(size_t capacity);

    std::vector<Slot, LargeTableAllocator<Slot>> m_slots;  // at most three quarters full
    size_t m_size = 0;          // keys in m_slots
    bool m_hasZero = false;
    uint64_t m_zeroValue = 0;
};

}  // namespace depot::broker
