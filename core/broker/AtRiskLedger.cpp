#include "broker/AtRiskLedger.h"

#include <algorithm>

namespace depot::broker {

void AtRiskLedger::add(uint64_t endOffset, TimeMs at) {
    ++m_count;
    if (!m_entries.empty() && (m_entries.back().confirmedAt == at || m_entries.size() >= m_maxEntries)) {
        m_entries.back().endOffset = std::max(m_entries.back().endOffset, endOffset);
        ++m_entries.back().messages;
        return;
    }
    m_entries.push_back({endOffset, at, 1});
}

void AtRiskLedger::release(uint64_t watermark) {
    while (!m_entries.empty() && m_entries.front().endOffset <= watermark) {
        m_count -= m_entries.front().messages;
        m_entries.pop_front();
    }
}

AtRiskLedger::Beyond AtRiskLedger::beyond(uint64_t watermark) const {
    Beyond out;
    for (const Entry& entry : m_entries)
        if (entry.endOffset > watermark) {
            if (!out.messages) out.oldest = entry.confirmedAt;
            out.messages += entry.messages;
        }
    return out;
}

}  // namespace depot::broker
