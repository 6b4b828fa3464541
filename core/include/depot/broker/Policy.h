#pragma once
// Definitions: queues, exchanges, bindings and the policies that decide what the broker promises.
// Defaults are DESIGN.md's ("Broker semantics").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depot::broker {

using Millis = std::chrono::milliseconds;

enum class FlushMode { Sync, Async };                // when a persistent message's confirm may go out
enum class Overflow { RejectPublish, DeadLetterOldest };
enum class Ordering { None, PerKey };                // PerKey: at most one message in flight per key
enum class ExchangeType { Direct, Fanout, Topic };
enum class QueueKind { Normal, DeadLetter };         // a dead-letter queue never dead-letters its own messages
// Whether a publish's confirm waits for a replica (RocketMQ's SYNC_MASTER / ASYNC_MASTER): None and Async confirm
// without one (Async: the lag is measured and shown); Sync waits for a replica's durable ack of the record.
enum class Replication { None, Async, Sync };
// A sync-replicated publish no replica acknowledged within replicaTimeout: nacked (reason replica-unavailable,
// the message withdrawn), or confirmed anyway with that reason (RocketMQ's SLAVE_NOT_AVAILABLE) and counted.
enum class ReplicaTimeoutAction { Nack, Confirm };

struct QueuePolicy {
    bool durable = true;                 // false: messages live in memory only, never on disk
    FlushMode flush = FlushMode::Sync;
    uint32_t maxAttempts = 5;            // deliveries before max-attempts dead-lettering; 0 = unlimited
    std::vector<Millis> backoff{Millis(1000), Millis(5000), Millis(15000), Millis(30000)};  // the last repeats
    Millis ackTimeout{60000};            // an unacked delivery older than this is redelivered (0 = never)
    std::optional<Millis> ttl;           // per-queue message time-to-live
    std::optional<uint64_t> maxLength;   // messages held (ready + delayed + unacked)
    Overflow overflow = Overflow::RejectPublish;
    Ordering ordering = Ordering::None;
    Millis dedupWindow{300000};          // 0 disables deduplication by producer message id
    std::string deadLetterQueue;         // empty: "<queue>.dlq", created with the queue
    Replication replication = Replication::None;
    Millis replicaTimeout{5000};         // sync replication: how long a confirm waits for a replica
    ReplicaTimeoutAction onReplicaTimeout = ReplicaTimeoutAction::Nack;

    bool operator==(const QueuePolicy&) const = default;
};

struct QueueSpec {
    std::string name;
    QueuePolicy policy;
    QueueKind kind = QueueKind::Normal;
    bool brokerFlush = false;  // true: policy.flush is replaced by the broker's default flush (BrokerSettings)
};

struct QueueInfo {
    uint32_t id = 0;  // never reused: messages of a deleted queue can never reappear in a new one
    std::string name;
    QueuePolicy policy;
    QueueKind kind = QueueKind::Normal;
    std::string deadLetterQueue;  // the resolved name ("" for a dead-letter queue)
    int64_t createdAt = 0;
};

struct ExchangeSpec {
    std::string name;
    ExchangeType type = ExchangeType::Direct;
    std::string alternateQueue;  // unroutable messages go here instead of being nacked (empty: nack them)
};

struct Binding {
    std::string exchange;
    std::string queue;
    std::string pattern;  // direct: the routing key; topic: words separated by '.', '*' one word, '#' zero or more

    bool operator==(const Binding&) const = default;
};

// Who asked for something: recorded in the audit log and in requeue lineage.
struct Actor {
    std::string name = "system";
};

// Names as the catalog, the protocol and the console spell them ("sync", "reject-publish", "per-key", "topic",
// "dead-letter"). The fromString functions accept exactly these spellings (case-sensitive); anything else is
// nullopt. toString of a value outside the enum gives "unknown".
std::string_view toString(FlushMode mode);
std::string_view toString(Overflow overflow);
std::string_view toString(Ordering ordering);
std::string_view toString(ExchangeType type);
std::string_view toString(QueueKind kind);
std::string_view toString(Replication replication);
std::string_view toString(ReplicaTimeoutAction action);
std::optional<Replication> replicationFromString(std::string_view text);
std::optional<ReplicaTimeoutAction> replicaTimeoutActionFromString(std::string_view text);
std::optional<FlushMode> flushModeFromString(std::string_view text);
std::optional<Overflow> overflowFromString(std::string_view text);
std::optional<Ordering> orderingFromString(std::string_view text);
std::optional<ExchangeType> exchangeTypeFromString(std::string_view text);
std::optional<QueueKind> queueKindFromString(std::string_view text);

}  // namespace depot::broker
