#pragma once
// Connection: one session with a Depot broker over a ZeroMQ DEALER socket (docs/protocol.md), shared by the
// Producer, Consumer and Admin objects made from it. Thread-safe.
//
// Threads: the connection owns one I/O thread, the only one that touches the socket. Calls from any thread hand
// their work to it. Producer::sendAsync callbacks run on it and must be quick; a blocking call made from it (from
// such a callback) fails with InvalidArgument instead of deadlocking.
//
// Reconnection: when the broker goes silent for 3 heartbeats or answers `no-session` (it restarted, or closed the
// session), the connection says HELLO again on a fresh socket, consumes again for every live Consumer and resends
// every unconfirmed publish with its original message id (the broker's deduplication makes that safe). Requests
// whose outcome the lost session made unknowable (a purge in flight, a durable ack) fail with Unavailable rather
// than being repeated blindly; reads and idempotent declarations are repeated.
//
// Errors: a broker that does not answer gives Unavailable (never connected / no session now) or TimedOut (no reply
// in time), with a message naming the endpoint. A closed connection gives Closed. ERROR frames map to Status as
// Admin.h documents.
#include <memory>

#include "depot/Result.h"
#include "depot/client/ClientOptions.h"

namespace depot::client {

class ClientCore;

class Connection {
public:
    // Starts the I/O thread and waits (up to options.requestTimeout) for the broker's answer to HELLO.
    // Unavailable when no broker answered; the broker's error (busy: too many connections) when it refused.
    static Result<std::shared_ptr<Connection>> connect(ClientOptions options);
    ~Connection();  // close()
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Flushes pending acks, says BYE and stops the I/O thread. Every call still waiting completes with Closed
    // (unconfirmed publishes: SendResult with status Closed). Idempotent.
    void close();

    const ClientOptions& options() const;
    // From the latest HELLO reply.
    ServerInfo server() const;
    // A session is established right now (false while reconnecting).
    bool connected() const;
    // Sessions established so far: 1 after connect(), +1 per reconnection.
    uint64_t sessions() const;

private:
    friend class Producer;
    friend class Consumer;
    friend class Admin;
    explicit Connection(std::shared_ptr<ClientCore> core);
    ClientCore& core() const { return *m_core; }

    std::shared_ptr<ClientCore> m_core;
};

}  // namespace depot::client
