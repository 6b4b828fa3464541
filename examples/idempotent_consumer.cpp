// idempotent_consumer: the last defence of the broker → consumer stage. Every reliable delivery is AT LEAST once:
// a consumer that crashes after its work and before its ack gets the message again, and a producer resending
// after a lost confirm outside the dedup window stores it twice. Work that must happen once (charging a card,
// crediting an account) needs the consumer to recognise a message it has already processed.
//
// client::IdempotentConsumer keeps a ledger of processed message ids in the application's SQLite database and,
// for each delivery, runs the handler's writes and the ledger insert in ONE transaction: a second delivery of the
// same id is acked without running the handler; a failing handler rolls back both and is retried.
//
// The example publishes payment "pay-1" (30) twice to a queue without deduplication, and "pay-2" (12) once; the
// account ends at 42, not 72.
//
// Run:  depotd --data /tmp/depot-data &   then   idempotent_consumer [--endpoint tcp://127.0.0.1:7420] [--db FILE]
// (--db: the application's SQLite file; default a temporary one, removed at the end.)
// Exit code 0 when the balance is 42 and one delivery was recognised as already processed.
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/IdempotentConsumer.h"
#include "depot/client/Producer.h"

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

long long readBalance(const std::string& database) {
    sqlite3* db = nullptr;
    long long balance = -1;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_open(database.c_str(), &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT balance FROM accounts WHERE id = 1", -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW)
        balance = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return balance;
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
        char pattern[] = "/tmp/depot-ledger-example-XXXXXX";
        if (!::mkdtemp(pattern)) {
            std::perror("mkdtemp");
            return 1;
        }
        scratch = pattern;
        database = scratch + "/bank.db";
    }
    {
        sqlite3* db = nullptr;
        sqlite3_open(database.c_str(), &db);
        const Status created = execSql(db,
                                       "DROP TABLE IF EXISTS accounts;"
                                       "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
                                       "INSERT INTO accounts VALUES (1, 0)");
        sqlite3_close(db);
        if (!created) {
            std::fprintf(stderr, "%s: %s\n", database.c_str(), created.toString().c_str());
            return 1;
        }
    }
    options.client = "example-idempotent-consumer";
    Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
    if (!connection) {
        std::fprintf(stderr, "cannot connect: %s\n", connection.status().toString().c_str());
        return 1;
    }
    Admin admin(*connection);
    broker::QueueSpec spec;
    spec.name = "example.payments";
    spec.policy.dedupWindow = Millis(0);  // the broker stores duplicates: only the consumer can catch them
    if (Result<broker::QueueInfo> declared = admin.declareQueue(spec); !declared) {
        std::fprintf(stderr, "declare: %s\n", declared.status().toString().c_str());
        return 1;
    }
    (void)admin.purgeQueue(spec.name);

    // Ids unique to this run, so a ledger kept in --db from an earlier run does not recognise them.
    const std::string run =
        std::to_string(::getpid()) + "-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    Producer producer(*connection);
    bool ok = true;
    const std::pair<const char*, const char*> payments[] = {{"pay-1", "30"}, {"pay-1", "30"}, {"pay-2", "12"}};
    for (const auto& [id, amount] : payments) {
        broker::PublishRequest request;
        request.routingKey = spec.name;
        request.message.id = std::string(id) + "-" + run;
        request.message.body = amount;
        ok = ok && producer.send(request).ok();
    }

    IdempotentOptions ledger;
    ledger.database = database;
    ConsumerOptions consumerOptions;
    consumerOptions.queue = spec.name;
    auto consumer = IdempotentConsumer::subscribe(
        *connection, consumerOptions, ledger,
        [](const broker::Delivery& delivery, sqlite3* db, DeliveryContext&) -> Status {
            // The business effect, in the ledger's transaction: do not BEGIN or COMMIT here.
            std::printf("applying %s: +%s\n", delivery.messageId.c_str(), delivery.body.c_str());
            return execSql(db, "UPDATE accounts SET balance = balance + " + std::to_string(std::stoll(delivery.body)) +
                                   " WHERE id = 1");
        });
    if (!consumer) {
        std::fprintf(stderr, "consume: %s\n", consumer.status().toString().c_str());
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((*consumer)->stats().processed + (*consumer)->stats().skipped < 3 &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)(*consumer)->close();
    const LedgerStats stats = (*consumer)->stats();
    const long long balance = readBalance(database);
    std::printf("processed %llu, recognised as duplicates %llu, balance %lld\n",
                static_cast<unsigned long long>(stats.processed), static_cast<unsigned long long>(stats.skipped),
                balance);
    ok = ok && stats.processed == 2 && stats.skipped == 1 && balance == 42;

    consumer->reset();
    (*connection)->close();
    if (!scratch.empty())
        std::filesystem::remove_all(scratch);
    std::printf("%s\n", ok ? "idempotent_consumer: OK" : "idempotent_consumer: FAILED");
    return ok ? 0 : 1;
}
