#pragma once
// The server's state and handlers, all on the broker thread (Server::Impl is the LoopService the broker polls).
// ServerIo.cpp: frames in and out. ServerHot.cpp: publish, confirm, deliver, ack, nack.
// ServerControl.cpp: hello, bye, heartbeats, consume, cancel, transactions, admin, sessions.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "depot/server/Server.h"
#include "protocol/Protocol.h"
#include "protocol/ProtocolJson.h"
#include "server/AdminCommands.h"
#include "server/RateLimitedLog.h"
#include "server/Session.h"

namespace depot::server {

// One request as read off the socket.
struct Incoming {
    std::string routingId;
    std::string address;  // the peer's address (TCP), "" otherwise
    std::string userId;   // with CURVE: the role the key list grants this client's key
    protocol::Envelope envelope;
    std::string header;
    std::string body;
};

struct Server::Impl : broker::LoopService {
    Impl(broker::Broker& broker, ServerOptions options);

    // LoopService.
    void* pollSocket() override { return socket; }
    void onReadable() override;
    broker::TimeMs onTick(broker::TimeMs now) override;
    void afterSettle() override;
    void onDetach() override;

    // ServerIo.cpp
    enum class ReadResult { Message, Malformed, Empty };
    ReadResult readOne(Incoming& in, std::string& problem);
    void dispatch(Incoming& in);
    bool sendFrames(const std::string& routingId, protocol::Command command, uint16_t flags, uint64_t requestId,
                    std::string_view header, std::string_view body);
    void send(Session& session, protocol::Command command, uint16_t flags, uint64_t requestId,
              std::string_view header, std::string_view body = {});
    void reply(Session& session, uint64_t requestId, const protocol::Json& result);
    void sendError(const std::string& routingId, uint64_t requestId, std::string_view code, std::string_view message);
    void sendError(Session& session, uint64_t requestId, std::string_view code, std::string_view message);
    void malformed(Session* session, const std::string& routingId, uint64_t requestId, const std::string& problem);

    // ServerHot.cpp
    void onPublish(Session& session, Incoming& in);
    void onConfirm(uint64_t sessionId, uint64_t requestId, const broker::PublishResult& result);
    void flushConfirms(Session& session);
    void onDeliver(uint64_t sessionId, broker::Delivery&& delivery);
    void flushDeliveries(Session& session);
    void onAck(Session& session, const Incoming& in);
    void onNack(Session& session, const Incoming& in);

    // ServerControl.cpp
    void onHello(const Incoming& in);
    void onConsume(Session& session, const Incoming& in);
    void onCancel(Session& session, const Incoming& in);
    void onTxEnd(Session& session, const Incoming& in);
    void onAdmin(Session& session, const Incoming& in);
    void watchProducerGroup(const std::string& group);
    void sendTxCheck(const std::string& group, const std::string& transaction, const std::string& messageId);
    protocol::Json sessionsJson() const;
    // ServerReplication.cpp
    void onReplFetch(Session& session, const Incoming& in);
    // Answers the parked fetches that have data now (or whose wait is over: `now` past their deadline).
    void answerParkedFetches(std::chrono::steady_clock::time_point now, bool onlyExpired);
    bool answerFetch(Session& session, uint64_t requestId, const broker::FetchRequest& request, bool mayPark);
    void closeSession(uint64_t sessionId, std::string_view why);
    Session* findSession(uint64_t id);
    Session* findByRoutingId(const std::string& routingId);

    broker::Broker& broker;
    ServerOptions options;
    void* socket = nullptr;
    AdminCommands admin;
    // Separate limits, so a flood of bad frames cannot hide session events (and the other way round).
    RateLimitedLog malformedLog;
    RateLimitedLog sessionLog;
    std::unordered_map<std::string, uint64_t> byRoutingId;
    std::unordered_map<uint64_t, std::unique_ptr<Session>> sessions;
    uint64_t nextSession = 1;
    std::vector<uint64_t> confirmsReady;  // sessions with answers to flush
    std::vector<uint64_t> deliveriesReady;  // sessions with a DELIVER_BATCH to send
    // A batch leaves early once this full: a client decodes it whole before handing any of it to its consumer.
    static constexpr size_t kMaxBatchDeliveries = 256;
    static constexpr size_t kMaxBatchBytes = 256 * 1024;
    std::set<std::string> producerGroups;  // transaction checkers registered with the broker
    std::atomic<bool> paused = false;      // stop(): no more requests are read
    // A replica's fetch with nothing new to send waits here (long poll) until records become durable or
    // kFetchWait passes, so a sync-replicated confirm does not wait for a replica's next poll.
    struct ParkedFetch {
        uint64_t sessionId;
        uint64_t requestId;
        broker::FetchRequest request;
        std::chrono::steady_clock::time_point deadline;
    };
    std::vector<ParkedFetch> parkedFetches;
    bool detached = false;
};

}  // namespace depot::server
