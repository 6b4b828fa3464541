// The replication objects of docs/protocol.md ("Replication"): REPL_FETCH and REPL_DATA headers, and the
// replication status that replica.status returns.
#include "protocol/ProtocolJson.h"
#include "protocol/ProtocolJsonReaders.h"

namespace depot::protocol {
namespace {

void readFetchRequest(JsonReader& r, broker::FetchRequest& out) {
    r.string("replica", out.replica, JsonReader::Required);
    r.string("log", out.logId);
    r.integer("lastEpoch", out.lastEpoch, JsonReader::Required);
    r.integer("from", out.from, JsonReader::Required);
    r.integer("durable", out.durable, JsonReader::Required);
    r.integer("maxBytes", out.maxBytes);
}

void readFetchReply(JsonReader& r, broker::FetchReply& out) {
    r.string("log", out.logId, JsonReader::Required);
    r.integer("epoch", out.epoch, JsonReader::Required);
    r.integer("from", out.from, JsonReader::Required);
    r.integer("end", out.end, JsonReader::Required);
    r.integer("primaryDurable", out.primaryDurable);
    r.integer("definitions", out.definitions);
    r.integer("logStart", out.logStart);
    r.optionalInteger("truncateTo", out.truncateTo);
    r.optionalInteger("resetTo", out.resetTo);
}

void readEpoch(JsonReader& r, broker::EpochStart& out) {
    r.integer("epoch", out.epoch, JsonReader::Required);
    r.integer("offset", out.offset, JsonReader::Required);
    r.integer("at", out.at);
}

void readReplica(JsonReader& r, broker::ReplicaInfo& out) {
    r.string("name", out.name, JsonReader::Required);
    r.string("address", out.address);
    r.integer("ackedOffset", out.ackedOffset);
    r.integer("lagBytes", out.lagBytes);
    r.integer("lagMessages", out.lagMessages);
    r.integer("lagMs", out.lagMs);
    r.integer("lastContact", out.lastContact);
    r.boolean("connected", out.connected);
}

void readReplicationStatus(JsonReader& r, broker::ReplicationStatus& out) {
    r.enumeration("role", broker::roleFromString, out.role, JsonReader::Required);
    r.string("log", out.logId);
    r.integer("epoch", out.epoch);
    r.integer("writtenOffset", out.writtenOffset);
    r.integer("durableOffset", out.durableOffset);
    r.integer("logStart", out.logStart);
    readObjects(r, "epochs", out.epochs, readEpoch);
    readObjects(r, "replicas", out.replicas, readReplica);
    r.integer("atRisk", out.atRisk);
    r.integer("confirmedWithoutReplica", out.confirmedWithoutReplica);
    r.integer("nackedForReplica", out.nackedForReplica);
    r.string("primary", out.primary);
    r.integer("primaryDurable", out.primaryDurable);
    r.integer("lagMs", out.lagMs);
    r.integer("lastContact", out.lastContact);
    r.boolean("connected", out.connected);
    r.string("lastError", out.lastError);
    r.string("fencedBy", out.fencedBy);
}

}  // namespace

Json fetchRequestToJson(const broker::FetchRequest& request) {
    return {{"replica", request.replica},
            {"log", request.logId},
            {"lastEpoch", request.lastEpoch},
            {"from", request.from},
            {"durable", request.durable},
            {"maxBytes", request.maxBytes}};
}

Result<broker::FetchRequest> fetchRequestFromJson(const Json& value) {
    return decodeTopLevel<broker::FetchRequest>(value, readFetchRequest);
}

Json fetchReplyToJson(const broker::FetchReply& reply) {
    Json out{{"log", reply.logId},
             {"epoch", reply.epoch},
             {"from", reply.from},
             {"end", reply.end},
             {"primaryDurable", reply.primaryDurable},
             {"definitions", reply.definitions},
             {"logStart", reply.logStart}};
    if (reply.truncateTo)
        out["truncateTo"] = *reply.truncateTo;
    if (reply.resetTo)
        out["resetTo"] = *reply.resetTo;
    return out;
}

Result<broker::FetchReply> fetchReplyFromJson(const Json& value) {
    return decodeTopLevel<broker::FetchReply>(value, readFetchReply);
}

Json replicationStatusToJson(const broker::ReplicationStatus& s) {
    Json epochs = Json::array();
    for (const broker::EpochStart& e : s.epochs)
        epochs.push_back({{"epoch", e.epoch}, {"offset", e.offset}, {"at", e.at}});
    Json replicas = Json::array();
    for (const broker::ReplicaInfo& r : s.replicas)
        replicas.push_back({{"name", r.name},
                            {"address", r.address},
                            {"ackedOffset", r.ackedOffset},
                            {"lagBytes", r.lagBytes},
                            {"lagMessages", r.lagMessages},
                            {"lagMs", r.lagMs},
                            {"lastContact", r.lastContact},
                            {"connected", r.connected}});
    return {{"role", broker::toString(s.role)},
            {"log", s.logId},
            {"epoch", s.epoch},
            {"writtenOffset", s.writtenOffset},
            {"durableOffset", s.durableOffset},
            {"logStart", s.logStart},
            {"epochs", std::move(epochs)},
            {"replicas", std::move(replicas)},
            {"atRisk", s.atRisk},
            {"confirmedWithoutReplica", s.confirmedWithoutReplica},
            {"nackedForReplica", s.nackedForReplica},
            {"primary", s.primary},
            {"primaryDurable", s.primaryDurable},
            {"lagMs", s.lagMs},
            {"lastContact", s.lastContact},
            {"connected", s.connected},
            {"lastError", s.lastError},
            {"fencedBy", s.fencedBy}};
}

Result<broker::ReplicationStatus> replicationStatusFromJson(const Json& value) {
    return decodeTopLevel<broker::ReplicationStatus>(value, readReplicationStatus);
}

}  // namespace depot::protocol
