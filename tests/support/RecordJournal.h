#pragma once
// RecordJournal: what a durability test appended to a CommitLog and what the log claimed durable, so the log
// recovered after a crash or a failure can be checked against it. Header-only; every method is thread-safe.
//
// The promise checked by verifyRecovered(): the recovered log is a prefix of what was appended (every record
// matches the one appended at its offset, no gap, nothing that was never appended), it holds every record that
// was claimed durable, and it reports no corruption (power loss and failed syncs are not corruption).

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "depot/storage/CommitLog.h"

namespace depot::test {

// A payload that proves its own integrity: "<writer>:<seq>:" then filler derived from both, `size` bytes in all
// (at least the prefix).
inline std::string makePayload(uint32_t writer, uint64_t seq, size_t size) {
    std::string payload = std::to_string(writer) + ":" + std::to_string(seq) + ":";
    uint64_t state = (uint64_t(writer) << 40) ^ (seq * 0x9E3779B97F4A7C15ull);
    while (payload.size() < size) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        payload.push_back(char('a' + (state >> 59) % 26));
    }
    return payload;
}

inline bool payloadIsIntact(std::string_view payload) {
    size_t first = payload.find(':');
    size_t second = first == std::string_view::npos ? first : payload.find(':', first + 1);
    if (second == std::string_view::npos)
        return false;
    uint32_t writer = uint32_t(std::stoul(std::string(payload.substr(0, first))));
    uint64_t seq = std::stoull(std::string(payload.substr(first + 1, second - first - 1)));
    return makePayload(writer, seq, payload.size()) == payload;
}

class RecordJournal {
public:
    // Call after append() returned OK, with the records it was given.
    void appended(const storage::CommitLog::Appended& appended, std::span<const storage::RecordView> records) {
        std::lock_guard lock(m_mutex);
        for (size_t i = 0; i < records.size(); ++i)
            m_records[appended.offsets[i]] = {records[i].type, std::string(records[i].payload)};
    }

    // The log said everything below `end` is durable (waitDurable OK, the durable listener, durableOffset()).
    void claimDurable(uint64_t end) {
        std::lock_guard lock(m_mutex);
        m_claimed = std::max(m_claimed, end);
    }

    uint64_t durableClaim() const {
        std::lock_guard lock(m_mutex);
        return m_claimed;
    }

    size_t size() const {
        std::lock_guard lock(m_mutex);
        return m_records.size();
    }

    // Checks a freshly opened log (see the promise above). Returns "" or the first problem found. Then forgets
    // the records that were legitimately lost, so the journal describes the recovered log.
    std::string verifyRecovered(const storage::CommitLog& log) {
        std::lock_guard lock(m_mutex);
        const storage::RecoveryReport& report = log.recoveryReport();
        if (!report.corrupt.empty())
            return "recovery reported corruption: " + report.corrupt.front().segment + " [" +
                   std::to_string(report.corrupt.front().begin) + ", " + std::to_string(report.corrupt.front().end) +
                   "): " + report.corrupt.front().reason;
        uint64_t expected = log.startOffset();
        if (!m_records.empty() && expected != m_records.begin()->first)
            return "log starts at " + std::to_string(expected) + ", the first record was appended at " +
                   std::to_string(m_records.begin()->first);
        storage::CommitLog::Cursor cursor = log.iterate(expected);
        for (;;) {
            Result<std::optional<storage::Record>> next = cursor.next();
            if (!next.isOk())
                return "cursor at " + std::to_string(cursor.position()) + ": " + next.status().toString();
            if (!next->has_value())
                break;
            const storage::Record& record = **next;
            if (std::string problem = checkRecord(log, record, expected); !problem.empty())
                return problem;
            expected = record.endOffset();
        }
        if (expected != log.writtenOffset())
            return "cursor ended at " + std::to_string(expected) + ", writtenOffset() is " +
                   std::to_string(log.writtenOffset());
        if (log.durableOffset() != expected)
            return "after recovery durableOffset() is " + std::to_string(log.durableOffset()) + ", not " +
                   std::to_string(expected);
        if (m_claimed > expected)
            return "lost durable records: durable was claimed up to " + std::to_string(m_claimed) +
                   ", recovered only up to " + std::to_string(expected);
        m_records.erase(m_records.lower_bound(expected), m_records.end());
        m_claimed = expected;
        return {};
    }

private:
    struct Entry {
        uint8_t type = 0;
        std::string payload;
    };

    // Requires m_mutex.
    std::string checkRecord(const storage::CommitLog& log, const storage::Record& record, uint64_t expected) const {
        std::string where = "record at " + std::to_string(record.offset);
        if (record.offset != expected)
            return where + ": expected the next record at " + std::to_string(expected) + " (a gap)";
        auto it = m_records.find(record.offset);
        if (it == m_records.end())
            return where + " was never appended";
        if (it->second.type != record.type || it->second.payload != record.payload)
            return where + " differs from what was appended there";
        if (!payloadIsIntact(record.payload))
            return where + ": payload is damaged";
        Result<storage::Record> again = log.read(record.offset);
        if (!again.isOk() || again->payload != record.payload || again->type != record.type)
            return where + ": read() disagrees with the cursor" +
                   (again.isOk() ? std::string() : " (" + again.status().toString() + ")");
        return {};
    }

    mutable std::mutex m_mutex;
    std::map<uint64_t, Entry> m_records;
    uint64_t m_claimed = 0;
};

}  // namespace depot::test
