#pragma once
// LogStager: collects the records the broker thread produces while it handles a burst of requests and appends
// them to the commit log in one batch (one write call), so many publishes share a write and a sync.
// Records are grouped: a group (a publish, a dead-letter move, a requeue) is wholly in one append, so the log's
// batch atomicity makes each group atomic across crashes. Not thread-safe: the broker thread owns it.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "broker/BrokerRecords.h"
#include "depot/storage/CommitLog.h"

namespace depot::broker {

class LogStager {
public:
    // Called once per group after the append: with the offsets of the group's records (in the order added) and
    // the append's end offset, or with the error (then offsets is empty).
    using Done = std::function<void(const Status& status, std::span<const uint64_t> offsets, uint64_t endOffset)>;

    explicit LogStager(storage::CommitLog& log) : m_log(log) {}

    template <typename R>
    void add(RecordType type, const R& record) {
        size_t begin = m_buffer.size();
        encode(record, m_buffer);
        m_records.push_back({uint8_t(type), begin, m_buffer.size() - begin});
    }
    // Closes the records added since the last endGroup() into a group. sync: the append asks for an fdatasync
    // at once rather than at the next periodic flush.
    void endGroup(bool sync, Done done);
    void abandonGroup();
    // The next append asks for an fdatasync at once.
    void requestSync() { m_sync = true; }  // drops the records added since the last endGroup()

    bool empty() const { return m_groups.empty(); }
    size_t stagedBytes() const { return m_buffer.size(); }
    // Appends everything staged and runs the groups' callbacks.
    void flush();

private:
    struct Slice {
        uint8_t type;
        size_t begin;
        size_t size;
    };
    struct Group {
        size_t firstRecord;
        size_t recordCount;
        Done done;
    };
    static constexpr size_t kMaxBatchBytes = 8u << 20;

    storage::CommitLog& m_log;
    std::string m_buffer;
    std::vector<Slice> m_records;
    std::vector<Group> m_groups;
    std::vector<Group> m_spareGroups;            // an empty list with capacity, for the next round
    std::vector<storage::RecordView> m_views;  // flush()'s, kept for its capacity
    size_t m_groupStart = 0;
    bool m_sync = false;
};

}  // namespace depot::broker
