#pragma once
// DedupWindow: producer message ids seen within a queue's dedup window, as 64-bit hashes (the broker confirms a
// hit only after comparing the stored message's id, so a hash collision cannot drop a message). Every publish
// with an id looks here: the map is flat (FlatHashMap64). Broker thread only.
#include <cstdint>
#include <deque>
#include <optional>

#include "broker/FlatHashMap64.h"
#include "depot/broker/Observability.h"

namespace depot::broker {

class DedupWindow {
public:
    std::optional<uint64_t> find(uint64_t hash) const;  // the sequence of the message stored with that id
    void insert(uint64_t hash, uint64_t sequence, TimeMs at);  // a later insert of the same hash wins
    void erase(uint64_t hash, uint64_t sequence);               // only if that hash still maps to that sequence
    void expire(TimeMs before);                                 // forgets what was inserted before `before`
    // The least sequence of a persistent message in the window: it pins the log, as the window must survive a
    // restart. Asked every few seconds of a window that may hold millions of ids: while they came in sequence
    // order (as publishes and recovery insert them), the first persistent one is the answer, found without
    // walking the window; out-of-order inserts (a committed transaction's older offsets) cost one full walk
    // per call until they have expired.
    std::optional<uint64_t> minPersistentSequence() const;
    size_t size() const { return m_map.size(); }

private:
    struct Seen {
        uint64_t hash;
        uint64_t sequence;
    };
    struct Run {  // consecutive inserts at the same millisecond: the time is kept once per run, not per id
        TimeMs at;
        uint64_t count;
    };
    static bool persistent(uint64_t sequence) { return !(sequence >> 63); }

    std::deque<Seen> m_order;
    std::deque<Run> m_runs;
    FlatHashMap64 m_map;  // hash → sequence
    // The persistent sequences in m_order never decrease (known, not just possible); a full walk that finds
    // them in order again sets it back.
    mutable bool m_inOrder = true;
    std::optional<uint64_t> m_lastPersistent;  // the last persistent sequence inserted
};

}  // namespace depot::broker
