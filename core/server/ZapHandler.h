#pragma once
// ZapHandler: the ZeroMQ authentication handler (ZAP, RFC 27) for a CURVE server. It answers the handshakes of
// the server's context on inproc://zeromq.zap.01: a client key on the allow-list is accepted and its role becomes
// the connection's User-Id (the session's granted role); any other key is refused before a session exists.
// Served on the broker thread like the server itself.
#include <map>
#include <string>

#include "depot/Result.h"
#include "depot/broker/LoopService.h"
#include "depot/server/Server.h"
#include "server/RateLimitedLog.h"

namespace depot::server {

class ZapHandler : public broker::LoopService {
public:
    static Result<std::shared_ptr<ZapHandler>> bind(void* context, std::map<std::string, Role> allowedKeys,
                                                    std::function<void(std::string_view)> log);
    ~ZapHandler() override;

    void* pollSocket() override { return m_socket; }
    void onReadable() override;
    broker::TimeMs onTick(broker::TimeMs now) override { return now + 1000; }
    void afterSettle() override {}
    void onDetach() override {}
    void close();

private:
    ZapHandler() = default;
    void answer(std::vector<std::string>& request);

    void* m_socket = nullptr;
    std::map<std::string, Role> m_allowed;
    RateLimitedLog m_log{nullptr};  // a client can open connection after connection: one line a second at most
};

}  // namespace depot::server
