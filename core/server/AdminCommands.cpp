// The ADMIN operations (docs/protocol.md, "ADMIN"): arguments read from untrusted JSON, run against the Broker on
// the broker thread, results as JSON.
#include "server/AdminCommands.h"

#include <deque>
#include <map>
#include <string_view>
#include <unordered_map>

#include "protocol/JsonReader.h"

namespace depot::server {

using protocol::Json;
using protocol::JsonReader;
using Outcome = std::variant<Json, AdminError>;

AdminError adminErrorOf(const Status& status) {
    std::string code = "failed";
    switch (status.code()) {
    case StatusCode::NotFound: code = "not-found"; break;
    case StatusCode::InvalidArgument:
        // The broker says "already exists ... with a different" for a redeclaration with another definition.
        code = status.message().find("already") != std::string::npos ? "exists" : "invalid";
        break;
    case StatusCode::ReadOnly: code = "read-only"; break;
    case StatusCode::TooLarge: code = "too-large"; break;
    case StatusCode::Closed:
    case StatusCode::Unavailable: code = "unavailable"; break;
    default: break;
    }
    return {code, status.message()};
}


namespace {

constexpr size_t kMaxBrowse = 1000;
constexpr size_t kJobsKept = 100;


AdminError invalid(const Status& status) { return {"invalid", status.message()}; }

template <typename T, typename ToJson>
Outcome resultOr(const Result<T>& result, ToJson toJson) {
    if (!result) return adminErrorOf(result.status());
    return toJson(*result);
}

Outcome statusOr(const Status& status) {
    if (!status) return adminErrorOf(status);
    return Json::object();
}

Json queueJson(const broker::QueueInfo& info, const broker::QueueStats* stats) {
    Json queue = protocol::queueInfoToJson(info);
    if (stats) queue["stats"] = protocol::queueStatsToJson(*stats);
    return queue;
}

// Each queue's stats by name: queue.list joins two lists of every queue (10,000s with a console open).
std::unordered_map<std::string_view, const broker::QueueStats*> statsByName(const broker::BrokerStats& stats) {
    std::unordered_map<std::string_view, const broker::QueueStats*> index;
    index.reserve(stats.queues.size());
    for (const auto& s : stats.queues) index.emplace(s.name, &s);
    return index;
}

bool isDestructive(const std::string& op) {
    static const char* const kOps[] = {"queue.delete",        "queue.purge",   "exchange.delete", "binding.remove",
                                       "message.delete",      "requeue.start", "requeue.cancel",
                                       "message.dead-letter", "broker.configure", "replica.promote",
                                       "replica.fence",       "replica.definitions"};
    for (const char* name : kOps)
        if (op == name) return true;
    return false;
}

}  // namespace

struct AdminCommands::Jobs {
    uint64_t next = 1;
    std::map<uint64_t, std::shared_ptr<broker::RequeueJob>> running;
    std::deque<uint64_t> order;  // oldest first, for pruning finished jobs
};

AdminCommands::AdminCommands(broker::Broker& broker) : m_broker(broker), m_jobs(std::make_unique<Jobs>()) {}
AdminCommands::~AdminCommands() = default;

namespace {

Outcome runQueueOp(broker::Broker& broker, const std::string& op, const Json& request, const broker::Actor& actor) {
    JsonReader r(request);
    std::string name;
    r.string("name", name, JsonReader::Required);
    if (op == "queue.list") {
        auto queues = broker.listQueues();
        if (!queues) return adminErrorOf(queues.status());
        broker::BrokerStats stats = broker.stats();
        auto byName = statsByName(stats);
        Json list = Json::array();
        for (const auto& info : *queues) {
            auto it = byName.find(info.name);
            list.push_back(queueJson(info, it == byName.end() ? nullptr : it->second));
        }
        return Json{{"queues", std::move(list)}};
    }
    if (!r.ok()) return invalid(r.status());
    if (op == "queue.declare" || op == "queue.update") {
        broker::QueueSpec spec;
        spec.name = name;
        if (const Json* policy = r.field("policy")) {
            auto parsed = protocol::policyFromJson(*policy);
            if (!parsed) return invalid(parsed.status());
            spec.policy = *parsed;
            // A declare that does not choose a flush mode gets the broker's default (broker.configure).
            spec.brokerFlush = !policy->is_object() || !policy->contains("flush");
        } else {
            spec.brokerFlush = true;
        }
        r.enumeration("kind", broker::queueKindFromString, spec.kind);
        if (!r.ok()) return invalid(r.status());
        auto info = op == "queue.declare" ? broker.declareQueue(spec, actor)
                                          : broker.updateQueuePolicy(name, spec.policy, actor);
        if (!info) return adminErrorOf(info.status());
        auto stats = broker.queueStats(info->name);
        return Json{{"queue", queueJson(*info, stats ? &*stats : nullptr)}};
    }
    if (op == "queue.delete") return statusOr(broker.deleteQueue(name, actor));
    if (op == "queue.purge") return resultOr(broker.purgeQueue(name, actor), [](uint64_t n) { return Json{{"purged", n}}; });
    // queue.show
    auto queues = broker.listQueues();
    if (!queues) return adminErrorOf(queues.status());
    for (const auto& info : *queues) {
        if (info.name != name) continue;
        auto stats = broker.queueStats(name);
        return Json{{"queue", queueJson(info, stats ? &*stats : nullptr)}};
    }
    return AdminError{"not-found", "queue '" + name + "' does not exist"};
}

Json settingsJson(const broker::BrokerSettings& settings) {
    return {{"defaultFlush", broker::toString(settings.defaultFlush)},
            {"asyncFlushIntervalMs", settings.asyncFlushInterval.count()}};
}

// broker.settings, broker.configure: absent arguments keep their current value.
Outcome runBrokerOp(broker::Broker& broker, const std::string& op, const Json& request, const broker::Actor& actor) {
    auto current = broker.settings();
    if (!current) return adminErrorOf(current.status());
    broker::BrokerSettings settings = *current;
    if (op == "broker.settings") return settingsJson(settings);
    JsonReader r(request);
    int64_t intervalMs = settings.asyncFlushInterval.count();
    r.enumeration("defaultFlush", broker::flushModeFromString, settings.defaultFlush);
    r.integer("asyncFlushIntervalMs", intervalMs);
    if (!r.ok()) return invalid(r.status());
    settings.asyncFlushInterval = broker::Millis(intervalMs);
    return resultOr(broker.configure(settings, actor), settingsJson);
}

Json alertJson(const broker::AlertState& state) {
    return {{"queue", state.rule.queue},  {"metric", broker::toString(state.rule.metric)},
            {"threshold", state.rule.threshold}, {"value", state.value},
            {"firing", state.firing},     {"since", state.since}};
}

// alert.list, alert.set, alert.delete.
Outcome runAlertOp(broker::Broker& broker, const std::string& op, const Json& request, const broker::Actor& actor) {
    if (op == "alert.list")
        return resultOr(broker.alerts(), [](const std::vector<broker::AlertState>& alerts) {
            Json out = Json::array();
            for (const auto& state : alerts) out.push_back(alertJson(state));
            return Json{{"alerts", std::move(out)}};
        });
    JsonReader r(request);
    broker::AlertRule rule;
    r.string("queue", rule.queue, JsonReader::Required);
    r.enumeration("metric", broker::alertMetricFromString, rule.metric, JsonReader::Required);
    if (op == "alert.delete") {
        if (!r.ok()) return invalid(r.status());
        return statusOr(broker.deleteAlert(rule.queue, rule.metric, actor));
    }
    r.integer("threshold", rule.threshold, JsonReader::Required);
    if (!r.ok()) return invalid(r.status());
    return resultOr(broker.setAlert(rule, actor), [](const broker::AlertRule& set) {
        return alertJson({set, 0, false, 0});
    });
}

Outcome runExchangeOp(broker::Broker& broker, const std::string& op, const Json& request,
                      const broker::Actor& actor) {
    if (op == "exchange.list")
        return resultOr(broker.listExchanges(), [](const auto& list) {
            Json out = Json::array();
            for (const auto& e : list) out.push_back(protocol::exchangeToJson(e));
            return Json{{"exchanges", std::move(out)}};
        });
    if (op == "binding.list")
        return resultOr(broker.listBindings(), [](const auto& list) {
            Json out = Json::array();
            for (const auto& b : list) out.push_back(protocol::bindingToJson(b));
            return Json{{"bindings", std::move(out)}};
        });
    if (op == "exchange.declare") {
        auto spec = protocol::exchangeFromJson(request);
        if (!spec) return invalid(spec.status());
        return statusOr(broker.declareExchange(*spec, actor));
    }
    if (op == "exchange.delete") {
        JsonReader r(request);
        std::string name;
        r.string("name", name, JsonReader::Required);
        if (!r.ok()) return invalid(r.status());
        return statusOr(broker.deleteExchange(name, actor));
    }
    auto binding = protocol::bindingFromJson(request);
    if (!binding) return invalid(binding.status());
    return statusOr(op == "binding.add" ? broker.bind(*binding, actor) : broker.unbind(*binding, actor));
}

Outcome runMessageOp(broker::Broker& broker, const std::string& op, const Json& request,
                     const broker::Actor& actor) {
    JsonReader r(request);
    std::string queue;
    r.string("queue", queue, JsonReader::Required);
    if (op == "message.groups") {
        std::string by = "reason";
        size_t limit = 100;
        broker::MessageFilter filter;
        r.string("by", by);
        r.integer("limit", limit);
        if (const Json* value = r.field("filter")) {
            auto parsed = protocol::filterFromJson(*value);
            if (!parsed) return invalid(parsed.status());
            filter = *parsed;
        }
        if (!r.ok()) return invalid(r.status());
        if (by != "reason" && by != "error" && by != "source")
            return AdminError{"invalid", "field \"by\" must be reason, error or source"};
        const broker::GroupBy groupBy = by == "reason"  ? broker::GroupBy::Reason
                                        : by == "error" ? broker::GroupBy::Error
                                                        : broker::GroupBy::Source;
        return resultOr(broker.groupMessages(queue, groupBy, filter, std::min(limit, kMaxBrowse)),
                        [](const broker::MessageGroups& result) {
                            Json out = Json::array();
                            for (const auto& g : result.groups)
                                out.push_back({{"key", g.key}, {"count", g.count}, {"lastAt", g.lastAt}});
                            return Json{{"groups", std::move(out)},
                                        {"scanned", result.scanned},
                                        {"partial", result.partial}};
                        });
    }
    if (op == "message.browse") {
        broker::BrowseOptions options;
        r.integer("start", options.start);
        r.integer("limit", options.limit);
        r.boolean("bodies", options.bodies);
        if (const Json* filter = r.field("filter")) {
            auto parsed = protocol::filterFromJson(*filter);
            if (!parsed) return invalid(parsed.status());
            options.filter = *parsed;
        }
        if (!r.ok()) return invalid(r.status());
        options.limit = std::min(options.limit, kMaxBrowse);
        return resultOr(broker.browse(queue, options), [](const broker::BrowsePage& page) {
            Json messages = Json::array();
            for (const auto& m : page.messages) messages.push_back(protocol::messageToJson(m));
            return Json{{"matched", page.matched}, {"messages", std::move(messages)}};
        });
    }
    uint64_t sequence = 0;
    r.integer("sequence", sequence, JsonReader::Required);
    if (!r.ok()) return invalid(r.status());
    if (op == "message.delete") return statusOr(broker.deleteMessage(queue, sequence, actor));
    return statusOr(broker.deadLetterMessage(queue, sequence, actor));
}

Outcome runObservabilityOp(broker::Broker& broker, const std::string& op, const Json& request) {
    JsonReader r(request);
    if (op == "stats") {
        bool queues = true;  // false: totals only (a console gets each queue's stats from queue.list already)
        r.boolean("queues", queues);
        if (!r.ok()) return invalid(r.status());
        broker::BrokerStats stats = broker.stats();
        if (!queues) stats.queues.clear();
        return protocol::statsToJson(stats);
    }
    if (op == "trace") {
        broker::TraceQuery query;
        r.string("messageId", query.messageId);
        r.string("key", query.key);
        r.integer("limit", query.limit);
        if (!r.ok()) return invalid(r.status());
        return resultOr(broker.trace(query), [](const auto& events) {
            Json out = Json::array();
            for (const auto& e : events) out.push_back(protocol::traceEventToJson(e));
            return Json{{"events", std::move(out)}};
        });
    }
    if (op == "audit") {
        broker::AuditQuery query;
        r.integer("from", query.from);
        r.integer("to", query.to);
        r.string("target", query.target);
        r.integer("limit", query.limit);
        if (!r.ok()) return invalid(r.status());
        return resultOr(broker.audit(query), [](const auto& entries) {
            Json out = Json::array();
            for (const auto& e : entries) out.push_back(protocol::auditEntryToJson(e));
            return Json{{"entries", std::move(out)}};
        });
    }
    std::string queue;
    broker::TimeMs from = 0, to = INT64_MAX;
    r.string("queue", queue);
    r.integer("from", from);
    r.integer("to", to);
    if (!r.ok()) return invalid(r.status());
    return resultOr(broker.history(queue, from, to), [](const auto& samples) {
        Json out = Json::array();
        for (const auto& s : samples) out.push_back(protocol::sampleToJson(s));
        return Json{{"samples", std::move(out)}};
    });
}

}  // namespace

Outcome AdminCommands::runRequeueOp(const std::string& op, const Json& request, const broker::Actor& actor) {
    JsonReader r(request);
    if (op == "requeue.start") {
        broker::RequeueRequest requeue;
        requeue.actor = actor;
        r.string("queue", requeue.queue, JsonReader::Required);
        r.string("target", requeue.target);
        std::string action = "requeue";
        r.string("action", action);
        if (r.ok() && action != "requeue" && action != "delete")
            return AdminError{"invalid", "field \"action\" must be requeue or delete"};
        requeue.remove = action == "delete";
        if (const Json* filter = r.field("filter")) {
            auto parsed = protocol::filterFromJson(*filter);
            if (!parsed) return invalid(parsed.status());
            requeue.filter = *parsed;
        }
        if (r.has("body") || r.has("bodyBase64")) {
            auto body = protocol::takeBody(request);
            if (!body) return invalid(body.status());
            requeue.body = *body;
        }
        if (const Json* headers = r.field("headers")) {
            auto parsed = protocol::headersFromJson(*headers);
            if (!parsed) return invalid(parsed.status());
            requeue.headers = *parsed;
        }
        double rate = 0;
        if (r.has("rate")) {
            const Json* value = r.field("rate");
            if (!value->is_number() || value->get<double>() < 0) return AdminError{"invalid", "'rate' must be a number >= 0"};
            rate = value->get<double>();
        }
        requeue.ratePerSecond = rate;
        if (!r.ok()) return invalid(r.status());
        auto job = m_broker.requeue(std::move(requeue));
        if (!job) return adminErrorOf(job.status());
        uint64_t id = m_jobs->next++;
        m_jobs->running[id] = *job;
        m_jobs->order.push_back(id);
        pruneJobs();
        return Json{{"job", id}, {"total", (*job)->total()}};
    }
    uint64_t id = 0;
    r.integer("job", id, JsonReader::Required);
    if (!r.ok()) return invalid(r.status());
    auto it = m_jobs->running.find(id);
    if (it == m_jobs->running.end()) return AdminError{"not-found", "no requeue job " + std::to_string(id)};
    broker::RequeueJob& job = *it->second;
    if (op == "requeue.cancel") {
        job.cancel();
        return Json::object();
    }
    Json status{{"job", id}, {"total", job.total()}, {"done", job.done()}, {"finished", job.finished()}};
    if (job.finished()) status["report"] = protocol::reportToJson(job.wait());
    return status;
}

// Keeps every running job and the newest finished ones.
void AdminCommands::pruneJobs() {
    while (m_jobs->order.size() > kJobsKept) {
        auto it = m_jobs->running.find(m_jobs->order.front());
        if (it != m_jobs->running.end() && !it->second->finished()) break;
        if (it != m_jobs->running.end()) m_jobs->running.erase(it);
        m_jobs->order.pop_front();
    }
}

Outcome AdminCommands::run(const Json& request, const AdminContext& context) {
    if (!request.is_object()) return AdminError{"bad-frame", "the ADMIN header must be a JSON object"};
    auto op = request.find("op");
    if (op == request.end() || !op->is_string()) return AdminError{"invalid", "ADMIN needs a string \"op\""};
    const std::string name = op->get<std::string>();
    if (isDestructive(name) && context.role != Role::Admin)
        return AdminError{"forbidden", name + " needs the admin role; this session is " +
                                           std::string(toString(context.role))};
    if (name.starts_with("queue.") && (name == "queue.declare" || name == "queue.update" || name == "queue.delete" ||
                                       name == "queue.purge" || name == "queue.list" || name == "queue.show"))
        return runQueueOp(m_broker, name, request, context.actor);
    if (name == "exchange.declare" || name == "exchange.delete" || name == "exchange.list" || name == "binding.add" ||
        name == "binding.remove" || name == "binding.list")
        return runExchangeOp(m_broker, name, request, context.actor);
    if (name == "message.browse" || name == "message.groups" || name == "message.delete" ||
        name == "message.dead-letter")
        return runMessageOp(m_broker, name, request, context.actor);
    if (name == "broker.settings" || name == "broker.configure") return runBrokerOp(m_broker, name, request, context.actor);
    if (name == "alert.list" || name == "alert.set" || name == "alert.delete")
        return runAlertOp(m_broker, name, request, context.actor);
    if (name == "requeue.start" || name == "requeue.status" || name == "requeue.cancel")
        return runRequeueOp(name, request, context.actor);
    if (name == "stats" || name == "trace" || name == "audit" || name == "history") {
        Outcome outcome = runObservabilityOp(m_broker, name, request);
        // The broker does not know about network sessions: the server does.
        if (Json* stats = std::get_if<Json>(&outcome); stats && name == "stats" && context.sessions) {
            Json sessions = context.sessions()["sessions"];
            uint64_t consumers = 0;
            for (const auto& session : sessions) consumers += session["consumers"].size();
            (*stats)["connections"] = sessions.size();
            (*stats)["consumers"] = std::max<uint64_t>((*stats)["consumers"].get<uint64_t>(), consumers);
        }
        return outcome;
    }
    if (name == "sessions") return context.sessions ? context.sessions() : Json{{"sessions", Json::array()}};
    if (name.starts_with("replica.")) return runReplicationOp(m_broker, name, request, context);
    return AdminError{"unknown-command", "unknown admin op '" + name + "'"};
}

}  // namespace depot::server
