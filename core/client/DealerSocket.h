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

    // For zmq_poll. Not to be mixed with mayHaveInput: zmq_poll takes news in behind its back.
    void* handle() const { return m_socket; }
    // The descriptor ZeroMQ signals news on (ZMQ_FD), for a poll(2) of its own.
    int fd() const { return m_fd; }
    // Whether a message may be waiting, so the loop must not sleep on fd(). ZMQ_FD is edge-triggered: it signals
    // only news ZeroMQ has not taken in yet, and any call on the socket may take it in (a send can learn that
    // messages arrived). After a receive found nothing, with no call since, everything is taken in and fd() signals
    // what comes next: no question to ZeroMQ (each one a poll and a getpid system call). Otherwise ZMQ_EVENTS asks.
    bool mayHaveInput();
    // How long close may keep trying to deliver what is queued (default 0: drop it).
    void setLinger(Millis linger);
    // Queues the three frames without blocking. False if ZeroMQ refused them.
    bool send(const protocol::Envelope& envelope, std::string_view header, std::string_view body);
    // One whole message (every frame), without blocking. nullopt: nothing waiting.
    std::optional<std::vector<std::string>> receive();

private:
    explicit DealerSocket(void* socket) : m_socket(socket) {}
    void* m_socket;
    int m_fd = -1;
    bool m_idle = false;  // a receive (or ZMQ_EVENTS) found nothing, and no call on the socket came since
};

// Checks CURVE options: empty, or Z85 keys of 40 characters.
Status validateCurveKeys(const ClientOptions& options);

}  // namespace depot::client
