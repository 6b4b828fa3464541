#pragma once
// What the broker tells people about itself: trace events per message, the audit log of operator actions,
// live statistics and their per-second history. Trace, audit and history are kept in the SQLite catalog.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "depot/LatencyHistogram.h"
#include "depot/broker/Clock.h"
#include "depot/broker/Policy.h"

namespace depot::broker {

enum class TraceKind {
    Published,
    Flushed,
    Confirmed,
    Nacked,        // publish refused (detail: reason)
    Delivered,     // detail: attempt and consumer
    Acked,
    Rejected,      // consumer nack (detail: requeue or not, error text)
    RetryScheduled,  // detail: due time
    Expired,
    DeadLettered,  // detail: reason, target DLQ
    Requeued,      // detail: by whom, to where
    Deleted,       // an operator deleted it (or purged its queue)
    Prepared,
    Committed,
    RolledBack,
    CheckBack,
    Duplicate,
    Replicated,    // a replica acknowledged it (sync replication), just before the confirm
};

struct TraceEvent {
    TimeMs at = 0;
    TraceKind kind = TraceKind::Published;
    std::string queue;
    uint64_t sequence = 0;
    std::string messageId;
    std::string key;
    std::string detail;  // one line for a person
};

struct TraceQuery {
    std::string messageId;  // match either this ...
    std::string key;        // ... or this (both empty: everything)
    size_t limit = 1000;    // the matches recorded last; returned in time order
};

struct AuditEntry {
    TimeMs at = 0;
    std::string actor;
    std::string action;  // declare-queue, update-policy, purge, delete-queue, requeue, edit-requeue, ...
    std::string target;  // queue or exchange name
    std::string detail;  // what changed, in words or JSON
    uint64_t count = 0;  // messages affected
    bool ok = true;
};

// Alert thresholds per queue: crossing one (value >= threshold) raises the alert, falling back below clears it;
// both are recorded in the audit log (actor "broker", actions alert-raised / alert-cleared).
enum class AlertMetric {
    DeadLetterDepth,   // messages in the queue's dead-letter queue
    DeadLetterGrowth,  // messages dead-lettered from the queue in the last minute
    OldestAge,         // milliseconds the oldest message held has waited
    Backlog,           // messages ready or delayed
};

struct AlertRule {
    std::string queue;
    AlertMetric metric = AlertMetric::DeadLetterDepth;
    uint64_t threshold = 1;  // at least 1
};

struct AlertState {
    AlertRule rule;
    uint64_t value = 0;    // at the last evaluation (every second)
    bool firing = false;
    TimeMs since = 0;      // when it last started firing (0 when it is not)
};

struct AuditQuery {
    TimeMs from = 0;
    TimeMs to = INT64_MAX;
    std::string target;  // empty: all
    size_t limit = 1000;
};

// Monotonic counters (since the broker started, restored from history on restart is not promised).
struct Counters {
    uint64_t published = 0;
    uint64_t confirmed = 0;
    uint64_t nacked = 0;
    uint64_t delivered = 0;
    uint64_t redelivered = 0;
    uint64_t acked = 0;
    uint64_t retried = 0;
    uint64_t deadLettered = 0;
    uint64_t expired = 0;
    uint64_t deduplicated = 0;
};

struct QueueStats {
    std::string name;
    QueueKind kind = QueueKind::Normal;
    bool durable = true;
    FlushMode flush = FlushMode::Sync;
    std::string deadLetterQueue;
    uint64_t ready = 0;
    uint64_t unacked = 0;
    uint64_t delayed = 0;   // waiting for a delay or a retry's backoff
    uint64_t prepared = 0;  // half messages waiting for commit
    uint64_t consumers = 0;
    uint64_t bytes = 0;     // payload bytes held
    uint64_t deadLetterDepth = 0;
    TimeMs oldestPublishedAt = 0;  // 0 when empty
    Counters counters;
};

struct BrokerStats {
    TimeMs at = 0;
    Counters totals;
    std::vector<QueueStats> queues;
    uint64_t connections = 0;
    uint64_t consumers = 0;
    uint64_t unflushedMessages = 0;  // confirmed (async flush) but not yet covered by an fdatasync: at risk
    uint64_t asyncFlushIntervalMs = 0;  // the longest an async-flush confirm waits for its fdatasync: the loss window
    FlushMode defaultFlush = FlushMode::Sync;  // what queues declared without a flush mode get
    uint64_t logWrittenOffset = 0;
    uint64_t logDurableOffset = 0;
    uint64_t logBytesOnDisk = 0;
    size_t logSegments = 0;
    bool logReadOnly = false;
    std::string logFailure;
    uint64_t traceDropped = 0;  // trace events not recorded because the catalog writer fell behind
    LatencyHistogram confirmLatency;  // publish → confirm, ns
    LatencyHistogram deliverLatency;  // publish → first delivery, ns
    LatencyHistogram fsyncLatency;    // the log's fdatasync rounds, ns
};

// One row of history: a broker-wide sample (queue empty) or one queue's, taken once per second.
struct MetricsSample {
    TimeMs at = 0;
    std::string queue;
    Counters counters;  // cumulative values at `at`; rates are differences between samples
    uint64_t ready = 0;
    uint64_t unacked = 0;
    uint64_t delayed = 0;
    uint64_t deadLetterDepth = 0;
    uint64_t unflushed = 0;
    uint64_t confirmP50Us = 0;  // latencies over the last second, microseconds
    uint64_t confirmP99Us = 0;
    uint64_t fsyncP50Us = 0;
    uint64_t fsyncP99Us = 0;
};

// Spellings: "published", "retry-scheduled", "dead-lettered", "check-back", ... (see Policy.h for the rules).
std::string_view toString(TraceKind kind);
// "dlq-depth", "dlq-growth", "oldest-age", "backlog".
std::string_view toString(AlertMetric metric);
std::optional<AlertMetric> alertMetricFromString(std::string_view text);
std::optional<TraceKind> traceKindFromString(std::string_view text);

}  // namespace depot::broker
