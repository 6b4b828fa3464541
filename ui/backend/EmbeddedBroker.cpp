#include "backend/EmbeddedBroker.h"

#include <atomic>

#include "depot/broker/Broker.h"
#include "depot/server/Server.h"

namespace depot::ui {
namespace {

// inproc names are per ZeroMQ context, but tests open several brokers in one process: keep them distinct.
std::string nextInprocEndpoint() {
    static std::atomic<int> counter{0};
    return "inproc://depot-console-" + std::to_string(++counter);
}

}  // namespace

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::open(const EmbeddedBrokerOptions& options) {
    broker::BrokerOptions brokerOptions;
    brokerOptions.dataDir = options.dataDir;
    auto opened = broker::Broker::open(brokerOptions);
    if (!opened)
        return opened.status();
    std::unique_ptr<EmbeddedBroker> embedded(new EmbeddedBroker());
    embedded->m_broker = std::move(opened).value();
    embedded->m_dataDir = options.dataDir;
    server::ServerOptions serverOptions;
    serverOptions.endpoints = {nextInprocEndpoint()};
    if (!options.tcpEndpoint.empty())
        serverOptions.endpoints.push_back(options.tcpEndpoint);
    auto server = server::Server::start(*embedded->m_broker, serverOptions);
    if (!server) {
        (void)embedded->m_broker->close();
        return server.status();
    }
    embedded->m_server = std::move(server).value();
    const std::vector<std::string>& bound = embedded->m_server->endpoints();
    embedded->m_inproc = bound.front();
    if (bound.size() > 1)
        embedded->m_tcp = bound[1];
    return embedded;
}

EmbeddedBroker::~EmbeddedBroker() { (void)close(); }

Status EmbeddedBroker::close() {
    if (!m_broker)
        return Status::ok();
    if (m_server)
        m_server->stop();
    const Status synced = m_broker->sync();
    const Status closed = m_broker->close();
    m_server.reset();
    m_broker.reset();
    return synced ? closed : synced;
}

void* EmbeddedBroker::zmqContext() const { return m_server ? m_server->zmqContext() : nullptr; }

}  // namespace depot::ui
