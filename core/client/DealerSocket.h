#pragma once
// DealerSocket: the client's ZeroMQ DEALER socket, connected to the broker. I/O thread only.
// No high-water marks: what is queued is bounded by the protocol windows (maxUnconfirmed, prefetch).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depot/Result.h"
#include "depot/client/ClientOptions.h"
#include "protocol/Protocol.h"

namespace depot::client {

class DealerSocket {
public:
    // Creates and connects the socket (ZeroMQ connects in the background). InvalidArgument for a bad endpoint or
    // bad CURVE keys.
    static Result<std::unique_ptr<DealerSocket>> open(void* context, const ClientOptions& options);
    ~DealerSocket();
    DealerSocket(const DealerSocket&) = delete;
    DealerSocket& operator=(const DealerSocket&) = delete;

    void* handle() const { return m_socket; }
    // How long close may keep trying to deliver what is queued (default 0: drop it).
    void setLinger(Millis linger);
    // Queues the three frames without blocking. False if ZeroMQ refused them.
    bool send(const protocol::Envelope& envelope, std::string_view header, std::string_view body);
    // One whole message (every frame), without blocking. nullopt: nothing waiting.
    std::optional<std::vector<std::string>> receive();

private:
    explicit DealerSocket(void* socket) : m_socket(socket) {}
    void* m_socket;
};

// Checks CURVE options: empty, or Z85 keys of 40 characters.
Status validateCurveKeys(const ClientOptions& options);

}  // namespace depot::client
