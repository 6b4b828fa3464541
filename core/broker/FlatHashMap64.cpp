#include "broker/FlatHashMap64.h"

#include <algorithm>
#include <utility>

namespace depot::broker {

namespace {
constexpr size_t kMinCapacity = 16;
__extension__ typedef unsigned __int128 Wide;  // GCC and Clang on 64-bit targets
}  // namespace

// The key's hash scrambled (Fibonacci hashing) and scaled to [0, capacity) by a 64x64 -> 128-bit multiply.
size_t FlatHashMap64::home(uint64_t key) const {
    return size_t(Wide(key * 0x9E3779B97F4A7C15ull) * m_slots.size() >> 64);
}

size_t FlatHashMap64::slotOf(uint64_t key) const {
    size_t i = home(key);
    while (m_slots[i].key != 0 && m_slots[i].key != key) i = next(i);
    return i;
}

const uint64_t* FlatHashMap64::find(uint64_t key) const {
    if (key == 0) return m_hasZero ? &m_zeroValue : nullptr;
    if (m_size == 0) return nullptr;
    const Slot& slot = m_slots[slotOf(key)];
    return slot.key == 0 ? nullptr : &slot.value;
}

uint64_t& FlatHashMap64::operator[](uint64_t key) {
    if (key == 0) {
        if (!m_hasZero) m_zeroValue = 0;
        m_hasZero = true;
        return m_zeroValue;
    }
    if ((m_size + 1) * 4 > m_slots.size() * 3) resize(std::max(kMinCapacity, m_slots.size() + m_slots.size() / 2));
    Slot& slot = m_slots[slotOf(key)];
    if (slot.key == 0) {
        slot = {key, 0};
        ++m_size;
    }
    return slot.value;
}

bool FlatHashMap64::erase(uint64_t key) {
    if (key == 0) return std::exchange(m_hasZero, false);
    if (m_size == 0) return false;
    size_t i = slotOf(key);
    if (m_slots[i].key == 0) return false;
    removeAt(i);
    return true;
}

// Backward-shift deletion: moves later members of the probe run into the hole, so lookups never need tombstones.
void FlatHashMap64::removeAt(size_t hole) {
    for (size_t i = next(hole); m_slots[i].key != 0; i = next(i)) {
        // The entry at i may fill the hole only if its home is not in the cyclic range (hole, i].
        size_t wanted = home(m_slots[i].key);
        bool homeAfterHole = hole <= i ? (wanted > hole && wanted <= i) : (wanted > hole || wanted <= i);
        if (homeAfterHole) continue;
        m_slots[hole] = m_slots[i];
        hole = i;
    }
    m_slots[hole] = Slot{};
    --m_size;
}

void FlatHashMap64::shrinkToFit() {
    if (m_slots.size() > kMinCapacity && m_size * 8 < m_slots.size()) resize(std::max(kMinCapacity, m_size * 2));
}

void FlatHashMap64::resize(size_t capacity) {
    auto old = std::move(m_slots);
    m_slots.assign(capacity, Slot{});
    for (const Slot& slot : old)
        if (slot.key != 0) m_slots[slotOf(slot.key)] = slot;
}

}  // namespace depot::broker
