// transactional_producer: a message that must be published if and only if a local change commits, without an
// outbox table. The producer publishes a HALF message (invisible to consumers), makes its local change, then
// commits or rolls back the half message:
//
//   - local change committed  → commit(): the message becomes visible;
//   - local change failed     → rollback(): the message is discarded, no consumer ever sees it;
//   - producer crashed in between → the broker CHECKS BACK with the producer group (after 30 s, then again, up to
//     15 times, then dead-letters it as tx-unresolved). The checker answers from the local database: committed →
//     Commit, no trace of it → Rollback, still running → Unknown (ask again later).
//
// The check-back needs ClientOptions::producerGroup and a live connection of that group. With --wait-check-back
// the example leaves one transaction open on purpose and waits (about 30 s) for the broker's check-back.
//
// Run:  depotd --data /tmp/depot-data &   then   transactional_producer [--endpoint tcp://127.0.0.1:7420]
//       [--wait-check-back]
// Exit code 0 when the committed message was delivered, the rolled-back one was not (and, with
// --wait-check-back, the checked-back one was committed by the checker and delivered).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/Producer.h"

using namespace depot;
using namespace depot::client;

namespace {

// Stands in for the application's database: the transactions whose local change committed.
struct LocalDatabase {
    std::mutex mutex;
    std::set<std::string> committed;
};

broker::PublishRequest halfMessage(const std::string& queue, const std::string& transaction, const std::string& body) {
    broker::PublishRequest request;
    request.routingKey = queue;
    request.transaction = transaction;  // a half message: stored, invisible until the transaction commits
    request.message.body = body;
    return request;
}

// The next delivery's body ("" if none within `timeout`), acked.
std::string next(Consumer& consumer, Millis timeout) {
    std::optional<broker::Delivery> delivery = consumer.receive(timeout);
    if (!delivery)
        return {};
    (void)consumer.ack(*delivery);
    return delivery->body;
}

}  // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    bool waitCheckBack = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            options.endpoint = argv[++i];
        } else if (std::strcmp(argv[i], "--wait-check-back") == 0) {
            waitCheckBack = true;
        } else {
            std::fprintf(stderr, "usage: %s [--endpoint ENDPOINT] [--wait-check-back]\n", argv[0]);
            return 2;
        }
    }
    options.client = "example-transactional-producer";
    options.producerGroup = "example-orders";  // the broker's check-backs go to this group
    Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
    if (!connection) {
        std::fprintf(stderr, "cannot connect: %s\n", connection.status().toString().c_str());
        return 1;
    }
    Admin admin(*connection);
    broker::QueueSpec spec;
    spec.name = "example.tx";
    if (Result<broker::QueueInfo> declared = admin.declareQueue(spec); !declared) {
        std::fprintf(stderr, "declare: %s\n", declared.status().toString().c_str());
        return 1;
    }
    (void)admin.purgeQueue(spec.name);
    ConsumerOptions consumerOptions;
    consumerOptions.queue = spec.name;
    auto consumer = Consumer::open(*connection, consumerOptions);
    if (!consumer) {
        std::fprintf(stderr, "consume: %s\n", consumer.status().toString().c_str());
        return 1;
    }

    LocalDatabase db;
    Producer producer(*connection);
    Status checker = producer.setTransactionChecker([&](const std::string& transaction, const std::string& id) {
        std::lock_guard lock(db.mutex);
        const bool committed = db.committed.count(transaction) != 0;
        std::printf("check-back for %s (message %s): %s\n", transaction.c_str(), id.c_str(),
                    committed ? "commit" : "rollback");
        return committed ? TransactionDecision::Commit : TransactionDecision::Rollback;
    });
    if (!checker) {
        std::fprintf(stderr, "checker: %s\n", checker.toString().c_str());
        return 1;
    }
    const std::string run =
        std::to_string(::getpid()) + "-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    bool ok = true;

    // A: half message, local change commits, then commit.
    const std::string a = "tx-a-" + run;
    ok = ok && producer.send(halfMessage(spec.name, a, "order A")).ok();
    ok = ok && next(**consumer, Millis(300)).empty();  // invisible while the transaction is open
    {
        std::lock_guard lock(db.mutex);
        db.committed.insert(a);
    }
    const SendResult committed = producer.commit(a);
    std::printf("transaction A: %s\n", std::string(outcomeName(committed)).c_str());
    const std::string deliveredA = next(**consumer, Millis(10000));
    std::printf("delivered: %s\n", deliveredA.c_str());
    ok = ok && committed.ok() && deliveredA == "order A";

    // B: half message, local change fails, rollback: never delivered.
    const std::string b = "tx-b-" + run;
    ok = ok && producer.send(halfMessage(spec.name, b, "order B")).ok();
    const SendResult rolledBack = producer.rollback(b);
    std::printf("transaction B rolled back: %s\n", rolledBack.status.toString().c_str());
    ok = ok && rolledBack.status.isOk() && next(**consumer, Millis(500)).empty();

    if (waitCheckBack) {
        // C: the local change commits, but the producer "crashes" before commit(): the broker asks.
        const std::string c = "tx-c-" + run;
        ok = ok && producer.send(halfMessage(spec.name, c, "order C")).ok();
        {
            std::lock_guard lock(db.mutex);
            db.committed.insert(c);
        }
        std::printf("transaction C left open; waiting for the broker's check-back...\n");
        const std::string deliveredC = next(**consumer, Millis(90000));
        std::printf("delivered: %s\n", deliveredC.c_str());
        ok = ok && deliveredC == "order C";
    }
    (void)(*consumer)->close();
    (*connection)->close();
    std::printf("%s\n", ok ? "transactional_producer: OK" : "transactional_producer: FAILED");
    return ok ? 0 : 1;
}
