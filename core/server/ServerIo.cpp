// Frames in and out of the ROUTER socket, and the dispatch of one request to its handler.
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "server/ServerImpl.h"

namespace depot::server {

using protocol::Command;

namespace {

constexpr int kReadsPerRound = 512;           // then the broker settles and other work gets a turn
constexpr uint32_t kMalformedInRowLimit = 100;  // then the session is closed

// The request id of an envelope that failed to decode, so the ERROR can still name the request.
uint64_t peekRequestId(const std::string& envelope) {
    uint64_t id = 0;
    if (envelope.size() == protocol::kEnvelopeSize)
        for (int i = 0; i < 8; ++i) id |= uint64_t(uint8_t(envelope[4 + i])) << (8 * i);
    return id;
}

}  // namespace

// Reads one whole multipart message. Malformed: the frame count is wrong or the envelope does not decode;
// `in.routingId` (and the request id when the envelope could be read) are still filled for the error reply.
// Frames go straight into `in`: a vector of frames cost a publish three allocations more than its strings.
Server::Impl::ReadResult Server::Impl::readOne(Incoming& in, std::string& problem) {
    std::string envelopeFrame;
    std::string* const into[] = {&in.routingId, &envelopeFrame, &in.header, &in.body};
    static_assert(std::size(into) == 1 + protocol::kFrameCount);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    size_t count = 0;
    for (bool more = true; more; ++count) {
        if (zmq_msg_recv(&msg, socket, count == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&msg);
            return ReadResult::Empty;
        }
        if (count == 1) {
            const char* address = zmq_msg_gets(&msg, "Peer-Address");
            in.address = address ? address : "";
            const char* user = zmq_msg_gets(&msg, "User-Id");
            in.userId = user ? user : "";
        }
        more = zmq_msg_more(&msg);
        if (count < std::size(into))  // beyond: only their number is kept
            into[count]->assign(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    }
    zmq_msg_close(&msg);
    if (count != std::size(into)) {
        problem = "expected 3 frames, got " + std::to_string(count - 1);
        if (count > 1) in.envelope.requestId = peekRequestId(envelopeFrame);
        return ReadResult::Malformed;
    }
    auto envelope = protocol::decodeEnvelope(envelopeFrame);
    if (!envelope) {
        problem = envelope.status().message();
        if (protocol::isVersionError(envelope.status())) problem = "unsupported-version:" + problem;
        in.envelope.requestId = peekRequestId(envelopeFrame);
        return ReadResult::Malformed;
    }
    in.envelope = *envelope;
    return ReadResult::Message;
}

void Server::Impl::onReadable() {
    for (int i = 0; i < kReadsPerRound && !paused; ++i) {
        Incoming in;
        std::string problem;
        ReadResult result = readOne(in, problem);
        if (result == ReadResult::Empty) return;
        if (result == ReadResult::Malformed) {
            malformed(findByRoutingId(in.routingId), in.routingId, in.envelope.requestId, problem);
            continue;
        }
        dispatch(in);
    }
}

void Server::Impl::malformed(Session* session, const std::string& routingId, uint64_t requestId,
                             const std::string& problem) {
    std::string code = "bad-frame", text = problem;
    if (problem.rfind("unsupported-version:", 0) == 0) {
        code = "unsupported-version";
        text = problem.substr(std::strlen("unsupported-version:"));
    } else if (problem.rfind("unknown command", 0) == 0) {
        code = "unknown-command";
    }
    malformedLog.write("depotd: malformed request from " + (session ? session->actor() : std::string("unknown peer")) +
              ": " + text);
    sendError(routingId, requestId, code, text);
    if (session && ++session->malformedInRow > kMalformedInRowLimit)
        closeSession(session->id, "too many malformed requests in a row");
}

void Server::Impl::dispatch(Incoming& in) {
    Session* session = findByRoutingId(in.routingId);
    Command command = in.envelope.command;
    if (command == Command::Hello) return onHello(in);
    if (!session) {
        if (command != Command::Heartbeat && command != Command::Bye)
            sendError(in.routingId, in.envelope.requestId, "no-session",
                      "no session: send HELLO first (a silent session is closed after 3 heartbeats)");
        return;
    }
    session->lastHeard = std::chrono::steady_clock::now();
    session->lastHeardAt = broker::Clock::system().now();
    if (in.address.size()) session->address = in.address;
    // A handler may close the session (too many malformed requests): look it up again by id afterwards.
    const uint64_t sessionId = session->id;
    const size_t malformedBefore = session->malformedInRow;
    switch (command) {
    case Command::Heartbeat: break;
    case Command::Bye: return closeSession(session->id, "");
    case Command::Publish: onPublish(*session, in); break;
    case Command::TxEnd: onTxEnd(*session, in); break;
    case Command::Consume: onConsume(*session, in); break;
    case Command::Cancel: onCancel(*session, in); break;
    case Command::Ack: onAck(*session, in); break;
    case Command::Nack: onNack(*session, in); break;
    case Command::Admin: onAdmin(*session, in); break;
    case Command::ReplFetch: onReplFetch(*session, in); break;
    default:
        malformed(session, in.routingId, in.envelope.requestId,
                  "unknown command: " + std::string(protocol::commandName(command)) + " is sent by the broker");
        return;
    }
    if (Session* still = findSession(sessionId); still && still->malformedInRow == malformedBefore)
        still->malformedInRow = 0;
}

bool Server::Impl::sendFrames(const std::string& routingId, Command command, uint16_t flags, uint64_t requestId,
                              std::string_view header, std::string_view body) {
    std::string envelope = protocol::encodeEnvelope({protocol::kVersion, command, flags, requestId});
    // ROUTER_MANDATORY: an unknown peer fails the first frame at once; a full pipe (a client that does not
    // read) fails with EAGAIN. Either way the session is closed rather than messages silently dropped.
    if (zmq_send(socket, routingId.data(), routingId.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return false;
    zmq_send(socket, envelope.data(), envelope.size(), ZMQ_SNDMORE);
    zmq_send(socket, header.data(), header.size(), ZMQ_SNDMORE);
    zmq_send(socket, body.data(), body.size(), 0);
    return true;
}

void Server::Impl::send(Session& session, Command command, uint16_t flags, uint64_t requestId,
                        std::string_view header, std::string_view body) {
    if (session.closing) return;
    // Deliveries made before this frame go before it.
    if (command != Command::DeliverBatch && !session.deliveries.empty()) flushDeliveries(session);
    if (!sendFrames(session.routingId, command, flags, requestId, header, body)) {
        session.closing = true;
        sessionLog.write("depotd: session " + session.actor() + " cannot be written to (" + zmq_strerror(errno) +
                  "): closing it");
        return;
    }
    session.lastSent = std::chrono::steady_clock::now();
}

void Server::Impl::reply(Session& session, uint64_t requestId, const protocol::Json& result) {
    send(session, Command::Reply, 0, requestId, protocol::toText(result));
}

void Server::Impl::sendError(const std::string& routingId, uint64_t requestId, std::string_view code,
                             std::string_view message) {
    protocol::Json error{{"code", code}, {"message", message}};
    sendFrames(routingId, Command::Error, 0, requestId, protocol::toText(error), {});
}

void Server::Impl::sendError(Session& session, uint64_t requestId, std::string_view code,
                             std::string_view message) {
    protocol::Json error{{"code", code}, {"message", message}};
    send(session, Command::Error, 0, requestId, protocol::toText(error));
}

Session* Server::Impl::findSession(uint64_t id) {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : it->second.get();
}

Session* Server::Impl::findByRoutingId(const std::string& routingId) {
    auto it = byRoutingId.find(routingId);
    return it == byRoutingId.end() ? nullptr : findSession(it->second);
}

}  // namespace depot::server
