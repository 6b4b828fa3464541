#include "broker/BrokerCore.h"

#include <algorithm>

namespace depot::broker {
namespace {

constexpr int64_t kSweepIntervalMs = 250;
constexpr int64_t kSampleIntervalMs = 1000;
constexpr int64_t kReclaimIntervalMs = 10'000;
constexpr int64_t kPruneIntervalMs = 600'000;

}  // namespace

BrokerCore::BrokerCore(BrokerOptions options, std::unique_ptr<storage::CommitLog> log,
                       std::unique_ptr<catalog::Catalog> catalog)
    : m_options(std::move(options)),
      m_clock(m_options.clock ? *m_options.clock : Clock::system()),
      m_log(std::move(log)),
      m_catalog(std::move(catalog)),
      m_stager(*m_log) {}

BrokerCore::~BrokerCore() = default;

uint64_t BrokerCore::steadyNs() {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

// Transient messages live in memory only, so their sequences start afresh at every start. Counting from the
// clock (2^20 numbers a millisecond, far more than a broker publishes) keeps a restarted broker from handing out
// the last run's numbers, by which the trace in history.db still names those messages (queue, sequence).
uint64_t BrokerCore::firstTransientSequence(TimeMs now) {
    constexpr uint64_t kMillisBits = 43;  // until the year 2248; beyond, the count wraps within the range
    const uint64_t millis = uint64_t(std::max<TimeMs>(now, 0)) & ((uint64_t(1) << kMillisBits) - 1);
    return (uint64_t(1) << 63) | (millis << 20);
}

Status BrokerCore::recover() {
    DEPOT_RETURN_IF_ERROR(loadSettings());
    DEPOT_RETURN_IF_ERROR(loadRole());
    DEPOT_RETURN_IF_ERROR(loadDefinitions());
    DEPOT_RETURN_IF_ERROR(replayLog());
    m_durableOffset = m_log->durableOffset();
    if (m_role == Role::Primary)  // a replica's definitions are its primary's
        for (auto& [id, queue] : m_queues) (void)ensureDeadLetterQueue(*queue);
    TimeMs at = now();
    m_nextTransient = firstTransientSequence(at);
    m_nextSample = at + kSampleIntervalMs;
    m_nextReclaim = at;
    m_nextPrune = at;
    return Status::ok();
}

Result<std::shared_ptr<const MessageRecord>> BrokerCore::loadMessage(const Entry& entry) const {
    if (entry.inMemory()) {
        auto it = m_transient.find(entry.sequence);
        if (it == m_transient.end()) return Status::notFound("transient message " + std::to_string(entry.sequence));
        return it->second;
    }
    auto message = readMessage(entry);
    if (!message) return message.status();
    return std::shared_ptr<const MessageRecord>(std::make_shared<MessageRecord>(std::move(*message)));
}

Result<MessageRecord> BrokerCore::readMessage(const Entry& entry) const {
    storage::Record& record = m_readScratch;  // its buffer is reused: decodeMessage copies what it keeps
    DEPOT_RETURN_IF_ERROR(m_log->read(entry.offset, record));
    if (RecordType(record.type) != RecordType::Message)
        return Status::corruption("record at offset " + std::to_string(entry.offset) + " is not a message");
    return decodeMessage(record.payload);
}

void BrokerCore::runTimers(bool force) {
    TimeMs at = now();
    if (!m_replicaWaits.empty()) expireReplicaWaits(at);
    if (m_role != Role::Primary) {  // a replica's log is its primary's; a fenced broker writes nothing more
        if (force || at >= m_nextSweep) m_nextSweep = at + kSweepIntervalMs;  // (or the loop would spin)
        if (at >= m_nextReclaim) {
            m_nextReclaim = at + kReclaimIntervalMs;
            reclaimReplicaLog();
        }
        if (at >= m_nextSample) {
            m_nextSample = at + kSampleIntervalMs;
            sampleMetrics(at);
        }
        return;
    }
    promoteDue(at);
    if (force || at >= m_nextSweep) {
        m_nextSweep = at + kSweepIntervalMs;
        checkAckTimeouts(at);
        for (auto& [id, queue] : m_queues) {
            sweepExpired(*queue, at);
            queue->dedup.expire(at - queue->info.policy.dedupWindow.count());
        }
        checkTransactions(at);
    }
    if (at >= m_nextSample) {
        m_nextSample = at + kSampleIntervalMs;
        m_stager.flush();  // staged moves land first: a sample never shows a message between two queues
        sampleMetrics(at);
    }
    if (at >= m_nextReclaim) {
        m_stager.flush();
        m_nextReclaim = at + kReclaimIntervalMs;
        reclaimLog();
    }
    if (at >= m_nextPrune) {
        m_nextPrune = at + kPruneIntervalMs;
        m_catalog->prune(at);
    }
}

TimeMs BrokerCore::nextTimerDue() const {
    TimeMs due = std::min(m_nextSweep, m_nextSample);
    for (uint32_t id : m_queuesWithDelayed)
        if (const Queue* queue = queueById(id); queue && !queue->delayed.empty())
            due = std::min(due, queue->delayed.begin()->first);
    return due;
}

void BrokerCore::settle() {
    while (true) {
        m_stager.flush();
        std::vector<uint32_t> dirty = std::move(m_dirty);
        m_dirty.clear();
        for (uint32_t id : dirty)
            if (Queue* queue = queueById(id)) dispatch(*queue);
        handOverTrace();
        std::vector<std::function<void()>> outbox = std::move(m_outbox);
        m_outbox.clear();
        for (auto& effect : outbox) effect();
        if (m_stager.empty() && m_dirty.empty() && m_outbox.empty()) return handOverTrace();
    }
}

}  // namespace depot::broker
