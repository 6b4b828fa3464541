#pragma once
// ClientOptions: how a client::Connection reaches a broker (docs/protocol.md). The library reads no environment
// variables; programs do (depotctl reads DEPOT_ENDPOINT).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace depot::client {

using Millis = std::chrono::milliseconds;

struct ClientOptions {
    std::string endpoint = "tcp://127.0.0.1:7420";
    std::string client = "client";  // shown in the console, and in audit entries as client@address
    std::string role = "admin";     // "producer" | "consumer" | "admin"; with CURVE the broker decides
    Millis heartbeat{2000};         // the broker is declared lost after 3 heartbeats of silence
    // Every blocking call waits at most this long (connect, admin calls, consume, cancel, durable acks); it is also
    // the default time a publish may take to be confirmed.
    Millis requestTimeout{10000};
    // Names the producer group in HELLO: needed to answer transaction check-backs (Producer::setTransactionChecker).
    std::string producerGroup;
    // CURVE (Z85 text, 40 characters each). Empty curveServerKey: plain connection. With a server key and no
    // client keys, an ephemeral key pair is generated (the broker then only accepts it if it allows any key).
    std::string curveServerKey;
    std::string curvePublicKey;
    std::string curveSecretKey;
    // Publishes handed to the connection and not yet answered (waiting for the broker's window or in flight).
    // Producer::sendAsync blocks its caller while this many are outstanding: bounded memory, no `busy` errors.
    size_t maxPendingPublishes = 100000;
    // A ZeroMQ context (void* from zmq_ctx_new) to share, as inproc:// endpoints need: pass the embedded broker's
    // server::Server::zmqContext(). Null: the connection makes and ends its own.
    void* zmqContext = nullptr;
};

// What the broker said about itself and this session in its HELLO reply.
struct ServerInfo {
    std::string server;   // "depotd"
    std::string version;  // "0.1.0"
    int protocol = 1;
    uint64_t session = 0;
    std::string role;  // the role granted
    Millis heartbeat{2000};
    size_t maxMessageSize = 4u << 20;
    uint32_t maxUnconfirmed = 10000;
    uint32_t maxPrefetch = 10000;
};

}  // namespace depot::client
