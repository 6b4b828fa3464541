#include "broker/LogStager.h"

#include <utility>

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
    m_views.clear();
    for (const Slice& slice : m_records)
        m_views.push_back({slice.type, std::string_view(m_buffer).substr(slice.begin, slice.size)});
    auto appended = m_log.append(m_views, m_sync ? storage::Durability::Sync : storage::Durability::Async);
    // The groups' callbacks may stage (and even flush) again: they run from a list of their own. Its buffer
    // comes back as the spare, so a round's groups cost no allocation once the lists have grown.
    std::vector<Group> groups = std::exchange(m_groups, std::move(m_spareGroups));
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
    groups.clear();
    m_spareGroups = std::move(groups);
}

}  // namespace depot::broker
