#include "catalog/TraceRows.h"

#include <functional>
#include <string>
#include <utility>

namespace depot::catalog {

using broker::TraceEvent;
using broker::TraceEventView;
using broker::TraceKind;

namespace {

// Whether `confirmed` completes the flushed event of `row` exactly (a kFlushedConfirmed row keeps one detail).
bool confirmsFlushed(const TraceRow& row, const TraceEventView& confirmed) {
    const TraceEventView& flushed = row.event;
    return confirmed.kind == TraceKind::Confirmed && flushed.kind == TraceKind::Flushed &&
           row.kind != kFlushedConfirmed && confirmed.detail.empty() && flushed.at == confirmed.at &&
           flushed.sequence == confirmed.sequence && flushed.queue == confirmed.queue &&
           flushed.messageId == confirmed.messageId && flushed.key == confirmed.key;
}

}  // namespace

size_t TraceRowPlanner::KeyHash::operator()(const Key& key) const {
    return std::hash<std::string_view>{}(key.queue) ^ (key.sequence * 0x9E3779B97F4A7C15ull);
}

const std::vector<TraceRow>& TraceRowPlanner::plan(const std::vector<broker::TraceBatch>& chunks) {
    m_rows.clear();
    m_openDeliveries.clear();
    for (const broker::TraceBatch& chunk : chunks)
        for (const TraceEventView& event : chunk)
            add(event);
    return m_rows;
}

void TraceRowPlanner::add(const TraceEventView& event) {
    if (!m_rows.empty() && confirmsFlushed(m_rows.back(), event)) {
        m_rows.back().kind = kFlushedConfirmed;
        return;
    }
    if (event.queue.empty()) {  // publish refusals, transaction events: no sequence that links them
        m_rows.push_back({event, broker::toString(event.kind)});
        return;
    }
    const Key key{event.queue, event.sequence};
    if (event.kind == TraceKind::Acked && event.messageId.empty() && event.key.empty()) {
        auto open = m_openDeliveries.find(key);
        if (open != m_openDeliveries.end()) {
            TraceRow& delivered = m_rows[open->second];
            delivered.kind = kDeliveredAcked;
            delivered.settledAt = event.at;
            delivered.settledDetail = event.detail;
            m_openDeliveries.erase(open);
            return;
        }
    }
    const size_t index = m_rows.size();
    m_rows.push_back({event, broker::toString(event.kind)});
    // Anything else recorded for the message in between (a requeue, a redelivery) keeps the ack in its own row,
    // so a row never hides an event that happened between its two.
    if (event.kind == TraceKind::Delivered)
        m_openDeliveries.insert_or_assign(key, index);
    else if (!m_openDeliveries.empty())
        m_openDeliveries.erase(key);
}

Result<std::vector<TraceEvent>> traceEventsOfRow(TraceEvent first, std::string_view kind,
                                                 std::optional<int64_t> settledAfter,
                                                 std::optional<std::string> settledDetail) {
    std::optional<TraceKind> parsed;
    if (kind == kFlushedConfirmed)
        parsed = TraceKind::Flushed;
    else if (kind == kDeliveredAcked)
        parsed = TraceKind::Delivered;
    else
        parsed = broker::traceKindFromString(kind);
    if (!parsed)
        return Status::corruption("trace event in history has unknown kind '" + std::string(kind) + "'");
    first.kind = *parsed;
    std::vector<TraceEvent> events{first};
    if (kind == kFlushedConfirmed) {
        TraceEvent& confirmed = events.emplace_back(std::move(first));
        confirmed.kind = TraceKind::Confirmed;
        confirmed.detail.clear();
    } else if (kind == kDeliveredAcked) {
        if (!settledAfter || !settledDetail)
            return Status::corruption("trace row of kind '" + std::string(kind) + "' in history has no settlement");
        events.push_back(TraceEvent{first.at + *settledAfter, TraceKind::Acked, std::move(first.queue),
                                    first.sequence, "", "", std::move(*settledDetail)});
    }
    return events;
}

}  // namespace depot::catalog
