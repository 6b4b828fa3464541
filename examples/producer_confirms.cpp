// producer_confirms: the producer → broker stage. A message is only safe once the broker CONFIRMS it; this shows
// the three ways to send and what each one tells you.
//
//   1. send(): blocks until confirmed or nacked, retrying an unconfirmed publish (no answer in time, connection
//      lost) with backoff under the SAME message id, so the broker's deduplication stores it once.
//   2. sendAsync(): returns at once; the callback says confirmed / duplicate / nacked / unconfirmed. An
//      unconfirmed message must be resent (with result.messageId), never assumed stored.
//   3. sendOneway(): fire and forget. LOSSY: no confirm and not even a nack. A message the broker refuses, or one
//      in flight when the connection drops, is gone without a word. Shown here so you recognise it, not to copy.
//
// A nack is an answer too: a publish to a queue that does not exist is nacked `no-queue` and was NOT stored.
//
// Run:  depotd --data /tmp/depot-data &   then   producer_confirms [--endpoint tcp://127.0.0.1:7420]
// Exit code 0 when every confirmed-mode message was confirmed and the nack came back as expected.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
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

broker::PublishRequest message(const std::string& queue, const std::string& body) {
    broker::PublishRequest request;
    request.routingKey = queue;  // the default exchange routes to the queue named by the routing key
    request.message.body = body;
    return request;
}

}  // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    if (!parseEndpoint(argc, argv, options.endpoint))
        return 2;
    options.client = "example-producer-confirms";
    Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
    if (!connection) {
        std::fprintf(stderr, "cannot connect: %s\n", connection.status().toString().c_str());
        return 1;
    }
    const std::string queue = "example.confirms";
    Admin admin(*connection);
    broker::QueueSpec spec;
    spec.name = queue;  // durable, sync flush: a confirm means the message is on disk (fdatasync'd)
    if (Result<broker::QueueInfo> declared = admin.declareQueue(spec); !declared) {
        std::fprintf(stderr, "declare %s: %s\n", queue.c_str(), declared.status().toString().c_str());
        return 1;
    }
    Producer producer(*connection);
    bool ok = true;

    // 1. Synchronous, with retries and backoff.
    SendOptions retrying;
    retrying.timeout = Millis(5000);
    retrying.retries = 3;
    retrying.backoff = Millis(200);
    const SendResult sync = producer.send(message(queue, "order 1 (sync)"), retrying);
    std::printf("sync send: %s, id %s\n", std::string(outcomeName(sync)).c_str(), sync.result.messageId.c_str());
    ok = ok && sync.ok();

    // A nack: the broker answered, and the answer is "not stored".
    const SendResult nacked = producer.send(message("example.no-such-queue", "lost?"));
    std::printf("send to a missing queue: %s (%s: %s)\n", std::string(outcomeName(nacked)).c_str(),
                std::string(broker::toString(nacked.result.reason)).c_str(), nacked.result.error.c_str());
    ok = ok && nacked.nacked() && nacked.result.reason == broker::NackReason::NoQueue;

    // 2. Asynchronous: many in flight, outcomes in the callback (it runs on the connection's I/O thread).
    std::atomic<int> confirmed{0}, problems{0};
    const int asyncCount = 100;
    for (int i = 0; i < asyncCount; ++i) {
        producer.sendAsync(message(queue, "order " + std::to_string(i) + " (async)"), [&](const SendResult& result) {
            if (result.ok())
                ++confirmed;
            else
                ++problems;  // a real application resends result.messageId's message, or records the failure
        });
    }
    const Status flushed = producer.flush(Millis(30000));
    std::printf("async send: %d confirmed, %d not (flush: %s)\n", confirmed.load(), problems.load(),
                flushed.toString().c_str());
    ok = ok && flushed && confirmed == asyncCount;

    // 3. Oneway: OK only means "handed to the socket". Nothing says whether the broker stored it.
    int handed = 0;
    for (int i = 0; i < 10; ++i)
        handed += producer.sendOneway(message(queue, "metric " + std::to_string(i) + " (oneway)")).isOk() ? 1 : 0;
    std::printf("oneway send: %d handed to the socket, outcome unknown (lossy)\n", handed);

    (*connection)->close();
    std::printf("%s\n", ok ? "producer_confirms: OK" : "producer_confirms: FAILED");
    return ok ? 0 : 1;
}
