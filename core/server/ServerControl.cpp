// Sessions and everything that is not the hot path: HELLO, heartbeats, CONSUME/CANCEL, TX_END/TX_CHECK, ADMIN.
#include <algorithm>

#include "depot/BuildInfo.h"
#include "server/ServerImpl.h"

namespace depot::server {

using protocol::Command;
using protocol::Json;

namespace {

constexpr int64_t kMinHeartbeatMs = 100, kMaxHeartbeatMs = 60000, kDefaultHeartbeatMs = 2000;

// Reads an optional key of the given JSON type; a present key of another type is an error.
template <typename T>
bool optionalField(const Json& object, const char* key, T& out, std::string& problem) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return true;
    try {
        out = it->get<T>();
        return true;
    } catch (const std::exception&) {
        problem = std::string("'") + key + "' has the wrong type";
        return false;
    }
}

}  // namespace

void Server::Impl::onHello(const Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    if (findByRoutingId(in.routingId))
        return sendError(in.routingId, requestId, "invalid", "HELLO on a live session");
    auto json = protocol::parseObject(in.header);
    if (!json) return malformed(nullptr, in.routingId, requestId, json.status().message());
    if (sessions.size() >= options.maxConnections)
        return sendError(in.routingId, requestId, "busy",
                         "the broker has " + std::to_string(sessions.size()) + " sessions, its limit");
    auto session = std::make_unique<Session>();
    std::string roleName = "admin", problem;
    int64_t heartbeatMs = kDefaultHeartbeatMs;
    if (!optionalField(*json, "client", session->client, problem) || !optionalField(*json, "role", roleName, problem) ||
        !optionalField(*json, "heartbeatMs", heartbeatMs, problem) ||
        !optionalField(*json, "producer", session->producerGroup, problem) ||
        !optionalField(*json, "deliverBatches", session->deliverBatches, problem))
        return sendError(in.routingId, requestId, "invalid", "HELLO: " + problem);
    auto role = roleFromString(roleName);
    if (!role) return sendError(in.routingId, requestId, "invalid", "HELLO: unknown role '" + roleName + "'");
    session->role = *role;
    if (!in.userId.empty()) {  // CURVE: the key list decides, a client cannot claim more
        auto granted = roleFromString(in.userId);
        if (granted && *granted != Role::Admin) session->role = *granted;
    }
    session->heartbeat = std::chrono::milliseconds(std::clamp(heartbeatMs, kMinHeartbeatMs, kMaxHeartbeatMs));
    session->id = nextSession++;
    session->routingId = in.routingId;
    session->address = in.address;
    session->lastHeard = std::chrono::steady_clock::now();
    session->connectedAt = session->lastHeardAt = broker::Clock::system().now();
    if (!session->producerGroup.empty()) watchProducerGroup(session->producerGroup);
    Session& s = *session;
    byRoutingId[in.routingId] = s.id;
    sessions[s.id] = std::move(session);
    reply(s, requestId,
          {{"server", "depotd"}, {"version", buildInfo().depotVersion}, {"protocol", protocol::kVersion}, {"session", s.id},
           {"role", toString(s.role)}, {"heartbeatMs", s.heartbeat.count()},
           {"maxMessageSize", options.maxMessageSize}, {"maxUnconfirmed", options.maxUnconfirmed},
           {"maxPrefetch", options.maxPrefetch}, {"deliverBatches", s.deliverBatches}});
}

void Server::Impl::onConsume(Session& session, const Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    auto json = protocol::parseObject(in.header);
    if (!json) return malformed(&session, session.routingId, requestId, json.status().message());
    broker::ConsumerSpec spec;
    std::string ack = "manual", problem;
    int64_t prefetch = 100, limit = 0;
    if (!optionalField(*json, "queue", spec.queue, problem) || !optionalField(*json, "prefetch", prefetch, problem) ||
        !optionalField(*json, "ack", ack, problem) || !optionalField(*json, "name", spec.name, problem) ||
        !optionalField(*json, "limit", limit, problem))
        return sendError(session, requestId, "invalid", "CONSUME: " + problem);
    if (limit < 0) return sendError(session, requestId, "invalid", "CONSUME: limit must not be negative");
    if (spec.queue.empty()) return sendError(session, requestId, "invalid", "CONSUME: no queue given");
    if (prefetch < 1 || prefetch > options.maxPrefetch)
        return sendError(session, requestId, "invalid",
                         "CONSUME: prefetch must be 1.." + std::to_string(options.maxPrefetch));
    if (ack != "manual" && ack != "auto")
        return sendError(session, requestId, "invalid", "CONSUME: ack must be 'manual' or 'auto'");
    spec.prefetch = static_cast<uint32_t>(prefetch);
    spec.autoAck = ack == "auto";
    spec.limit = static_cast<uint64_t>(limit);
    if (spec.name.empty()) spec.name = session.actor();
    uint64_t sessionId = session.id;
    auto consumer = broker.consume(spec, [this, sessionId](broker::Delivery&& d) { onDeliver(sessionId, std::move(d)); });
    if (!consumer)
        return sendError(session, requestId, consumer.status().code() == StatusCode::NotFound ? "not-found" : "invalid",
                         consumer.status().message());
    session.consumers[*consumer] = {spec.queue, spec.prefetch, spec.autoAck, spec.name, 0};
    reply(session, requestId, {{"consumer", *consumer}});
}

void Server::Impl::onCancel(Session& session, const Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    auto json = protocol::parseObject(in.header);
    if (!json) return malformed(&session, session.routingId, requestId, json.status().message());
    uint64_t consumer = 0;
    std::string problem;
    if (!optionalField(*json, "consumer", consumer, problem))
        return sendError(session, requestId, "invalid", "CANCEL: " + problem);
    if (!session.consumers.erase(consumer))
        return sendError(session, requestId, "not-found",
                         "consumer " + std::to_string(consumer) + " is not one of this session's");
    (void)broker.cancel(consumer);
    reply(session, requestId, Json::object());
}

void Server::Impl::onTxEnd(Session& session, const Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    auto json = protocol::parseObject(in.header);
    if (!json) return malformed(&session, session.routingId, requestId, json.status().message());
    std::string transaction, action, problem;
    if (!optionalField(*json, "transaction", transaction, problem) || !optionalField(*json, "action", action, problem))
        return sendError(session, requestId, "invalid", "TX_END: " + problem);
    if (transaction.empty() || (action != "commit" && action != "rollback"))
        return sendError(session, requestId, "invalid", "TX_END needs a transaction and action commit|rollback");
    uint64_t sessionId = session.id;
    broker.endTransaction(transaction, action == "commit", [this, sessionId, requestId](const broker::PublishResult& r) {
        if (Session* s = findSession(sessionId)) send(*s, Command::Confirm, 0, requestId, protocol::encodeConfirm(r));
    });
}

void Server::Impl::onAdmin(Session& session, const Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    auto json = protocol::parseObject(in.header);
    if (!json) return malformed(&session, session.routingId, requestId, json.status().message());
    AdminContext context{broker::Actor{session.actor()}, session.role, [this] { return sessionsJson(); }};
    auto result = admin.run(*json, context);
    if (auto* error = std::get_if<AdminError>(&result)) return sendError(session, requestId, error->code, error->message);
    reply(session, requestId, std::get<Json>(result));
}

void Server::Impl::watchProducerGroup(const std::string& group) {
    if (!producerGroups.insert(group).second) return;
    (void)broker.setTransactionChecker(group, [this, group](const std::string& transaction, const std::string& id) {
        sendTxCheck(group, transaction, id);
    });
}

// Asks one live session of the producer group (the most recently heard) about a half message.
void Server::Impl::sendTxCheck(const std::string& group, const std::string& transaction, const std::string& id) {
    Session* best = nullptr;
    for (auto& [sid, session] : sessions)
        if (session->producerGroup == group && !session->closing && (!best || session->lastHeard > best->lastHeard))
            best = session.get();
    if (!best) return;  // nobody to ask now: the broker asks again at the next check
    Json check{{"transaction", transaction}, {"messageId", id}, {"producer", group}};
    send(*best, Command::TxCheck, 0, 0, protocol::toText(check));
}

Json Server::Impl::sessionsJson() const {
    Json list = Json::array();
    for (const auto& [id, s] : sessions) {
        Json consumers = Json::array();
        for (const auto& [cid, c] : s->consumers)
            consumers.push_back({{"consumer", cid}, {"queue", c.queue}, {"prefetch", c.prefetch},
                                 {"unacked", c.unacked}, {"autoAck", c.autoAck}, {"name", c.name}});
        list.push_back({{"session", id}, {"client", s->client}, {"role", toString(s->role)}, {"address", s->address},
                        {"connectedAt", s->connectedAt}, {"lastHeardAt", s->lastHeardAt},
                        {"unconfirmed", s->pending.size()}, {"consumers", std::move(consumers)}});
    }
    return {{"sessions", std::move(list)}};
}

void Server::Impl::closeSession(uint64_t sessionId, std::string_view why) {
    auto it = sessions.find(sessionId);
    if (it == sessions.end()) return;
    std::unique_ptr<Session> session = std::move(it->second);
    sessions.erase(it);
    byRoutingId.erase(session->routingId);
    if (!why.empty()) sessionLog.write("depotd: closed session " + session->actor() + ": " + std::string(why));
    // Its unacked deliveries go back to their queues now and are delivered again, marked redelivered.
    for (auto& [consumer, state] : session->consumers) (void)broker.cancel(consumer);
}

broker::TimeMs Server::Impl::onTick(broker::TimeMs now) {
    auto steady = std::chrono::steady_clock::now();
    std::vector<std::pair<uint64_t, std::string>> dead;
    auto next = std::chrono::milliseconds(1000);
    for (auto& [id, session] : sessions) {
        if (session->closing) {
            dead.emplace_back(id, "");
            continue;
        }
        if (steady - session->lastHeard > 3 * session->heartbeat) {
            dead.emplace_back(id, "silent for 3 heartbeats");
            continue;
        }
        if (steady - session->lastSent >= session->heartbeat) send(*session, Command::Heartbeat, 0, 0, {});
        next = std::min(next, session->heartbeat / 2);
    }
    for (auto& [id, why] : dead) closeSession(id, why);
    answerParkedFetches(steady, true);
    for (const ParkedFetch& parked : parkedFetches)
        next = std::min(next, std::chrono::duration_cast<std::chrono::milliseconds>(parked.deadline - steady));
    return now + std::max<int64_t>(next.count(), 1);
}

void Server::Impl::afterSettle() {
    std::vector<uint64_t> ready = std::move(confirmsReady);
    confirmsReady.clear();
    for (uint64_t id : ready)
        if (Session* session = findSession(id)) flushConfirms(*session);
    ready = std::move(deliveriesReady);
    deliveriesReady.clear();
    for (uint64_t id : ready) {
        if (Session* session = findSession(id)) {
            session->deliveriesListed = false;
            flushDeliveries(*session);
        }
    }
    if (!parkedFetches.empty()) answerParkedFetches(std::chrono::steady_clock::now(), false);
}

void Server::Impl::onDetach() {
    if (detached) return;
    detached = true;
    for (const auto& group : producerGroups) (void)broker.setTransactionChecker(group, nullptr);
    std::vector<uint64_t> ids;
    for (auto& [id, session] : sessions) ids.push_back(id);
    for (uint64_t id : ids) closeSession(id, "");
}

}  // namespace depot::server
