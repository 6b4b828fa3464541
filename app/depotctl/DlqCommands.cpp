// dlq list|show|delete|purge
#include <cstdio>
#include <map>

#include "Commands.h"
#include "Context.h"
#include "DlqSupport.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::Status;

void printText(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

uint64_t depth(const Json& queue) {
    const Json& stats = jsonObject(queue, "stats");
    return jsonNumber(stats, "ready") + jsonNumber(stats, "unacked") + jsonNumber(stats, "delayed");
}

// The dead-letter queues, with the queues that send to each.
int listQueues(Context& context) {
    Result<Json> all = context.call("queue.list");
    if (!all)
        return context.fail(all.status());
    Json dead = Json::array();
    std::map<std::string, std::string> sources;
    for (const Json& queue : jsonArray(*all, "queues")) {
        if (jsonText(queue, "kind") == "dead-letter") {
            dead.push_back(queue);
        } else if (std::string dlq = jsonText(queue, "deadLetterQueue"); !dlq.empty()) {
            std::string& text = sources[dlq];
            text += (text.empty() ? "" : ", ") + jsonText(queue, "name");
        }
    }
    if (context.json()) {
        printJsonLine({{"queues", dead}});
        return kExitOk;
    }
    Table table({"DLQ", "DEPTH", "OLDEST", "SOURCES"});
    table.setNumeric(1);
    for (const Json& queue : dead)
        table.addRow({jsonText(queue, "name"), std::to_string(depth(queue)),
                      formatTime(static_cast<int64_t>(jsonNumber(jsonObject(queue, "stats"), "oldestPublishedAt"))),
                      cellText(sources[jsonText(queue, "name")], 200)});
    printText(table.empty() ? "no dead-letter queues\n" : table.render());
    return kExitOk;
}

Json filterFrom(const Arguments& args) {
    Json filter = Json::object();
    if (auto reason = args.choice("--reason", {"rejected", "max-attempts", "expired", "overflow", "tx-unresolved"}))
        filter["reason"] = *reason;
    if (auto source = args.value("--source"))
        filter["sourceQueue"] = *source;
    return filter;
}

void addDeadLetterRow(Table& table, const Json& message) {
    const Json& death = jsonObject(message, "death");
    table.addRow({std::to_string(jsonNumber(message, "sequence")), cellText(jsonText(message, "id"), 40),
                  cellText(jsonText(death, "sourceQueue")), cellText(jsonText(death, "reason")),
                  std::to_string(jsonNumber(death, "attempts", jsonNumber(message, "attempts"))),
                  cellText(jsonText(death, "lastError"), 50),
                  formatTime(static_cast<int64_t>(jsonNumber(death, "lastDeathAt")))});
}

// The dead letters of one DLQ (or of a queue's DLQ).
int listMessages(Context& context, const Arguments& args) {
    const Json filter = filterFrom(args);
    Result<std::string> dlq = resolveDeadLetterQueue(context, args.positionals[0]);
    if (!dlq)
        return context.fail(dlq.status());
    Json messages = Json::array();
    Table table({"SEQUENCE", "ID", "SOURCE", "REASON", "ATTEMPTS", "LAST ERROR", "LAST DEATH"});
    table.setNumeric(0);
    table.setNumeric(4);
    Status browsed = browseAll(context, *dlq, filter, context.json(), [&](const Json& message) {
        if (context.json())
            messages.push_back(message);
        else
            addDeadLetterRow(table, message);
        return true;
    });
    if (!browsed)
        return context.fail(browsed);
    if (context.json())
        printJsonLine({{"queue", *dlq}, {"messages", messages}});
    else
        printText(table.empty() ? "no dead letters in " + *dlq + "\n" : table.render());
    return kExitOk;
}

int dlqList(Context& context, const Arguments& args) {
    if (args.positionals.empty()) {
        if (args.has("--reason") || args.has("--source"))
            throw UsageError("--reason and --source filter the dead letters of one QUEUE");
        return listQueues(context);
    }
    return listMessages(context, args);
}

int dlqShow(Context& context, const Arguments& args) {
    const std::string& id = args.positionals[0];
    Result<std::vector<std::string>> queues = searchQueues(context, args);
    if (!queues)
        return context.fail(queues.status());
    Result<std::vector<FoundMessage>> found = findMessages(context, *queues, id, true);
    if (!found)
        return context.fail(found.status());
    if (found->empty())
        return context.fail("no dead letter with id or sequence '" + id + "'");
    for (const FoundMessage& message : *found) {
        if (context.json())
            printJsonLine(message.message);
        else
            printText(dumpJson(message.message, 2) + "\n");
    }
    return kExitOk;
}

int dlqDelete(Context& context, const Arguments& args) {
    Result<std::vector<std::string>> queues = searchQueues(context, args);
    if (!queues)
        return context.fail(queues.status());
    std::vector<FoundMessage> targets;
    for (const std::string& id : args.positionals) {
        Result<std::vector<FoundMessage>> found = findMessages(context, *queues, id, false);
        if (!found)
            return context.fail(found.status());
        if (found->empty())
            return context.fail("no dead letter with id or sequence '" + id + "'; nothing was deleted");
        targets.insert(targets.end(), found->begin(), found->end());
    }
    Result<depot::client::Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    uint64_t deleted = 0;
    for (const FoundMessage& target : targets) {
        if (Status status = (*admin)->deleteMessage(target.queue, target.sequence); !status)
            return context.fail("deleted " + std::to_string(deleted) + " of " + std::to_string(targets.size()) +
                                "; sequence " + std::to_string(target.sequence) + " in " + target.queue + ": " +
                                status.message());
        ++deleted;
        if (context.json())
            printJsonLine(
                {{"deleted",
                  {{"queue", target.queue}, {"sequence", target.sequence}, {"id", jsonText(target.message, "id")}}}});
    }
    if (!context.json())
        std::printf("deleted %llu dead letters\n", static_cast<unsigned long long>(deleted));
    return kExitOk;
}

int dlqPurge(Context& context, const Arguments& args) {
    const std::string& name = args.positionals[0];
    if (!args.has("--yes"))
        requireYes("dlq purge",
                   "every dead letter in '" + name + "' (or in the dead-letter queue of queue '" + name + "')");
    Result<std::string> dlq = resolveDeadLetterQueue(context, name);
    if (!dlq)
        return context.fail(dlq.status());
    Result<depot::client::Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Result<uint64_t> purged = (*admin)->purgeQueue(*dlq);
    if (!purged)
        return context.fail(purged.status());
    if (context.json())
        printJsonLine({{"queue", *dlq}, {"purged", *purged}});
    else
        std::printf("purged %llu dead letters from '%s'\n", static_cast<unsigned long long>(*purged), dlq->c_str());
    return kExitOk;
}

}  // namespace

std::vector<CommandSpec> dlqCommands() {
    const OptionSpec from{"--from", "DLQ", "search only this dead-letter queue (or this queue's DLQ)"};
    return {
        {"dlq list",
         "[QUEUE]",
         "dead-letter queues with their depth, or the dead letters of one",
         "QUEUE is a dead-letter queue or a queue whose dead letters to list. Browsing changes nothing.",
         {{"--reason", "R", "only this death reason (rejected, max-attempts, expired, overflow, tx-unresolved)"},
          {"--source", "QUEUE", "only dead letters from this queue"}},
         0,
         1,
         dlqList},
        {"dlq show",
         "ID",
         "one dead letter as JSON, death record included",
         "ID is a message id or, when no message has that id, a sequence number.",
         {from},
         1,
         1,
         dlqShow},
        {"dlq delete",
         "ID...",
         "delete dead letters by message id or sequence",
         "Every ID is looked up first; if one is not found nothing is deleted.",
         {from},
         1,
         kUnlimited,
         dlqDelete},
        {"dlq purge",
         "NAME",
         "delete every dead letter of a dead-letter queue (needs --yes)",
         "",
         {{"--yes", "", "really do it"}},
         1,
         1,
         dlqPurge},
    };
}

}  // namespace depotctl
