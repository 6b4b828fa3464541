#pragma once
// Admin: every ADMIN operation of docs/protocol.md, typed, plus call() for raw JSON (depotctl --json, scripts).
// Each call blocks for at most ClientOptions::requestTimeout.
//
// ERROR frames become a Status whose message is "<code>: <the broker's message>" (e.g. "not-found: queue 'orders'
// does not exist"), with this code:
//   not-found → NotFound;  too-large → TooLarge;  read-only → ReadOnly;  busy, unavailable → Unavailable;
//   invalid, exists, forbidden, bad-frame, unknown-command, unsupported-version → InvalidArgument;
//   failed (and any code this client does not know) → IoError.
// A reply the client cannot parse is InvalidArgument naming the op.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Broker.h"

namespace depot::client {

class Connection;

struct QueueDetails {
    broker::QueueInfo info;
    broker::QueueStats stats;
};

struct RequeueStarted {
    uint64_t job = 0;
    uint64_t total = 0;  // messages matched when the job started
};

struct RequeueStatus {
    uint64_t job = 0;
    uint64_t total = 0;
    uint64_t done = 0;
    bool finished = false;
    std::optional<broker::RequeueReport> report;  // when finished
};

struct SessionConsumerInfo {
    uint64_t consumer = 0;
    std::string queue;
    uint32_t prefetch = 0;
    uint64_t unacked = 0;
    bool autoAck = false;
    std::string name;
};

struct SessionInfo {
    uint64_t session = 0;
    std::string client;
    std::string role;
    std::string address;
    broker::TimeMs connectedAt = 0;
    broker::TimeMs lastHeardAt = 0;
    uint64_t unconfirmed = 0;
    std::vector<SessionConsumerInfo> consumers;
};

class Admin {
public:
    explicit Admin(std::shared_ptr<Connection> connection);

    // The reply object's JSON text for `op` with the arguments in `argsJson` (a JSON object; "" = {}).
    Result<std::string> call(const std::string& op, const std::string& argsJson = {});

    Result<broker::QueueInfo> declareQueue(const broker::QueueSpec& spec);
    Result<broker::QueueInfo> updateQueue(const std::string& name, const broker::QueuePolicy& policy);
    Status deleteQueue(const std::string& name);
    Result<uint64_t> purgeQueue(const std::string& name);  // messages removed
    Result<std::vector<QueueDetails>> listQueues();
    Result<QueueDetails> showQueue(const std::string& name);

    Status declareExchange(const broker::ExchangeSpec& spec);
    Status deleteExchange(const std::string& name);
    Result<std::vector<broker::ExchangeSpec>> listExchanges();
    Status bind(const broker::Binding& binding);
    Status unbind(const broker::Binding& binding);
    Result<std::vector<broker::Binding>> listBindings();

    Result<broker::BrokerSettings> settings();
    Result<broker::BrokerSettings> configure(const broker::BrokerSettings& settings);  // admin role

    Result<std::vector<broker::AlertState>> alerts();
    Status setAlert(const broker::AlertRule& rule);
    Status deleteAlert(const std::string& queue, broker::AlertMetric metric);

    // Reading changes nothing.
    Result<broker::BrowsePage> browse(const std::string& queue, const broker::BrowseOptions& options = {});
    Result<broker::MessageGroups> groups(const std::string& queue, broker::GroupBy by,
                                         const broker::MessageFilter& filter = {}, size_t limit = 100);
    Status deleteMessage(const std::string& queue, uint64_t sequence);
    Status deadLetterMessage(const std::string& queue, uint64_t sequence);
    // request.actor is ignored: the broker records the session's client@address. request.remove deletes instead.
    Result<RequeueStarted> startRequeue(const broker::RequeueRequest& request);
    Result<RequeueStatus> requeueStatus(uint64_t job);
    Status cancelRequeue(uint64_t job);

    // Latency histograms are rebuilt from the buckets on the wire: percentiles within the histogram's 12.5 %.
    // withQueues false: BrokerStats::queues is left empty (cheaper with many queues; listQueues() has them too).
    Result<broker::BrokerStats> stats(bool withQueues = true);
    Result<std::vector<broker::TraceEvent>> trace(const broker::TraceQuery& query);
    Result<std::vector<broker::AuditEntry>> audit(const broker::AuditQuery& query = {});
    Result<std::vector<broker::MetricsSample>> history(const std::string& queue, broker::TimeMs from,
                                                       broker::TimeMs to);
    Result<std::vector<SessionInfo>> sessions();
    // Replication (docs/protocol.md "Replication"): role, epoch, replicas and their lag; promote a replica.
    Result<broker::ReplicationStatus> replicationStatus();
    Result<broker::ReplicationStatus> promote();  // admin role; the broker must be a replica

private:
    std::shared_ptr<Connection> m_connection;
};

}  // namespace depot::client
