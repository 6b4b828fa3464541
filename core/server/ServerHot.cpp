// The hot path: PUBLISH → CONFIRM (cumulative where it can be), DELIVER, ACK, NACK.
#include <algorithm>

#include "server/ServerImpl.h"

namespace depot::server {

using protocol::Command;

void Server::Impl::onPublish(Session& session, Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    bool oneway = in.envelope.flags & protocol::kFlagOneway;
    auto request = protocol::decodePublish(in.header, std::move(in.body));
    if (!request) return malformed(&session, session.routingId, requestId, request.status().message());
    if (oneway) return broker.publish(std::move(*request), [](const broker::PublishResult&) {});
    if (requestId <= session.lastPublishId)
        return sendError(session, requestId, "invalid", "publish request ids must increase within a session");
    if (session.pending.size() >= options.maxUnconfirmed)
        return sendError(session, requestId, "busy",
                         "too many unconfirmed publishes (" + std::to_string(options.maxUnconfirmed) +
                             "): wait for confirms; nothing was stored");
    if (!request->transaction.empty() && request->producer.empty()) request->producer = session.producerGroup;
    session.lastPublishId = requestId;
    session.pending.push_back({requestId, !request->message.id.empty(), false, false, {}});
    uint64_t sessionId = session.id;
    broker.publish(std::move(*request), [this, sessionId, requestId](const broker::PublishResult& result) {
        onConfirm(sessionId, requestId, result);
    });
}

void Server::Impl::onConfirm(uint64_t sessionId, uint64_t requestId, const broker::PublishResult& result) {
    Session* session = findSession(sessionId);
    if (!session) return;  // closed: the client resends with the same id and dedup answers it
    auto it = std::lower_bound(session->pending.begin(), session->pending.end(), requestId,
                               [](const PendingPublish& p, uint64_t id) { return p.requestId < id; });
    if (it == session->pending.end() || it->requestId != requestId || it->answered) return;
    it->answered = true;
    // A confirm with a reason (replica-unavailable) says more than "confirmed": it goes on its own.
    it->cumulative = result.outcome == broker::PublishOutcome::Confirmed && result.reason == broker::NackReason::None &&
                     it->clientChoseId;
    if (!it->cumulative) it->frame = protocol::encodeConfirm(result);
    if (!session->confirmsReady) {
        session->confirmsReady = true;
        confirmsReady.push_back(sessionId);
    }
}

// Sends the answered publishes at the front of the session's queue, in request order: each run of plain confirms
// as one cumulative CONFIRM, anything else on its own.
void Server::Impl::flushConfirms(Session& session) {
    session.confirmsReady = false;
    uint64_t runEnd = 0;
    auto endRun = [&] {
        if (runEnd) send(session, Command::Confirm, protocol::kFlagCumulative, runEnd, {});
        runEnd = 0;
    };
    while (!session.pending.empty() && session.pending.front().answered) {
        PendingPublish& front = session.pending.front();
        if (front.cumulative) {
            runEnd = front.requestId;
        } else {
            endRun();
            send(session, Command::Confirm, 0, front.requestId, front.frame);
        }
        session.pending.pop_front();
    }
    endRun();
}

void Server::Impl::onDeliver(uint64_t sessionId, broker::Delivery&& delivery) {
    Session* session = findSession(sessionId);
    if (!session) return;  // cannot happen: closing a session cancels its consumers first
    auto consumer = session->consumers.find(delivery.consumer);
    if (consumer != session->consumers.end() && !consumer->second.autoAck) ++consumer->second.unacked;
    if (!session->deliverBatches)
        return send(*session, Command::Deliver, 0, 0, protocol::encodeDeliver(delivery), delivery.body);
    session->deliveries.add(delivery);
    if (!session->deliveriesListed) {
        session->deliveriesListed = true;
        deliveriesReady.push_back(sessionId);
    }
    if (session->deliveries.size() >= kMaxBatchDeliveries || session->deliveries.bytes() >= kMaxBatchBytes)
        flushDeliveries(*session);
}

void Server::Impl::flushDeliveries(Session& session) {
    if (session.deliveries.empty()) return;
    send(session, Command::DeliverBatch, 0, 0, session.deliveries.header(), session.deliveries.bodies());
    session.deliveries.clear();
}

namespace {

std::string errorCodeOf(const Status& status) {
    switch (status.code()) {
    case StatusCode::NotFound: return "not-found";
    case StatusCode::InvalidArgument: return "invalid";
    case StatusCode::ReadOnly: return "read-only";
    case StatusCode::Closed:
    case StatusCode::Unavailable: return "unavailable";
    default: return "failed";
    }
}

}  // namespace

void Server::Impl::onAck(Session& session, const Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    auto ack = protocol::decodeAck(in.header);
    if (!ack) return malformed(&session, session.routingId, requestId, ack.status().message());
    auto consumer = session.consumers.find(ack->consumer);
    if (consumer == session.consumers.end())
        return sendError(session, requestId, "not-found",
                         "consumer " + std::to_string(ack->consumer) + " is not one of this session's");
    Status firstError;
    uint64_t settled = 0;
    for (uint64_t tag : ack->tags) {
        Status status = broker.ack(ack->consumer, tag);
        if (status) ++settled;
        else if (firstError) firstError = status;
    }
    consumer->second.unacked -= std::min(consumer->second.unacked, settled);
    if (!firstError) sendError(session, requestId, errorCodeOf(firstError), firstError.message());
    if (requestId == 0 || !firstError) return;
    uint64_t sessionId = session.id;
    broker.whenDurable([this, sessionId, requestId, settled](const Status& status) {
        Session* s = findSession(sessionId);
        if (!s) return;
        if (status) reply(*s, requestId, {{"settled", settled}});
        else sendError(*s, requestId, errorCodeOf(status), "the settlement is not durable: " + status.message());
    });
}

void Server::Impl::onNack(Session& session, const Incoming& in) {
    uint64_t requestId = in.envelope.requestId;
    auto nack = protocol::decodeNack(in.header);
    if (!nack) return malformed(&session, session.routingId, requestId, nack.status().message());
    auto consumer = session.consumers.find(nack->consumer);
    if (consumer == session.consumers.end())
        return sendError(session, requestId, "not-found",
                         "consumer " + std::to_string(nack->consumer) + " is not one of this session's");
    Status status = broker.nack(nack->consumer, nack->tag, nack->options);
    if (!status) return sendError(session, requestId, errorCodeOf(status), status.message());
    if (consumer->second.unacked) --consumer->second.unacked;
    if (requestId == 0) return;
    uint64_t sessionId = session.id;
    broker.whenDurable([this, sessionId, requestId](const Status& durable) {
        Session* s = findSession(sessionId);
        if (!s) return;
        if (durable) reply(*s, requestId, {{"settled", 1}});
        else sendError(*s, requestId, errorCodeOf(durable), "the settlement is not durable: " + durable.message());
    });
}

}  // namespace depot::server
