#include "broker/LiveMessages.h"

#include <algorithm>

namespace depot::broker {

namespace {

constexpr size_t kCompactAbove = 1024;  // tombstones below this are never worth a pass

}  // namespace

void LiveMessages::put(uint64_t offset, const LiveMessage& message) {
    if (uint64_t* index = m_index.find(offset)) {
        m_slots[*index].message = message;
        return;
    }
    m_index[offset] = m_slots.size();
    m_slots.push_back({offset, message, true});
}

LiveMessage* LiveMessages::find(uint64_t offset) {
    uint64_t* index = m_index.find(offset);
    return index ? &m_slots[*index].message : nullptr;
}

bool LiveMessages::erase(uint64_t offset) {
    uint64_t* index = m_index.find(offset);
    if (!index) return false;
    m_slots[*index].live = false;
    m_index.erase(offset);
    const size_t dead = m_slots.size() - m_index.size();
    if (dead > kCompactAbove && dead > m_index.size()) compact();
    return true;
}

void LiveMessages::compact() {
    std::vector<Slot> kept;
    kept.reserve(m_index.size());
    for (Slot& slot : m_slots) {
        if (!slot.live) continue;
        *m_index.find(slot.offset) = kept.size();
        kept.push_back(slot);
    }
    m_slots = std::move(kept);
    m_index.shrinkToFit();
}

std::vector<LiveMessage> LiveMessages::sortedBySequence() const {
    std::vector<LiveMessage> sorted;
    sorted.reserve(m_index.size());
    forEach([&](uint64_t, const LiveMessage& message) { sorted.push_back(message); });
    auto bySequence = [](const LiveMessage& a, const LiveMessage& b) { return a.entry.sequence < b.entry.sequence; };
    // Replay sees messages in log order, which is sequence order but for compacted copies and transactions.
    if (!std::is_sorted(sorted.begin(), sorted.end(), bySequence))
        std::stable_sort(sorted.begin(), sorted.end(), bySequence);
    return sorted;
}

}  // namespace depot::broker
