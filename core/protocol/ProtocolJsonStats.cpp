// What the broker tells about itself: counters, queue and broker statistics, trace events, audit entries and
// history samples (docs/protocol.md, "JSON objects").
#include "protocol/ProtocolJson.h"
#include "protocol/ProtocolJsonReaders.h"

namespace depot::protocol {

namespace {

constexpr uint64_t kNanosPerMicro = 1000;

// Enough to rebuild the histogram: its non-empty buckets. The percentiles are there for readers who want numbers.
Json latencyToJson(const LatencyHistogram& histogram) {
    Json buckets = Json::array();
    for (int bucket = 0; bucket < LatencyHistogram::kBucketCount; ++bucket)
        if (uint64_t count = histogram.bucketCount(bucket))
            buckets.push_back(Json::array({bucket, count}));
    return {{"count", histogram.count()},
            {"p50Us", histogram.percentile(50) / kNanosPerMicro},
            {"p99Us", histogram.percentile(99) / kNanosPerMicro},
            {"maxUs", histogram.max() / kNanosPerMicro},
            {"buckets", std::move(buckets)}};
}

struct BucketList {
    std::vector<std::pair<int, uint64_t>> buckets;  // ascending, non-empty, each a bucket some value maps to
    uint64_t total = 0;
};

void readBuckets(JsonReader& r, BucketList& out) {
    const Json* buckets = r.array("buckets");
    if (!buckets)
        return;
    for (const Json& item : *buckets) {
        std::string path = r.pathOf("buckets") + "[" + std::to_string(out.buckets.size()) + "]";
        int bucket = 0;
        uint64_t count = 0;
        if (!item.is_array() || item.size() != 2)
            return r.adopt(fieldError(path, "must be a [bucket, count] pair"));
        r.adopt(JsonReader::integerValue(item[0], path, bucket));
        r.adopt(JsonReader::integerValue(item[1], path, count));
        if (!r.ok())
            return;
        if (bucket >= LatencyHistogram::kBucketCount ||
            LatencyHistogram::bucketOf(LatencyHistogram::bucketUpperBound(bucket)) != bucket)
            return r.adopt(fieldError(path, "names no bucket"));
        if (!out.buckets.empty() && bucket <= out.buckets.back().first)
            return r.adopt(fieldError(path, "is out of order"));
        if (__builtin_add_overflow(out.total, count, &out.total))
            return r.adopt(fieldError(path, "is out of range"));
        if (count)
            out.buckets.emplace_back(bucket, count);
    }
}

// Rebuilds the buckets exactly, and max() to the microsecond (within the highest bucket), so every percentile
// in microseconds comes out as the sender computed it.
void readLatency(JsonReader& r, LatencyHistogram& out) {
    uint64_t count = 0, maxUs = 0;
    BucketList list;
    r.integer("count", count);
    r.integer("maxUs", maxUs);
    readBuckets(r, list);
    if (!r.ok())
        return;
    if (r.has("buckets") && list.total != count)
        return r.fail("count", "does not match the buckets");
    LatencyHistogram histogram;
    for (auto [bucket, samples] : list.buckets) {
        if (bucket == list.buckets.back().first) {
            uint64_t maxNs = maxUs > UINT64_MAX / kNanosPerMicro ? UINT64_MAX : maxUs * kNanosPerMicro;
            histogram.record(std::clamp(maxNs, LatencyHistogram::bucketLowerBound(bucket),
                                        LatencyHistogram::bucketUpperBound(bucket)));
            --samples;
        }
        histogram.recordBucket(bucket, samples);
    }
    out = histogram;
}

void readLog(JsonReader& r, broker::BrokerStats& out) {
    r.integer("writtenOffset", out.logWrittenOffset);
    r.integer("durableOffset", out.logDurableOffset);
    r.integer("bytesOnDisk", out.logBytesOnDisk);
    r.integer("segments", out.logSegments);
    r.boolean("readOnly", out.logReadOnly);
    r.string("failure", out.logFailure);
    r.integer("asyncFlushIntervalMs", out.asyncFlushIntervalMs);
    r.enumeration("defaultFlush", broker::flushModeFromString, out.defaultFlush);
}

void readLatencies(JsonReader& r, broker::BrokerStats& out) {
    readObject(r, "confirm", out.confirmLatency, readLatency);
    readObject(r, "deliver", out.deliverLatency, readLatency);
    readObject(r, "fsync", out.fsyncLatency, readLatency);
}

}  // namespace

Json countersToJson(const broker::Counters& c) {
    return {{"published", c.published}, {"confirmed", c.confirmed}, {"nacked", c.nacked},
            {"delivered", c.delivered}, {"redelivered", c.redelivered}, {"acked", c.acked},
            {"retried", c.retried},     {"deadLettered", c.deadLettered}, {"expired", c.expired},
            {"deduplicated", c.deduplicated}};
}

void readCounters(JsonReader& r, broker::Counters& out) {
    r.integer("published", out.published);
    r.integer("confirmed", out.confirmed);
    r.integer("nacked", out.nacked);
    r.integer("delivered", out.delivered);
    r.integer("redelivered", out.redelivered);
    r.integer("acked", out.acked);
    r.integer("retried", out.retried);
    r.integer("deadLettered", out.deadLettered);
    r.integer("expired", out.expired);
    r.integer("deduplicated", out.deduplicated);
}

Result<broker::Counters> countersFromJson(const Json& value) {
    return decodeTopLevel<broker::Counters>(value, readCounters);
}

Json queueStatsToJson(const broker::QueueStats& s) {
    return {{"name", s.name},
            {"kind", broker::toString(s.kind)},
            {"durable", s.durable},
            {"flush", broker::toString(s.flush)},
            {"deadLetterQueue", s.deadLetterQueue},
            {"ready", s.ready},
            {"unacked", s.unacked},
            {"delayed", s.delayed},
            {"prepared", s.prepared},
            {"consumers", s.consumers},
            {"bytes", s.bytes},
            {"deadLetterDepth", s.deadLetterDepth},
            {"oldestPublishedAt", s.oldestPublishedAt},
            {"counters", countersToJson(s.counters)}};
}

void readQueueStats(JsonReader& r, broker::QueueStats& out) {
    r.string("name", out.name, JsonReader::Required);
    r.enumeration("kind", broker::queueKindFromString, out.kind);
    r.boolean("durable", out.durable);
    r.enumeration("flush", broker::flushModeFromString, out.flush);
    r.string("deadLetterQueue", out.deadLetterQueue);
    r.integer("ready", out.ready);
    r.integer("unacked", out.unacked);
    r.integer("delayed", out.delayed);
    r.integer("prepared", out.prepared);
    r.integer("consumers", out.consumers);
    r.integer("bytes", out.bytes);
    r.integer("deadLetterDepth", out.deadLetterDepth);
    r.integer("oldestPublishedAt", out.oldestPublishedAt);
    readObject(r, "counters", out.counters, readCounters);
}

Result<broker::QueueStats> queueStatsFromJson(const Json& value) {
    return decodeTopLevel<broker::QueueStats>(value, readQueueStats);
}

Json statsToJson(const broker::BrokerStats& s) {
    Json queues = Json::array();
    for (const broker::QueueStats& queue : s.queues)
        queues.push_back(queueStatsToJson(queue));
    return {{"at", s.at},
            {"totals", countersToJson(s.totals)},
            {"queues", std::move(queues)},
            {"connections", s.connections},
            {"consumers", s.consumers},
            {"unflushedMessages", s.unflushedMessages},
            {"log",
             {{"writtenOffset", s.logWrittenOffset},
              {"durableOffset", s.logDurableOffset},
              {"bytesOnDisk", s.logBytesOnDisk},
              {"segments", s.logSegments},
              {"readOnly", s.logReadOnly},
              {"failure", s.logFailure},
              {"asyncFlushIntervalMs", s.asyncFlushIntervalMs},
              {"defaultFlush", broker::toString(s.defaultFlush)}}},
            {"traceDropped", s.traceDropped},
            {"latency",
             {{"confirm", latencyToJson(s.confirmLatency)},
              {"deliver", latencyToJson(s.deliverLatency)},
              {"fsync", latencyToJson(s.fsyncLatency)}}}};
}

void readStats(JsonReader& r, broker::BrokerStats& out) {
    r.integer("at", out.at);
    readObject(r, "totals", out.totals, readCounters);
    readObjects(r, "queues", out.queues, readQueueStats);
    r.integer("connections", out.connections);
    r.integer("consumers", out.consumers);
    r.integer("unflushedMessages", out.unflushedMessages);
    readObject(r, "log", out, readLog);
    r.integer("traceDropped", out.traceDropped);
    readObject(r, "latency", out, readLatencies);
}

Result<broker::BrokerStats> statsFromJson(const Json& value) {
    return decodeTopLevel<broker::BrokerStats>(value, readStats);
}

Json traceEventToJson(const broker::TraceEvent& e) {
    return {{"at", e.at},
            {"kind", broker::toString(e.kind)},
            {"queue", e.queue},
            {"sequence", e.sequence},
            {"messageId", e.messageId},
            {"key", e.key},
            {"detail", e.detail}};
}

void readTraceEvent(JsonReader& r, broker::TraceEvent& out) {
    r.integer("at", out.at);
    r.enumeration("kind", broker::traceKindFromString, out.kind, JsonReader::Required);
    r.string("queue", out.queue);
    r.integer("sequence", out.sequence);
    r.string("messageId", out.messageId);
    r.string("key", out.key);
    r.string("detail", out.detail);
}

Result<broker::TraceEvent> traceEventFromJson(const Json& value) {
    return decodeTopLevel<broker::TraceEvent>(value, readTraceEvent);
}

Json auditEntryToJson(const broker::AuditEntry& e) {
    return {{"at", e.at},         {"actor", e.actor}, {"action", e.action}, {"target", e.target},
            {"detail", e.detail}, {"count", e.count}, {"ok", e.ok}};
}

void readAuditEntry(JsonReader& r, broker::AuditEntry& out) {
    r.integer("at", out.at);
    r.string("actor", out.actor);
    r.string("action", out.action, JsonReader::Required);
    r.string("target", out.target);
    r.string("detail", out.detail);
    r.integer("count", out.count);
    r.boolean("ok", out.ok);
}

Result<broker::AuditEntry> auditEntryFromJson(const Json& value) {
    return decodeTopLevel<broker::AuditEntry>(value, readAuditEntry);
}

Json sampleToJson(const broker::MetricsSample& s) {
    return {{"at", s.at},
            {"queue", s.queue},
            {"counters", countersToJson(s.counters)},
            {"ready", s.ready},
            {"unacked", s.unacked},
            {"delayed", s.delayed},
            {"deadLetterDepth", s.deadLetterDepth},
            {"unflushed", s.unflushed},
            {"confirmP50Us", s.confirmP50Us},
            {"confirmP99Us", s.confirmP99Us},
            {"fsyncP50Us", s.fsyncP50Us},
            {"fsyncP99Us", s.fsyncP99Us}};
}

void readSample(JsonReader& r, broker::MetricsSample& out) {
    r.integer("at", out.at);
    r.string("queue", out.queue);
    readObject(r, "counters", out.counters, readCounters);
    r.integer("ready", out.ready);
    r.integer("unacked", out.unacked);
    r.integer("delayed", out.delayed);
    r.integer("deadLetterDepth", out.deadLetterDepth);
    r.integer("unflushed", out.unflushed);
    r.integer("confirmP50Us", out.confirmP50Us);
    r.integer("confirmP99Us", out.confirmP99Us);
    r.integer("fsyncP50Us", out.fsyncP50Us);
    r.integer("fsyncP99Us", out.fsyncP99Us);
}

Result<broker::MetricsSample> sampleFromJson(const Json& value) {
    return decodeTopLevel<broker::MetricsSample>(value, readSample);
}

}  // namespace depot::protocol
