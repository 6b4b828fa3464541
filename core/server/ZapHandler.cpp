#include "server/ZapHandler.h"

#include <zmq.h>

#include <cerrno>

namespace depot::server {

Result<std::shared_ptr<ZapHandler>> ZapHandler::bind(void* context, std::map<std::string, Role> allowedKeys,
                                                     std::function<void(std::string_view)> log) {
    std::shared_ptr<ZapHandler> handler(new ZapHandler());
    handler->m_allowed = std::move(allowedKeys);
    handler->m_log = RateLimitedLog(std::move(log));
    handler->m_socket = zmq_socket(context, ZMQ_REP);
    if (!handler->m_socket || zmq_bind(handler->m_socket, "inproc://zeromq.zap.01") != 0)
        return Status::unavailable(std::string("start the CURVE key check: ") + zmq_strerror(errno));
    return handler;
}

ZapHandler::~ZapHandler() { close(); }

void ZapHandler::close() {
    if (m_socket) zmq_close(m_socket);
    m_socket = nullptr;
}

void ZapHandler::onReadable() {
    while (true) {
        std::vector<std::string> frames;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        bool more = true;
        while (more) {
            if (zmq_msg_recv(&msg, m_socket, frames.empty() ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(&msg);
                return;
            }
            frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
            more = zmq_msg_more(&msg);
        }
        zmq_msg_close(&msg);
        answer(frames);
    }
}

// Request: version, request id, domain, address, identity, mechanism, credentials (CURVE: the 32-byte key).
// Reply: version, request id, status code, status text, user id, metadata.
void ZapHandler::answer(std::vector<std::string>& request) {
    std::string status = "400", text = "malformed ZAP request", user;
    if (request.size() >= 7 && request[0] == "1.0" && request[5] == "CURVE" && request[6].size() == 32) {
        char z85[41] = {};
        zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(request[6].data()), 32);
        auto it = m_allowed.find(z85);
        if (it != m_allowed.end()) {
            status = "200";
            text = "OK";
            user = std::string(toString(it->second));
        } else {
            text = "key not on the allow-list";
            m_log.write("depotd: refused a CURVE client from " + request[3] + ": key " + z85 + " is not allowed");
        }
    }
    std::string id = request.size() > 1 ? request[1] : std::string();
    const std::string reply[] = {"1.0", id, status, text, user, ""};
    for (size_t i = 0; i < 6; ++i) zmq_send(m_socket, reply[i].data(), reply[i].size(), i < 5 ? ZMQ_SNDMORE : 0);
}

}  // namespace depot::server
