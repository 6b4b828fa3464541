#include "broker/Queue.h"

#include <algorithm>

namespace depot::broker {

std::optional<uint64_t> DedupWindow::find(uint64_t hash) const {
    auto it = m_map.find(hash);
    if (it == m_map.end()) return std::nullopt;
    return it->second;
}

void DedupWindow::insert(uint64_t hash, uint64_t sequence, TimeMs at) {
    m_map[hash] = sequence;
    m_order.push_back({hash, sequence, at});
}

void DedupWindow::erase(uint64_t hash, uint64_t sequence) {
    auto it = m_map.find(hash);
    if (it != m_map.end() && it->second == sequence) m_map.erase(it);
}

void DedupWindow::expire(TimeMs before) {
    while (!m_order.empty() && m_order.front().at < before) {
        const Seen& seen = m_order.front();
        auto it = m_map.find(seen.hash);
        if (it != m_map.end() && it->second == seen.sequence) m_map.erase(it);
        m_order.pop_front();
    }
}

std::optional<uint64_t> DedupWindow::minPersistentSequence() const {
    std::optional<uint64_t> least;
    for (const Seen& seen : m_order)
        if (!(seen.sequence >> 63)) least = least ? std::min(*least, seen.sequence) : seen.sequence;
    return least;
}

}  // namespace depot::broker
