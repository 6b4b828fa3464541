// consume QUEUE: prints each delivery as one JSON line, after settling it durably (manual acks).
#include <algorithm>
#include <chrono>
#include <future>
#include <vector>

#include "Commands.h"
#include "Context.h"
#include "Signals.h"
#include "depot/broker/Duration.h"
#include "depot/client/Consumer.h"

namespace depotctl {

namespace {

using depot::Result;
using depot::Status;
using depot::broker::Delivery;
using depot::client::Consumer;
using Clock = std::chrono::steady_clock;

constexpr Millis kPollSlice{200};      // how often a waiting consume looks at the stop flag and the deadline
constexpr uint64_t kSettleBatch = 64;  // deliveries settled at once

enum class Settle { Ack, Retry, Reject };

struct ConsumePlan {
    depot::client::ConsumerOptions consumer;
    uint64_t count = 0;  // 0: until the timeout or a stop signal
    std::optional<Millis> timeout;
    Settle settle = Settle::Ack;
    std::string error;
};

ConsumePlan planFrom(Context& context, const Arguments& args) {
    ConsumePlan plan;
    plan.consumer.queue = args.positionals[0];
    plan.consumer.name = "depotctl";
    args.exclusive({"--fail", "--reject"});
    plan.consumer.autoAck = args.choice("--ack", {"manual", "auto"}).value_or("manual") == "auto";
    const bool nacks = args.has("--fail") || args.has("--reject");
    if (plan.consumer.autoAck && nacks)
        throw UsageError("--fail and --reject need --ack manual: with auto acks the broker settles on sending");
    if (args.has("--error") && !nacks)
        throw UsageError("--error is the text of a nack: give it with --fail or --reject");
    plan.settle = args.has("--fail") ? Settle::Retry : args.has("--reject") ? Settle::Reject : Settle::Ack;
    plan.error =
        args.value("--error").value_or(plan.settle == Settle::Retry ? "failed by depotctl" : "rejected by depotctl");
    plan.count = args.number("--count").value_or(0);
    // The broker sends no more than --count: a delivery this process took but never printed would be redelivered
    // later with one more attempt counted against it (and, with --ack auto, be lost).
    plan.consumer.limit = plan.count;
    const uint64_t fallback = plan.count ? std::min<uint64_t>(plan.count, 1000) : 100;
    plan.consumer.prefetch = static_cast<uint32_t>(args.number("--prefetch", 10000).value_or(fallback));
    if (plan.consumer.prefetch == 0)
        throw UsageError("--prefetch must be at least 1");
    plan.timeout = args.duration("--timeout");
    if (!plan.timeout)
        plan.timeout = context.options().timeout;  // `depotctl --timeout 5s consume ...`
    return plan;
}

Status settle(Consumer& consumer, const Delivery& delivery, const ConsumePlan& plan) {
    if (plan.consumer.autoAck)
        return Status::ok();
    if (plan.settle == Settle::Ack)
        return consumer.ackDurable(delivery);
    return consumer.nackDurable(delivery, {plan.settle == Settle::Retry, plan.error});
}

std::string shortfall(const ConsumePlan& plan, uint64_t received) {
    std::string text = "received " + std::to_string(received) + " of " + std::to_string(plan.count) +
                       " messages from '" + plan.consumer.queue + "'";
    if (stopRequested())
        return text + " before being interrupted";
    return text + " within " + depot::broker::formatDuration(*plan.timeout);
}

// Deliveries already waiting, after `first`, up to `limit` in all.
std::vector<Delivery> takeBatch(Consumer& consumer, Delivery first, uint64_t limit) {
    std::vector<Delivery> batch;
    batch.push_back(std::move(first));
    while (batch.size() < std::min<uint64_t>(limit, kSettleBatch)) {
        std::optional<Delivery> next = consumer.receive(Millis(0));
        if (!next)
            break;
        batch.push_back(std::move(*next));
    }
    return batch;
}

// Settles the batch concurrently, so that its settlements share fdatasyncs (one at a time, each would wait for
// its own), prints every delivery whose settlement is durable, in order, and returns how many. `failure` gets
// the first error.
uint64_t settleAndPrint(Consumer& consumer, const std::vector<Delivery>& batch, const ConsumePlan& plan,
                        std::string& failure) {
    std::vector<std::future<Status>> settling;
    for (const Delivery& delivery : batch)
        settling.push_back(
            std::async(std::launch::async, [&consumer, &delivery, &plan] { return settle(consumer, delivery, plan); }));
    uint64_t printed = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
        const Status settled = settling[i].get();
        if (!settled) {
            if (failure.empty())
                failure = "settling message '" + batch[i].messageId +
                          "' failed (it will be delivered again): " + settled.message();
            continue;
        }
        printJsonLine(deliveryToJson(batch[i]));
        ++printed;
    }
    return printed;
}

// Receives until the count, the deadline or a stop signal. Returns the exit code.
int receiveLoop(Context& context, Consumer& consumer, const ConsumePlan& plan) {
    const auto deadline = plan.timeout ? std::optional(Clock::now() + *plan.timeout) : std::nullopt;
    uint64_t received = 0;
    while ((plan.count == 0 || received < plan.count) && !stopRequested()) {
        Millis wait = kPollSlice;
        if (deadline) {
            const auto left = std::chrono::duration_cast<Millis>(*deadline - Clock::now());
            if (left <= Millis(0))
                break;
            wait = std::min(wait, left);
        }
        std::optional<Delivery> delivery = consumer.receive(wait);
        if (!delivery) {
            if (Status status = consumer.status(); !status)
                return context.fail(status);
            continue;
        }
        const uint64_t wanted = plan.count ? plan.count - received : kSettleBatch;
        std::string failure;
        received += settleAndPrint(consumer, takeBatch(consumer, std::move(*delivery), wanted), plan, failure);
        if (!failure.empty())
            return context.fail(failure);
    }
    if (plan.count && received < plan.count)
        return context.fail(shortfall(plan, received));
    return kExitOk;
}

int consume(Context& context, const Arguments& args) {
    const ConsumePlan plan = planFrom(context, args);
    catchStopSignals();
    Result<std::shared_ptr<depot::client::Connection>> connection = context.connection();
    if (!connection)
        return context.fail(connection.status());
    Result<std::unique_ptr<Consumer>> consumer = Consumer::open(*connection, plan.consumer);
    if (!consumer)
        return context.fail(consumer.status());
    const int code = receiveLoop(context, **consumer, plan);
    (void)(*consumer)->close();  // what this process did not print goes back to the queue
    return code;
}

}  // namespace

std::vector<CommandSpec> consumeCommands() {
    return {
        {"consume",
         "QUEUE",
         "receive messages and print each as one JSON line",
         "Each delivery prints as {\"id\", \"body\" (or \"bodyBase64\"), \"headers\", \"attempt\", \"redelivered\",\n"
         "\"queue\", \"sequence\", \"key\", \"publishedAt\", \"death\" (dead letters)}. With manual acks (default)\n"
         "a message is printed only after the broker has made its settlement durable: once printed it is never\n"
         "delivered again. Without --count, runs until --timeout or Ctrl-C. Exit 1 if fewer than --count\n"
         "messages arrived in time. The broker sends at most --count messages. --ack auto is lossy: the broker\n"
         "settles each message as it sends it, so a crash of depotctl loses what it had not printed.",
         {{"--count", "N", "stop after N messages"},
          {"--timeout", "D", "stop after D (exit 1 if --count messages have not arrived)"},
          {"--ack", "manual|auto", "manual (default); auto: the broker settles on sending (a crash loses it)"},
          {"--prefetch", "N", "unacked deliveries at once (default: --count up to 1000, else 100)"},
          {"--fail", "", "nack with requeue: a retry after the queue's backoff"},
          {"--reject", "", "nack without requeue: dead-letter now"},
          {"--error", "TEXT", "the error text of --fail/--reject (kept in the death record)"}},
         1,
         1,
         consume}};
}

}  // namespace depotctl
