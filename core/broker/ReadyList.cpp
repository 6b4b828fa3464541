#include "broker/ReadyList.h"

#include <algorithm>
#include <limits>

namespace depot::broker {

void ReadyList::setPerKey(bool perKey) {
    if (perKey == m_perKey) return;
    std::vector<Entry> all = takeAll();
    m_perKey = perKey;
    m_blocked.clear();
    for (const Entry& entry : all) pushBack(entry);
}

void ReadyList::pushBack(const Entry& entry) {
    ++m_size;
    if (!keyed(entry)) {
        m_fifo.push_back(entry);
        return;
    }
    m_byKey[entry.keyHash].push_back(entry);
    makeRunnable(entry.keyHash);
}

void ReadyList::pushFront(const Entry& entry) {
    ++m_size;
    if (!keyed(entry)) {
        m_fifo.push_front(entry);
        return;
    }
    m_byKey[entry.keyHash].push_front(entry);
    m_blocked.erase(entry.keyHash);
    makeRunnable(entry.keyHash);
}

void ReadyList::makeRunnable(uint32_t keyHash) {
    if (m_blocked.count(keyHash) || m_runnableSet.count(keyHash)) return;
    m_runnable.push_back(keyHash);
    m_runnableSet.insert(keyHash);
}

bool ReadyList::hasDeliverable() const { return !m_fifo.empty() || !m_runnable.empty(); }

bool ReadyList::pop(Entry& out) {
    // Between keyless and keyed messages, the older one goes first.
    bool takeKeyed = !m_runnable.empty() &&
                     (m_fifo.empty() || m_byKey[m_runnable.front()].front().sequence < m_fifo.front().sequence);
    if (!takeKeyed) {
        if (m_fifo.empty()) return false;
        out = m_fifo.front();
        m_fifo.pop_front();
        --m_size;
        return true;
    }
    uint32_t key = m_runnable.front();
    m_runnable.pop_front();
    m_runnableSet.erase(key);
    auto it = m_byKey.find(key);
    out = it->second.front();
    it->second.pop_front();
    if (it->second.empty()) m_byKey.erase(it);
    m_blocked.insert(key);
    --m_size;
    return true;
}

bool ReadyList::popOldest(Entry& out) {
    uint64_t best = std::numeric_limits<uint64_t>::max();
    std::deque<Entry>* from = nullptr;
    if (!m_fifo.empty()) {
        best = m_fifo.front().sequence;
        from = &m_fifo;
    }
    for (auto& [key, line] : m_byKey) {
        if (!line.empty() && line.front().sequence < best) {
            best = line.front().sequence;
            from = &line;
        }
    }
    if (!from) return false;
    out = from->front();
    from->pop_front();
    --m_size;
    if (from != &m_fifo && from->empty()) {
        uint32_t key = out.keyHash;
        m_byKey.erase(key);
        if (m_runnableSet.erase(key)) m_runnable.erase(std::find(m_runnable.begin(), m_runnable.end(), key));
    }
    return true;
}

void ReadyList::block(uint32_t keyHash) {
    if (!m_perKey) return;
    m_blocked.insert(keyHash);
    if (m_runnableSet.erase(keyHash)) m_runnable.erase(std::find(m_runnable.begin(), m_runnable.end(), keyHash));
}

void ReadyList::unblock(uint32_t keyHash) {
    if (!m_perKey || !m_blocked.erase(keyHash)) return;
    if (m_byKey.count(keyHash)) makeRunnable(keyHash);
}

size_t ReadyList::removeIf(const std::function<bool(const Entry&)>& remove) {
    size_t removed = 0;
    auto sweep = [&](std::deque<Entry>& line) {
        auto end = std::remove_if(line.begin(), line.end(), remove);
        removed += size_t(line.end() - end);
        line.erase(end, line.end());
    };
    sweep(m_fifo);
    for (auto it = m_byKey.begin(); it != m_byKey.end();) {
        sweep(it->second);
        if (it->second.empty()) {
            uint32_t key = it->first;
            if (m_runnableSet.erase(key)) m_runnable.erase(std::find(m_runnable.begin(), m_runnable.end(), key));
            it = m_byKey.erase(it);
        } else {
            ++it;
        }
    }
    m_size -= removed;
    return removed;
}

void ReadyList::updateEach(const std::function<void(Entry&)>& update) {
    for (Entry& entry : m_fifo) update(entry);
    for (auto& [key, line] : m_byKey)
        for (Entry& entry : line) update(entry);
}

void ReadyList::forEach(const std::function<bool(const Entry&)>& visit) const {
    if (m_byKey.empty()) {
        for (const Entry& entry : m_fifo)
            if (!visit(entry)) return;
        return;
    }
    std::vector<const Entry*> all;
    all.reserve(m_size);
    for (const Entry& entry : m_fifo) all.push_back(&entry);
    for (const auto& [key, line] : m_byKey)
        for (const Entry& entry : line) all.push_back(&entry);
    std::sort(all.begin(), all.end(), [](const Entry* a, const Entry* b) { return a->sequence < b->sequence; });
    for (const Entry* entry : all)
        if (!visit(*entry)) return;
}

void ReadyList::forEachUnordered(const std::function<bool(const Entry&)>& visit) const {
    for (const Entry& entry : m_fifo)
        if (!visit(entry)) return;
    for (const auto& [key, line] : m_byKey)
        for (const Entry& entry : line)
            if (!visit(entry)) return;
}

std::vector<Entry> ReadyList::takeAll() {
    std::vector<Entry> all;
    forEach([&](const Entry& entry) {
        all.push_back(entry);
        return true;
    });
    m_fifo.clear();
    m_byKey.clear();
    m_runnable.clear();
    m_runnableSet.clear();
    m_size = 0;
    return all;
}

TimeMs ReadyList::oldestPublishedAt() const {
    TimeMs oldest = 0;
    auto consider = [&](const Entry& entry) {
        if (entry.publishedAt && (!oldest || entry.publishedAt < oldest)) oldest = entry.publishedAt;
    };
    if (!m_fifo.empty()) consider(m_fifo.front());
    for (const auto& [key, line] : m_byKey) consider(line.front());
    return oldest;
}

}  // namespace depot::broker
