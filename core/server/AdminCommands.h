#pragma once
// AdminCommands: the ADMIN operations of docs/protocol.md run against a Broker. Runs on the broker thread, where
// Broker calls run inline: nothing here may block (no RequeueJob::wait() before finished(), no Broker::sync()).
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "depot/broker/Broker.h"
#include "depot/server/Server.h"
#include "protocol/ProtocolJson.h"

namespace depot::server {

struct AdminContext {
    broker::Actor actor;
    Role role = Role::Admin;
    std::function<protocol::Json()> sessions;  // the "sessions" op's result, from the server
};

struct AdminError {
    std::string code;  // as in docs/protocol.md's ERROR table
    std::string message;
};

// The ERROR an operation's failure is answered with (code from the Status, as docs/protocol.md lists them).
AdminError adminErrorOf(const Status& status);
// replica.status, replica.promote, replica.fence, replica.definitions (AdminReplication.cpp).
std::variant<protocol::Json, AdminError> runReplicationOp(broker::Broker& broker, const std::string& op,
                                                          const protocol::Json& request, const AdminContext& context);

class AdminCommands {
public:
    explicit AdminCommands(broker::Broker& broker);
    ~AdminCommands();
    std::variant<protocol::Json, AdminError> run(const protocol::Json& request, const AdminContext& context);

private:
    std::variant<protocol::Json, AdminError> runRequeueOp(const std::string& op, const protocol::Json& request,
                                                          const broker::Actor& actor);
    void pruneJobs();
    struct Jobs;
    broker::Broker& m_broker;
    std::unique_ptr<Jobs> m_jobs;
};

}  // namespace depot::server
