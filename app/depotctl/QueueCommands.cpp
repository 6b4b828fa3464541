// queue declare|update|list|show|purge|delete
#include <cstdio>

#include "Commands.h"
#include "Context.h"
#include "depot/broker/Duration.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::broker::Counters;
using depot::broker::QueueKind;
using depot::broker::QueuePolicy;
using depot::client::Admin;
using depot::client::QueueDetails;

void printText(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::vector<OptionSpec> policyOptions(bool withDurability) {
    std::vector<OptionSpec> options;
    if (withDurability) {
        options.push_back({"--durable", "", "messages are written to the commit log (default)"});
        options.push_back({"--transient", "", "messages live in memory only: lost when the broker stops"});
    }
    std::vector<OptionSpec> rest = {
        {"--flush", "sync|async", "sync: confirm after fdatasync; async: after write, synced periodically (default: the broker's default flush)"},
        {"--max-attempts", "N", "deliveries before dead-lettering (max-attempts); 0 = unlimited; default 5"},
        {"--backoff", "LIST", "retry delays, the last repeats; default 1s,5s,15s,30s"},
        {"--ack-timeout", "D", "redeliver a delivery unacked this long; 0s = never; default 60s"},
        {"--ttl", "D", "message time-to-live; expired messages are dead-lettered (expired)"},
        {"--max-length", "N", "messages held at most (ready + delayed + unacked)"},
        {"--overflow", "reject-publish|dead-letter-oldest", "what a full queue does; default reject-publish"},
        {"--ordering", "none|per-key", "per-key: at most one message in flight per key"},
        {"--dedup-window", "D", "deduplicate producer message ids this long; 0s = off; default 5m"},
        {"--dlq", "NAME", "dead-letter queue; default NAME.dlq (created with the queue)"},
        {"--replication", "none|async|sync", "sync: confirm once a replica has it on disk; async: confirm without waiting (lag shown); default none"},
        {"--replica-timeout", "D", "sync replication: how long a confirm waits for a replica; default 5s"},
        {"--on-replica-timeout", "nack|confirm", "nack (default), or confirm as replica-unavailable (stored here only)"},
    };
    options.insert(options.end(), rest.begin(), rest.end());
    return options;
}

// The policy `base` with the command line's policy options applied.
QueuePolicy policyFrom(const Arguments& args, QueuePolicy policy) {
    args.exclusive({"--durable", "--transient"});
    if (args.has("--transient"))
        policy.durable = false;
    if (args.has("--durable"))
        policy.durable = true;
    if (auto flush = args.choice("--flush", {"sync", "async"}))
        policy.flush = *depot::broker::flushModeFromString(*flush);
    if (auto attempts = args.number("--max-attempts", UINT32_MAX))
        policy.maxAttempts = static_cast<uint32_t>(*attempts);
    if (auto backoff = args.durationList("--backoff"))
        policy.backoff = *backoff;
    if (auto timeout = args.duration("--ack-timeout"))
        policy.ackTimeout = *timeout;
    if (auto ttl = args.duration("--ttl"))
        policy.ttl = *ttl;
    if (auto length = args.number("--max-length"))
        policy.maxLength = *length;
    if (auto overflow = args.choice("--overflow", {"reject-publish", "dead-letter-oldest"}))
        policy.overflow = *depot::broker::overflowFromString(*overflow);
    if (auto ordering = args.choice("--ordering", {"none", "per-key"}))
        policy.ordering = *depot::broker::orderingFromString(*ordering);
    if (auto window = args.duration("--dedup-window"))
        policy.dedupWindow = *window;
    if (auto dlq = args.value("--dlq"))
        policy.deadLetterQueue = *dlq;
    if (auto replication = args.choice("--replication", {"none", "async", "sync"}))
        policy.replication = *depot::broker::replicationFromString(*replication);
    if (auto timeout = args.duration("--replica-timeout"))
        policy.replicaTimeout = *timeout;
    if (auto action = args.choice("--on-replica-timeout", {"nack", "confirm"}))
        policy.onReplicaTimeout = *depot::broker::replicaTimeoutActionFromString(*action);
    return policy;
}

std::string policySummary(const depot::broker::QueueInfo& info) {
    const QueuePolicy& p = info.policy;
    std::string text = p.durable ? "durable, " + std::string(toString(p.flush)) + " flush" : "transient";
    text += ", max attempts " + (p.maxAttempts ? std::to_string(p.maxAttempts) : std::string("unlimited"));
    if (!info.deadLetterQueue.empty())
        text += ", dead letters to " + info.deadLetterQueue;
    if (p.replication != depot::broker::Replication::None)
        text += ", " + std::string(toString(p.replication)) + " replication";
    return text;
}

int reportDeclared(Context& context, const Result<depot::broker::QueueInfo>& declared, const char* verb) {
    if (!declared)
        return context.fail(declared.status());
    if (context.json())
        return context.printCall("queue.show", {{"name", declared->name}});
    std::printf("queue '%s' %s: %s\n", declared->name.c_str(), verb, policySummary(*declared).c_str());
    return kExitOk;
}

int queueDeclare(Context& context, const Arguments& args) {
    depot::broker::QueueSpec spec{args.positionals[0], policyFrom(args, QueuePolicy{}), QueueKind::Normal};
    spec.brokerFlush = !args.has("--flush");  // the broker's default flush (depotctl broker set --default-flush)
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    return reportDeclared(context, (*admin)->declareQueue(spec), "declared");
}

int queueUpdate(Context& context, const Arguments& args) {
    const std::string& name = args.positionals[0];
    QueuePolicy unchanged;
    (void)policyFrom(args, unchanged);  // usage errors before touching the broker
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<QueueDetails> current = (*admin)->showQueue(name);
    if (!current)
        return context.fail(current.status());
    QueuePolicy policy = policyFrom(args, current->info.policy);
    return reportDeclared(context, (*admin)->updateQueue(name, policy), "updated");
}

std::string flushCell(const depot::broker::QueueInfo& info) {
    return info.policy.durable ? std::string(toString(info.policy.flush)) : "memory";
}

int queueList(Context& context, const Arguments&) {
    if (context.json())
        return context.printCall("queue.list");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<std::vector<QueueDetails>> queues = (*admin)->listQueues();
    if (!queues)
        return context.fail(queues.status());
    Table table({"NAME", "KIND", "READY", "UNACKED", "DELAYED", "CONSUMERS", "DLQ", "DLQ DEPTH", "FLUSH"});
    for (size_t column : {2, 3, 4, 5, 7})
        table.setNumeric(column);
    for (const QueueDetails& q : *queues) {
        const bool dead = q.info.kind == QueueKind::DeadLetter;
        table.addRow({q.info.name, std::string(toString(q.info.kind)), std::to_string(q.stats.ready),
                      std::to_string(q.stats.unacked), std::to_string(q.stats.delayed),
                      std::to_string(q.stats.consumers), dead ? "-" : cellText(q.info.deadLetterQueue),
                      dead ? "-" : std::to_string(q.stats.deadLetterDepth), flushCell(q.info)});
    }
    printText(table.empty() ? "no queues\n" : table.render());
    return kExitOk;
}

std::string countersText(const Counters& c) {
    return "published " + std::to_string(c.published) + ", confirmed " + std::to_string(c.confirmed) + ", nacked " +
           std::to_string(c.nacked) + ", delivered " + std::to_string(c.delivered) + ", redelivered " +
           std::to_string(c.redelivered) + ", acked " + std::to_string(c.acked) + ", retried " +
           std::to_string(c.retried) + ", dead-lettered " + std::to_string(c.deadLettered) + ", expired " +
           std::to_string(c.expired) + ", deduplicated " + std::to_string(c.deduplicated);
}

std::string optionalDuration(const std::optional<depot::broker::Millis>& d) {
    return d ? depot::broker::formatDuration(*d) : "none";
}

void addPolicyRows(Table& table, const QueuePolicy& p) {
    using depot::broker::formatDuration;
    table.addRow({"durable:", p.durable ? "yes (flush " + std::string(toString(p.flush)) + ")" : "no (memory only)"});
    table.addRow({"max attempts:", p.maxAttempts ? std::to_string(p.maxAttempts) : "unlimited"});
    table.addRow({"backoff:", depot::broker::formatDurationList(p.backoff)});
    table.addRow({"ack timeout:", p.ackTimeout.count() ? formatDuration(p.ackTimeout) : "never"});
    table.addRow({"ttl:", optionalDuration(p.ttl)});
    table.addRow({"max length:", (p.maxLength ? std::to_string(*p.maxLength) : std::string("none")) + " (overflow " +
                                     std::string(toString(p.overflow)) + ")"});
    table.addRow({"ordering:", std::string(toString(p.ordering))});
    table.addRow({"dedup window:", p.dedupWindow.count() ? formatDuration(p.dedupWindow) : "off"});
    std::string replication(toString(p.replication));
    if (p.replication == depot::broker::Replication::Sync)
        replication += " (a replica's ack within " + formatDuration(p.replicaTimeout) + ", else " +
                       (p.onReplicaTimeout == depot::broker::ReplicaTimeoutAction::Nack ? "nack" : "confirm anyway") + ")";
    table.addRow({"replication:", replication});
}

int queueShow(Context& context, const Arguments& args) {
    const std::string& name = args.positionals[0];
    if (context.json())
        return context.printCall("queue.show", {{"name", name}});
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<QueueDetails> queue = (*admin)->showQueue(name);
    if (!queue)
        return context.fail(queue.status());
    const auto& info = queue->info;
    const auto& s = queue->stats;
    Table table({"", ""});
    table.addRow(
        {"queue:", info.name + " (" + std::string(toString(info.kind)) + ", id " + std::to_string(info.id) + ")"});
    table.addRow({"created:", formatTime(info.createdAt)});
    addPolicyRows(table, info.policy);
    if (info.kind != QueueKind::DeadLetter)
        table.addRow(
            {"dead-letter queue:", info.deadLetterQueue + " (" + std::to_string(s.deadLetterDepth) + " messages)"});
    table.addRow({"messages:", "ready " + std::to_string(s.ready) + ", unacked " + std::to_string(s.unacked) +
                                   ", delayed " + std::to_string(s.delayed) + ", prepared " +
                                   std::to_string(s.prepared) + " (" + formatBytes(s.bytes) + ")"});
    table.addRow({"oldest message:", formatTime(s.oldestPublishedAt)});
    table.addRow({"consumers:", std::to_string(s.consumers)});
    table.addRow({"counters:", countersText(s.counters)});
    printText(table.render(false));
    return kExitOk;
}

int queuePurge(Context& context, const Arguments& args) {
    const std::string& name = args.positionals[0];
    if (!args.has("--yes"))
        requireYes("queue purge", "every message in queue '" + name + "'");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<uint64_t> purged = (*admin)->purgeQueue(name);
    if (!purged)
        return context.fail(purged.status());
    if (context.json())
        printJsonLine({{"queue", name}, {"purged", *purged}});
    else
        std::printf("purged %llu messages from queue '%s'\n", static_cast<unsigned long long>(*purged), name.c_str());
    return kExitOk;
}

int queueDelete(Context& context, const Arguments& args) {
    const std::string& name = args.positionals[0];
    if (!args.has("--yes"))
        requireYes("queue delete", "queue '" + name + "' with every message in it (its dead-letter queue is kept)");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    if (depot::Status deleted = (*admin)->deleteQueue(name); !deleted)
        return context.fail(deleted);
    if (context.json())
        printJsonLine({{"deleted", name}});
    else
        std::printf("deleted queue '%s'\n", name.c_str());
    return kExitOk;
}

}  // namespace

std::vector<CommandSpec> queueCommands() {
    const OptionSpec yes{"--yes", "", "really do it"};
    std::vector<OptionSpec> updateOptions = policyOptions(false);
    return {
        {"queue declare", "NAME", "create a queue (a no-op when it exists with the same policy)",
         "Options left out take the defaults. A queue that exists with another policy is an error: use\n"
         "`queue update`.",
         policyOptions(true), 1, 1, queueDeclare},
        {"queue update", "NAME", "change some of a queue's policy (durability cannot change)", "", updateOptions, 1, 1,
         queueUpdate},
        {"queue list", "", "queues with their depth, consumers and dead-letter queue", "", {}, 0, 0, queueList},
        {"queue show", "NAME", "one queue's policy, depth and counters", "", {}, 1, 1, queueShow},
        {"queue purge", "NAME", "remove every message of a queue (needs --yes)", "", {yes}, 1, 1, queuePurge},
        {"queue delete", "NAME", "delete a queue and its messages (needs --yes)", "", {yes}, 1, 1, queueDelete},
    };
}

}  // namespace depotctl
