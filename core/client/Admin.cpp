#include "depot/client/Admin.h"

#include <set>

#include "client/ClientCore.h"
#include "depot/client/Connection.h"
#include "protocol/JsonReader.h"
#include "protocol/ProtocolJson.h"
#include "protocol/ProtocolJsonReaders.h"

namespace depot::client {

using protocol::Json;
using protocol::JsonReader;

namespace {

// Ops whose repetition changes nothing (reads; declarations and updates that are no-ops the second time): safe to
// send again when the session ends before their answer.
OnSessionLoss onSessionLoss(const std::string& op) {
    static const std::set<std::string> kRepeatable = {
        "queue.declare", "queue.update", "queue.list",   "queue.show",     "exchange.declare",
        "exchange.list", "binding.add",  "binding.list", "message.browse", "requeue.status",
        "stats",         "trace",        "audit",        "history",        "sessions"};
    return kRepeatable.count(op) ? OnSessionLoss::Resend : OnSessionLoss::ResendIfUnexecuted;
}

Status unreadable(const std::string& op, const Status& why) {
    return Status::invalidArgument("unreadable reply to " + op + ": " + why.message());
}

// The Queue object's "stats" lacks the keys the Queue itself carries; QueueStats wants them.
Result<QueueDetails> queueDetailsFromJson(const Json& queue) {
    Result<broker::QueueInfo> info = protocol::queueInfoFromJson(queue);
    if (!info)
        return info.status();
    QueueDetails details{*info, {}};
    Json stats = queue.contains("stats") && queue["stats"].is_object() ? queue["stats"] : Json::object();
    if (!stats.contains("name"))
        stats["name"] = info->name;
    if (!stats.contains("kind"))
        stats["kind"] = broker::toString(info->kind);
    if (!stats.contains("durable"))
        stats["durable"] = info->policy.durable;
    if (!stats.contains("flush"))
        stats["flush"] = broker::toString(info->policy.flush);
    if (!stats.contains("deadLetterQueue"))
        stats["deadLetterQueue"] = info->deadLetterQueue;
    Result<broker::QueueStats> decoded = protocol::queueStatsFromJson(stats);
    if (!decoded)
        return decoded.status();
    details.stats = std::move(decoded).value();
    return details;
}

template <typename T, typename Read>
Result<std::vector<T>> listFrom(const std::string& op, const Json& reply, const char* key, Read read) {
    Result<std::vector<T>> items = protocol::decodeTopLevel<std::vector<T>>(
        reply, [&](JsonReader& reader, std::vector<T>& out) { protocol::readObjects(reader, key, out, read); });
    if (!items)
        return unreadable(op, items.status());
    return items;
}

void readSessionConsumer(JsonReader& r, SessionConsumerInfo& out) {
    r.integer("consumer", out.consumer);
    r.string("queue", out.queue);
    r.integer("prefetch", out.prefetch);
    r.integer("unacked", out.unacked);
    r.boolean("autoAck", out.autoAck);
    r.string("name", out.name);
}

void readSession(JsonReader& r, SessionInfo& out) {
    r.integer("session", out.session);
    r.string("client", out.client);
    r.string("role", out.role);
    r.string("address", out.address);
    r.integer("connectedAt", out.connectedAt);
    r.integer("lastHeardAt", out.lastHeardAt);
    r.integer("unconfirmed", out.unconfirmed);
    protocol::readObjects(r, "consumers", out.consumers, readSessionConsumer);
}

Json filterArgument(const broker::MessageFilter& filter) { return protocol::filterToJson(filter); }

}  // namespace

Admin::Admin(std::shared_ptr<Connection> connection) : m_connection(std::move(connection)) {}

namespace {

Result<Json> invoke(ClientCore& core, const std::string& op, Json args) {
    args["op"] = op;
    Result<Answer> answer =
        core.call({protocol::Command::Admin, protocol::toText(args), "ADMIN " + op, onSessionLoss(op), std::nullopt});
    if (!answer)
        return answer.status();
    Result<Json> reply = protocol::parseObject(answer->header);
    if (!reply)
        return unreadable(op, reply.status());
    return reply;
}

Status invokeStatus(ClientCore& core, const std::string& op, Json args) {
    Result<Json> reply = invoke(core, op, std::move(args));
    return reply ? Status::ok() : reply.status();
}

Result<broker::QueueInfo> queueFrom(const std::string& op, const Result<Json>& reply) {
    if (!reply)
        return reply.status();
    if (!reply->contains("queue") || !(*reply)["queue"].is_object())
        return unreadable(op, Status::invalidArgument("no \"queue\" object"));
    Result<broker::QueueInfo> info = protocol::queueInfoFromJson((*reply)["queue"]);
    if (!info)
        return unreadable(op, info.status());
    return info;
}

}  // namespace

Result<std::string> Admin::call(const std::string& op, const std::string& argsJson) {
    Result<Json> args = protocol::parseObject(argsJson);
    if (!args)
        return Status::invalidArgument("arguments of " + op + ": " + args.status().message());
    Result<Json> reply = invoke(m_connection->core(), op, std::move(args).value());
    if (!reply)
        return reply.status();
    return protocol::toText(*reply);
}

Result<broker::QueueInfo> Admin::declareQueue(const broker::QueueSpec& spec) {
    Json args = {
        {"name", spec.name}, {"kind", broker::toString(spec.kind)}, {"policy", protocol::policyToJson(spec.policy)}};
    if (spec.brokerFlush)
        args["policy"].erase("flush");  // the broker gives the queue its default flush
    return queueFrom("queue.declare", invoke(m_connection->core(), "queue.declare", std::move(args)));
}

Result<broker::QueueInfo> Admin::updateQueue(const std::string& name, const broker::QueuePolicy& policy) {
    Json args = {{"name", name}, {"policy", protocol::policyToJson(policy)}};
    return queueFrom("queue.update", invoke(m_connection->core(), "queue.update", std::move(args)));
}

Status Admin::deleteQueue(const std::string& name) {
    return invokeStatus(m_connection->core(), "queue.delete", {{"name", name}});
}

Result<uint64_t> Admin::purgeQueue(const std::string& name) {
    Result<Json> reply = invoke(m_connection->core(), "queue.purge", {{"name", name}});
    if (!reply)
        return reply.status();
    uint64_t purged = 0;
    if (Status status = JsonReader::integerValue(reply->value("purged", Json(0)), "purged", purged); !status)
        return unreadable("queue.purge", status);
    return purged;
}

Result<std::vector<QueueDetails>> Admin::listQueues() {
    Result<Json> reply = invoke(m_connection->core(), "queue.list", Json::object());
    if (!reply)
        return reply.status();
    auto queues = reply->find("queues");
    if (queues == reply->end() || !queues->is_array())
        return unreadable("queue.list", Status::invalidArgument("no \"queues\" array"));
    std::vector<QueueDetails> out;
    for (const Json& queue : *queues) {
        Result<QueueDetails> details = queueDetailsFromJson(queue);
        if (!details)
            return unreadable("queue.list", details.status());
        out.push_back(std::move(details).value());
    }
    return out;
}

Result<QueueDetails> Admin::showQueue(const std::string& name) {
    Result<Json> reply = invoke(m_connection->core(), "queue.show", {{"name", name}});
    if (!reply)
        return reply.status();
    if (!reply->contains("queue") || !(*reply)["queue"].is_object())
        return unreadable("queue.show", Status::invalidArgument("no \"queue\" object"));
    Result<QueueDetails> details = queueDetailsFromJson((*reply)["queue"]);
    if (!details)
        return unreadable("queue.show", details.status());
    return details;
}

Status Admin::declareExchange(const broker::ExchangeSpec& spec) {
    return invokeStatus(m_connection->core(), "exchange.declare", protocol::exchangeToJson(spec));
}

Status Admin::deleteExchange(const std::string& name) {
    return invokeStatus(m_connection->core(), "exchange.delete", {{"name", name}});
}

Result<std::vector<broker::ExchangeSpec>> Admin::listExchanges() {
    Result<Json> reply = invoke(m_connection->core(), "exchange.list", Json::object());
    if (!reply)
        return reply.status();
    return listFrom<broker::ExchangeSpec>("exchange.list", *reply, "exchanges", protocol::readExchange);
}

Status Admin::bind(const broker::Binding& binding) {
    return invokeStatus(m_connection->core(), "binding.add", protocol::bindingToJson(binding));
}

Status Admin::unbind(const broker::Binding& binding) {
    return invokeStatus(m_connection->core(), "binding.remove", protocol::bindingToJson(binding));
}

Result<std::vector<broker::Binding>> Admin::listBindings() {
    Result<Json> reply = invoke(m_connection->core(), "binding.list", Json::object());
    if (!reply)
        return reply.status();
    return listFrom<broker::Binding>("binding.list", *reply, "bindings", protocol::readBinding);
}

Result<broker::BrowsePage> Admin::browse(const std::string& queue, const broker::BrowseOptions& options) {
    Json args = {{"queue", queue},
                 {"start", options.start},
                 {"limit", options.limit},
                 {"bodies", options.bodies},
                 {"filter", filterArgument(options.filter)}};
    Result<Json> reply = invoke(m_connection->core(), "message.browse", std::move(args));
    if (!reply)
        return reply.status();
    Result<broker::BrowsePage> page =
        protocol::decodeTopLevel<broker::BrowsePage>(*reply, [](JsonReader& r, broker::BrowsePage& out) {
            r.integer("matched", out.matched);
            protocol::readObjects(r, "messages", out.messages, protocol::readMessage);
        });
    if (!page)
        return unreadable("message.browse", page.status());
    return page;
}

Status Admin::deleteMessage(const std::string& queue, uint64_t sequence) {
    return invokeStatus(m_connection->core(), "message.delete", {{"queue", queue}, {"sequence", sequence}});
}

Status Admin::deadLetterMessage(const std::string& queue, uint64_t sequence) {
    return invokeStatus(m_connection->core(), "message.dead-letter", {{"queue", queue}, {"sequence", sequence}});
}

Result<broker::MessageGroups> Admin::groups(const std::string& queue, broker::GroupBy by,
                                           const broker::MessageFilter& filter, size_t limit) {
    const char* byName = by == broker::GroupBy::Reason ? "reason" : by == broker::GroupBy::Error ? "error" : "source";
    Json args = {{"queue", queue}, {"by", byName}, {"filter", filterArgument(filter)}, {"limit", limit}};
    Result<Json> reply = invoke(m_connection->core(), "message.groups", std::move(args));
    if (!reply)
        return reply.status();
    auto groups = listFrom<broker::MessageGroup>("message.groups", *reply, "groups", [](JsonReader& r, broker::MessageGroup& g) {
        r.string("key", g.key);
        r.integer("count", g.count);
        r.integer("lastAt", g.lastAt);
    });
    if (!groups)
        return groups.status();
    broker::MessageGroups out;
    out.groups = std::move(groups).value();
    JsonReader r(*reply);
    r.integer("scanned", out.scanned);
    r.boolean("partial", out.partial);
    if (!r.ok())
        return unreadable("message.groups", r.status());
    return out;
}

Result<RequeueStarted> Admin::startRequeue(const broker::RequeueRequest& request) {
    Json args = {{"queue", request.queue},
                 {"filter", filterArgument(request.filter)},
                 {"target", request.target},
                 {"rate", request.ratePerSecond}};
    if (request.remove)
        args["action"] = "delete";
    if (request.body)
        protocol::putBody(args, *request.body);
    if (request.headers)
        args["headers"] = protocol::headersToJson(*request.headers);
    Result<Json> reply = invoke(m_connection->core(), "requeue.start", std::move(args));
    if (!reply)
        return reply.status();
    Result<RequeueStarted> started =
        protocol::decodeTopLevel<RequeueStarted>(*reply, [](JsonReader& r, RequeueStarted& out) {
            r.integer("job", out.job, JsonReader::Required);
            r.integer("total", out.total);
        });
    if (!started)
        return unreadable("requeue.start", started.status());
    return started;
}

Result<RequeueStatus> Admin::requeueStatus(uint64_t job) {
    Result<Json> reply = invoke(m_connection->core(), "requeue.status", {{"job", job}});
    if (!reply)
        return reply.status();
    Result<RequeueStatus> status =
        protocol::decodeTopLevel<RequeueStatus>(*reply, [](JsonReader& r, RequeueStatus& out) {
            r.integer("job", out.job);
            r.integer("total", out.total);
            r.integer("done", out.done);
            r.boolean("finished", out.finished);
            if (r.has("report")) {
                broker::RequeueReport report;
                protocol::readObject(r, "report", report, protocol::readReport);
                out.report = std::move(report);
            }
        });
    if (!status)
        return unreadable("requeue.status", status.status());
    return status;
}

Status Admin::cancelRequeue(uint64_t job) {
    return invokeStatus(m_connection->core(), "requeue.cancel", {{"job", job}});
}

namespace {

Result<broker::BrokerSettings> settingsFrom(const Result<Json>& reply) {
    if (!reply)
        return reply.status();
    broker::BrokerSettings settings;
    JsonReader r(*reply);
    int64_t intervalMs = 0;
    r.enumeration("defaultFlush", broker::flushModeFromString, settings.defaultFlush, JsonReader::Required);
    r.integer("asyncFlushIntervalMs", intervalMs, JsonReader::Required);
    if (!r.ok())
        return unreadable("broker.settings", r.status());
    settings.asyncFlushInterval = broker::Millis(intervalMs);
    return settings;
}

}  // namespace

Result<std::vector<broker::AlertState>> Admin::alerts() {
    Result<Json> reply = invoke(m_connection->core(), "alert.list", Json::object());
    if (!reply)
        return reply.status();
    return listFrom<broker::AlertState>("alert.list", *reply, "alerts", [](JsonReader& r, broker::AlertState& s) {
        r.string("queue", s.rule.queue, JsonReader::Required);
        r.enumeration("metric", broker::alertMetricFromString, s.rule.metric, JsonReader::Required);
        r.integer("threshold", s.rule.threshold);
        r.integer("value", s.value);
        r.boolean("firing", s.firing);
        r.integer("since", s.since);
    });
}

Status Admin::setAlert(const broker::AlertRule& rule) {
    return invokeStatus(m_connection->core(), "alert.set",
                        {{"queue", rule.queue}, {"metric", broker::toString(rule.metric)}, {"threshold", rule.threshold}});
}

Status Admin::deleteAlert(const std::string& queue, broker::AlertMetric metric) {
    return invokeStatus(m_connection->core(), "alert.delete", {{"queue", queue}, {"metric", broker::toString(metric)}});
}

Result<broker::BrokerSettings> Admin::settings() {
    return settingsFrom(invoke(m_connection->core(), "broker.settings", Json::object()));
}

Result<broker::BrokerSettings> Admin::configure(const broker::BrokerSettings& settings) {
    Json args = {{"defaultFlush", broker::toString(settings.defaultFlush)},
                 {"asyncFlushIntervalMs", settings.asyncFlushInterval.count()}};
    return settingsFrom(invoke(m_connection->core(), "broker.configure", std::move(args)));
}

Result<broker::BrokerStats> Admin::stats(bool withQueues) {
    Result<Json> reply = invoke(m_connection->core(), "stats", Json{{"queues", withQueues}});
    if (!reply)
        return reply.status();
    Result<broker::BrokerStats> stats = protocol::statsFromJson(*reply);
    if (!stats)
        return unreadable("stats", stats.status());
    return stats;
}

Result<std::vector<broker::TraceEvent>> Admin::trace(const broker::TraceQuery& query) {
    Json args = {{"limit", query.limit}};
    if (!query.messageId.empty())
        args["messageId"] = query.messageId;
    if (!query.key.empty())
        args["key"] = query.key;
    Result<Json> reply = invoke(m_connection->core(), "trace", std::move(args));
    if (!reply)
        return reply.status();
    return listFrom<broker::TraceEvent>("trace", *reply, "events", protocol::readTraceEvent);
}

Result<std::vector<broker::AuditEntry>> Admin::audit(const broker::AuditQuery& query) {
    Json args = {{"from", query.from}, {"to", query.to}, {"target", query.target}, {"limit", query.limit}};
    Result<Json> reply = invoke(m_connection->core(), "audit", std::move(args));
    if (!reply)
        return reply.status();
    return listFrom<broker::AuditEntry>("audit", *reply, "entries", protocol::readAuditEntry);
}

Result<std::vector<broker::MetricsSample>> Admin::history(const std::string& queue, broker::TimeMs from,
                                                          broker::TimeMs to) {
    Result<Json> reply = invoke(m_connection->core(), "history", {{"queue", queue}, {"from", from}, {"to", to}});
    if (!reply)
        return reply.status();
    return listFrom<broker::MetricsSample>("history", *reply, "samples", protocol::readSample);
}

Result<std::vector<SessionInfo>> Admin::sessions() {
    Result<Json> reply = invoke(m_connection->core(), "sessions", Json::object());
    if (!reply)
        return reply.status();
    return listFrom<SessionInfo>("sessions", *reply, "sessions", readSession);
}

namespace {

Result<broker::ReplicationStatus> replicationFrom(Result<Json> reply) {
    if (!reply)
        return reply.status();
    return protocol::replicationStatusFromJson(*reply);
}

}  // namespace

Result<broker::ReplicationStatus> Admin::replicationStatus() {
    return replicationFrom(invoke(m_connection->core(), "replica.status", Json::object()));
}

Result<broker::ReplicationStatus> Admin::promote() {
    return replicationFrom(invoke(m_connection->core(), "replica.promote", Json::object()));
}

}  // namespace depot::client
