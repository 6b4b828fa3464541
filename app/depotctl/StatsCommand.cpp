// stats [--watch]: the broker's Stats object (docs/protocol.md), once or every second with per-queue rates.
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

constexpr const char* kCounterNames[] = {"published", "confirmed", "nacked",       "delivered", "redelivered",
                                         "acked",     "retried",   "deadLettered", "expired",   "deduplicated"};
constexpr const char* kRateNames[] = {"published", "delivered", "acked"};

std::string countersText(const Json& counters) {
    std::string text;
    for (const char* name : kCounterNames)
        text += (text.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(jsonNumber(counters, name));
    return text;
}

std::string latencyText(const Json& latency) {
    if (jsonNumber(latency, "count") == 0)
        return "-";
    return "p50 " + std::to_string(jsonNumber(latency, "p50Us")) + " us, p99 " +
           std::to_string(jsonNumber(latency, "p99Us")) + " us, max " + std::to_string(jsonNumber(latency, "maxUs")) +
           " us (" + std::to_string(jsonNumber(latency, "count")) + ")";
}

std::string rateText(double rate) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", rate);
    return text;
}

// Per queue, per counter of kRateNames: events per second between two samples. Empty when they are not apart.
std::map<std::string, std::map<std::string, double>> ratesBetween(const Json& previous, const Json& current) {
    std::map<std::string, std::map<std::string, double>> rates;
    const double seconds = (double(jsonNumber(current, "at")) - double(jsonNumber(previous, "at"))) / 1000.0;
    if (seconds <= 0)
        return rates;
    std::map<std::string, const Json*> before;
    for (const Json& queue : jsonArray(previous, "queues"))
        before[jsonText(queue, "name")] = &queue;
    for (const Json& queue : jsonArray(current, "queues")) {
        auto it = before.find(jsonText(queue, "name"));
        if (it == before.end())
            continue;
        for (const char* name : kRateNames) {
            const double delta = double(jsonNumber(jsonObject(queue, "counters"), name)) -
                                 double(jsonNumber(jsonObject(*it->second, "counters"), name));
            rates[it->first][name] = delta > 0 ? delta / seconds : 0;
        }
    }
    return rates;
}

std::string summaryText(const Json& stats) {
    const Json& log = jsonObject(stats, "log");
    const Json& latency = jsonObject(stats, "latency");
    std::string text = "broker at " + formatTime(int64_t(jsonNumber(stats, "at"))) + ": " +
                       std::to_string(jsonNumber(stats, "connections")) + " connections, " +
                       std::to_string(jsonNumber(stats, "consumers")) + " consumers\n";
    text += "totals:    " + countersText(jsonObject(stats, "totals")) + "\n";
    text += "log:       written to offset " + std::to_string(jsonNumber(log, "writtenOffset")) + ", durable to " +
            std::to_string(jsonNumber(log, "durableOffset")) + ", " + std::to_string(jsonNumber(log, "segments")) +
            " segments, " + formatBytes(jsonNumber(log, "bytesOnDisk")) + " on disk\n";
    text += "unflushed: " + std::to_string(jsonNumber(stats, "unflushedMessages")) +
            " confirmed messages not yet covered by an fdatasync\n";
    if (log.value("readOnly", false))
        text += "READ-ONLY: the log refuses writes: " + jsonText(log, "failure") + "\n";
    text += "confirm:   " + latencyText(jsonObject(latency, "confirm")) + "\n";
    text += "deliver:   " + latencyText(jsonObject(latency, "deliver")) + "\n";
    text += "fsync:     " + latencyText(jsonObject(latency, "fsync")) + "\n";
    if (uint64_t dropped = jsonNumber(stats, "traceDropped"))
        text += "trace events dropped: " + std::to_string(dropped) + "\n";
    return text;
}

std::string queuesText(const Json& stats, const std::map<std::string, std::map<std::string, double>>* rates) {
    std::vector<std::string> headers = {"QUEUE",     "READY",     "UNACKED",   "DELAYED", "CONSUMERS",
                                        "DLQ DEPTH", "PUBLISHED", "DELIVERED", "ACKED",   "DEAD"};
    if (rates)
        headers.insert(headers.end(), {"PUB/S", "DLV/S", "ACK/S"});
    Table table(headers);
    for (size_t column = 1; column < headers.size(); ++column)
        table.setNumeric(column);
    for (const Json& queue : jsonArray(stats, "queues")) {
        const Json& counters = jsonObject(queue, "counters");
        const std::string name = jsonText(queue, "name");
        std::vector<std::string> row = {name};
        for (const char* key : {"ready", "unacked", "delayed", "consumers", "deadLetterDepth"})
            row.push_back(std::to_string(jsonNumber(queue, key)));
        for (const char* key : {"published", "delivered", "acked", "deadLettered"})
            row.push_back(std::to_string(jsonNumber(counters, key)));
        if (rates) {
            auto it = rates->find(name);
            for (const char* key : kRateNames)
                row.push_back(it == rates->end() ? "-" : rateText(it->second.at(key)));
        }
        table.addRow(std::move(row));
    }
    return table.empty() ? "no queues\n" : table.render();
}

void printSample(Context& context, const Json& stats, const Json* previous) {
    const auto rates = previous ? ratesBetween(*previous, stats) : decltype(ratesBetween(stats, stats)){};
    if (context.json()) {
        Json line = stats;
        if (previous)
            line["rates"] = rates;
        printJsonLine(line);
        return;
    }
    static const bool kTerminal = ::isatty(STDOUT_FILENO);
    std::string text = kTerminal && previous ? "\033[H\033[2J" : (previous ? "\n" : "");
    text += summaryText(stats) + "\n" + queuesText(stats, previous ? &rates : nullptr);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

// Sleeps `interval`, waking early for a stop signal.
void pause(Millis interval) {
    const auto until = std::chrono::steady_clock::now() + interval;
    while (!stopRequested() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(Millis(50));
}

int stats(Context& context, const Arguments& args) {
    const bool watch = args.has("--watch");
    if (!watch && (args.has("--interval") || args.has("--count")))
        throw UsageError("--interval and --count go with --watch");
    const Millis interval = args.duration("--interval").value_or(Millis(1000));
    if (interval.count() <= 0)
        throw UsageError("--interval must be positive");
    const uint64_t samples = watch ? args.number("--count").value_or(0) : 1;
    catchStopSignals();
    std::optional<Json> previous;
    for (uint64_t n = 0; (samples == 0 || n < samples) && !stopRequested(); ++n) {
        if (n > 0)
            pause(interval);
        if (stopRequested())
            break;
        Result<Json> current = context.call("stats");
        if (!current)
            return context.fail(current.status());
        printSample(context, *current, previous ? &*previous : nullptr);
        previous = std::move(current).value();
    }
    return kExitOk;
}

}  // namespace

std::vector<CommandSpec> statsCommands() {
    return {{"stats",
             "",
             "broker totals, per-queue depth and counters, log and latency figures",
             "With --watch, a new sample every second (until Ctrl-C) with per-queue rates: published, delivered\n"
             "and acked messages per second. With --json, the broker's Stats object per line (+ \"rates\").",
             {{"--watch", "", "repeat every --interval"},
              {"--interval", "D", "time between samples with --watch (default 1s)"},
              {"--count", "N", "stop after N samples with --watch"}},
             0,
             0,
             stats}};
}

}  // namespace depotctl
