// Observability: trace events, counters, per-second metrics history, and reclaiming log space.
#include <algorithm>
#include <limits>
#include <utility>

#include "broker/BrokerCore.h"

namespace depot::broker {
namespace {

constexpr uint64_t Counters::*kCounterFields[] = {
    &Counters::published,   &Counters::confirmed, &Counters::nacked,  &Counters::delivered,    &Counters::redelivered,
    &Counters::acked,       &Counters::retried,   &Counters::expired, &Counters::deadLettered, &Counters::deduplicated,
};

void addCounters(Counters& into, const Counters& from) {
    for (auto field : kCounterFields) into.*field += from.*field;
}

uint64_t micros(uint64_t ns) { return ns / 1000; }

}  // namespace

void BrokerCore::traceEvent(TraceKind kind, const Queue* queue, uint64_t sequence, std::string_view messageId,
                            std::string_view key, std::string_view detail) {
    if (!m_options.trace) return;
    m_traceBatch.add(TraceEventView{now(), kind, queue ? std::string_view(queue->info.name) : std::string_view(),
                                    sequence, messageId, key, detail});
}

std::string_view BrokerCore::traceDetail(std::initializer_list<std::string_view> parts) {
    m_traceDetail.clear();
    for (std::string_view part : parts) m_traceDetail.append(part);
    return m_traceDetail;
}

void BrokerCore::handOverTrace() {
    if (m_traceBatch.empty()) return;
    const size_t bytes = m_traceBatch.bytes();
    m_traceBatch = m_catalog->appendTrace(std::move(m_traceBatch));  // an empty one, usually a reused buffer
    m_traceBatch.reserve(bytes);  // the next round is likely as big: at most one allocation, not a growth series
}

void BrokerCore::count(Queue& queue, uint64_t Counters::* field, uint64_t n) { queue.counters.*field += n; }

QueueStats BrokerCore::queueStats(const Queue& queue) const {
    QueueStats stats;
    stats.name = queue.info.name;
    stats.kind = queue.info.kind;
    stats.durable = queue.info.policy.durable;
    stats.flush = queue.info.policy.flush;
    stats.deadLetterQueue = queue.info.deadLetterQueue;
    stats.ready = queue.ready.size();
    stats.unacked = queue.unacked;
    stats.delayed = queue.delayed.size();
    for (const auto& [name, transaction] : m_transactions)
        for (const Prepared& prepared : transaction.messages)
            stats.prepared += std::count(prepared.durable.begin(), prepared.durable.end(), queue.info.id) +
                              std::count(prepared.memory.begin(), prepared.memory.end(), queue.info.id);
    stats.consumers = queue.consumers.size();
    stats.bytes = queue.bytes;
    if (const Queue* dlq = findQueue(queue.info.deadLetterQueue)) stats.deadLetterDepth = dlq->depth();
    stats.oldestPublishedAt = queue.ready.oldestPublishedAt();
    for (const auto& [due, entry] : queue.delayed)
        if (!stats.oldestPublishedAt || entry.publishedAt < stats.oldestPublishedAt)
            stats.oldestPublishedAt = entry.publishedAt;
    stats.counters = queue.counters;
    if (m_replay) {  // a replica: what the replayed records hold (no ready lists until it is promoted)
        auto live = m_replay->live.find(queue.info.id);
        if (live != m_replay->live.end()) {
            stats.ready = live->second.size();
            live->second.forEach([&](uint64_t, const LiveMessage& message) {
                stats.bytes += message.entry.size;
                if (!stats.oldestPublishedAt || message.entry.publishedAt < stats.oldestPublishedAt)
                    stats.oldestPublishedAt = message.entry.publishedAt;
            });
        }
    }
    return stats;
}

Result<QueueStats> BrokerCore::queueStats(const std::string& name) const {
    const Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    return queueStats(*queue);
}

BrokerStats BrokerCore::stats() const {
    BrokerStats stats;
    stats.at = now();
    stats.totals = m_retiredCounters;
    for (const auto& [id, queue] : m_queues) {
        stats.queues.push_back(queueStats(*queue));
        addCounters(stats.totals, queue->counters);
    }
    std::sort(stats.queues.begin(), stats.queues.end(),
              [](const QueueStats& a, const QueueStats& b) { return a.name < b.name; });
    stats.consumers = m_consumers.size();
    stats.unflushedMessages = m_unflushed.count();
    storage::CommitLogStats log = m_log->stats();
    stats.logWrittenOffset = log.writtenOffset;
    stats.logDurableOffset = log.durableOffset;
    stats.logBytesOnDisk = log.bytesOnDisk;
    stats.logSegments = log.segmentCount;
    stats.logReadOnly = log.readOnly;
    stats.logFailure = log.failure;
    stats.asyncFlushIntervalMs = uint64_t(m_settings.asyncFlushInterval.count());
    stats.defaultFlush = m_settings.defaultFlush;
    stats.traceDropped = m_catalog->droppedTrace();
    stats.confirmLatency = m_confirmLatency;
    stats.deliverLatency = m_deliverLatency;
    stats.fsyncLatency = log.syncLatency;
    return stats;
}

void BrokerCore::sampleMetrics(TimeMs at) {
    BrokerStats now = stats();
    std::vector<MetricsSample> samples;
    MetricsSample total;
    total.at = at;
    total.counters = now.totals;
    total.unflushed = now.unflushedMessages;
    total.confirmP50Us = micros(m_secondConfirm.percentile(50));
    total.confirmP99Us = micros(m_secondConfirm.percentile(99));
    // The log's histogram is cumulative: this second's fsyncs are the difference, bucket by bucket.
    LatencyHistogram secondFsync;
    for (int bucket = 0; bucket < LatencyHistogram::kBucketCount; ++bucket) {
        const uint64_t before = m_lastFsync.bucketCount(bucket), after = now.fsyncLatency.bucketCount(bucket);
        if (after > before) secondFsync.recordBucket(bucket, after - before);
    }
    m_lastFsync = now.fsyncLatency;
    total.fsyncP50Us = micros(secondFsync.percentile(50));
    total.fsyncP99Us = micros(secondFsync.percentile(99));
    for (const QueueStats& queue : now.queues) {
        MetricsSample sample;
        sample.at = at;
        sample.queue = queue.name;
        sample.counters = queue.counters;
        sample.ready = queue.ready;
        sample.unacked = queue.unacked;
        sample.delayed = queue.delayed;
        sample.deadLetterDepth = queue.deadLetterDepth;
        total.ready += queue.ready;
        total.unacked += queue.unacked;
        total.delayed += queue.delayed;
        if (queue.kind == QueueKind::DeadLetter) total.deadLetterDepth += queue.ready + queue.delayed + queue.unacked;
        samples.push_back(std::move(sample));
    }
    samples.push_back(std::move(total));
    m_secondConfirm.reset();
    evaluateAlerts(at, now);
    m_catalog->appendMetrics(std::move(samples));
}

void BrokerCore::reclaimLog() {
    uint64_t least = m_log->writtenOffset();
    auto consider = [&](const Entry& entry) {
        if (!entry.inMemory()) least = std::min(least, entry.offset);
        return true;
    };
    for (const auto& [id, queue] : m_queues) {
        queue->ready.forEachUnordered(consider);
        for (const auto& [due, entry] : queue->delayed) consider(entry);
        for (const Entry& entry : queue->unreadable) consider(entry);
        if (auto sequence = queue->dedup.minPersistentSequence()) least = std::min(least, *sequence);
    }
    for (const auto& [id, consumer] : m_consumers)
        for (const auto& [tag, unacked] : consumer->unacked) consider(unacked.entry);
    for (const auto& [name, transaction] : m_transactions)
        for (const Prepared& prepared : transaction.messages)
            if (!prepared.durable.empty()) least = std::min(least, prepared.entry.offset);
    (void)m_log->dropBefore(least);
    // Two segments or more behind the head and still pinned: copy the few live messages forward.
    uint64_t head = m_log->writtenOffset();
    uint64_t segment = m_options.segmentSize;
    if (head > least && head - least > 2 * segment) compactOldest(head - 2 * segment);
}

}  // namespace depot::broker
