#pragma once
// Messages as producers publish them, as consumers receive them, and as dead letters carry their history.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "depot/Status.h"
#include "depot/broker/Clock.h"
#include "depot/broker/Policy.h"

namespace depot::broker {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr size_t kDefaultMaxMessageSize = 4u << 20;  // body + headers + id + key

struct Message {
    std::string id;   // producer message id: deduplication and trace. Empty: the broker assigns one.
    std::string key;  // ordering key (per-key queues) and trace
    Headers headers;
    std::string body;
    bool persistent = true;     // false: never written to disk, even on a durable queue
    std::optional<Millis> ttl;  // the shorter of this and the queue's ttl applies
    std::optional<Millis> delay;
};

struct PublishRequest {
    std::string exchange;    // "" = the default exchange: routes to the queue named by routingKey
    std::string routingKey;
    Message message;
    std::string producer;    // producer group: the transaction check-back goes to it
    std::string transaction; // non-empty: a half message, invisible until commitTransaction()
};

enum class PublishOutcome { Confirmed, Duplicate, Nacked };

enum class NackReason {
    None,
    NoExchange,
    NoQueue,
    NoRoute,        // the exchange matched no queue and has no alternate queue
    TooLarge,
    Overflow,       // a target queue is full and rejects publishes
    StorageFailed,  // the write or its fdatasync failed: the message may or may not be on disk, it is not safe
    ReadOnly,       // the log refused writes after an earlier failure
    Invalid,        // malformed request (bad name, header, ttl)
    ShuttingDown,
    // Sync replication: no replica acknowledged in time (a nack), or a confirm without one (see PublishResult).
    ReplicaUnavailable,
    NotPrimary,     // this broker is a replica, or a fenced former primary: publish to the primary
};

struct PublishResult {
    PublishOutcome outcome = PublishOutcome::Nacked;
    NackReason reason = NackReason::None;
    std::string error;         // for a person: why it was nacked
    std::string messageId;     // the producer's id or the one the broker assigned
    std::vector<std::string> queues;  // where it was stored (or already was, for a duplicate)
};

enum class DeathReason { Rejected, MaxAttempts, Expired, Overflow, TxUnresolved };

struct RequeueEvent {
    TimeMs at = 0;
    std::string by;
    std::string fromQueue;
    std::string toQueue;

    bool operator==(const RequeueEvent&) const = default;
};

// Travels with every dead letter, across requeues and restarts.
struct DeathRecord {
    DeathReason reason = DeathReason::Rejected;
    std::string sourceQueue;
    uint32_t attempts = 0;
    TimeMs firstDeathAt = 0;
    TimeMs lastDeathAt = 0;
    uint32_t deaths = 0;           // how many times this message has died
    std::string lastError;         // the text given with the last nack
    std::vector<RequeueEvent> requeues;  // lineage: each time it was requeued out of a DLQ

    bool operator==(const DeathRecord&) const = default;
};

struct Delivery {
    uint64_t consumer = 0;
    uint64_t tag = 0;          // ack/nack this, on this consumer
    std::string queue;
    uint64_t sequence = 0;     // the message's id inside the broker (stable across retries and restarts)
    std::string messageId;
    std::string key;
    Headers headers;
    std::string body;
    uint32_t attempt = 1;      // 1 for the first delivery
    bool redelivered = false;  // attempt > 1
    TimeMs publishedAt = 0;
    std::optional<DeathRecord> death;  // set for messages in (or requeued out of) a dead-letter queue
};

struct NackOptions {
    bool requeue = true;  // true: retry after backoff (or dead-letter at max attempts); false: dead-letter now
    std::string error;    // kept in the death record as lastError
};

enum class MessageState { Ready, Unacked, Delayed, Prepared };

// A message as browsing shows it: reading it changes nothing.
struct QueuedMessage {
    uint64_t sequence = 0;
    std::string queue;
    std::string messageId;
    std::string key;
    Headers headers;
    std::string body;
    uint64_t size = 0;
    uint32_t attempts = 0;
    MessageState state = MessageState::Ready;
    TimeMs publishedAt = 0;
    TimeMs dueAt = 0;       // delayed: when it becomes ready
    TimeMs expiresAt = 0;   // 0 = never
    std::optional<DeathRecord> death;
};

// Spellings: "confirmed", "no-route", "max-attempts", "unacked", ... (see Policy.h for the rules).
std::string_view toString(PublishOutcome outcome);
std::string_view toString(NackReason reason);
std::string_view toString(DeathReason reason);
std::string_view toString(MessageState state);
std::optional<PublishOutcome> publishOutcomeFromString(std::string_view text);
std::optional<NackReason> nackReasonFromString(std::string_view text);
std::optional<DeathReason> deathReasonFromString(std::string_view text);
std::optional<MessageState> messageStateFromString(std::string_view text);

}  // namespace depot::broker
