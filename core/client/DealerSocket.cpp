#include "client/DealerSocket.h"

#include <zmq.h>

#include <cerrno>

namespace depot::client {

namespace {

constexpr size_t kZ85KeyLength = 40;

Status zmqError(const std::string& what) { return Status::invalidArgument(what + ": " + zmq_strerror(zmq_errno())); }

bool setInt(void* socket, int option, int value) { return zmq_setsockopt(socket, option, &value, sizeof value) == 0; }

bool setKey(void* socket, int option, const std::string& z85) {
    return zmq_setsockopt(socket, option, z85.data(), z85.size()) == 0;
}

Status applyCurve(void* socket, const ClientOptions& options) {
    if (options.curveServerKey.empty())
        return Status::ok();
    std::string publicKey = options.curvePublicKey, secretKey = options.curveSecretKey;
    if (publicKey.empty()) {
        char pub[kZ85KeyLength + 1], sec[kZ85KeyLength + 1];
        if (zmq_curve_keypair(pub, sec) != 0)
            return zmqError("cannot generate a CURVE key pair");
        publicKey.assign(pub, kZ85KeyLength);
        secretKey.assign(sec, kZ85KeyLength);
    }
    if (!setKey(socket, ZMQ_CURVE_SERVERKEY, options.curveServerKey) ||
        !setKey(socket, ZMQ_CURVE_PUBLICKEY, publicKey) || !setKey(socket, ZMQ_CURVE_SECRETKEY, secretKey))
        return zmqError("CURVE keys refused");
    return Status::ok();
}

}  // namespace

Status validateCurveKeys(const ClientOptions& options) {
    if (options.curveServerKey.empty()) {
        if (!options.curvePublicKey.empty() || !options.curveSecretKey.empty())
            return Status::invalidArgument("CURVE client keys given without the broker's public key");
        return Status::ok();
    }
    if (options.curveServerKey.size() != kZ85KeyLength)
        return Status::invalidArgument("the broker's CURVE key must be 40 Z85 characters");
    if (options.curvePublicKey.empty() != options.curveSecretKey.empty())
        return Status::invalidArgument("give both CURVE client keys (public and secret) or neither");
    if (!options.curvePublicKey.empty() &&
        (options.curvePublicKey.size() != kZ85KeyLength || options.curveSecretKey.size() != kZ85KeyLength))
        return Status::invalidArgument("CURVE client keys must be 40 Z85 characters each");
    return Status::ok();
}

Result<std::unique_ptr<DealerSocket>> DealerSocket::open(void* context, const ClientOptions& options) {
    void* socket = zmq_socket(context, ZMQ_DEALER);
    if (!socket)
        return zmqError("cannot create a DEALER socket");
    std::unique_ptr<DealerSocket> dealer(new DealerSocket(socket));
    if (!setInt(socket, ZMQ_SNDHWM, 0) || !setInt(socket, ZMQ_RCVHWM, 0) || !setInt(socket, ZMQ_LINGER, 0))
        return zmqError("cannot configure the DEALER socket");
    DEPOT_RETURN_IF_ERROR(applyCurve(socket, options));
    if (zmq_connect(socket, options.endpoint.c_str()) != 0)
        return zmqError("cannot connect to '" + options.endpoint + "'");
    size_t size = sizeof dealer->m_fd;
    if (zmq_getsockopt(socket, ZMQ_FD, &dealer->m_fd, &size) != 0)
        return zmqError("cannot read the DEALER socket's ZMQ_FD");
    return dealer;
}

DealerSocket::~DealerSocket() { zmq_close(m_socket); }

void DealerSocket::setLinger(Millis linger) {
    m_idle = false;
    setInt(m_socket, ZMQ_LINGER, static_cast<int>(linger.count()));
}

bool DealerSocket::mayHaveInput() {
    if (m_idle)
        return false;
    int events = 0;
    size_t size = sizeof events;
    if (zmq_getsockopt(m_socket, ZMQ_EVENTS, &events, &size) != 0)
        return true;  // the next receive finds out
    m_idle = !(events & ZMQ_POLLIN);
    return !m_idle;
}

bool DealerSocket::send(const protocol::Envelope& envelope, std::string_view header, std::string_view body) {
    m_idle = false;
    const std::string head = protocol::encodeEnvelope(envelope);
    // With no high-water mark ZeroMQ queues rather than refusing; a refusal means the socket is unusable.
    return zmq_send(m_socket, head.data(), head.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
           zmq_send(m_socket, header.data(), header.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
           zmq_send(m_socket, body.data(), body.size(), ZMQ_DONTWAIT) >= 0;
}

std::optional<std::vector<std::string>> DealerSocket::receive() {
    m_idle = false;
    std::vector<std::string> frames;
    int more = 1;
    while (more) {
        zmq_msg_t message;
        zmq_msg_init(&message);
        if (zmq_msg_recv(&message, m_socket, frames.empty() ? ZMQ_DONTWAIT : 0) < 0) {
            m_idle = frames.empty() && zmq_errno() == EAGAIN;
            zmq_msg_close(&message);
            return std::nullopt;  // EAGAIN: nothing waiting (later frames of a message are already there)
        }
        frames.emplace_back(static_cast<const char*>(zmq_msg_data(&message)), zmq_msg_size(&message));
        more = zmq_msg_more(&message);
        zmq_msg_close(&message);
    }
    return frames;
}

}  // namespace depot::client
