#pragma once
// EmbeddedBroker: the broker the console hosts in its own process. Opens (and so recovers) a data directory and
// serves it on an inproc:// endpoint, which the console itself talks to through the client library exactly as it
// talks to a remote depotd, and on a loopback TCP endpoint that applications on this machine can use.
#include <memory>
#include <string>

#include "depot/Result.h"

namespace depot::broker {
class Broker;
}
namespace depot::server {
class Server;
}

namespace depot::ui {

struct EmbeddedBrokerOptions {
    std::string dataDir;
    std::string tcpEndpoint = "tcp://127.0.0.1:7420";  // port 0 picks a free one; empty: inproc only
};

class EmbeddedBroker {
public:
    static Result<std::unique_ptr<EmbeddedBroker>> open(const EmbeddedBrokerOptions& options);
    ~EmbeddedBroker();  // close()
    EmbeddedBroker(const EmbeddedBroker&) = delete;
    EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

    // Graceful, like depotd on SIGTERM: answers what was received, flushes and closes the log. Idempotent.
    // Close every client connection made on zmqContext() first: the context ends with the server.
    Status close();

    const std::string& inprocEndpoint() const { return m_inproc; }
    const std::string& tcpEndpoint() const { return m_tcp; }  // as bound (the real port); empty if none
    const std::string& dataDir() const { return m_dataDir; }
    void* zmqContext() const;  // for client::ClientOptions::zmqContext (inproc needs the same context)

private:
    EmbeddedBroker() = default;
    std::unique_ptr<broker::Broker> m_broker;
    std::unique_ptr<server::Server> m_server;
    std::string m_inproc;
    std::string m_tcp;
    std::string m_dataDir;
};

}  // namespace depot::ui
