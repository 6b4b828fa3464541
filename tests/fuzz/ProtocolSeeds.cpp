// depot-protocol-seeds write|check CORPUS_DIR: the seed corpora of FuzzProtocolFrames and FuzzProtocolJson, made
// with the codec itself so they are valid encodings. `write` (re)creates them under CORPUS_DIR/<target>/; `check`
// (a ctest) fails when a committed seed is missing or differs from what the codec writes today, so a format change
// cannot leave the fuzzers starting from stale bytes: run `write` on tests/fuzz/corpus and commit the result.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "FuzzProtocolFrames.h"
#include "protocol/Protocol.h"
#include "protocol/ProtocolJson.h"

using namespace depot;
using namespace depot::broker;
using namespace depot::protocol;
using depot::test::FrameKind;
using namespace std::string_literals;

namespace {

using Seeds = std::vector<std::pair<std::string, std::string>>;  // file name, bytes

std::string frame(FrameKind kind, const std::string& bytes) { return char(kind) + bytes; }

DeathRecord death() {
    DeathRecord d;
    d.reason = DeathReason::MaxAttempts;
    d.sourceQueue = "orders";
    d.attempts = 5;
    d.firstDeathAt = 1'700'000'100'000;
    d.lastDeathAt = 1'700'000'900'000;
    d.deaths = 2;
    d.lastError = "timeout";
    d.requeues = {{1'700'000'200'000, "alice@127.0.0.1", "orders.dlq", "orders"}};
    return d;
}

Delivery delivery(bool dead) {
    Delivery d;
    d.consumer = 12;
    d.tag = 345;
    d.sequence = 6789;
    d.publishedAt = 1'700'000'000'123;
    d.queue = dead ? "orders.dlq" : "orders";
    d.messageId = "m1";
    d.key = "customer-7";
    d.headers = {{"content-type", "text/plain"}};
    if (dead) {
        d.attempt = 6;
        d.redelivered = true;
        d.death = death();
    }
    return d;
}

Seeds frameSeeds() {
    PublishRequest doc;  // docs/protocol.md, "A session, byte by byte"
    doc.routingKey = "orders";
    doc.message.id = "m1";
    PublishRequest full = doc;
    full.exchange = "events";
    full.message.key = "customer-7";
    full.producer = "billing";
    full.transaction = "tx-1";
    full.message.ttl = Millis(60000);
    full.message.delay = Millis(1500);
    full.message.headers = {{"content-type", "application/json"}, {"bin", "\0\xff"s}, {"empty", ""}};
    PublishResult confirmed{PublishOutcome::Confirmed, NackReason::None, "", "m1", {"orders", "audit"}};
    PublishResult nacked{PublishOutcome::Nacked, NackReason::NoRoute, "no queue is bound to 'x'", "m2", {}};
    return {
        {"envelope-publish-oneway", frame(FrameKind::Envelope, encodeEnvelope({1, Command::Publish, kFlagOneway, 2}))},
        {"envelope-confirm-cumulative",
         frame(FrameKind::Envelope, encodeEnvelope({1, Command::Confirm, kFlagCumulative, 2}))},
        {"publish-doc-example", frame(FrameKind::Publish, encodePublish(doc))},
        {"publish-full", frame(FrameKind::Publish, encodePublish(full))},
        {"confirm-confirmed", frame(FrameKind::Confirm, encodeConfirm(confirmed))},
        {"confirm-nacked", frame(FrameKind::Confirm, encodeConfirm(nacked))},
        {"deliver-first", frame(FrameKind::Deliver, encodeDeliver(delivery(false)))},
        {"deliver-dead-letter", frame(FrameKind::Deliver, encodeDeliver(delivery(true)))},
        {"ack-three-tags", frame(FrameKind::Ack, encodeAck({12, {345, 346, 347}}))},
        {"nack-requeue", frame(FrameKind::Nack, encodeNack({12, 345, {true, ""}}))},
        {"nack-reject", frame(FrameKind::Nack, encodeNack({12, 346, {false, "cannot parse order"}}))},
    };
}

Seeds jsonSeeds() {
    QueuePolicy policy;
    policy.ttl = Millis(600000);
    policy.maxLength = 1000;
    policy.overflow = Overflow::DeadLetterOldest;
    policy.ordering = Ordering::PerKey;
    QueueInfo queue{7, "orders", policy, QueueKind::Normal, "orders.dlq", 1'700'000'000'000};
    QueueStats queueStats;
    queueStats.name = "orders";
    queueStats.ready = 3;
    queueStats.counters.published = 10;
    BrokerStats stats;
    stats.at = 1'700'000'000'000;
    stats.queues = {queueStats};
    QueuedMessage message;
    message.sequence = 42;
    message.queue = "orders.dlq";
    message.messageId = "m1";
    message.headers = {{"content-type", "text/plain"}, {"bin", "\0\xff"s}};
    message.body = "\x01\xfe binary"s;
    message.size = 9;
    message.death = death();
    RequeueReport report;
    report.requeued = 1;
    report.failed = 1;
    report.items = {{42, "m1", "orders", Status::ok()}, {43, "m2", "gone", Status::notFound("no queue 'gone'")}};
    MessageFilter filter;
    filter.reason = DeathReason::Rejected;
    filter.sourceQueue = "orders";
    filter.sequences = {1, 2};
    TraceEvent event{1'700'000'000'000, TraceKind::DeadLettered, "orders", 42, "m1", "customer-7", "max-attempts"};
    AuditEntry audit{1'700'000'000'000, "alice@127.0.0.1", "purge", "orders", "", 3, true};
    MetricsSample sample;
    sample.at = 1'700'000'000'000;
    sample.queue = "orders";
    sample.ready = 5;
    Json declare = {{"op", "queue.declare"}, {"name", "orders"}, {"kind", "normal"}, {"policy", policyToJson(policy)}};
    Json requeue = {{"op", "requeue.start"},
                    {"queue", "orders.dlq"},
                    {"filter", filterToJson(filter)},
                    {"target", ""},
                    {"bodyBase64", "AP8="},
                    {"headers", headersToJson(message.headers)},
                    {"rate", 10}};
    return {
        {"hello.json", R"({"client":"demo","role":"producer","heartbeatMs":2000,"producer":"billing"})"},
        {"admin-queue-declare.json", declare.dump()},
        {"admin-requeue-start.json", requeue.dump()},
        {"queue.json", queueInfoToJson(queue).dump()},
        {"exchange.json", exchangeToJson({"events", ExchangeType::Topic, "unrouted"}).dump()},
        {"binding.json", bindingToJson({"events", "orders", "orders.*.created"}).dump()},
        {"message.json", messageToJson(message).dump()},
        {"report.json", reportToJson(report).dump()},
        {"stats.json", statsToJson(stats).dump()},
        {"trace-event.json", traceEventToJson(event).dump()},
        {"audit-entry.json", auditEntryToJson(audit).dump()},
        {"sample.json", sampleToJson(sample).dump()},
    };
}

// Each seed must be accepted by the decoder it is meant for, or it would seed only the error paths.
Status decodeSeed(const std::string& name, const std::string& bytes) {
    if (name.ends_with(".json"))
        return parseObject(bytes).status();
    std::string_view header = std::string_view(bytes).substr(1);
    switch (FrameKind(bytes[0])) {
        case FrameKind::Envelope:
            return decodeEnvelope(header).status();
        case FrameKind::Publish:
            return decodePublish(header, depot::test::kFuzzBody).status();
        case FrameKind::Confirm:
            return decodeConfirm(header).status();
        case FrameKind::Deliver:
            return decodeDeliver(header, depot::test::kFuzzBody).status();
        case FrameKind::Ack:
            return decodeAck(header).status();
        case FrameKind::Nack:
            return decodeNack(header).status();
    }
    return Status::invalidArgument("unknown frame kind");
}

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Returns the number of seeds that do not decode, or (check) are missing or differ from the committed files.
int process(bool write, const std::filesystem::path& dir, const Seeds& seeds) {
    int problems = 0;
    if (write)
        std::filesystem::create_directories(dir);
    for (const auto& [name, bytes] : seeds) {
        std::filesystem::path path = dir / name;
        if (Status status = decodeSeed(name, bytes); !status) {
            std::fprintf(stderr, "seed %s does not decode: %s\n", name.c_str(), status.toString().c_str());
            ++problems;
            continue;
        }
        if (write) {
            std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
            std::printf("wrote %s (%zu bytes)\n", path.c_str(), bytes.size());
        } else if (!std::filesystem::exists(path) || readFile(path) != bytes) {
            std::fprintf(stderr, "seed %s is missing or stale\n", path.c_str());
            ++problems;
        }
    }
    return problems;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc == 3 ? argv[1] : "";
    if (mode != "write" && mode != "check") {
        std::fprintf(stderr, "usage: depot-protocol-seeds write|check CORPUS_DIR\n");
        return 2;
    }
    std::filesystem::path corpus = argv[2];
    int problems = process(mode == "write", corpus / "FuzzProtocolFrames", frameSeeds()) +
                   process(mode == "write", corpus / "FuzzProtocolJson", jsonSeeds());
    if (problems != 0)
        std::fprintf(stderr, "regenerate with: depot-protocol-seeds write %s\n", corpus.c_str());
    return problems == 0 ? 0 : 1;
}
