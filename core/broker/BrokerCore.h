#pragma once
// BrokerCore: the broker's state machine. It owns every queue, exchange, consumer and transaction, and is
// driven by one thread (BrokerLoop): nothing here is thread-safe, and nothing here blocks on anything but the
// commit log's write call and definition writes to SQLite.
//
// Effects that leave the core (confirms, deliveries, check-backs) are queued in an outbox and run by the loop
// at a safe point, so a handler may call straight back into the core.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/AtRiskLedger.h"
#include "broker/BrokerRecords.h"
#include "broker/FlatHashMap64.h"
#include "broker/LiveMessages.h"
#include "broker/LogStager.h"
#include "broker/Queue.h"
#include "broker/TraceBatch.h"
#include "catalog/Catalog.h"
#include "depot/broker/Broker.h"
#include "depot/broker/Replication.h"

namespace depot::broker {

// "flush sync -> async; max-attempts 5 -> 3" (what the audit records for a policy update), "no change".
std::string describePolicyChange(const QueuePolicy& from, const QueuePolicy& to);
// The index entry for a message stored at `offset` (or kept in memory under `sequence`).
Entry entryFor(const MessageRecord& record, uint64_t offset, uint64_t sequence, bool inMemory);

class BrokerCore {
public:
    BrokerCore(BrokerOptions options, std::unique_ptr<storage::CommitLog> log,
               std::unique_ptr<catalog::Catalog> catalog);
    ~BrokerCore();

    // Loads settings and definitions and rebuilds every queue from the log.
    Status recover();

    // Definitions.
    Result<QueueInfo> declareQueue(const QueueSpec& spec, const Actor& actor);
    Result<QueueInfo> updateQueuePolicy(const std::string& name, const QueuePolicy& policy, const Actor& actor);
    Status deleteQueue(const std::string& name, const Actor& actor);
    Result<uint64_t> purgeQueue(const std::string& name, const Actor& actor);
    std::vector<QueueInfo> listQueues() const;
    Status declareExchange(const ExchangeSpec& spec, const Actor& actor);
    Status deleteExchange(const std::string& name, const Actor& actor);
    std::vector<ExchangeSpec> listExchanges() const;
    Status bind(const Binding& binding, const Actor& actor);
    Status unbind(const Binding& binding, const Actor& actor);
    std::vector<Binding> listBindings() const { return m_bindings; }
    const BrokerSettings& settings() const { return m_settings; }
    Result<BrokerSettings> configure(const BrokerSettings& settings, const Actor& actor);
    Result<AlertRule> setAlert(const AlertRule& rule, const Actor& actor);
    Status deleteAlert(const std::string& queue, AlertMetric metric, const Actor& actor);
    std::vector<AlertState> alerts() const { return m_alerts; }

    // Publishing.
    void publish(PublishRequest request, ConfirmHandler handler);
    void commitTransaction(const std::string& transaction, ConfirmHandler handler);
    void rollbackTransaction(const std::string& transaction, ConfirmHandler handler);
    void setTransactionChecker(const std::string& producer, TransactionChecker checker);

    // Consuming.
    Result<uint64_t> consume(const ConsumerSpec& spec, DeliveryHandler handler);
    Status cancel(uint64_t consumer);
    Status ack(uint64_t consumer, uint64_t tag);
    Status nack(uint64_t consumer, uint64_t tag, const NackOptions& options);

    // Operator tools.
    Result<BrowsePage> browse(const std::string& queue, const BrowseOptions& options) const;
    Result<MessageGroups> groupMessages(const std::string& queue, GroupBy by, const MessageFilter& filter,
                                        size_t limit) const;
    Status deleteMessage(const std::string& queue, uint64_t sequence, const Actor& actor);
    // Deletes one waiting message (traced, not audited: a bulk job audits itself once).
    // Returns the message's id ("" if its record could not be read).
    Result<std::string> removeWaiting(const std::string& queue, uint64_t sequence, const Actor& actor);
    Status deadLetterMessage(const std::string& queue, uint64_t sequence, const Actor& actor);
    // Requeues one message (or fails it) and calls `done` once its copy is as safe as a confirm.
    void requeueOne(const std::string& queue, uint64_t sequence, const RequeueRequest& request,
                    std::function<void(RequeueItem)> done);

    BrokerStats stats() const;
    Result<QueueStats> queueStats(const std::string& name) const;
    // `done` runs once everything written so far and everything staged in this round is durable (a sync is
    // requested for the round's append).
    void whenAllDurable(std::function<void(const Status&)> done);
    void audit(const Actor& actor, std::string action, std::string target, std::string detail, uint64_t count,
               const Status& status);
    catalog::Catalog& catalog() { return *m_catalog; }
    storage::CommitLog& log() { return *m_log; }
    const BrokerOptions& options() const { return m_options; }

    // Loop hooks.
    void onDurable(uint64_t durableOffset, const Status& status);  // from the log's flusher, via the loop
    void runTimers(bool force);  // due retries, delays, ack timeouts, expiry, check-backs, metrics, reclamation
    TimeMs nextTimerDue() const;  // when runTimers() next has work (at most a second away)
    // Hands the round's trace events to the catalog writer in one call (one lock, one wake-up) rather than one
    // call per event: settle() does it before the outbox answers anyone, so an answered request's events are
    // queued by then.
    void handOverTrace();
    // Appends what is staged, dispatches to consumers, runs the outbox; repeats until quiet.
    void settle();
    void shutdown();             // nacks what waits for a sync that will not come

    // Replication (BrokerCoreReplication.cpp). A replica's queues stay empty while it follows: its records are
    // replayed into a ReplayState (the same code as recovery) and become queues when it is promoted.
    Role role() const { return m_role; }
    // OK on a primary; otherwise ReadOnly saying who to ask instead ("cannot <what>: ...").
    Status checkWritable(std::string_view what) const;
    void setReplicaOf(std::string primary) { m_role = Role::Replica; m_primary = std::move(primary); }
    ReplicationStatus replicationStatus() const;
    // Primary: the records a replica asked for (bytes empty: nothing new yet), and its acknowledgement.
    Result<FetchReply> replicaFetch(const FetchRequest& request);
    uint64_t definitionsVersion() const { return m_definitionsVersion; }
    // Replica: the follower appended [from, end) to the log; replay it.
    Status applyReplicated(uint64_t from, uint64_t end);
    Status truncateReplica(uint64_t offset);  // the log diverged after `offset`: cut it and replay again
    Status resetReplica(uint64_t offset);     // start over, empty, at `offset`
    // The log this broker holds (Replication.h, "LogId"); a replica with an empty log takes its primary's.
    const std::string& logId() const { return m_logId; }
    Status adoptLogId(const std::string& id);
    Status replaceDefinitions(std::vector<QueueInfo> queues, std::vector<ExchangeSpec> exchanges,
                              std::vector<Binding> bindings, uint64_t version);
    uint64_t appliedDefinitions() const { return m_appliedDefinitions; }
    uint64_t lastEpoch() const { return m_epochs.empty() ? 0 : m_epochs.back().epoch; }
    void noteFollower(bool connected, uint64_t primaryDurable, uint64_t primaryStart, std::string lastError);
    // Replica -> primary with a new epoch (recorded in the log, durable before this returns).
    Status promote(const Actor& actor);
    // A newer primary exists: stop taking writes (kept across restarts until the broker rejoins as a replica).
    // Refused when `logId` is not this broker's: a fence is only news for a copy of the same log.
    Status fence(uint64_t epoch, const std::string& by, const std::string& logId, const Actor& actor);

private:
    struct Unacked {
        Entry entry;
        TimeMs deliveredAt;
    };
    struct Consumer {
        uint64_t id = 0;
        uint32_t queue = 0;
        ConsumerSpec spec;
        DeliveryHandler handler;
        uint64_t nextTag = 1;
        // A delivery's entry lives here until settled: nodes come from the consumer's own pool, reused from
        // delivery to delivery rather than allocated and freed each time (kept up to the consumer's peak).
        std::pmr::unsynchronized_pool_resource unackedPool;
        std::pmr::unordered_map<uint64_t, Unacked> unacked{&unackedPool};
    };
    struct PendingConfirm {
        uint64_t endOffset;
        std::function<void(const Status&)> complete;
    };
    struct Prepared {
        std::vector<uint32_t> durable;  // targets that get the stored record
        std::vector<uint32_t> memory;   // targets that get an in-memory copy
        Entry entry;                    // for the durable targets (offset valid when durable is not empty)
        TimeMs dueAt = 0;
        std::string messageId;
        std::string key;
        std::shared_ptr<const MessageRecord> record;  // kept only when nothing is on disk
    };
    struct Transaction {
        std::string producer;
        std::vector<Prepared> messages;
        TimeMs nextCheckAt = 0;
        uint32_t checks = 0;
    };
    using LiveMap = std::unordered_map<uint32_t, LiveMessages>;
    struct ReplayState {
        LiveMap live;  // queue id -> MESSAGE offset -> the message as the records so far leave it
    };
    struct ReplicaWait {
        uint64_t endOffset;
        TimeMs deadline;
        bool confirmAnyway;  // on-replica-timeout confirm
        std::function<void(const Status&, bool replicated)> complete;
    };
    struct Route {
        std::vector<Queue*> queues;
        NackReason reason = NackReason::None;
        std::string error;
    };

    // Definitions (BrokerCoreDefinitions.cpp).
    Queue* findQueue(const std::string& name);
    const Queue* findQueue(const std::string& name) const;
    Queue* queueById(uint32_t id);
    const Queue* queueById(uint32_t id) const;
    Result<Queue*> ensureDeadLetterQueue(Queue& queue);

    // Publishing (BrokerCorePublish.cpp).
    Route route(const PublishRequest& request);
    void nackPublish(ConfirmHandler& handler, const PublishRequest& request, NackReason reason, std::string error);
    bool checkOverflow(const Route& route, ConfirmHandler& handler, const PublishRequest& request);
    // The route's queues that do not hold this message already. Moves route.queues out when none does (the
    // common case, saving a copy): the route is only read again when every queue held it.
    std::vector<Queue*> dropDuplicates(Route& route, const Message& message, std::vector<std::string>& dupQueues);
    void confirmDuplicate(const Route& route, const std::string& id, std::vector<std::string> dupQueues,
                          ConfirmHandler handler);
    MessageRecord makeRecord(PublishRequest& request, const std::vector<Queue*>& queues, TimeMs now) const;
    void storeMessage(std::vector<Queue*> targets, std::shared_ptr<MessageRecord> record, bool persistent,
                      uint64_t started, ConfirmHandler handler, std::vector<std::string> dupQueues);
    void insertEntry(Queue& queue, Entry entry, TimeMs dueAt);
    // Takes back a stored message whose confirm failed (its sync failed): not delivered later, not a dedup hit.
    void withdrawUnconfirmed(Queue& queue, uint64_t sequence, const std::string& messageId);
    void unstageId(const std::string& messageId);
    void applyOverflow(Queue& queue);
    void whenDurable(uint64_t endOffset, std::function<void(const Status&)> complete);
    void prepareTransaction(PublishRequest& request, std::vector<Queue*> targets, ConfirmHandler handler);
    void finishTransaction(const std::string& transaction, bool commit, ConfirmHandler handler);
    void applyTransaction(Transaction& transaction, bool commit);
    void checkTransactions(TimeMs now);
    void deadLetterTransaction(const std::string& name, Transaction& transaction);

    // Delivery (BrokerCoreDelivery.cpp).
    void markDirty(Queue& queue);
    void dispatch(Queue& queue);
    bool deliverOne(Queue& queue, Consumer& consumer);
    Result<std::shared_ptr<const MessageRecord>> loadMessage(const Entry& entry) const;
    // A message on disk, read and decoded into a record of the caller's own (not an in-memory one).
    Result<MessageRecord> readMessage(const Entry& entry) const;
    Result<MessageRecord> copyOfTransient(const Entry& entry) const;  // an in-memory message, copied
    void settleEntry(Queue& queue, const Entry& entry);
    void releaseKey(Queue& queue, const Entry& entry);
    // afterBackoff false: redeliver at once (an ack timeout has already made the message wait).
    void retryOrDeadLetter(Queue& queue, Entry entry, const std::string& error, bool afterBackoff = true);
    void returnToQueue(Queue& queue, const Entry& entry);
    void checkAckTimeouts(TimeMs now);
    void promoteDue(TimeMs now);
    void holdUntil(Queue& queue, TimeMs due, const Entry& entry);  // into queue.delayed, and remembered for the timers
    void sweepExpired(Queue& queue, TimeMs now);
    Consumer* findConsumer(uint64_t id);

    // Dead letters (BrokerCoreDeadLetter.cpp).
    void deadLetter(Queue& queue, const Entry& entry, DeathReason reason, const std::string& error);
    DeathRecord makeDeath(const MessageRecord& original, const Queue& queue, const Entry& entry,
                          DeathReason reason, const std::string& error) const;
    bool takeEntry(Queue& queue, uint64_t sequence, Entry& out);
    bool matches(const Queue& queue, const Entry& entry, const MessageRecord* record, const MessageFilter& f) const;
    // Calls `visit` for each message of `queue` matching `filter`, in queue order (ready, delayed, unacked); with
    // its record when the filter needed it or `loadAlways` (null if it could not be read).
    using MatchVisitor = std::function<void(const Entry&, MessageState, TimeMs due, const MessageRecord*)>;
    // Stops after `scanLimit` messages considered; returns how many were.
    uint64_t forEachMatching(const Queue& queue, const MessageFilter& filter, bool loadAlways,
                             const MatchVisitor& visit, uint64_t scanLimit = UINT64_MAX) const;
    QueuedMessage describe(const Queue& queue, const Entry& entry, MessageState state, bool bodies) const;

    // Recovery (BrokerCoreRecovery.cpp).
    Status loadDefinitions();
    Status loadSettings();
    Status loadAlerts(const std::map<std::string, std::string>& settings);
    void evaluateAlerts(TimeMs at, const BrokerStats& now);
    uint64_t alertValue(AlertMetric metric, const QueueStats& queue, TimeMs at);
    Status replayLog();
    Status replayFrom(storage::CommitLog::Cursor& cursor, uint64_t end, ReplayState& state);
    Status replayRecord(const storage::Record& record, TimeMs at, ReplayState& state);
    void materialize(ReplayState& state);
    // Replication (BrokerCoreReplication.cpp).
    Status rebuildReplica();
    void reclaimReplicaLog();  // a replica deletes the segments its primary deleted, once it replayed past them
    Status loadRole();  // fenced before a restart: still fenced, unless it now follows as a replica
    void whenReplicated(uint64_t endOffset, const QueuePolicy& policy,
                        std::function<void(const Status&, bool replicated)> complete);
    uint64_t replicatedOffset() const;
    void releaseReplicaWaits();
    void expireReplicaWaits(TimeMs at);

    // Observability (BrokerCoreStats.cpp).
    // Records an event for this round's trace batch (nothing when the trace is off); copies the text.
    void traceEvent(TraceKind kind, const Queue* queue, uint64_t sequence, std::string_view messageId,
                    std::string_view key, std::string_view detail);
    // The parts joined in a buffer reused from event to event: valid until the next call.
    std::string_view traceDetail(std::initializer_list<std::string_view> parts);
    void count(Queue& queue, uint64_t Counters::* field, uint64_t n = 1);
    void sampleMetrics(TimeMs now);
    void reclaimLog();
    void compactOldest(uint64_t before);
    QueueStats queueStats(const Queue& queue) const;

    TimeMs now() const { return m_clock.now(); }
    static uint64_t steadyNs();
    bool isTransientSequence(uint64_t sequence) const { return sequence >> 63; }
    static uint64_t firstTransientSequence(TimeMs now);

    BrokerOptions m_options;
    Clock& m_clock;
    std::unique_ptr<storage::CommitLog> m_log;
    std::unique_ptr<catalog::Catalog> m_catalog;
    LogStager m_stager;
    BrokerSettings m_settings;
    std::vector<AlertState> m_alerts;
    std::unordered_map<std::string, std::deque<std::pair<TimeMs, uint64_t>>> m_alertGrowth;  // (at, deadLettered)

    std::map<uint32_t, std::unique_ptr<Queue>> m_queues;
    std::set<uint32_t> m_queuesWithDelayed;  // may hold queues whose delayed map has since emptied, or deleted ids
    std::unordered_map<std::string, uint32_t> m_queueIds;
    std::map<std::string, ExchangeSpec> m_exchanges;
    std::vector<Binding> m_bindings;
    std::unordered_map<uint64_t, std::unique_ptr<Consumer>> m_consumers;
    uint64_t m_nextConsumer = 1;
    std::unordered_map<uint64_t, std::shared_ptr<const MessageRecord>> m_transient;
    uint64_t m_nextTransient = 1ull << 63;
    std::map<std::string, Transaction> m_transactions;
    std::unordered_map<std::string, TransactionChecker> m_checkers;

    std::deque<PendingConfirm> m_waitingForSync;
    FlatHashMap64 m_stagedIds;  // id hash → publishes staged for the log, not yet applied
    AtRiskLedger m_unflushed;  // messages confirmed before their fdatasync, until the durable end passes them
    uint64_t m_durableOffset = 0;
    Status m_logFailure;

    std::vector<uint32_t> m_dirty;
    std::vector<std::function<void()>> m_outbox;
    mutable storage::Record m_readScratch;  // loadMessage's read buffer (broker thread)
    TraceBatch m_traceBatch;  // this round's trace events, not yet handed to the catalog writer
    std::string m_traceDetail;  // reused to format a frequent event's detail without an allocation

    Counters m_retiredCounters;  // of deleted queues, so totals never go backwards
    LatencyHistogram m_confirmLatency;
    LatencyHistogram m_deliverLatency;
    LatencyHistogram m_secondConfirm;  // last second only, for the history
    LatencyHistogram m_lastFsync;  // the log's cumulative fsync histogram at the last sample
    TimeMs m_nextSample = 0;
    TimeMs m_nextSweep = 0;
    TimeMs m_nextReclaim = 0;
    TimeMs m_nextPrune = 0;
    // Replication.
    Role m_role = Role::Primary;
    std::string m_logId;
    std::string m_primary;      // replica: the endpoint followed; after a promotion: the former primary
    std::string m_fencedBy;
    std::vector<EpochStart> m_epochs;
    std::unique_ptr<ReplayState> m_replay;  // replica only
    std::map<std::string, ReplicaInfo> m_replicas;
    std::deque<ReplicaWait> m_replicaWaits;
    AtRiskLedger m_unreplicated;  // confirmed messages of replicated queues no replica has yet
    uint64_t m_confirmedWithoutReplica = 0;
    uint64_t m_nackedForReplica = 0;
    uint64_t m_definitionsVersion = 0;
    uint64_t m_appliedDefinitions = 0;
    bool m_followerConnected = false;
    uint64_t m_primaryDurable = 0;
    uint64_t m_primaryStart = 0;
    TimeMs m_followerContact = 0;
    TimeMs m_caughtUpAt = 0;
    std::string m_followerError;
};

}  // namespace depot::broker
