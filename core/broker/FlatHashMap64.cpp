#include "broker/FlatHashMap64.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace depot::broker {

namespace {
constexpr size_t kMinCapacity = 16;
}

size_t FlatHashMap64::slotOf(uint64_t key) const {
    const size_t mask = m_slots.size() - 1;
    size_t i = home(key);
    while (m_slots[i].key != 0 && m_slots[i].key != key) i = (i + 1) & mask;
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
    if ((m_size + 1) * 2 > m_slots.size()) resize(std::max(kMinCapacity, m_slots.size() * 2));
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
    const size_t mask = m_slots.size() - 1;
    for (size_t i = (hole + 1) & mask; m_slots[i].key != 0; i = (i + 1) & mask) {
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
    if (m_slots.size() > kMinCapacity && m_size * 8 < m_slots.size()) resize(std::max(kMinCapacity, m_size * 4));
}

void FlatHashMap64::resize(size_t capacity) {
    capacity = std::bit_ceil(capacity);
    std::vector<Slot> old = std::move(m_slots);
    m_slots.assign(capacity, Slot{});
    m_shift = 64 - std::countr_zero(capacity);
    for (const Slot& slot : old)
        if (slot.key != 0) m_slots[slotOf(slot.key)] = slot;
}

}  // namespace depot::broker
