// consumer_manual_ack: the broker → consumer stage. With automatic acks a message is settled as it is SENT, so a
// consumer that crashes mid-work loses it. With manual acks (the default) it is settled only when the work is done:
//
//   - the handler returns normally   → ack: the broker forgets the message;
//   - the handler throws             → nack with requeue: retried after the queue's backoff, never acked; after
//                                      max-attempts deliveries it is dead-lettered (reason max-attempts);
//   - context.reject(error)          → nack without requeue: dead-lettered now (reason rejected), for messages
//                                      no retry can fix (a poison message), with the error kept in its death record;
//   - the consumer dies before acking → the broker redelivers (disconnect, or ack timeout).
//
// It publishes three messages ("ok", "flaky", "poison"), handles them as above, then shows the poison message in
// the dead-letter queue with its death record.
//
// Run:  depotd --data /tmp/depot-data &   then   consumer_manual_ack [--endpoint tcp://127.0.0.1:7420]
// Exit code 0 when "ok" was acked, "flaky" succeeded on its retry and "poison" is in the dead-letter queue.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
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

template <typename Predicate>
bool waitFor(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    if (!parseEndpoint(argc, argv, options.endpoint))
        return 2;
    options.client = "example-consumer-manual-ack";
    Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
    if (!connection) {
        std::fprintf(stderr, "cannot connect: %s\n", connection.status().toString().c_str());
        return 1;
    }
    Admin admin(*connection);
    broker::QueueSpec spec;
    spec.name = "example.work";
    spec.policy.maxAttempts = 3;
    spec.policy.backoff = {Millis(200)};  // short for the demonstration; the default is 1s, 5s, 15s, 30s
    Result<broker::QueueInfo> declared = admin.declareQueue(spec);
    if (!declared) {
        std::fprintf(stderr, "declare: %s\n", declared.status().toString().c_str());
        return 1;
    }
    const std::string dlq = declared->deadLetterQueue;  // "example.work.dlq"
    (void)admin.purgeQueue(spec.name);                  // leftovers of an earlier run
    (void)admin.purgeQueue(dlq);

    Producer producer(*connection);
    for (const char* body : {"ok", "flaky", "poison"}) {
        broker::PublishRequest request;
        request.routingKey = spec.name;
        request.message.body = body;
        if (!producer.send(request).ok()) {
            std::fprintf(stderr, "publish %s was not confirmed\n", body);
            return 1;
        }
    }

    std::atomic<bool> okDone{false}, flakyDone{false}, poisonRejected{false};
    ConsumerOptions consumerOptions;
    consumerOptions.queue = spec.name;
    auto consumer = Consumer::subscribe(
        *connection, consumerOptions, [&](const broker::Delivery& delivery, DeliveryContext& context) {
            std::printf("delivery: %s (attempt %u)\n", delivery.body.c_str(), delivery.attempt);
            if (delivery.body == "flaky" && delivery.attempt == 1)
                throw std::runtime_error("downstream timed out");  // → nack, requeue: retried after backoff
            if (delivery.body == "poison") {
                context.reject("cannot parse the order");  // → dead-lettered now
                poisonRejected = true;
                return;
            }
            (delivery.body == "ok" ? okDone : flakyDone) = true;  // returning normally acks
        });
    if (!consumer) {
        std::fprintf(stderr, "consume: %s\n", consumer.status().toString().c_str());
        return 1;
    }
    bool ok = waitFor([&] { return okDone && flakyDone && poisonRejected; });
    // The rejection reaches the dead-letter queue once the nack is processed.
    ok = ok && waitFor([&] {
             Result<broker::BrowsePage> page = admin.browse(dlq);
             return page && page->matched == 1;
         });
    (void)(*consumer)->close();

    Result<broker::BrowsePage> dead = admin.browse(dlq);  // browsing changes nothing
    if (dead) {
        for (const broker::QueuedMessage& message : dead->messages) {
            std::printf("dead letter: %s, reason %s, from %s after %u attempt(s), error \"%s\"\n", message.body.c_str(),
                        message.death ? std::string(broker::toString(message.death->reason)).c_str() : "?",
                        message.death ? message.death->sourceQueue.c_str() : "?",
                        message.death ? message.death->attempts : 0,
                        message.death ? message.death->lastError.c_str() : "");
            ok = ok && message.body == "poison";
        }
    }
    (*connection)->close();
    std::printf("%s\n", ok ? "consumer_manual_ack: OK" : "consumer_manual_ack: FAILED");
    return ok ? 0 : 1;
}
