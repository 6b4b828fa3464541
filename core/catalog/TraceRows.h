#pragma once
// TraceRows: how trace events are stored as rows of history.db and read back. Events of one message that usually
// follow each other share a row, one SQLite insert (and its index entries) for them all. A row's kind names its
// events joined by '+', oldest first:
//  - `flushed+confirmed`: a sync publish's `flushed` ("fdatasync") and `confirmed` (no detail), recorded one after
//    the other at the same moment, when nothing else is there to join (the row's detail is the flushed one's);
//  - a *follow-up* joined to the row of the `published` or `delivered` event it follows, when both are written in
//    one batch and nothing else was recorded for the message between them: `published+flushed`,
//    `published+flushed+confirmed`, `published+confirmed` (an async publish) and `delivered+acked`. The row holds
//    the first event whole; its followup_after column is the follow-up's time less the first's (ms) and
//    followup_detail the follow-up's detail. A follow-up names the message by queue and sequence only; a
//    `confirmed` after a `flushed` has their time and no detail.
// Any other event is a row of its own kind (followup_after and followup_detail NULL). The history schema
// (CatalogSchema.cpp) has the columns.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/TraceBatch.h"
#include "depot/Result.h"

namespace depot::catalog {

struct TraceRow {
    broker::TraceEventView event;  // the first (or only) event; views into the batch planned
    std::string_view kind;         // what the row's kind column holds
    // Whether a follow-up joined the row: then its time and detail.
    bool followed = false;
    broker::TimeMs followUpAt = 0;
    std::string_view followUpDetail;
};

// Plans the rows of a writer batch. Reused from batch to batch, so planning allocates nothing once its
// buffers have grown to a batch's size.
class TraceRowPlanner {
public:
    // The rows, in the order the events were recorded (a joined row where its first event was). Valid until the
    // next call, and as long as `chunks` is unchanged.
    const std::vector<TraceRow>& plan(const std::vector<broker::TraceBatch>& chunks);
    // Frees the buffers (a burst's batch of 200,000 events grew them to some 30 MB).
    void release();
    size_t capacity() const { return m_rows.capacity(); }  // rows the buffers hold room for

private:
    struct Key {
        std::string_view queue;
        uint64_t sequence;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& key) const;
    };
    void add(const broker::TraceEventView& event);
    bool completesFlushed(const broker::TraceEventView& confirmed);
    bool join(const broker::TraceEventView& event);

    std::vector<TraceRow> m_rows;
    // A `published` or `delivered` row nothing has joined yet, by its message, for a follow-up to join.
    std::unordered_map<Key, size_t, KeyHash> m_open;
    // The `flushed` event just planned and its row, for a `confirmed` right after it.
    std::optional<broker::TraceEventView> m_lastFlushed;
    size_t m_lastFlushedRow = 0;
};

// The events one row holds, oldest first. `followUpAfter` and `followUpDetail` are the row's followup_after and
// followup_detail columns (NULL: none). Corruption for a kind that is neither an event nor a joining above.
Result<std::vector<broker::TraceEvent>> traceEventsOfRow(broker::TraceEvent first, std::string_view kind,
                                                         std::optional<int64_t> followUpAfter,
                                                         std::optional<std::string> followUpDetail);

}  // namespace depot::catalog
