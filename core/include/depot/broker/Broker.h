#pragma once
// Broker: Depot's embeddable, durable message broker (DESIGN.md "Broker semantics").
//
// Threads: one broker thread owns every queue; this class is a thread-safe front door to it. Calls that return a
// Status or Result wait for the broker thread to answer. Handlers (confirms, deliveries, transaction
// check-backs) run on the broker thread and must be quick; they may call back into the Broker (ack from a
// delivery handler, publish from a confirm handler): such calls run at once, on the broker thread.
//
// Durability: a PublishResult of Confirmed means the message is as safe as its queues' policies say (for a
// durable queue with sync flush: covered by an fdatasync). Nothing confirmed is ever dropped silently: it is
// delivered until acked, or dead-lettered with a death record.
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Clock.h"
#include "depot/broker/LoopService.h"
#include "depot/broker/Message.h"
#include "depot/broker/Observability.h"
#include "depot/broker/Policy.h"
#include "depot/broker/Replication.h"
#include "depot/storage/CommitLog.h"

namespace depot::broker {

struct BrokerOptions {
    std::string dataDir;                          // holds log/ and catalog.db
    storage::FileSystem* fileSystem = nullptr;    // null = the real one
    Clock* clock = nullptr;                       // null = Clock::system()
    uint64_t segmentSize = storage::kDefaultSegmentSize;
    size_t maxMessageSize = kDefaultMaxMessageSize;
    Millis asyncFlushInterval{100};
    Millis transactionCheckInterval{30000};       // first check-back after this, then again every interval
    uint32_t transactionMaxChecks = 15;           // then the half message is dead-lettered (tx-unresolved)
    bool trace = true;                            // record lifecycle events in the catalog
    // Rows of history.db kept (a row may hold several events of one message: docs/storage-format.md).
    uint64_t traceRetentionRows = 2'000'000;
    Millis historyRetention{24 * 3600 * 1000};    // metrics history and trace events older than this are deleted
    std::string replicaOf;                        // non-empty: a replica following the primary at this endpoint
    std::string replicaName;                      // how the primary lists this replica (default: the data directory)
    // CURVE on the replication links (a replica's follower to its primary; a promoted replica's fencer to the
    // former primary): the peer's public key, and this broker's key pair (its server keys: the peer's allow-list
    // names this public key with the admin role). Z85, 40 characters. Empty peer key: plain connections.
    std::string peerCurveServerKey;
    std::string curvePublicKey;
    std::string curveSecretKey;
};

// Broker-wide settings an operator changes at runtime (Broker::configure, ADMIN broker.configure). Kept in the
// catalog: a value configured once wins over BrokerOptions on every later open.
struct BrokerSettings {
    FlushMode defaultFlush = FlushMode::Sync;  // given to queues declared with QueueSpec::brokerFlush
    Millis asyncFlushInterval{100};            // the longest an async-flush confirm waits for its fdatasync

    bool operator==(const BrokerSettings&) const = default;
};
constexpr Millis kMaxAsyncFlushInterval{60000};

struct ConsumerSpec {
    std::string queue;
    uint32_t prefetch = 100;  // unacked deliveries allowed at once (credit); 0 = unlimited
    bool autoAck = false;     // settled when sent: a crash in the consumer loses it (for demonstrations)
    std::string name;         // shown in stats and trace
    // Deliveries in all, then no more (a batch get): a client that wants N messages is not sent an N+1st that it
    // would only hand back, with an attempt counted against it. 0 = no limit.
    uint64_t limit = 0;
};

// Selects messages when browsing or requeueing. Empty fields match everything.
struct MessageFilter {
    std::vector<uint64_t> sequences;   // only these
    std::string messageId;
    std::string sourceQueue;           // death record's source queue
    std::optional<DeathReason> reason;
    TimeMs from = 0;                   // on last death time (dead letters) or publish time (others)
    TimeMs to = INT64_MAX;
    std::string text;                  // substring of body, a header name or value, or the last error
    std::string error;                 // substring of the death record's last error
    std::string jsonPath;              // the body is JSON with a value at this path (Validation.h: validateJsonPath)
    std::optional<std::string> jsonEquals;  // ... equal to this (a string's text, else compact JSON: "42", "true")
};

struct BrowseOptions {
    size_t start = 0;    // index among the matching messages, in queue order
    size_t limit = 100;
    bool bodies = true;
    MessageFilter filter;
};

struct BrowsePage {
    std::vector<QueuedMessage> messages;
    uint64_t matched = 0;  // how many messages match the filter in all
};

struct RequeueRequest {
    std::string queue;               // the dead-letter queue (or any queue) to take messages from
    bool remove = false;             // delete the matching messages instead (target, body, headers unused)
    MessageFilter filter;            // with sequences: exactly those
    std::string target;              // empty: each message's source queue (from its death record)
    std::optional<std::string> body;     // edited body for every requeued message
    std::optional<Headers> headers;      // edited headers
    double ratePerSecond = 0;        // 0 = as fast as possible
    Actor actor;
};

// Counts of the messages matching a filter, by one property (the Dead Letters page's failure groups).
enum class GroupBy { Reason, Error, Source };
struct MessageGroup {
    std::string key;      // the reason's name, the last error's text or the source queue; "" when a message has none
    uint64_t count = 0;
    TimeMs lastAt = 0;    // the latest death (or publish) time among them
};
struct MessageGroups {
    std::vector<MessageGroup> groups;
    uint64_t scanned = 0;   // messages read to count them
    bool partial = false;   // the queue holds more than kGroupScanLimit: only its first ones were counted
};
// Grouping reads every message's record on the broker thread: it stops after this many, so a huge dead-letter
// queue cannot hold everyone else up for long (~1 s here).
inline constexpr uint64_t kGroupScanLimit = 100'000;

struct RequeueItem {
    uint64_t sequence = 0;
    std::string messageId;
    std::string target;
    Status status;  // OK: the copy was stored in the target and the original settled in one atomic batch
};

struct RequeueReport {
    std::vector<RequeueItem> items;
    uint64_t requeued = 0;  // done: requeued (or deleted, for a removal)
    uint64_t failed = 0;
    bool cancelled = false;
};

// A running bulk requeue. Thread-safe.
class RequeueJob {
public:
    virtual ~RequeueJob() = default;
    virtual uint64_t total() const = 0;
    virtual uint64_t done() const = 0;
    virtual void cancel() = 0;
    virtual bool finished() const = 0;
    virtual RequeueReport wait() = 0;  // blocks until finished or cancelled
};

using ConfirmHandler = std::function<void(const PublishResult&)>;
using DeliveryHandler = std::function<void(Delivery&&)>;
// Asked when a half message stays unresolved; answer with commitTransaction()/rollbackTransaction().
using TransactionChecker = std::function<void(const std::string& transaction, const std::string& messageId)>;

class BrokerCore;

class Broker {
public:
    // Opens (recovering) or creates the broker in options.dataDir and starts its thread.
    static Result<std::unique_ptr<Broker>> open(BrokerOptions options);
    ~Broker();  // close()
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;
    // Stops the thread after flushing the log and the catalog. Unconfirmed publishes are nacked (ShuttingDown).
    Status close();

    // Definitions. Redeclaring with the same policy is a no-op; with another one it is an error (use update).
    Result<QueueInfo> declareQueue(const QueueSpec& spec, const Actor& actor = {});
    Result<QueueInfo> updateQueuePolicy(const std::string& name, const QueuePolicy& policy, const Actor& actor = {});
    Status deleteQueue(const std::string& name, const Actor& actor = {});
    Result<uint64_t> purgeQueue(const std::string& name, const Actor& actor = {});  // messages removed
    Result<std::vector<QueueInfo>> listQueues();
    Status declareExchange(const ExchangeSpec& spec, const Actor& actor = {});
    Status deleteExchange(const std::string& name, const Actor& actor = {});
    Result<std::vector<ExchangeSpec>> listExchanges();
    Status bind(const Binding& binding, const Actor& actor = {});
    Status unbind(const Binding& binding, const Actor& actor = {});
    Result<std::vector<Binding>> listBindings();
    Result<BrokerSettings> settings();
    // Validated (interval 1 ms – 60 s), stored in the catalog, applied at once and audited (with what changed).
    // The default flush applies to queues declared afterwards; existing queues keep theirs.
    Result<BrokerSettings> configure(const BrokerSettings& settings, const Actor& actor = {});
    // Alert thresholds (Observability.h): kept in the catalog, evaluated every second, changes audited.
    Result<AlertRule> setAlert(const AlertRule& rule, const Actor& actor = {});  // adds or changes
    Status deleteAlert(const std::string& queue, AlertMetric metric, const Actor& actor = {});
    Result<std::vector<AlertState>> alerts();

    // Publishing. The handler runs exactly once, on the broker thread.
    void publish(PublishRequest request, ConfirmHandler handler);
    std::future<PublishResult> publish(PublishRequest request);
    std::future<PublishResult> commitTransaction(const std::string& transaction);
    std::future<PublishResult> rollbackTransaction(const std::string& transaction);
    // The same, answering on the broker thread (a server on the broker thread cannot wait for a future).
    void endTransaction(const std::string& transaction, bool commit, ConfirmHandler handler);
    Status setTransactionChecker(const std::string& producer, TransactionChecker checker);

    // Consuming. Deliveries arrive on the broker thread; ack or nack each by its tag on the same consumer.
    Result<uint64_t> consume(const ConsumerSpec& spec, DeliveryHandler handler);
    Status cancel(uint64_t consumer);  // its unacked messages are redelivered at once
    Status ack(uint64_t consumer, uint64_t tag);
    Status nack(uint64_t consumer, uint64_t tag, const NackOptions& options = {});

    // Operator tools. Browsing changes nothing.
    Result<BrowsePage> browse(const std::string& queue, const BrowseOptions& options = {});
    Status deleteMessage(const std::string& queue, uint64_t sequence, const Actor& actor = {});
    // Dead-letters one message now (reason rejected): unblocks a per-key queue poisoned by its head.
    Status deadLetterMessage(const std::string& queue, uint64_t sequence, const Actor& actor = {});
    Result<std::shared_ptr<RequeueJob>> requeue(RequeueRequest request);
    // The messages of `queue` matching `filter`, grouped, most numerous first, at most `limit` groups; among the
    // first kGroupScanLimit messages of the queue. No side effects (like browse).
    Result<MessageGroups> groupMessages(const std::string& queue, GroupBy by, const MessageFilter& filter = {},
                                        size_t limit = 100);

    BrokerStats stats();
    // One queue's stats (stats() builds every queue's: with thousands of queues, ask for the one you need).
    Result<QueueStats> queueStats(const std::string& queue);
    Result<std::vector<TraceEvent>> trace(const TraceQuery& query);
    Result<std::vector<AuditEntry>> audit(const AuditQuery& query = {});
    Result<std::vector<MetricsSample>> history(const std::string& queue, TimeMs from, TimeMs to);

    // Runs every timer that is due by the clock now and waits for it (tests with a ManualClock).
    void runTimers();
    // Waits until everything written so far is durable and every trace/audit/metrics row is in the catalog.
    Status sync();
    // Calls `done` on the broker thread once everything written so far, and everything the current round of work
    // stages (an ack's settle record, say), is durable, or with the error that made it impossible.
    void whenDurable(std::function<void(const Status&)> done);

    // Replication (Replication.h). A broker opened with BrokerOptions::replicaOf follows that primary on a thread
    // of its own and refuses writes until promote().
    Result<ReplicationStatus> replicationStatus();
    Result<FetchReply> replicaFetch(const FetchRequest& request);  // primary: a replica's fetch
    Result<Definitions> definitions();                             // primary: what a replica needs to apply
    Status promote(const Actor& actor = {});                       // replica -> primary, new epoch
    // Refused when `logId` is not the log this broker holds (Replication.h, "LogId").
    Status fence(uint64_t epoch, const std::string& by, const std::string& logId, const Actor& actor = {});
    // For the replica's follower (core/replication): its position, the log it takes, and what it fetched.
    Result<ReplicaPosition> replicaPosition();
    Status adoptLogId(const std::string& id);  // only while its log is empty
    Status storeReplicated(uint64_t from, std::string_view bytes);  // appended, replayed, and durable
    Status truncateReplica(uint64_t offset);
    Status resetReplica(uint64_t offset);
    Status replaceDefinitions(Definitions definitions);
    void noteFollower(bool connected, uint64_t primaryDurable, uint64_t primaryStart, std::string lastError);

    // Serves `service` on the broker thread until detach() or close(). Runs its onDetach() then.
    Status attach(std::shared_ptr<LoopService> service);
    Status detach(const std::shared_ptr<LoopService>& service);
    const storage::RecoveryReport& recoveryReport() const;

private:
    struct Impl;
    explicit Broker(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace depot::broker
