#include "broker/DedupWindow.h"

#include <algorithm>

namespace depot::broker {

std::optional<uint64_t> DedupWindow::find(uint64_t hash) const {
    const uint64_t* sequence = m_map.find(hash);
    if (!sequence) return std::nullopt;
    return *sequence;
}

void DedupWindow::insert(uint64_t hash, uint64_t sequence, TimeMs at) {
    m_map[hash] = sequence;
    m_order.push_back({hash, sequence});
    if (persistent(sequence)) {
        if (m_lastPersistent && sequence < *m_lastPersistent) m_inOrder = false;
        m_lastPersistent = sequence;
    }
    if (!m_runs.empty() && m_runs.back().at == at) ++m_runs.back().count;
    else m_runs.push_back({at, 1});
}

void DedupWindow::erase(uint64_t hash, uint64_t sequence) {
    const uint64_t* stored = m_map.find(hash);
    if (stored && *stored == sequence) m_map.erase(hash);
}

void DedupWindow::expire(TimeMs before) {
    if (m_runs.empty() || m_runs.front().at >= before) return;
    while (!m_runs.empty() && m_runs.front().at < before) {
        for (uint64_t i = 0; i < m_runs.front().count; ++i) {
            erase(m_order.front().hash, m_order.front().sequence);
            m_order.pop_front();
        }
        m_runs.pop_front();
    }
    m_map.shrinkToFit();  // a burst that has left the window gives its memory back
}

std::optional<uint64_t> DedupWindow::minPersistentSequence() const {
    if (m_inOrder) {
        for (const Seen& seen : m_order)
            if (persistent(seen.sequence)) return seen.sequence;
        return std::nullopt;
    }
    std::optional<uint64_t> least, previous;
    bool inOrder = true;
    for (const Seen& seen : m_order) {
        if (!persistent(seen.sequence)) continue;
        if (previous && seen.sequence < *previous) inOrder = false;
        previous = seen.sequence;
        least = least ? std::min(*least, seen.sequence) : seen.sequence;
    }
    m_inOrder = inOrder;
    return least;
}

}  // namespace depot::broker
