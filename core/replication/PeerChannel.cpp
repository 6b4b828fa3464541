#include "replication/PeerChannel.h"

#include <zmq.h>

#include "client/WireError.h"
#include "protocol/ProtocolJson.h"

namespace depot::replication {

PeerChannel::PeerChannel(void* context, std::unique_ptr<client::DealerSocket> socket, std::string endpoint)
    : m_context(context), m_socket(std::move(socket)), m_endpoint(std::move(endpoint)) {}

PeerChannel::~PeerChannel() {
    m_socket.reset();
    zmq_ctx_term(m_context);
}

Result<std::unique_ptr<PeerChannel>> PeerChannel::open(const std::string& endpoint, const std::string& name,
                                                        Millis timeout, const PeerKeys& keys) {
    void* context = zmq_ctx_new();
    if (!context) return Status::unavailable("cannot create a ZeroMQ context");
    client::ClientOptions options;
    options.endpoint = endpoint;
    options.curveServerKey = keys.serverKey;
    options.curvePublicKey = keys.publicKey;
    options.curveSecretKey = keys.secretKey;
    DEPOT_RETURN_IF_ERROR(client::validateCurveKeys(options));
    auto socket = client::DealerSocket::open(context, options);
    if (!socket) {
        zmq_ctx_term(context);
        return socket.status();
    }
    std::unique_ptr<PeerChannel> channel(new PeerChannel(context, std::move(*socket), endpoint));
    const std::string hello = protocol::toText({{"client", name}, {"role", "admin"}, {"heartbeatMs", 2000}});
    auto answer = channel->call(protocol::Command::Hello, hello, timeout);
    if (!answer) return answer.status();
    if (answer->command != protocol::Command::Reply)
        return client::WireError::parse(answer->header).toStatus();
    return channel;
}

Result<PeerAnswer> PeerChannel::call(protocol::Command command, std::string_view header, Millis timeout,
                                     std::string_view body) {
    const uint64_t id = m_nextRequest++;
    if (!m_socket->send({protocol::kVersion, command, 0, id}, header, body))
        return Status::unavailable("cannot send to " + m_endpoint);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return Status::unavailable("no answer from " + m_endpoint + " within " +
                                                          std::to_string(timeout.count()) + " ms");
        zmq_pollitem_t item{m_socket->handle(), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, long(left.count())) < 0) return Status::unavailable("poll failed");
        while (auto frames = m_socket->receive()) {
            if (frames->size() != 3) continue;
            auto envelope = protocol::decodeEnvelope((*frames)[0]);
            if (!envelope || envelope->requestId != id) continue;  // a heartbeat, or the answer to an older request
            return PeerAnswer{envelope->command, std::move((*frames)[1]), std::move((*frames)[2])};
        }
    }
}

Result<std::string> PeerChannel::admin(std::string_view header, Millis timeout) {
    auto answer = call(protocol::Command::Admin, header, timeout);
    if (!answer) return answer.status();
    if (answer->command != protocol::Command::Reply) return client::WireError::parse(answer->header).toStatus();
    return std::move(answer->header);
}

}  // namespace depot::replication
