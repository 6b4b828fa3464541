#pragma once
// Session: one DEALER connection's state on the server (docs/protocol.md, "Transport"). Broker thread only.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "depot/broker/Clock.h"
#include "depot/server/Server.h"
#include "protocol/Protocol.h"

namespace depot::server {

using SteadyTime = std::chrono::steady_clock::time_point;

// A publish waiting for its CONFIRM. Answers leave in request order: a confirmed publish whose message id the
// client chose can ride on a cumulative CONFIRM; any other answer is sent on its own, encoded in `frame`.
struct PendingPublish {
    uint64_t requestId = 0;
    bool clientChoseId = false;
    bool answered = false;
    bool cumulative = false;
    std::string frame;
};

struct SessionConsumer {
    std::string queue;
    uint32_t prefetch = 0;
    bool autoAck = false;
    std::string name;
    uint64_t unacked = 0;
};

struct Session {
    uint64_t id = 0;
    std::string routingId;
    std::string client = "client";
    Role role = Role::Admin;
    std::string address;
    std::string producerGroup;
    std::chrono::milliseconds heartbeat{2000};
    SteadyTime lastHeard{};
    SteadyTime lastSent{};
    broker::TimeMs connectedAt = 0;
    broker::TimeMs lastHeardAt = 0;
    std::deque<PendingPublish> pending;  // by increasing request id
    uint64_t lastPublishId = 0;          // publish request ids must increase (cumulative confirms rely on it)
    bool confirmsReady = false;          // some pending answer arrived since the last flush
    std::unordered_map<uint64_t, SessionConsumer> consumers;  // broker consumer id →
    // The client asked for DELIVER_BATCH (HELLO "deliverBatches"): a round's deliveries wait here and leave as one
    // message when the round ends, or before anything else is sent to the session (the order stays as made).
    bool deliverBatches = false;
    protocol::DeliverBatch deliveries;
    bool deliveriesListed = false;  // in Server::Impl::deliveriesReady
    uint32_t malformedInRow = 0;
    bool closing = false;  // a send failed or the peer went silent: closed at the next safe point

    std::string actor() const { return client + "@" + (address.empty() ? "local" : address); }
};

}  // namespace depot::server
