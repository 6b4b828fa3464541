#include "broker/LogStager.h"

namespace depot::broker {

void LogStager::endGroup(bool sync, Done done) {
    size_t count = m_records.size() - m_groupStart;
    if (count == 0) {
        done(Status::ok(), {}, m_log.writtenOffset());
        return;
    }
    m_groups.push_back({m_groupStart, count, std::move(done)});
    m_groupStart = m_records.size();
    m_sync = m_sync || sync;
    // A batch must fit in one segment: keep it well below any segment size.
    if (m_buffer.size() >= kMaxBatchBytes) flush();
}

void LogStager::abandonGroup() {
    if (m_groupStart < m_records.size()) m_buffer.resize(m_records[m_groupStart].begin);
    m_records.resize(m_groupStart);
}

void LogStager::flush() {
    abandonGroup();
    if (m_groups.empty()) return;
    std::vector<storage::RecordView> views;
    views.reserve(m_records.size());
    for (const Slice& slice : m_records)
        views.push_back({slice.type, std::string_view(m_buffer).substr(slice.begin, slice.size)});
    auto appended = m_log.append(views, m_sync ? storage::Durability::Sync : storage::Durability::Async);
    std::vector<Group> groups = std::move(m_groups);
    m_groups.clear();
    m_records.clear();
    m_buffer.clear();
    m_groupStart = 0;
    m_sync = false;
    for (Group& group : groups) {
        if (!appended) {
            group.done(appended.status(), {}, 0);
            continue;
        }
        std::span<const uint64_t> offsets(appended->offsets.data() + group.firstRecord, group.recordCount);
        group.done(Status::ok(), offsets, appended->endOffset);
    }
}

}  // namespace depot::broker
