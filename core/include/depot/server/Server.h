#pragma once
// Server: puts a Broker on the network (docs/protocol.md). A ZeroMQ ROUTER socket served by the broker thread
// itself (a LoopService), so a request reaches the broker with no thread hop and confirms and deliveries leave
// from where they are produced.
//
// Security: loopback endpoints (tcp://127.0.0.1, tcp://[::1], tcp://localhost, ipc://, inproc://) need nothing.
// Any other address needs CURVE keys (curveSecretKey + allowedKeys) or `insecure`; start() refuses otherwise.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Broker.h"

namespace depot::server {

enum class Role { Producer, Consumer, Admin };
std::string_view toString(Role role);
std::optional<Role> roleFromString(std::string_view text);
// The public key that goes with a CURVE secret key (both Z85, 40 characters); InvalidArgument for a bad key.
Result<std::string> curvePublicKeyOf(const std::string& secretKey);

struct ServerOptions {
    std::vector<std::string> endpoints{"tcp://127.0.0.1:7420"};  // port 0 picks a free port
    void* zmqContext = nullptr;  // a context to share with inproc:// clients; null: the server makes its own
    uint32_t maxConnections = 1000;
    uint32_t maxUnconfirmed = 10000;  // publishes in flight per session
    uint32_t maxPrefetch = 10000;
    size_t maxMessageSize = broker::kDefaultMaxMessageSize;
    // CURVE: the server's secret key (Z85, 40 chars) and the clients allowed, public key (Z85) → role.
    std::string curveSecretKey;
    std::map<std::string, Role> allowedKeys;
    bool insecure = false;  // allow a non-loopback endpoint without CURVE
    // Where warnings go (malformed input, dead sessions), at most one line per second. Null: nowhere.
    std::function<void(std::string_view line)> log;
};

class Server {
public:
    // Binds every endpoint and attaches to the broker's thread.
    static Result<std::unique_ptr<Server>> start(broker::Broker& broker, ServerOptions options);
    ~Server();  // stop()
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // The endpoints as bound (port 0 resolved to the real port).
    const std::vector<std::string>& endpoints() const { return m_endpoints; }
    void* zmqContext() const { return m_context; }

    // Graceful: stops reading requests, waits until what was received is durable and answered (confirms sent),
    // then closes every session and the socket. Call before closing the broker.
    void stop();

    struct Impl;

private:
    Server() = default;
    broker::Broker* m_broker = nullptr;
    std::shared_ptr<Impl> m_impl;
    std::shared_ptr<class ZapHandler> m_zap;  // the CURVE key check
    std::vector<std::string> m_endpoints;
    void* m_context = nullptr;
    bool m_ownsContext = false;
};

// Whether an endpoint is reachable only from this machine.
bool isLoopbackEndpoint(std::string_view endpoint);

}  // namespace depot::server
