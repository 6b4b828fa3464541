#include "broker/DedupWindow.h"

#include <algorithm>
#include <bit>

namespace depot::broker {

namespace {
constexpr size_t kMinCapacity = 16;
}

size_t DedupWindow::slotOf(uint64_t key) const {
    const size_t mask = m_slots.size() - 1;
    size_t i = home(key);
    while (m_slots[i].key != 0 && m_slots[i].key != key) i = (i + 1) & mask;
    return i;
}

std::optional<uint64_t> DedupWindow::find(uint64_t hash) const {
    if (m_size == 0) return std::nullopt;
    const Slot& slot = m_slots[slotOf(keyOf(hash))];
    if (slot.key == 0) return std::nullopt;
    return slot.sequence;
}

void DedupWindow::insert(uint64_t hash, uint64_t sequence, TimeMs at) {
    if ((m_size + 1) * 2 > m_slots.size()) resize(std::max(kMinCapacity, m_slots.size() * 2));
    const uint64_t key = keyOf(hash);
    Slot& slot = m_slots[slotOf(key)];
    if (slot.key == 0) ++m_size;
    slot = {key, sequence};
    m_order.push_back({hash, sequence, at});
}

void DedupWindow::erase(uint64_t hash, uint64_t sequence) {
    if (m_size == 0) return;
    size_t i = slotOf(keyOf(hash));
    if (m_slots[i].key != 0 && m_slots[i].sequence == sequence) removeAt(i);
}

// Backward-shift deletion: moves later members of the probe run into the hole, so lookups never need tombstones.
void DedupWindow::removeAt(size_t hole) {
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

void DedupWindow::expire(TimeMs before) {
    while (!m_order.empty() && m_order.front().at < before) {
        const Seen& seen = m_order.front();
        erase(seen.hash, seen.sequence);
        m_order.pop_front();
    }
    // A burst that has left the window gives its memory back.
    if (m_slots.size() > kMinCapacity && m_size * 8 < m_slots.size()) resize(std::max(kMinCapacity, m_size * 4));
}

void DedupWindow::resize(size_t capacity) {
    capacity = std::bit_ceil(capacity);
    std::vector<Slot> old = std::move(m_slots);
    m_slots.assign(capacity, Slot{});
    m_shift = 64 - std::countr_zero(capacity);
    for (const Slot& slot : old)
        if (slot.key != 0) m_slots[slotOf(slot.key)] = slot;
}

std::optional<uint64_t> DedupWindow::minPersistentSequence() const {
    std::optional<uint64_t> least;
    for (const Seen& seen : m_order)
        if (!(seen.sequence >> 63)) least = least ? std::min(*least, seen.sequence) : seen.sequence;
    return least;
}

}  // namespace depot::broker
