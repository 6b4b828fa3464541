#pragma once
// AtRiskLedger: confirmed messages not yet as safe as their queue asks, counted by the log offset that makes them
// safe: the log's durable end for messages confirmed before their fdatasync (async flush), a replica's
// acknowledgement for messages of replicated queues. As that watermark moves past an entry's end offset, its
// messages leave the ledger. Entries confirmed in the same millisecond share one, and past a cap every new one
// merges into the last: the count stays exact, the ages coarser, the memory bounded.
#include <cstdint>
#include <deque>

#include "depot/broker/Clock.h"

namespace depot::broker {

class AtRiskLedger {
public:
    explicit AtRiskLedger(size_t maxEntries = 100'000) : m_maxEntries(maxEntries) {}

    // One message confirmed at `at`, safe once the watermark reaches `endOffset`.
    void add(uint64_t endOffset, TimeMs at);
    // The watermark moved: entries ending at or before it leave, oldest first. An entry behind one that ends
    // further on waits for it (confirms are mostly in offset order): a count may lag, it never drops early.
    void release(uint64_t watermark);
    uint64_t count() const { return m_count; }

    struct Beyond {
        uint64_t messages = 0;
        TimeMs oldest = 0;  // confirm time of the oldest of them (0: none)
    };
    // What a copy that stands at `watermark` still lacks (a replica behind the best one lacks more).
    Beyond beyond(uint64_t watermark) const;

private:
    struct Entry {
        uint64_t endOffset;
        TimeMs confirmedAt;
        uint64_t messages;
    };
    std::deque<Entry> m_entries;
    uint64_t m_count = 0;
    size_t m_maxEntries;
};

}  // namespace depot::broker
