#include "catalog/TraceRows.h"

#include <array>
#include <functional>
#include <utility>

namespace depot::catalog {

using broker::TraceEvent;
using broker::TraceEventView;
using broker::TraceKind;

namespace {

constexpr std::string_view kFlushedConfirmed = "flushed+confirmed";

// The kinds a row whose first event is `first` has after `followUp` joins it; empty: it may not join.
std::string_view joinedKind(std::string_view first, TraceKind followUp) {
    if (first == "published" && followUp == TraceKind::Flushed) return "published+flushed";
    if (first == "published" && followUp == TraceKind::Confirmed) return "published+confirmed";
    if (first == "delivered" && followUp == TraceKind::Acked) return "delivered+acked";
    return {};
}

// The kind after a `confirmed` completes a row whose last event is `flushed`.
std::string_view confirmedKind(std::string_view kind) {
    if (kind == "flushed") return kFlushedConfirmed;
    if (kind == "published+flushed") return "published+flushed+confirmed";
    return {};
}

bool linkedOnly(const TraceEventView& event) { return event.messageId.empty() && event.key.empty(); }

}  // namespace

size_t TraceRowPlanner::KeyHash::operator()(const Key& key) const {
    return std::hash<std::string_view>{}(key.queue) ^ (key.sequence * 0x9E3779B97F4A7C15ull);
}

const std::vector<TraceRow>& TraceRowPlanner::plan(const std::vector<broker::TraceBatch>& chunks) {
    m_rows.clear();
    m_open.clear();
    m_lastFlushed.reset();
    for (const broker::TraceBatch& chunk : chunks)
        for (const TraceEventView& event : chunk)
            add(event);
    return m_rows;
}

void TraceRowPlanner::release() {
    std::vector<TraceRow>().swap(m_rows);  // assigning {} would keep the capacity
    decltype(m_open)().swap(m_open);
    m_lastFlushed.reset();
}

void TraceRowPlanner::add(const TraceEventView& event) {
    if (completesFlushed(event)) {
        m_lastFlushed.reset();
        return;
    }
    m_lastFlushed.reset();
    if (!event.queue.empty() && join(event))
        return;
    const size_t index = m_rows.size();
    m_rows.push_back({event, broker::toString(event.kind)});
    if (event.kind == TraceKind::Flushed) {
        m_lastFlushed = event;
        m_lastFlushedRow = index;
    }
    if (!event.queue.empty() && (event.kind == TraceKind::Published || event.kind == TraceKind::Delivered))
        m_open.insert_or_assign(Key{event.queue, event.sequence}, index);
}

// A `confirmed` with no detail right after a `flushed` of the same message at the same moment.
bool TraceRowPlanner::completesFlushed(const TraceEventView& confirmed) {
    if (!m_lastFlushed || confirmed.kind != TraceKind::Confirmed || !confirmed.detail.empty())
        return false;
    const TraceEventView& flushed = *m_lastFlushed;
    if (flushed.at != confirmed.at || flushed.sequence != confirmed.sequence || flushed.queue != confirmed.queue ||
        flushed.messageId != confirmed.messageId || flushed.key != confirmed.key)
        return false;
    TraceRow& row = m_rows[m_lastFlushedRow];
    std::string_view kind = confirmedKind(row.kind);
    if (kind.empty())
        return false;
    row.kind = kind;
    return true;
}

// Joins a follow-up to its message's open row. Anything else recorded for the message closes that row: a row
// never hides an event that happened between its first and its follow-up.
bool TraceRowPlanner::join(const TraceEventView& event) {
    if (m_open.empty())
        return false;
    auto open = m_open.find(Key{event.queue, event.sequence});
    if (open == m_open.end())
        return false;
    const size_t index = open->second;
    m_open.erase(open);
    TraceRow& row = m_rows[index];
    std::string_view kind = linkedOnly(event) ? joinedKind(row.kind, event.kind) : std::string_view();
    if (kind.empty())
        return false;
    row.kind = kind;
    row.followed = true;
    row.followUpAt = event.at;
    row.followUpDetail = event.detail;
    if (event.kind == TraceKind::Flushed) {
        m_lastFlushed = event;
        m_lastFlushedRow = index;
    }
    return true;
}

Result<std::vector<TraceEvent>> traceEventsOfRow(TraceEvent first, std::string_view kind,
                                                 std::optional<int64_t> followUpAfter,
                                                 std::optional<std::string> followUpDetail) {
    auto corrupt = [&] {
        return Status::corruption("trace row in history has unknown kind '" + std::string(kind) + "'");
    };
    std::array<TraceKind, 3> kinds{};
    size_t count = 0;
    for (size_t start = 0; start <= kind.size();) {
        size_t end = std::min(kind.find('+', start), kind.size());
        std::optional<TraceKind> parsed = broker::traceKindFromString(kind.substr(start, end - start));
        if (!parsed || count == kinds.size())
            return corrupt();
        kinds[count++] = *parsed;
        start = end + 1;
    }
    std::vector<TraceEvent> events;
    first.kind = kinds[0];
    events.push_back(first);
    if (count == 1)
        return events;
    if (kind == kFlushedConfirmed && !followUpAfter) {  // both at the row's time, the detail the flushed one's
        TraceEvent& confirmed = events.emplace_back(std::move(first));
        confirmed.kind = TraceKind::Confirmed;
        confirmed.detail.clear();
        return events;
    }
    if (joinedKind(broker::toString(kinds[0]), kinds[1]).empty() ||
        (count == 3 && (kinds[2] != TraceKind::Confirmed || confirmedKind(kind.substr(0, kind.rfind('+'))).empty())))
        return corrupt();
    if (!followUpAfter || !followUpDetail)
        return Status::corruption("trace row of kind '" + std::string(kind) + "' in history has no follow-up");
    TraceEvent followUp{first.at + *followUpAfter, kinds[1], first.queue, first.sequence, "", "",
                        std::move(*followUpDetail)};
    events.push_back(followUp);
    if (count == 3) {
        followUp.kind = TraceKind::Confirmed;
        followUp.detail.clear();
        events.push_back(std::move(followUp));
    }
    return events;
}

}  // namespace depot::catalog
