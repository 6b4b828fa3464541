// outbox_relay: the local-message-table (transactional outbox) defence for the producer → broker stage. The gap
// it closes: an application commits an order to its database, then crashes before the publish is confirmed, and
// the "order created" message is lost (or it publishes first and the commit fails: a message about nothing).
//
// With client::Outbox the order row and an outbox row are written in ONE SQLite transaction; a relay thread
// publishes pending outbox rows with confirms and marks a row sent only after the broker confirmed it. A crash
// anywhere leaves the row pending; it is published on restart under the same message id, and the broker's
// deduplication stores it once. A rolled-back order leaves no outbox row, so nothing is published.
//
// Run:  depotd --data /tmp/depot-data &   then   outbox_relay [--endpoint tcp://127.0.0.1:7420] [--db FILE]
// (--db: the application's SQLite file; default a temporary one, removed at the end.)
// Exit code 0 when the committed orders' messages arrived once each and nothing is left pending or failed.
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/Outbox.h"

using namespace depot;
using namespace depot::client;

namespace {

Status execSql(sqlite3* db, const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK)
        return Status::ok();
    Status status = Status::ioError(error ? error : "sqlite3_exec failed");
    sqlite3_free(error);
    return status;
}

// The business change and its message, atomically: both rows commit or neither does.
Status placeOrder(Outbox& outbox, const std::string& queue, int order, bool paymentFails) {
    return outbox.transaction([&](sqlite3* db) -> Status {
        DEPOT_RETURN_IF_ERROR(
            execSql(db, "INSERT INTO orders (id, status) VALUES (" + std::to_string(order) + ", 'created')"));
        broker::PublishRequest request;
        request.routingKey = queue;
        request.message.body = "order " + std::to_string(order) + " created";
        DEPOT_RETURN_IF_ERROR(outbox.enqueue(db, request).status());
        if (paymentFails)
            return Status::invalidArgument("payment declined");  // rolls back the order row AND the outbox row
        return Status::ok();
    });
}

}  // namespace

int main(int argc, char** argv) {
    ClientOptions options;
    std::string database;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            options.endpoint = argv[++i];
        } else if (std::strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            database = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--endpoint ENDPOINT] [--db FILE]\n", argv[0]);
            return 2;
        }
    }
    std::string scratch;
    if (database.empty()) {
        char pattern[] = "/tmp/depot-outbox-example-XXXXXX";
        if (!::mkdtemp(pattern)) {
            std::perror("mkdtemp");
            return 1;
        }
        scratch = pattern;
        database = scratch + "/shop.db";
    }
    options.client = "example-outbox-relay";
    Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
    if (!connection) {
        std::fprintf(stderr, "cannot connect: %s\n", connection.status().toString().c_str());
        return 1;
    }
    const std::string queue = "example.orders-created";
    Admin admin(*connection);
    broker::QueueSpec spec;
    spec.name = queue;
    if (Result<broker::QueueInfo> declared = admin.declareQueue(spec); !declared) {
        std::fprintf(stderr, "declare: %s\n", declared.status().toString().c_str());
        return 1;
    }
    (void)admin.purgeQueue(queue);

    OutboxOptions outboxOptions;
    outboxOptions.database = database;
    Result<std::unique_ptr<Outbox>> outbox = Outbox::open(*connection, outboxOptions);
    if (!outbox) {
        std::fprintf(stderr, "outbox: %s\n", outbox.status().toString().c_str());
        return 1;
    }
    bool ok = (*outbox)
                  ->transaction([](sqlite3* db) {
                      return execSql(
                          db, "DROP TABLE IF EXISTS orders; CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)");
                  })
                  .isOk();
    (*outbox)->start();  // the relay thread

    std::set<std::string> expected;
    for (int order = 1; order <= 5; ++order) {
        const bool fails = order == 3;
        const Status placed = placeOrder(**outbox, queue, order, fails);
        std::printf("order %d: %s\n", order, placed ? "committed" : placed.message().c_str());
        if (!fails)
            expected.insert("order " + std::to_string(order) + " created");
        ok = ok && placed.isOk() == !fails;
    }

    ConsumerOptions consumerOptions;
    consumerOptions.queue = queue;
    auto consumer = Consumer::open(*connection, consumerOptions);
    std::set<std::string> received;
    while (consumer && received.size() < expected.size()) {
        std::optional<broker::Delivery> delivery = (*consumer)->receive(Millis(20000));
        if (!delivery)
            break;
        std::printf("received: %s (message id %s)\n", delivery->body.c_str(), delivery->messageId.c_str());
        ok = ok && received.insert(delivery->body).second;  // each exactly once
        (void)(*consumer)->ack(*delivery);
    }
    ok = ok && received == expected && consumer && !(*consumer)->receive(Millis(300));
    (*outbox)->stop();
    Result<std::vector<OutboxEntry>> pending = (*outbox)->pending();
    Result<std::vector<OutboxEntry>> failed = (*outbox)->failed();
    std::printf("outbox rows pending: %zu, failed: %zu\n", pending ? pending->size() : size_t(0),
                failed ? failed->size() : size_t(0));
    ok = ok && pending && pending->empty() && failed && failed->empty();

    if (consumer)
        (void)(*consumer)->close();
    outbox->reset();
    (*connection)->close();
    if (!scratch.empty())
        std::filesystem::remove_all(scratch);
    std::printf("%s\n", ok ? "outbox_relay: OK" : "outbox_relay: FAILED");
    return ok ? 0 : 1;
}
