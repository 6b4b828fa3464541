#include "depot/client/Connection.h"

#include "client/ClientCore.h"

namespace depot::client {

Result<std::shared_ptr<Connection>> Connection::connect(ClientOptions options) {
    auto core = std::make_shared<ClientCore>(std::move(options));
    DEPOT_RETURN_IF_ERROR(core->start());
    return std::shared_ptr<Connection>(new Connection(std::move(core)));
}

Connection::Connection(std::shared_ptr<ClientCore> core) : m_core(std::move(core)) {}

Connection::~Connection() { close(); }

void Connection::close() { m_core->close(); }

const ClientOptions& Connection::options() const { return m_core->options(); }

ServerInfo Connection::server() const { return m_core->serverInfo(); }

bool Connection::connected() const { return m_core->connected(); }

uint64_t Connection::sessions() const { return m_core->sessions(); }

}  // namespace depot::client
