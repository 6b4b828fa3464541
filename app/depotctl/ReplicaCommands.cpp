// replica status|promote
#include <cstdio>

#include "Commands.h"
#include "Context.h"
#include "Output.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::broker::ReplicationStatus;
using depot::client::Admin;

std::string offsets(uint64_t written, uint64_t durable) {
    return std::to_string(written) + " written, " + std::to_string(durable) + " durable";
}

std::string statusText(const ReplicationStatus& s) {
    std::string out = "role: " + std::string(toString(s.role)) + ", epoch " + std::to_string(s.epoch) + "\n";
    out += "log " + (s.logId.empty() ? std::string("(not known yet)") : s.logId) + ": " +
           offsets(s.writtenOffset, s.durableOffset) + " (starts at " + std::to_string(s.logStart) + ")\n";
    if (s.role == depot::broker::Role::Fenced) out += "fenced: " + s.fencedBy + "\n";
    if (s.role == depot::broker::Role::Replica) {
        out += "primary: " + s.primary + (s.connected ? " (connected)" : " (not connected)") + "\n";
        out += "primary's durable end: " + std::to_string(s.primaryDurable) + ", behind by " +
               std::to_string(s.primaryDurable > s.durableOffset ? s.primaryDurable - s.durableOffset : 0) +
               " bytes, " + std::to_string(s.lagMs) + " ms\n";
        if (!s.lastError.empty()) out += "last problem: " + s.lastError + "\n";
        return out;
    }
    if (!s.primary.empty()) out += "promoted from a replica of " + s.primary + "\n";
    out += "at risk: " + std::to_string(s.atRisk) +
           " confirmed messages of replicated queues on no replica yet; sync publishes confirmed without a replica: " +
           std::to_string(s.confirmedWithoutReplica) + ", nacked for want of one: " +
           std::to_string(s.nackedForReplica) + "\n";
    if (s.replicas.empty()) return out + "replicas: none has fetched since this broker started\n";
    Table table({"REPLICA", "ADDRESS", "ACKED", "LAG BYTES", "LAG MSGS", "LAG MS", "CONNECTED"});
    for (size_t column : {2, 3, 4, 5}) table.setNumeric(column);
    for (const auto& r : s.replicas)
        table.addRow({cellText(r.name), cellText(r.address), std::to_string(r.ackedOffset), std::to_string(r.lagBytes),
                      std::to_string(r.lagMessages), std::to_string(r.lagMs), r.connected ? "yes" : "no"});
    return out + table.render();
}

int status(Context& context, const Arguments&) {
    if (context.json()) return context.printCall("replica.status");
    Result<Admin*> admin = context.admin();
    if (!admin) return context.fail(admin.status());
    Result<ReplicationStatus> status = (*admin)->replicationStatus();
    if (!status) return context.fail(status.status());
    std::string text = statusText(*status);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
}

int promote(Context& context, const Arguments&) {
    Result<Admin*> admin = context.admin();
    if (!admin) return context.fail(admin.status());
    Result<ReplicationStatus> status = (*admin)->promote();
    if (!status) return context.fail(status.status());
    if (context.json()) return context.printCall("replica.status");
    std::printf("promoted: this broker is the primary now, epoch %llu\n", static_cast<unsigned long long>(status->epoch));
    return kExitOk;
}

}  // namespace

std::vector<CommandSpec> replicaCommands() {
    return {
        {"replica status", "", "role, epoch, log offsets; a primary's replicas and their lag; a replica's primary",
         "", {}, 0, 0, status},
        {"replica promote", "", "make this replica the primary (a new epoch); its former primary is fenced", "", {}, 0,
         0, promote},
    };
}

}  // namespace depotctl
