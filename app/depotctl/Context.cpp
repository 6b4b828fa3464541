#include "Context.h"

#include <cstdio>

namespace depotctl {

using depot::Result;
using depot::client::Admin;
using depot::client::ClientOptions;
using depot::client::Connection;
using depot::client::Producer;

void printError(const std::string& message) {
    std::string line = message;
    for (char& c : line)
        if (c == '\n' || c == '\r')
            c = ' ';
    std::fflush(stdout);
    std::fprintf(stderr, "depotctl: %s\n", line.c_str());
    std::fflush(stderr);
}

Context::~Context() {
    // The producer and admin hold the connection; closing it last lets their pending work finish first.
    m_producer.reset();
    m_admin.reset();
    if (m_connection)
        m_connection->close();
}

Millis Context::requestTimeout() const { return m_options.timeout.value_or(ClientOptions{}.requestTimeout); }

Result<std::shared_ptr<Connection>> Context::connection() {
    if (m_connection)
        return m_connection;
    ClientOptions options;
    options.endpoint = m_options.endpoint;
    options.client = "depotctl";
    options.role = "admin";
    options.requestTimeout = requestTimeout();
    Result<std::shared_ptr<Connection>> connected = Connection::connect(options);
    if (!connected)
        return connected.status();
    m_connection = *connected;
    return m_connection;
}

Result<Admin*> Context::admin() {
    if (!m_admin) {
        Result<std::shared_ptr<Connection>> connected = connection();
        if (!connected)
            return connected.status();
        m_admin = std::make_unique<Admin>(*connected);
    }
    return m_admin.get();
}

Result<Producer*> Context::producer() {
    if (!m_producer) {
        Result<std::shared_ptr<Connection>> connected = connection();
        if (!connected)
            return connected.status();
        m_producer = std::make_unique<Producer>(*connected);
    }
    return m_producer.get();
}

Result<Json> Context::call(const std::string& op, const Json& arguments) {
    Result<Admin*> client = admin();
    if (!client)
        return client.status();
    Result<std::string> reply = (*client)->call(op, dumpJson(arguments));
    if (!reply)
        return reply.status();
    Result<Json> parsed = parseJson(*reply);
    if (!parsed)
        return depot::Status::invalidArgument("the broker's reply to " + op + " is not JSON");
    return parsed;
}

int Context::printCall(const std::string& op, const Json& arguments) {
    Result<Json> reply = call(op, arguments);
    if (!reply)
        return fail(reply.status());
    printJsonLine(*reply);
    return kExitOk;
}

int Context::fail(const std::string& message) const {
    printError(message);
    return kExitFailed;
}

int Context::fail(const depot::Status& status) const {
    return fail(status.message().empty() ? status.toString() : status.message());
}

}  // namespace depotctl
