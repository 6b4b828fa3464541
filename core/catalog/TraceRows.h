#pragma once
// TraceRows: how trace events are stored as rows of history.db and read back. Two events of one message that
// usually follow each other share a row, one SQLite insert (and its index entries) for the two:
//  - a sync publish's `flushed` ("fdatasync") and `confirmed` (no detail), recorded one after the other at the
//    same moment: a row of kind kFlushedConfirmed with the flushed event's detail;
//  - a delivery and the ack that settles it, both in one writer batch with nothing else recorded for the message
//    between them: a row of kind kDeliveredAcked holding the delivery, whose settled_after column is the ack's
//    time less the delivery's (ms) and settled_detail the ack's detail. An ack names only queue and sequence.
// Any other event is a row of its own kind. The history schema (CatalogSchema.cpp) has the columns.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/TraceBatch.h"
#include "depot/Result.h"

namespace depot::catalog {

struct TraceRow {
    broker::TraceEventView event;  // the first (or only) event; views into the batch planned
    std::string_view kind;         // what the row's kind column holds
    // For a kDeliveredAcked row: the ack.
    broker::TimeMs settledAt = 0;
    std::string_view settledDetail;
};

// Plans the rows of a writer batch. Reused from batch to batch, so planning allocates nothing once its
// buffers have grown to a batch's size.
class TraceRowPlanner {
public:
    // The rows, in the order the events were recorded (a paired row where its first event was). Valid until the
    // next call, and as long as `chunks` is unchanged.
    const std::vector<TraceRow>& plan(const std::vector<broker::TraceBatch>& chunks);

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

    std::vector<TraceRow> m_rows;
    // A delivery not yet settled in this batch -> its row, for the ack that may follow.
    std::unordered_map<Key, size_t, KeyHash> m_openDeliveries;
};

inline constexpr std::string_view kFlushedConfirmed = "flushed+confirmed";
inline constexpr std::string_view kDeliveredAcked = "delivered+acked";

// The events one row holds, oldest first. `settledAfter` and `settledDetail` are the row's columns (NULL: none).
Result<std::vector<broker::TraceEvent>> traceEventsOfRow(broker::TraceEvent first, std::string_view kind,
                                                         std::optional<int64_t> settledAfter,
                                                         std::optional<std::string> settledDetail);

}  // namespace depot::catalog
