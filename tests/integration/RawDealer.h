#pragma once
// RawDealer: a bare ZeroMQ DEALER that speaks docs/protocol.md frame by frame, for tests that send what no
// well-behaved client would (wrong frame counts, bad envelopes, truncated headers, huge frames) and for CURVE
// handshakes. Every wait has a deadline. Not thread-safe: one test thread.
#include <zmq.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/Protocol.h"

namespace depot::test {

// One message from the broker: the DEALER sees three frames (envelope, header, body).
struct WireMessage {
    std::vector<std::string> frames;
    protocol::Envelope envelope;
    bool decoded = false;  // three frames and an envelope that decodes

    protocol::Command command() const { return envelope.command; }
    const std::string& header() const { return frames.at(1); }
    bool isError() const { return decoded && envelope.command == protocol::Command::Error; }
    bool isReply() const { return decoded && envelope.command == protocol::Command::Reply; }
    // The header as JSON (REPLY, ERROR): discarded when it is not JSON.
    nlohmann::json json() const { return nlohmann::json::parse(header(), nullptr, false); }
    // ERROR's "code"; "" for anything else.
    std::string errorCode() const {
        if (!isError())
            return {};
        nlohmann::json error = json();
        return error.is_object() && error.contains("code") && error["code"].is_string()
                   ? error["code"].get<std::string>()
                   : std::string("?");
    }
    // What the test saw, for failure messages.
    std::string describe() const {
        if (!decoded)
            return "an undecodable message of " + std::to_string(frames.size()) + " frames";
        std::string text(protocol::commandName(envelope.command));
        text += " #" + std::to_string(envelope.requestId);
        if (envelope.command == protocol::Command::Reply || envelope.command == protocol::Command::Error)
            text += " " + header().substr(0, 300);
        return text;
    }
};

// CURVE keys of a client (Z85, 40 characters each) and the broker's public key.
struct CurveClientKeys {
    std::string serverPublic;
    std::string clientPublic;
    std::string clientSecret;
};

class RawDealer {
public:
    using Millis = std::chrono::milliseconds;

    RawDealer(void* context, const std::string& endpoint, const CurveClientKeys* curve = nullptr)
        : m_socket(zmq_socket(context, ZMQ_DEALER)) {
        int zero = 0;
        zmq_setsockopt(m_socket, ZMQ_LINGER, &zero, sizeof zero);
        if (curve) {
            zmq_setsockopt(m_socket, ZMQ_CURVE_SERVERKEY, curve->serverPublic.data(), curve->serverPublic.size());
            zmq_setsockopt(m_socket, ZMQ_CURVE_PUBLICKEY, curve->clientPublic.data(), curve->clientPublic.size());
            zmq_setsockopt(m_socket, ZMQ_CURVE_SECRETKEY, curve->clientSecret.data(), curve->clientSecret.size());
        }
        m_connected = zmq_connect(m_socket, endpoint.c_str()) == 0;
    }
    ~RawDealer() {
        if (m_helloed)
            send(protocol::Command::Bye, 0);
        zmq_close(m_socket);
    }
    RawDealer(const RawDealer&) = delete;
    RawDealer& operator=(const RawDealer&) = delete;

    bool connected() const { return m_connected; }
    // A fresh request id: one increasing counter per connection, as the protocol asks.
    uint64_t nextId() { return ++m_lastId; }

    // Sends `frames` as one multipart message, whatever they hold.
    bool sendFrames(const std::vector<std::string>& frames) {
        for (size_t i = 0; i < frames.size(); ++i) {
            const int more = i + 1 < frames.size() ? ZMQ_SNDMORE : 0;
            if (zmq_send(m_socket, frames[i].data(), frames[i].size(), more) < 0)
                return false;
        }
        return true;
    }
    bool send(protocol::Command command, uint64_t requestId, std::string_view header = {}, std::string_view body = {},
              uint16_t flags = 0) {
        return sendFrames({envelope(command, requestId, flags), std::string(header), std::string(body)});
    }

    static std::string envelope(protocol::Command command, uint64_t requestId, uint16_t flags = 0,
                                uint8_t version = protocol::kVersion) {
        return protocol::encodeEnvelope({version, command, flags, requestId});
    }

    // The next message (HEARTBEATs skipped), or nullopt when none arrives within `timeout`.
    std::optional<WireMessage> receive(Millis timeout) {
        if (!m_backlog.empty()) {
            WireMessage message = std::move(m_backlog.front());
            m_backlog.pop_front();
            return message;
        }
        return receiveFromSocket(timeout);
    }

    // The answer to request `requestId`: a REPLY or ERROR naming it, or a CONFIRM covering it (its own, or a
    // cumulative one for a later id). Other messages (deliveries, other answers) are kept for receive().
    std::optional<WireMessage> awaitAnswer(uint64_t requestId, Millis timeout) {
        for (auto it = m_backlog.begin(); it != m_backlog.end(); ++it) {
            if (answers(*it, requestId)) {
                WireMessage message = std::move(*it);
                m_backlog.erase(it);
                return message;
            }
        }
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::deque<WireMessage> skipped;
        std::optional<WireMessage> found;
        while (!found) {
            auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                break;
            std::optional<WireMessage> message = receiveFromSocket(left);
            if (!message)
                break;
            if (answers(*message, requestId))
                found = std::move(message);
            else
                skipped.push_back(std::move(*message));
        }
        for (auto& message : skipped)
            m_backlog.push_back(std::move(message));
        return found;
    }

    // Sends a request and waits for its answer.
    std::optional<WireMessage> request(protocol::Command command, std::string_view header, Millis timeout,
                                       std::string_view body = {}) {
        const uint64_t id = nextId();
        if (!send(command, id, header, body))
            return std::nullopt;
        return awaitAnswer(id, timeout);
    }
    std::optional<WireMessage> admin(const nlohmann::json& args, Millis timeout) {
        return request(protocol::Command::Admin, args.dump(), timeout);
    }

    // HELLO with a long heartbeat (a test thread may pause between requests), and the keys of `extra`. The
    // REPLY's JSON, or nullopt.
    std::optional<nlohmann::json> hello(Millis timeout, const std::string& role = "admin",
                                        const std::string& client = "raw-test",
                                        const nlohmann::json& extra = nlohmann::json::object()) {
        nlohmann::json header{{"client", client}, {"role", role}, {"heartbeatMs", 60000}};
        header.update(extra);
        std::optional<WireMessage> answer = request(protocol::Command::Hello, header.dump(), timeout);
        if (!answer || !answer->isReply())
            return std::nullopt;
        m_helloed = true;
        return answer->json();
    }

private:
    static bool answers(const WireMessage& message, uint64_t requestId) {
        if (!message.decoded)
            return false;
        const protocol::Envelope& e = message.envelope;
        switch (e.command) {
            case protocol::Command::Reply:
            case protocol::Command::Error:
                return e.requestId == requestId;
            case protocol::Command::Confirm:
                return e.requestId == requestId || ((e.flags & protocol::kFlagCumulative) && e.requestId > requestId);
            default:
                return false;
        }
    }

    std::optional<WireMessage> receiveFromSocket(Millis timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
            if (left.count() < 0)
                return std::nullopt;
            zmq_pollitem_t item{m_socket, 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&item, 1, long(left.count())) <= 0 || !(item.revents & ZMQ_POLLIN))
                continue;
            WireMessage message = readOne();
            if (message.decoded && message.envelope.command == protocol::Command::Heartbeat)
                continue;
            return message;
        }
    }

    WireMessage readOne() {
        WireMessage message;
        int more = 1;
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, m_socket, 0) < 0) {
                zmq_msg_close(&part);
                break;
            }
            message.frames.emplace_back(static_cast<const char*>(zmq_msg_data(&part)), zmq_msg_size(&part));
            more = zmq_msg_more(&part);
            zmq_msg_close(&part);
        }
        if (message.frames.size() == protocol::kFrameCount) {
            auto envelope = protocol::decodeEnvelope(message.frames[0]);
            if (envelope) {
                message.envelope = *envelope;
                message.decoded = true;
            }
        }
        return message;
    }

    void* m_socket = nullptr;
    bool m_connected = false;
    bool m_helloed = false;
    uint64_t m_lastId = 0;
    std::deque<WireMessage> m_backlog;
};

}  // namespace depot::test
