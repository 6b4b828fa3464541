// The names of the broker's enums. Each enum has one table; toString and fromString both read it, so the two
// directions cannot drift apart.
#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include "depot/broker/Message.h"
#include "depot/broker/Observability.h"
#include "depot/broker/Policy.h"
#include "depot/broker/Replication.h"

namespace depot::broker {

namespace {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr std::string_view kUnknown = "unknown";

template <typename E, size_t N>
constexpr std::string_view nameOf(const NameTable<E, N>& table, E value) {
    for (const auto& [candidate, name] : table) {
        if (candidate == value)
            return name;
    }
    return kUnknown;
}

template <typename E, size_t N>
constexpr std::optional<E> valueOf(const NameTable<E, N>& table, std::string_view text) {
    for (const auto& [value, name] : table) {
        if (name == text)
            return value;
    }
    return std::nullopt;
}

constexpr NameTable<FlushMode, 2> kFlushModes{{{FlushMode::Sync, "sync"}, {FlushMode::Async, "async"}}};

constexpr NameTable<Overflow, 2> kOverflows{{
    {Overflow::RejectPublish, "reject-publish"},
    {Overflow::DeadLetterOldest, "dead-letter-oldest"},
}};

constexpr NameTable<Ordering, 2> kOrderings{{{Ordering::None, "none"}, {Ordering::PerKey, "per-key"}}};

constexpr NameTable<ExchangeType, 3> kExchangeTypes{{
    {ExchangeType::Direct, "direct"},
    {ExchangeType::Fanout, "fanout"},
    {ExchangeType::Topic, "topic"},
}};

constexpr NameTable<QueueKind, 2> kQueueKinds{{{QueueKind::Normal, "normal"}, {QueueKind::DeadLetter, "dead-letter"}}};

constexpr NameTable<PublishOutcome, 3> kPublishOutcomes{{
    {PublishOutcome::Confirmed, "confirmed"},
    {PublishOutcome::Duplicate, "duplicate"},
    {PublishOutcome::Nacked, "nacked"},
}};

constexpr NameTable<Replication, 3> kReplications{{
    {Replication::None, "none"}, {Replication::Async, "async"}, {Replication::Sync, "sync"}}};

constexpr NameTable<ReplicaTimeoutAction, 2> kReplicaTimeoutActions{{
    {ReplicaTimeoutAction::Nack, "nack"}, {ReplicaTimeoutAction::Confirm, "confirm"}}};

constexpr NameTable<Role, 3> kRoles{{{Role::Primary, "primary"}, {Role::Replica, "replica"}, {Role::Fenced, "fenced"}}};

constexpr NameTable<NackReason, 12> kNackReasons{{
    {NackReason::None, "none"},
    {NackReason::NoExchange, "no-exchange"},
    {NackReason::NoQueue, "no-queue"},
    {NackReason::NoRoute, "no-route"},
    {NackReason::TooLarge, "too-large"},
    {NackReason::Overflow, "overflow"},
    {NackReason::StorageFailed, "storage-failed"},
    {NackReason::ReadOnly, "read-only"},
    {NackReason::Invalid, "invalid"},
    {NackReason::ShuttingDown, "shutting-down"},
    {NackReason::ReplicaUnavailable, "replica-unavailable"},
    {NackReason::NotPrimary, "not-primary"},
}};

constexpr NameTable<DeathReason, 5> kDeathReasons{{
    {DeathReason::Rejected, "rejected"},
    {DeathReason::MaxAttempts, "max-attempts"},
    {DeathReason::Expired, "expired"},
    {DeathReason::Overflow, "overflow"},
    {DeathReason::TxUnresolved, "tx-unresolved"},
}};

constexpr NameTable<MessageState, 4> kMessageStates{{
    {MessageState::Ready, "ready"},
    {MessageState::Unacked, "unacked"},
    {MessageState::Delayed, "delayed"},
    {MessageState::Prepared, "prepared"},
}};

constexpr NameTable<TraceKind, 18> kTraceKinds{{
    {TraceKind::Published, "published"},
    {TraceKind::Flushed, "flushed"},
    {TraceKind::Confirmed, "confirmed"},
    {TraceKind::Nacked, "nacked"},
    {TraceKind::Delivered, "delivered"},
    {TraceKind::Acked, "acked"},
    {TraceKind::Rejected, "rejected"},
    {TraceKind::RetryScheduled, "retry-scheduled"},
    {TraceKind::Expired, "expired"},
    {TraceKind::DeadLettered, "dead-lettered"},
    {TraceKind::Requeued, "requeued"},
    {TraceKind::Deleted, "deleted"},
    {TraceKind::Prepared, "prepared"},
    {TraceKind::Committed, "committed"},
    {TraceKind::RolledBack, "rolled-back"},
    {TraceKind::CheckBack, "check-back"},
    {TraceKind::Duplicate, "duplicate"},
    {TraceKind::Replicated, "replicated"},
}};

constexpr NameTable<AlertMetric, 4> kAlertMetrics{{{AlertMetric::DeadLetterDepth, "dlq-depth"},
                                                   {AlertMetric::DeadLetterGrowth, "dlq-growth"},
                                                   {AlertMetric::OldestAge, "oldest-age"},
                                                   {AlertMetric::Backlog, "backlog"}}};

}  // namespace

std::string_view toString(FlushMode mode) { return nameOf(kFlushModes, mode); }
std::string_view toString(Overflow overflow) { return nameOf(kOverflows, overflow); }
std::string_view toString(Ordering ordering) { return nameOf(kOrderings, ordering); }
std::string_view toString(ExchangeType type) { return nameOf(kExchangeTypes, type); }
std::string_view toString(QueueKind kind) { return nameOf(kQueueKinds, kind); }
std::string_view toString(Role role) { return nameOf(kRoles, role); }
std::optional<Role> roleFromString(std::string_view text) { return valueOf(kRoles, text); }
std::string_view toString(Replication replication) { return nameOf(kReplications, replication); }
std::string_view toString(ReplicaTimeoutAction action) { return nameOf(kReplicaTimeoutActions, action); }
std::optional<Replication> replicationFromString(std::string_view text) { return valueOf(kReplications, text); }
std::optional<ReplicaTimeoutAction> replicaTimeoutActionFromString(std::string_view text) {
    return valueOf(kReplicaTimeoutActions, text);
}
std::string_view toString(PublishOutcome outcome) { return nameOf(kPublishOutcomes, outcome); }
std::string_view toString(NackReason reason) { return nameOf(kNackReasons, reason); }
std::string_view toString(DeathReason reason) { return nameOf(kDeathReasons, reason); }
std::string_view toString(MessageState state) { return nameOf(kMessageStates, state); }
std::string_view toString(TraceKind kind) { return nameOf(kTraceKinds, kind); }
std::string_view toString(AlertMetric metric) { return nameOf(kAlertMetrics, metric); }

std::optional<FlushMode> flushModeFromString(std::string_view text) { return valueOf(kFlushModes, text); }
std::optional<Overflow> overflowFromString(std::string_view text) { return valueOf(kOverflows, text); }
std::optional<Ordering> orderingFromString(std::string_view text) { return valueOf(kOrderings, text); }
std::optional<ExchangeType> exchangeTypeFromString(std::string_view text) { return valueOf(kExchangeTypes, text); }
std::optional<QueueKind> queueKindFromString(std::string_view text) { return valueOf(kQueueKinds, text); }
std::optional<PublishOutcome> publishOutcomeFromString(std::string_view text) {
    return valueOf(kPublishOutcomes, text);
}
std::optional<NackReason> nackReasonFromString(std::string_view text) { return valueOf(kNackReasons, text); }
std::optional<DeathReason> deathReasonFromString(std::string_view text) { return valueOf(kDeathReasons, text); }
std::optional<MessageState> messageStateFromString(std::string_view text) { return valueOf(kMessageStates, text); }
std::optional<TraceKind> traceKindFromString(std::string_view text) { return valueOf(kTraceKinds, text); }
std::optional<AlertMetric> alertMetricFromString(std::string_view text) { return valueOf(kAlertMetrics, text); }

}  // namespace depot::broker
