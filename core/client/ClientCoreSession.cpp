// ClientCore: the session's life (docs/protocol.md "Transport", HELLO, HEARTBEAT).
#include <algorithm>

#include "client/ClientCore.h"
#include "client/DealerSocket.h"
#include "client/PublishPipeline.h"
#include "client/Subscriptions.h"
#include "client/WireError.h"
#include "protocol/ProtocolJson.h"

namespace depot::client {

namespace {

constexpr int kSilentHeartbeats = 3;
constexpr Millis kMaxHelloInterval{30000};

template <typename T>
T field(const protocol::Json& object, const char* key, T fallback) {
    auto it = object.find(key);
    if (it == object.end())
        return fallback;
    if constexpr (std::is_same_v<T, std::string>) {
        return it->is_string() ? it->get<std::string>() : fallback;
    } else {
        return it->is_number_integer() && *it >= 0 ? it->get<T>() : fallback;
    }
}

}  // namespace

Millis ClientCore::helloTimeout() const { return std::max(Millis(1000), kSilentHeartbeats * m_options.heartbeat); }

std::string ClientCore::noSessionText() const {
    return "no session with the broker at " + m_options.endpoint + " (" + m_lastProblem + ")";
}

// Always on a fresh socket: whatever the old one still queued (publishes about to be resent, acks for tags the
// broker has forgotten) would only earn `no-session` errors from the new broker.
void ClientCore::beginSession() {
    m_state = State::Connecting;
    m_connected = false;
    m_socket.reset();
    m_helloIds.clear();
    m_helloInterval = helloTimeout();
    const SteadyTime now = SteadyClock::now();
    m_helloSince = now;
    m_helloDeadline = now + m_helloInterval;
    Result<std::unique_ptr<DealerSocket>> socket = DealerSocket::open(m_context, m_options);
    if (!socket) {
        m_lastProblem = socket.status().message();
        signalStarted(socket.status());  // a bad endpoint or key: connect() reports it at once
        return;
    }
    m_socket = std::move(socket).value();
    sendHello();
}

// A HELLO unanswered for a while is repeated on the same socket, less and less often: it may have been lost with
// a broker that died after reading it. The socket is kept because a slow broker may still answer the first one;
// the first answer to any of them starts the session (the broker refuses the later ones as a second HELLO, and
// those answers are ignored).
void ClientCore::sendHello() {
    protocol::Json hello = {
        {"client", m_options.client},
        {"role", m_options.role},
        {"heartbeatMs", m_options.heartbeat.count()},
        {"deliverBatches", true}};
    if (!m_options.producerGroup.empty())
        hello["producer"] = m_options.producerGroup;
    const uint64_t id = nextRequestId();
    m_helloIds.push_back(id);
    sendFrame(protocol::Command::Hello, 0, id, protocol::toText(hello));
    m_helloDeadline = SteadyClock::now() + m_helloInterval;
    m_helloInterval = std::min(m_helloInterval * 2, kMaxHelloInterval);
}

bool ClientCore::isHelloId(uint64_t requestId) const {
    return std::find(m_helloIds.begin(), m_helloIds.end(), requestId) != m_helloIds.end();
}

void ClientCore::onHelloReply(std::string_view header) {
    Result<protocol::Json> parsed = protocol::parseObject(header);
    protocol::Json reply = parsed ? std::move(parsed).value() : protocol::Json::object();
    ServerInfo info;
    info.server = field<std::string>(reply, "server", "");
    info.version = field<std::string>(reply, "version", "");
    info.protocol = field<int>(reply, "protocol", 1);
    info.session = field<uint64_t>(reply, "session", 0);
    info.role = field<std::string>(reply, "role", m_options.role);
    info.heartbeat = Millis(field<int64_t>(reply, "heartbeatMs", m_options.heartbeat.count()));
    if (info.heartbeat.count() <= 0)
        info.heartbeat = m_options.heartbeat;
    info.maxMessageSize = field<uint64_t>(reply, "maxMessageSize", info.maxMessageSize);
    info.maxUnconfirmed = std::max<uint32_t>(1, field<uint32_t>(reply, "maxUnconfirmed", info.maxUnconfirmed));
    info.maxPrefetch = field<uint32_t>(reply, "maxPrefetch", info.maxPrefetch);
    m_session = info;
    {
        std::lock_guard lock(m_infoMutex);
        m_sharedInfo = info;
    }
    m_state = State::Ready;
    m_connected = true;
    ++m_sessions;
    m_lastProblem = "session " + std::to_string(info.session) + " ended";
    // Consumers first, then the requests that waited, then publishes: all in the order they were made.
    m_subscriptions->onSessionReady();
    sendUnsent();
    m_publishes->pump();
    signalStarted(Status::ok());
}

void ClientCore::onHelloError(const WireError& error) {
    m_lastProblem = "the broker refused HELLO: " + error.code + ": " + error.message;
    if (!m_startSignalled) {
        signalStarted(error.toStatus());
        return;
    }
    // Refused (too many connections, say): ask again a heartbeat later.
    m_helloDeadline = SteadyClock::now() + m_options.heartbeat;
}

SteadyTime ClientCore::tick(SteadyTime now) {
    if (m_state == State::Connecting) {
        if (now >= m_helloDeadline) {
            if (!m_socket) {
                beginSession();
            } else {
                if (!m_helloIds.empty() && m_lastProblem.rfind("the broker refused", 0) != 0)
                    m_lastProblem = "no answer to HELLO for " +
                                    std::to_string(std::chrono::duration_cast<Millis>(now - m_helloSince).count()) +
                                    " ms";
                sendHello();
            }
        }
        return m_helloDeadline;
    }
    if (m_state != State::Ready)
        return now + Millis(1000);
    const Millis heartbeat = m_session.heartbeat;
    if (now - m_lastHeard >= kSilentHeartbeats * heartbeat) {
        loseSession("the broker was silent for " + std::to_string((kSilentHeartbeats * heartbeat).count()) + " ms",
                    UINT64_MAX);
        return m_helloDeadline;
    }
    if (now - m_lastSent >= heartbeat)
        sendFrame(protocol::Command::Heartbeat, 0, 0, {});
    return std::min(m_lastSent + heartbeat, m_lastHeard + kSilentHeartbeats * heartbeat);
}

// `unexecutedFrom`: the broker answered no-session to this request id, so neither it nor any later request of the
// session was run. UINT64_MAX: nothing is known.
void ClientCore::loseSession(const std::string& why, uint64_t unexecutedFrom) {
    if (m_state != State::Ready)
        return;
    m_lastProblem = why;
    m_connected = false;
    // Deliveries of this session not handed out yet are dropped before any waiter hears of the loss: a consumer
    // whose durable ACK fails here must not then receive a delivery the broker is already giving to someone else.
    m_subscriptions->onSessionLost();
    requestsLost(unexecutedFrom);
    m_publishes->onSessionLost();
    beginSession();
}

void ClientCore::onErrorFrame(uint64_t requestId, const WireError& error) {
    if (error.isNoSession()) {
        loseSession("the broker answered no-session: " + error.message, requestId == 0 ? UINT64_MAX : requestId);
        return;
    }
    if (m_state == State::Connecting) {
        if (isHelloId(requestId))
            onHelloError(error);
        return;
    }
    if (requestId == 0)
        return;  // about a request that wanted no answer (an ack for a tag the broker no longer knows)
    if (m_publishes->onError(requestId, error))
        return;
    answer(requestId, error.toStatus());
}

void ClientCore::onTransactionCheck(std::string_view header) {
    Result<protocol::Json> check = protocol::parseObject(header);
    if (!check || !m_txCheck)
        return;  // unanswered: the broker asks again
    std::string transaction = field<std::string>(*check, "transaction", "");
    std::string messageId = field<std::string>(*check, "messageId", "");
    if (!transaction.empty())
        m_txCheck(transaction, messageId);
}

void ClientCore::sendFrame(protocol::Command command, uint16_t flags, uint64_t requestId, std::string_view header,
                           std::string_view body) {
    if (!m_socket)
        return;
    if (command != protocol::Command::Ack)
        m_subscriptions->flushAcks();
    protocol::Envelope envelope;
    envelope.command = command;
    envelope.flags = flags;
    envelope.requestId = requestId;
    // A refused send means the socket is unusable; the silence that follows ends the session.
    if (m_socket->send(envelope, header, body))
        m_lastSent = SteadyClock::now();
}

}  // namespace depot::client
