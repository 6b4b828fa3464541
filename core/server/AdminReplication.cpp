// The replica.* ADMIN operations (docs/protocol.md "Replication").
#include "protocol/JsonReader.h"
#include "server/AdminCommands.h"

namespace depot::server {

using protocol::Json;

std::variant<Json, AdminError> runReplicationOp(broker::Broker& broker, const std::string& op, const Json& request,
                                                const AdminContext& context) {
    if (op == "replica.status") {
        auto status = broker.replicationStatus();
        if (!status) return adminErrorOf(status.status());
        return protocol::replicationStatusToJson(*status);
    }
    if (op == "replica.promote") {
        if (Status promoted = broker.promote(context.actor); !promoted) return adminErrorOf(promoted);
        auto status = broker.replicationStatus();
        if (!status) return adminErrorOf(status.status());
        return protocol::replicationStatusToJson(*status);
    }
    if (op == "replica.fence") {
        protocol::JsonReader r(request);
        uint64_t epoch = 0;
        std::string by, logId;
        r.integer("epoch", epoch, protocol::JsonReader::Required);
        r.string("log", logId, protocol::JsonReader::Required);
        r.string("by", by);
        if (!r.ok()) return AdminError{"invalid", r.status().message()};
        if (Status fenced = broker.fence(epoch, by.empty() ? context.actor.name : by, logId, context.actor); !fenced)
            return adminErrorOf(fenced);
        return Json::object();
    }
    if (op == "replica.definitions") {
        auto definitions = broker.definitions();
        if (!definitions) return adminErrorOf(definitions.status());
        Json queues = Json::array(), exchanges = Json::array(), bindings = Json::array();
        for (const auto& queue : definitions->queues) queues.push_back(protocol::queueInfoToJson(queue));
        for (const auto& exchange : definitions->exchanges) exchanges.push_back(protocol::exchangeToJson(exchange));
        for (const auto& binding : definitions->bindings) bindings.push_back(protocol::bindingToJson(binding));
        return Json{{"version", definitions->version},
                    {"queues", std::move(queues)},
                    {"exchanges", std::move(exchanges)},
                    {"bindings", std::move(bindings)}};
    }
    return AdminError{"unknown-command", "unknown admin op '" + op + "'"};
}

}  // namespace depot::server
