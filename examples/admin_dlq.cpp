// admin_dlq: handling dead letters, the operator's side of the broker → consumer stage. A message that cannot be
// processed (rejected, out of attempts, expired) is not dropped: it moves to the queue's dead-letter queue with a
// death record (reason, source queue, attempts, last error, times). Once the cause is fixed the operator requeues
// it; each requeue is one atomic step (stored in the target, settled in the DLQ) and is recorded in the message's
// lineage and the audit log.
//
// The example publishes three orders, a buggy consumer rejects them all, then it lists the dead letters (browsing
// changes nothing), requeues them all to their source queue, and a fixed consumer processes them.
// depotctl does the same from a shell: `depotctl dlq list`, `depotctl dlq requeue --all`.
//
// Run:  depotd --data /tmp/depot-data &   then   admin_dlq [--endpoint tcp://127.0.0.1:7420]
// Exit code 0 when all three dead letters were listed, requeued and then processed.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/Producer.h"

using namespace depot;
using namespace depot::client;

namespace {

bool parseEndpoint(int argc, char** argv, std::string& endpoint) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            endpoint = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--endpoint ENDPOINT]\n", argv[0]);
            return false;
        }
    }
    return true;
}

// Receives up to `count` deliveries; `settle` acks or nacks each. Returns how many arrived.
template <typename Settle>
int consume(Consumer& consumer, int count, Settle settle) {
    int received = 0;
    while (received < count) {
        std::optional<broker::Delivery> delivery = consumer.receive(Millis(20000));
        if (!delivery)
            break;
        ++received;
        settle(*delivery);
    }
    return received;
}

void printDeadLetter(const broker::QueuedMessage& message) {
    const broker::DeathRecord& death = *message.death;
    std::printf("  #%llu %s \"%s\": %s from %s, %u attempt(s), %u death(s), requeued %zu time(s), error \"%s\"\n",
                static_cast<unsigned long long>(message.sequence), message.messageId.c_str(), message.body.c_str(),
                std::string(broker::toString(death.reason)).c_str(), death.sourceQueue.c_str(), death.attempts,
                death.deaths, death.requeues.size(), death.lastError.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    if (!parseEndpoint(argc, argv, options.endpoint))
        return 2;
    options.client = "example-admin-dlq";
    Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
    if (!connection) {
        std::fprintf(stderr, "cannot connect: %s\n", connection.status().toString().c_str());
        return 1;
    }
    Admin admin(*connection);
    broker::QueueSpec spec;
    spec.name = "example.invoices";
    Result<broker::QueueInfo> declared = admin.declareQueue(spec);
    if (!declared) {
        std::fprintf(stderr, "declare: %s\n", declared.status().toString().c_str());
        return 1;
    }
    const std::string dlq = declared->deadLetterQueue;
    (void)admin.purgeQueue(spec.name);
    (void)admin.purgeQueue(dlq);

    Producer producer(*connection);
    bool ok = true;
    for (int i = 1; i <= 3; ++i) {
        broker::PublishRequest request;
        request.routingKey = spec.name;
        request.message.body = "invoice " + std::to_string(i);
        ok = ok && producer.send(request).ok();
    }
    ConsumerOptions consumerOptions;
    consumerOptions.queue = spec.name;
    auto buggy = Consumer::open(*connection, consumerOptions);
    if (!buggy) {
        std::fprintf(stderr, "consume: %s\n", buggy.status().toString().c_str());
        return 1;
    }
    broker::NackOptions reject;
    reject.requeue = false;  // dead-letter now
    reject.error = "NullPointerException in InvoiceMapper (bug 1234)";
    ok = ok && consume(**buggy, 3, [&](const broker::Delivery& d) { (void)(*buggy)->nackDurable(d, reject); }) == 3;
    (void)(*buggy)->close();

    Result<broker::BrowsePage> dead = admin.browse(dlq);
    ok = ok && dead && dead->matched == 3;
    std::printf("dead letters in %s: %llu\n", dlq.c_str(), static_cast<unsigned long long>(dead ? dead->matched : 0));
    for (const broker::QueuedMessage& message : dead ? dead->messages : std::vector<broker::QueuedMessage>{})
        if (message.death)
            printDeadLetter(message);

    // The bug is fixed: requeue every dead letter to its source queue, and follow the job.
    broker::RequeueRequest requeue;
    requeue.queue = dlq;
    Result<RequeueStarted> started = admin.startRequeue(requeue);
    ok = ok && started.isOk();
    std::optional<broker::RequeueReport> report;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (started && !report && std::chrono::steady_clock::now() < deadline) {
        Result<RequeueStatus> status = admin.requeueStatus(started->job);
        if (status && status->finished)
            report = status->report;
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::printf("requeue job: %llu requeued, %llu failed\n",
                static_cast<unsigned long long>(report ? report->requeued : 0),
                static_cast<unsigned long long>(report ? report->failed : 0));
    ok = ok && report && report->requeued == 3 && report->failed == 0;

    auto fixed = Consumer::open(*connection, consumerOptions);
    ok = ok && fixed && consume(**fixed, 3, [&](const broker::Delivery& d) {
                            std::printf("processed %s (requeued %zu time(s))\n", d.body.c_str(),
                                        d.death ? d.death->requeues.size() : 0);
                            (void)(*fixed)->ack(d);
                        }) == 3;
    if (fixed)
        (void)(*fixed)->close();
    (*connection)->close();
    std::printf("%s\n", ok ? "admin_dlq: OK" : "admin_dlq: FAILED");
    return ok ? 0 : 1;
}
