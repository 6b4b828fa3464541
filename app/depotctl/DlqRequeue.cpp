// dlq requeue: starts requeue jobs on the broker, shows their progress, prints the per-message report.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "Commands.h"
#include "Context.h"
#include "DlqSupport.h"
#include "Signals.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::Status;
using depot::broker::MessageFilter;
using depot::broker::RequeueReport;
using depot::client::Admin;
using depot::client::RequeueStatus;
using Clock = std::chrono::steady_clock;

constexpr Millis kPollInterval{200};

struct Job {
    std::string queue;  // the dead-letter queue to take messages from
    MessageFilter filter;
};

struct Totals {
    uint64_t requeued = 0, failed = 0;
    bool cancelled = false;
};

void checkSelection(const Arguments& args) {
    const bool ids = !args.positionals.empty();
    const bool filters = args.has("--reason") || args.has("--source");
    if (!ids && !filters && !args.has("--all"))
        throw UsageError("dlq requeue needs IDs, --all, --reason R or --source Q");
    if (ids && (filters || args.has("--all")))
        throw UsageError("IDs select exact messages: they cannot be combined with --all, --reason or --source");
    if (args.has("--all") && filters)
        throw UsageError("--all selects every dead letter: leave it out to filter with --reason or --source");
}

// IDs: each looked up first (none missing), then one job per dead-letter queue holding some of them.
Result<std::vector<Job>> jobsForIds(Context& context, const Arguments& args) {
    Result<std::vector<std::string>> queues = searchQueues(context, args);
    if (!queues)
        return queues.status();
    std::map<std::string, std::vector<uint64_t>> sequences;
    for (const std::string& id : args.positionals) {
        Result<std::vector<FoundMessage>> found = findMessages(context, *queues, id, false);
        if (!found)
            return found.status();
        if (found->empty())
            return Status::notFound("no dead letter with id or sequence '" + id + "'; nothing was requeued");
        for (const FoundMessage& message : *found)
            sequences[message.queue].push_back(message.sequence);
    }
    std::vector<Job> jobs;
    for (auto& [queue, list] : sequences) {
        Job job{queue, {}};
        job.filter.sequences = std::move(list);
        jobs.push_back(std::move(job));
    }
    return jobs;
}

// --all, --reason, --source: one job per dead-letter queue (--from, else every non-empty one).
Result<std::vector<Job>> jobsForFilter(Context& context, const Arguments& args) {
    MessageFilter filter;
    if (auto reason = args.choice("--reason", {"rejected", "max-attempts", "expired", "overflow", "tx-unresolved"}))
        filter.reason = depot::broker::deathReasonFromString(*reason);
    filter.sourceQueue = args.value("--source").value_or("");
    std::vector<Job> jobs;
    if (std::optional<std::string> from = args.value("--from")) {
        Result<std::string> dlq = resolveDeadLetterQueue(context, *from);
        if (!dlq)
            return dlq.status();
        jobs.push_back({*dlq, filter});
        return jobs;
    }
    Result<std::vector<Json>> queues = deadLetterQueues(context);
    if (!queues)
        return queues.status();
    for (const Json& queue : *queues) {
        const Json& stats = jsonObject(queue, "stats");
        if (jsonNumber(stats, "ready") + jsonNumber(stats, "delayed") + jsonNumber(stats, "unacked") > 0)
            jobs.push_back({jsonText(queue, "name"), filter});
    }
    return jobs;
}

void showProgress(const std::string& queue, const RequeueStatus& status, bool final) {
    static const bool kTerminal = ::isatty(STDERR_FILENO);
    static Clock::time_point lastLine;
    const std::string text = "requeue from " + queue + ": " + std::to_string(status.done) + " of " +
                             std::to_string(status.total) + (status.finished ? " done" : "");
    if (kTerminal) {
        std::fprintf(stderr, "\r%s%s", text.c_str(), final ? "\n" : "");
    } else if (final || Clock::now() - lastLine >= std::chrono::seconds(1)) {
        std::fprintf(stderr, "%s\n", text.c_str());
        lastLine = Clock::now();
    }
    std::fflush(stderr);
}

// Polls until the job is finished; cancels it on Ctrl-C. Returns the final status.
Result<RequeueStatus> follow(Admin& admin, const std::string& queue, uint64_t job) {
    bool cancelled = false;
    while (true) {
        Result<RequeueStatus> status = admin.requeueStatus(job);
        if (!status)
            return status;
        showProgress(queue, *status, status->finished);
        if (status->finished)
            return status;
        if (stopRequested() && !cancelled) {
            cancelled = true;
            if (Status cancel = admin.cancelRequeue(job); !cancel)
                return cancel;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

void printFailures(const RequeueReport& report) {
    for (const auto& item : report.items)
        if (!item.status.isOk())
            std::printf("failed: sequence %llu (id %s) to %s: %s\n", static_cast<unsigned long long>(item.sequence),
                        item.messageId.c_str(), item.target.empty() ? "-" : item.target.c_str(),
                        item.status.message().c_str());
}

// Runs one job to its end and adds its report to `totals`. Returns the exit code so far.
int runJob(Context& context, Admin& admin, const Job& job, const Arguments& args, Totals& totals) {
    depot::broker::RequeueRequest request;
    request.queue = job.queue;
    request.filter = job.filter;
    request.target = args.value("--to").value_or("");
    request.ratePerSecond = args.decimal("--rate").value_or(0);
    Result<depot::client::RequeueStarted> started = admin.startRequeue(request);
    if (!started)
        return context.fail(started.status());
    Result<RequeueStatus> status = follow(admin, job.queue, started->job);
    if (!status)
        return context.fail(status.status());
    const RequeueReport report = status->report.value_or(RequeueReport{});
    totals.requeued += report.requeued;
    totals.failed += report.failed;
    totals.cancelled = totals.cancelled || report.cancelled;
    if (context.json()) {
        Result<Json> raw = context.call("requeue.status", {{"job", started->job}});
        if (!raw)
            return context.fail(raw.status());
        Json line = {{"queue", job.queue}};
        line.update(*raw);
        printJsonLine(line);
    } else {
        printFailures(report);
    }
    return kExitOk;
}

int dlqRequeue(Context& context, const Arguments& args) {
    checkSelection(args);
    (void)args.decimal("--rate");
    catchStopSignals();
    Result<std::vector<Job>> jobs = args.positionals.empty() ? jobsForFilter(context, args) : jobsForIds(context, args);
    if (!jobs)
        return context.fail(jobs.status());
    Result<Admin*> admin = context.admin();
    if (!admin)
        return context.fail(admin.status());
    Totals totals;
    for (const Job& job : *jobs)
        if (int code = runJob(context, **admin, job, args, totals); code != kExitOk)
            return code;
    if (!context.json())
        std::printf("requeued %llu, failed %llu%s\n", static_cast<unsigned long long>(totals.requeued),
                    static_cast<unsigned long long>(totals.failed), totals.cancelled ? " (cancelled)" : "");
    if (totals.failed > 0)
        return context.fail(std::to_string(totals.failed) + " dead letters could not be requeued");
    if (totals.cancelled)
        return context.fail("requeue cancelled; requeued " + std::to_string(totals.requeued));
    return kExitOk;
}

}  // namespace

std::vector<CommandSpec> dlqRequeueCommands() {
    return {{"dlq requeue",
             "[ID...]",
             "move dead letters back to a queue (their source queue by default)",
             "Select exact messages by message id or sequence, or every dead letter (--all) or those matching\n"
             "--reason and/or --source. Each message is stored in the target and settled in the DLQ in one atomic\n"
             "step; the report lists any that failed. Ctrl-C cancels the job (what was requeued stays requeued).",
             {{"--all", "", "every dead letter (of --from, else of every dead-letter queue)"},
              {"--reason", "R", "rejected, max-attempts, expired, overflow or tx-unresolved"},
              {"--source", "QUEUE", "dead letters whose source queue is QUEUE"},
              {"--from", "DLQ", "take them from this dead-letter queue (or this queue's DLQ)"},
              {"--to", "QUEUE", "requeue into QUEUE instead of each message's source queue"},
              {"--rate", "N", "at most N messages per second (default: as fast as possible)"}},
             0,
             kUnlimited,
             dlqRequeue}};
}

}  // namespace depotctl
