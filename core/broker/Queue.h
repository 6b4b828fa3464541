#pragma once
// Queue: one queue's state, owned by the broker thread.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/DedupWindow.h"
#include "broker/Entry.h"
#include "broker/ReadyList.h"
#include "depot/broker/Observability.h"
#include "depot/broker/Policy.h"

namespace depot::broker {

struct Queue {
    QueueInfo info;
    uint32_t deadLetterId = 0;  // resolved id of info.deadLetterQueue (0: none)
    ReadyList ready;
    std::multimap<TimeMs, Entry> delayed;  // by due time: delayed deliveries and retries waiting for backoff
    uint64_t unacked = 0;
    uint64_t pending = 0;  // publishes staged for the log, not yet applied
    uint64_t bytes = 0;
    uint64_t expiring = 0;  // ready entries with an expiry time: the sweep only runs when there are some
    std::vector<uint64_t> consumers;
    size_t nextConsumer = 0;
    Counters counters;
    DedupWindow dedup;
    std::unordered_map<uint64_t, std::string> lastErrors;  // by sequence: the text of the last failed delivery
    std::vector<Entry> unreadable;  // entries whose record failed to read: kept, reported, never delivered

    uint64_t depth() const { return ready.size() + delayed.size() + unacked + pending; }
    bool isDeadLetter() const { return info.kind == QueueKind::DeadLetter; }
};

}  // namespace depot::broker
