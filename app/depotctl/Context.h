#pragma once
// Context: what every command runs with: the global options, one connection to the broker (made on first use)
// and the one-line error report on stderr.
#include <memory>
#include <string>

#include "CommandLine.h"
#include "Output.h"
#include "depot/Result.h"
#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Producer.h"

namespace depotctl {

class Context {
public:
    explicit Context(GlobalOptions options) : m_options(std::move(options)) {}
    ~Context();

    const GlobalOptions& options() const { return m_options; }
    bool json() const { return m_options.json; }
    // The limit of each request: --timeout, else the client library's default.
    Millis requestTimeout() const;

    // Connects on first use (the broker's HELLO reply within requestTimeout()).
    depot::Result<std::shared_ptr<depot::client::Connection>> connection();
    depot::Result<depot::client::Admin*> admin();
    depot::Result<depot::client::Producer*> producer();

    // An admin operation with raw JSON arguments and reply (the objects of docs/protocol.md as the broker sends them).
    depot::Result<Json> call(const std::string& op, const Json& arguments = Json::object());
    // call() and print the reply as one JSON line; returns the exit code.
    int printCall(const std::string& op, const Json& arguments = Json::object());

    // Prints "depotctl: <message>" as one line on stderr; returns kExitFailed.
    int fail(const std::string& message) const;
    int fail(const depot::Status& status) const;

private:
    GlobalOptions m_options;
    std::shared_ptr<depot::client::Connection> m_connection;
    std::unique_ptr<depot::client::Admin> m_admin;
    std::unique_ptr<depot::client::Producer> m_producer;
};

// Prints "depotctl: <message>" as one line on stderr (newlines in `message` become spaces).
void printError(const std::string& message);

}  // namespace depotctl
