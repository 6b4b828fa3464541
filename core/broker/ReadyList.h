#pragma once
// ReadyList: a queue's deliverable messages, in delivery order.
//
// FIFO queues keep one deque. Per-key queues (message groups) keep a deque per key and let a key deliver only
// while none of its messages is in flight or waiting for a retry: keys proceed in parallel, each in order.
// Messages without a key are never held back.
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/Entry.h"

namespace depot::broker {

class ReadyList {
public:
    explicit ReadyList(bool perKey = false) : m_perKey(perKey) {}

    void setPerKey(bool perKey);  // re-sorts what is held
    bool perKey() const { return m_perKey; }

    void pushBack(const Entry& entry);
    // Puts a message back at the head of its line (redelivery, retry due). Unblocks its key.
    void pushFront(const Entry& entry);
    // The next deliverable message, removed; its key becomes blocked until unblock(). False if none.
    bool pop(Entry& out);
    // The oldest message (for dead-letter-oldest), removed regardless of key blocking.
    bool popOldest(Entry& out);
    // A settled or dead-lettered in-flight message frees its key.
    void unblock(uint32_t keyHash);
    void block(uint32_t keyHash);

    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    bool hasDeliverable() const;

    // Removes every entry for which `remove` returns true (it may look at and keep the entry).
    size_t removeIf(const std::function<bool(const Entry&)>& remove);
    // Lets `update` change entries in place (not their sequence or key): compaction moves a payload.
    void updateEach(const std::function<void(Entry&)>& update);
    // Visits entries in queue order (per-key: by sequence). Stops when `visit` returns false.
    void forEach(const std::function<bool(const Entry&)>& visit) const;
    // The same in no particular order, for walks that do not care (the log's reclaimer every 10 s): a per-key
    // queue is not gathered and sorted first, which for a million entries was an 8 MB allocation and a sort.
    void forEachUnordered(const std::function<bool(const Entry&)>& visit) const;
    std::vector<Entry> takeAll();
    TimeMs oldestPublishedAt() const;

private:
    bool keyed(const Entry& entry) const { return m_perKey && entry.hasKey(); }
    void makeRunnable(uint32_t keyHash);

    bool m_perKey = false;
    size_t m_size = 0;
    std::deque<Entry> m_fifo;  // all entries (FIFO mode) or those without a key (per-key mode)
    std::unordered_map<uint32_t, std::deque<Entry>> m_byKey;
    std::deque<uint32_t> m_runnable;  // keys with entries and nothing in flight, each at most once
    std::unordered_set<uint32_t> m_runnableSet;
    std::unordered_set<uint32_t> m_blocked;
};

}  // namespace depot::broker
