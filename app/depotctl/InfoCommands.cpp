// trace, sessions, broker show|set, tx commit|rollback
#include <cstdio>

#include "Commands.h"
#include "Context.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::client::Admin;

void printText(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int trace(Context& context, const Arguments& args) {
    const std::optional<std::string> key = args.value("--key");
    if (key && !args.positionals.empty())
        throw UsageError("give a message ID or --key K, not both");
    if (!key && args.positionals.empty())
        throw UsageError("trace needs a message ID (or --key K)");
    depot::broker::TraceQuery query;
    query.messageId = key ? "" : args.positionals[0];
    query.key = key.value_or("");
    query.limit = args.number("--limit").value_or(1000);
    if (context.json()) {
        Json request = {{"limit", query.limit}};
        request[key ? "key" : "messageId"] = key ? query.key : query.messageId;
        return context.printCall("trace", request);
    }
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<std::vector<depot::broker::TraceEvent>> events = (*admin)->trace(query);
    if (!events)
        return context.fail(events.status());
    if (events->empty())
        return context.fail(key ? "no trace events for key '" + *key + "'"
                                : "no trace events for message id '" + query.messageId + "'");
    Table table({"TIME", "KIND", "QUEUE", "DETAIL"});
    for (const auto& event : *events)
        table.addRow({formatTime(event.at), std::string(toString(event.kind)), cellText(event.queue),
                      cellText(event.detail, 200)});
    printText(table.render(false));
    return kExitOk;
}

std::string consumersText(const depot::client::SessionInfo& session) {
    std::string text;
    for (const auto& c : session.consumers)
        text += (text.empty() ? "" : ", ") + c.queue + " (" + std::to_string(c.unacked) + "/" +
                std::to_string(c.prefetch) + (c.autoAck ? ", auto" : "") + ")";
    return text;
}

int sessions(Context& context, const Arguments&) {
    if (context.json())
        return context.printCall("sessions");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<std::vector<depot::client::SessionInfo>> list = (*admin)->sessions();
    if (!list)
        return context.fail(list.status());
    Table table({"SESSION", "CLIENT", "ROLE", "ADDRESS", "CONNECTED", "LAST HEARD", "UNCONFIRMED", "CONSUMERS"});
    table.setNumeric(0);
    table.setNumeric(6);
    for (const auto& s : *list)
        table.addRow({std::to_string(s.session), cellText(s.client), s.role, cellText(s.address),
                      formatTime(s.connectedAt), formatTime(s.lastHeardAt), std::to_string(s.unconfirmed),
                      cellText(consumersText(s), 200)});
    printText(table.render());
    return kExitOk;
}

std::string settingsText(const depot::broker::BrokerSettings& settings) {
    return "default flush: " + std::string(toString(settings.defaultFlush)) +
           " (queues declared without --flush)\nasync flush interval: " +
           std::to_string(settings.asyncFlushInterval.count()) +
           " ms (the most an async queue's confirmed messages wait for fdatasync)\n";
}

int brokerShow(Context& context, const Arguments&) {
    if (context.json())
        return context.printCall("broker.settings");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<depot::broker::BrokerSettings> settings = (*admin)->settings();
    if (!settings)
        return context.fail(settings.status());
    printText(settingsText(*settings));
    return kExitOk;
}

int brokerSet(Context& context, const Arguments& args) {
    std::optional<std::string> flush = args.choice("--default-flush", {"sync", "async"});
    std::optional<depot::broker::Millis> interval = args.duration("--async-flush-interval");
    if (!flush && !interval)
        throw UsageError("broker set needs --default-flush or --async-flush-interval");
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<depot::broker::BrokerSettings> settings = (*admin)->settings();
    if (!settings)
        return context.fail(settings.status());
    if (flush)
        settings->defaultFlush = *depot::broker::flushModeFromString(*flush);
    if (interval)
        settings->asyncFlushInterval = *interval;
    Result<depot::broker::BrokerSettings> applied = (*admin)->configure(*settings);
    if (!applied)
        return context.fail(applied.status());
    if (context.json())
        return context.printCall("broker.settings");
    printText(settingsText(*applied));
    return kExitOk;
}

int endTransaction(Context& context, const Arguments& args, bool commit) {
    const std::string& transaction = args.positionals[0];
    Result<depot::client::Producer*> producer = context.producer();
    if (!producer)
        return context.fail(producer.status());
    const depot::client::SendResult result =
        commit ? (*producer)->commit(transaction) : (*producer)->rollback(transaction);
    const char* action = commit ? "commit" : "rollback";
    if (result.unconfirmed())
        return context.fail(std::string(action) + " of transaction '" + transaction +
                            "' failed: " + result.status.message());
    if (context.json()) {
        Json line = {{"transaction", transaction}, {"action", action}, {"outcome", outcomeName(result)}};
        if (result.nacked()) {
            line["reason"] = std::string(toString(result.result.reason));
            line["error"] = result.result.error;
        }
        printJsonLine(line);
    } else if (!result.nacked()) {
        std::printf("transaction '%s' %s (%s)\n", transaction.c_str(), commit ? "committed" : "rolled back",
                    std::string(outcomeName(result)).c_str());
    }
    if (result.nacked())
        return context.fail(std::string(action) + " of transaction '" + transaction + "' nacked (" +
                            std::string(toString(result.result.reason)) + "): " + result.result.error);
    return kExitOk;
}

}  // namespace

std::vector<CommandSpec> infoCommands() {
    std::vector<CommandSpec> commands = {
        {"trace",
         "[ID]",
         "the lifecycle of a message: one event per line (time, kind, queue, detail)",
         "",
         {{"--key", "K", "trace the messages with this ordering key instead"},
          {"--limit", "N", "at most N events (default 1000)"}},
         0,
         1,
         trace},
        {"sessions", "", "connected clients and their consumers", "", {}, 0, 0, sessions},
        {"broker show", "", "the broker-wide settings: default flush, async flush interval", "", {}, 0, 0, brokerShow},
        {"broker set",
         "",
         "change broker-wide settings at runtime (audited; kept across restarts)",
         "",
         {{"--default-flush", "sync|async", "flush mode of queues declared without one (existing queues keep theirs)"},
          {"--async-flush-interval", "DURATION", "how often async queues are synced, 1ms..60s (e.g. 100ms)"}},
         0,
         0,
         brokerSet},
        {"tx commit",
         "TX",
         "commit a transaction: its half messages become visible",
         "",
         {},
         1,
         1,
         [](Context& c, const Arguments& a) { return endTransaction(c, a, true); }},
        {"tx rollback",
         "TX",
         "roll back a transaction: its half messages are dropped",
         "",
         {},
         1,
         1,
         [](Context& c, const Arguments& a) { return endTransaction(c, a, false); }},
    };
    std::vector<CommandSpec> stats = statsCommands();
    commands.insert(commands.begin() + 1, stats.begin(), stats.end());
    return commands;
}

}  // namespace depotctl
