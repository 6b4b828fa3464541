// Server: binds the ROUTER socket and hands it to the broker thread (Server::Impl, a LoopService).
#include "depot/server/Server.h"

#include <zmq.h>

#include <cerrno>

#include "server/ServerImpl.h"
#include "server/ZapHandler.h"

namespace depot::server {

std::string_view toString(Role role) {
    switch (role) {
    case Role::Producer: return "producer";
    case Role::Consumer: return "consumer";
    case Role::Admin: return "admin";
    }
    return "unknown";
}

Result<std::string> curvePublicKeyOf(const std::string& secretKey) {
    char publicKey[41];
    if (secretKey.size() != 40 || zmq_curve_public(publicKey, secretKey.c_str()) != 0)
        return Status::invalidArgument("not a CURVE secret key (40 Z85 characters)");
    return std::string(publicKey, 40);
}

std::optional<Role> roleFromString(std::string_view text) {
    if (text == "producer") return Role::Producer;
    if (text == "consumer") return Role::Consumer;
    if (text == "admin") return Role::Admin;
    return std::nullopt;
}

bool isLoopbackEndpoint(std::string_view endpoint) {
    if (endpoint.starts_with("inproc://") || endpoint.starts_with("ipc://")) return true;
    for (std::string_view host : {"tcp://127.", "tcp://localhost:", "tcp://[::1]:", "tcp://lo:"})
        if (endpoint.starts_with(host)) return true;
    return false;
}

Server::Impl::Impl(broker::Broker& b, ServerOptions o)
    : broker(b), options(std::move(o)), admin(b), malformedLog(options.log), sessionLog(options.log) {}

namespace {

Status zmqError(const std::string& what) { return Status::unavailable(what + ": " + zmq_strerror(errno)); }

Status configureSocket(void* socket, const ServerOptions& options) {
    int one = 1, hwm = 200000;
    // A frame larger than this closes the connection: a bounded read for any peer.
    int64_t maxFrame = static_cast<int64_t>(options.maxMessageSize) * 2 + 65536;
    if (zmq_setsockopt(socket, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &maxFrame, sizeof maxFrame) != 0)
        return zmqError("configure the server socket");
    int linger = 1000;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    if (options.curveSecretKey.empty()) return Status::ok();
    if (options.curveSecretKey.size() != 40) return Status::invalidArgument("the CURVE secret key must be 40 Z85 chars");
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, options.curveSecretKey.data(), 40) != 0)
        return zmqError("enable CURVE");
    return Status::ok();
}

Status checkSecurity(const ServerOptions& options) {
    for (const auto& endpoint : options.endpoints)
        if (!isLoopbackEndpoint(endpoint) && options.curveSecretKey.empty() && !options.insecure)
            return Status::invalidArgument("refusing to listen on " + endpoint +
                                           " without CURVE keys: give a secret key and an allow-list, or --insecure");
    return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(broker::Broker& broker, ServerOptions options) {
    if (options.endpoints.empty()) return Status::invalidArgument("no endpoint to listen on");
    DEPOT_RETURN_IF_ERROR(checkSecurity(options));
    std::unique_ptr<Server> server(new Server());
    server->m_broker = &broker;
    server->m_context = options.zmqContext;
    if (!server->m_context) {
        server->m_context = zmq_ctx_new();
        server->m_ownsContext = true;
    }
    auto impl = std::make_shared<Impl>(broker, options);
    impl->socket = zmq_socket(server->m_context, ZMQ_ROUTER);
    if (!impl->socket) return zmqError("create the server socket");
    server->m_impl = impl;  // from here the destructor cleans up
    if (!options.curveSecretKey.empty()) {
        // The handler must answer before the first handshake: bind it before the server binds.
        auto zap = ZapHandler::bind(server->m_context, options.allowedKeys, options.log);
        if (!zap) return zap.status();
        server->m_zap = *zap;
        DEPOT_RETURN_IF_ERROR(broker.attach(server->m_zap));
    }
    DEPOT_RETURN_IF_ERROR(configureSocket(impl->socket, options));
    for (const auto& endpoint : options.endpoints) {
        if (zmq_bind(impl->socket, endpoint.c_str()) != 0) return zmqError("listen on " + endpoint);
        char bound[256];
        size_t size = sizeof bound;
        zmq_getsockopt(impl->socket, ZMQ_LAST_ENDPOINT, bound, &size);
        server->m_endpoints.emplace_back(bound);
    }
    DEPOT_RETURN_IF_ERROR(broker.attach(impl));
    return server;
}

Server::~Server() {
    stop();
    if (m_ownsContext && m_context) zmq_ctx_term(m_context);
}

void Server::stop() {
    if (!m_impl) return;
    std::shared_ptr<Impl> impl = std::move(m_impl);
    m_impl.reset();
    if (!impl->detached) {
        // Graceful: read nothing more, let what was received become durable and its answers go out, then close.
        impl->paused = true;
        (void)m_broker->sync();
        (void)m_broker->detach(impl);
    }
    if (impl->socket) zmq_close(impl->socket);
    impl->socket = nullptr;
    if (m_zap) {
        (void)m_broker->detach(m_zap);
        m_zap->close();
        m_zap.reset();
    }
}

}  // namespace depot::server
