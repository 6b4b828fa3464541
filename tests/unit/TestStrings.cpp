// The names of the broker's enums: exact spellings (the catalog, the protocol and the console rely on them),
// round trips, and refusal of anything else.
#include <QtTest>

#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "depot/broker/Message.h"
#include "depot/broker/Observability.h"
#include "depot/broker/Policy.h"
#include "depot/broker/Replication.h"

using namespace depot::broker;

namespace {

template <typename E>
using Spellings = std::vector<std::pair<E, std::string_view>>;

// `expected` lists every enumerator in declaration order (0, 1, 2, ...), so a new enumerator without a name, or
// a name that drifts, fails here.
template <typename E>
void checkSpellings(const Spellings<E>& expected, std::optional<E> (*fromString)(std::string_view)) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < expected.size(); ++i) {
        const auto& [value, name] = expected[i];
        QCOMPARE(static_cast<size_t>(value), i);
        QCOMPARE(QByteArray(toString(value).data(), qsizetype(toString(value).size())),
                 QByteArray(name.data(), qsizetype(name.size())));
        const std::optional<E> parsed = fromString(name);
        QVERIFY2(parsed.has_value(), name.data());
        QVERIFY(*parsed == value);
        QVERIFY2(seen.insert(name).second, "two enumerators share a name");
    }
    const E pastTheEnd = static_cast<E>(expected.size());
    QCOMPARE(QByteArray(toString(pastTheEnd).data()), QByteArray("unknown"));
    for (std::string_view bad :
         {"", "unknown", "nonsense", " sync", "sync ", "SYNC", "Topic", "per_key", "dead letter"})
        QVERIFY2(!fromString(bad).has_value(), bad.data());
}

}  // namespace

class TestStrings : public QObject {
    Q_OBJECT

private slots:
    void testFlushModeNames() {
        checkSpellings<FlushMode>({{FlushMode::Sync, "sync"}, {FlushMode::Async, "async"}}, &flushModeFromString);
    }

    void testOverflowNames() {
        checkSpellings<Overflow>(
            {{Overflow::RejectPublish, "reject-publish"}, {Overflow::DeadLetterOldest, "dead-letter-oldest"}},
            &overflowFromString);
    }

    void testOrderingNames() {
        checkSpellings<Ordering>({{Ordering::None, "none"}, {Ordering::PerKey, "per-key"}}, &orderingFromString);
    }

    void testExchangeTypeNames() {
        checkSpellings<ExchangeType>(
            {{ExchangeType::Direct, "direct"}, {ExchangeType::Fanout, "fanout"}, {ExchangeType::Topic, "topic"}},
            &exchangeTypeFromString);
    }

    void testQueueKindNames() {
        checkSpellings<QueueKind>({{QueueKind::Normal, "normal"}, {QueueKind::DeadLetter, "dead-letter"}},
                                  &queueKindFromString);
    }

    void testPublishOutcomeNames() {
        checkSpellings<PublishOutcome>({{PublishOutcome::Confirmed, "confirmed"},
                                        {PublishOutcome::Duplicate, "duplicate"},
                                        {PublishOutcome::Nacked, "nacked"}},
                                       &publishOutcomeFromString);
    }

    void testNackReasonNames() {
        checkSpellings<NackReason>({{NackReason::None, "none"},
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
                                    {NackReason::NotPrimary, "not-primary"}},
                                   &nackReasonFromString);
    }

    void testDeathReasonNames() {
        checkSpellings<DeathReason>({{DeathReason::Rejected, "rejected"},
                                     {DeathReason::MaxAttempts, "max-attempts"},
                                     {DeathReason::Expired, "expired"},
                                     {DeathReason::Overflow, "overflow"},
                                     {DeathReason::TxUnresolved, "tx-unresolved"}},
                                    &deathReasonFromString);
    }

    void testMessageStateNames() {
        checkSpellings<MessageState>({{MessageState::Ready, "ready"},
                                      {MessageState::Unacked, "unacked"},
                                      {MessageState::Delayed, "delayed"},
                                      {MessageState::Prepared, "prepared"}},
                                     &messageStateFromString);
    }

    void testTraceKindNames() {
        checkSpellings<TraceKind>({{TraceKind::Published, "published"},
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
                                   {TraceKind::Replicated, "replicated"}},
                                  &traceKindFromString);
    }

    void testReplicationNames() {
        checkSpellings<Replication>(
            {{Replication::None, "none"}, {Replication::Async, "async"}, {Replication::Sync, "sync"}},
            &replicationFromString);
        checkSpellings<ReplicaTimeoutAction>(
            {{ReplicaTimeoutAction::Nack, "nack"}, {ReplicaTimeoutAction::Confirm, "confirm"}},
            &replicaTimeoutActionFromString);
        checkSpellings<Role>({{Role::Primary, "primary"}, {Role::Replica, "replica"}, {Role::Fenced, "fenced"}},
                             &roleFromString);
    }

    void testNamesFromOtherEnumsAreRefused() {
        QVERIFY(!flushModeFromString("topic").has_value());
        QVERIFY(!deathReasonFromString("no-route").has_value());
        QVERIFY(!traceKindFromString("ready").has_value());
        QVERIFY(!messageStateFromString("published").has_value());
    }
};

QTEST_GUILESS_MAIN(TestStrings)
#include "TestStrings.moc"
