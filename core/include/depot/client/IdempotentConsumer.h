#pragma once
// IdempotentConsumer: a processed-ids ledger on SQLite, so a message delivered more than once (a redelivery after
// a lost ack, a consumer crash between its commit and its ack, a duplicate publish outside the dedup window) has
// its business effect applied once.
//
// For each delivery, in ONE transaction on the application's database:
//   1. look the message id up in the ledger: found → commit nothing, ack, and do not run the handler;
//   2. run the handler with the transaction's connection, so its business writes go into the same transaction;
//   3. insert the message id into the ledger and commit; then ack.
// The handler returning an error, throwing, or deciding retry/reject rolls everything back and nacks (retry;
// reject dead-letters), so a failed attempt leaves neither a business effect nor a ledger row. A crash after the
// commit and before the ack gets the message redelivered, and step 1 then acks it without running the handler.
//
//     auto consumer = client::IdempotentConsumer::subscribe(connection, {.queue = "payments"},
//         {.database = "shop.db"},
//         [](const broker::Delivery& delivery, sqlite3* db, client::DeliveryContext&) -> Status {
//             // business writes with the SQLite C API on db (e.g. UPDATE accounts ...); don't BEGIN/COMMIT
//             return Status::ok();
//         }).value();
//
// Ledger key: (scope, message id). Consumers of the same queue that compete for its messages share a scope;
// consumers that each process every message for a different purpose (one queue each behind a fanout) need
// different scopes. A delivery without a message id is keyed by its queue and broker sequence (which survives
// retries but not a second publish).
//
// Pruning: ledger rows older than `keep` are deleted at open, then every pruneInterval after a commit, or by
// prune().
// A message redelivered after its row was pruned is processed again, so `keep` must exceed the longest time a
// message can come back: retries and ack timeouts, time spent in a dead-letter queue before a requeue, and the
// queue's dedup window for duplicate publishes.
//
// Threads: every member is thread-safe; deliveries are processed one at a time per IdempotentConsumer (several
// processes may share one ledger: BEGIN IMMEDIATE serializes them, and the second sees the first's row).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "depot/Result.h"
#include "depot/broker/Message.h"
#include "depot/client/ClientOptions.h"
#include "depot/client/Consumer.h"

struct sqlite3;  // the SQLite C API's connection; include <sqlite3.h> to write business rows

namespace depot::client {

class Connection;

struct IdempotentOptions {
    std::string database;                   // the application's SQLite file; created if missing
    std::string table = "depot_processed";  // [A-Za-z_][A-Za-z0-9_]*
    std::string scope;                      // subscribe(): empty means the consumed queue's name
    Millis keep{7LL * 24 * 3600 * 1000};    // ledger rows younger than this are never pruned
    Millis pruneInterval{3600000};
    bool wal = true;  // switch the database to WAL mode at open
};

// The business work for one delivery. `db` has the ledger's transaction open: write through it and do not begin,
// commit or roll back. Return OK to commit (then the delivery is acked); an error or an exception rolls back and
// retries (nack with requeue, the text as the error); context.retry()/reject() roll back and nack accordingly.
using IdempotentHandler =
    std::function<Status(const broker::Delivery& delivery, sqlite3* db, DeliveryContext& context)>;

enum class LedgerOutcome {
    Processed,   // the handler ran and its work committed with the ledger row
    Skipped,     // the id was in the ledger already: the handler did not run
    RolledBack,  // the handler failed or decided retry/reject, or SQLite failed: nothing was committed
};

struct LedgerStats {
    uint64_t processed = 0;
    uint64_t skipped = 0;
    uint64_t rolledBack = 0;
    uint64_t pruned = 0;
};

class IdempotentConsumer {
public:
    // The ledger only: call handle() for deliveries from your own Consumer (pull style, or inside a
    // DeliveryHandler). InvalidArgument for a bad table name or an empty database path.
    static Result<std::unique_ptr<IdempotentConsumer>> open(IdempotentOptions options);
    // The ledger plus a Consumer (Consumer::subscribe) whose handler goes through handle().
    static Result<std::unique_ptr<IdempotentConsumer>> subscribe(std::shared_ptr<Connection> connection,
                                                                 ConsumerOptions consumer, IdempotentOptions options,
                                                                 IdempotentHandler handler);
    ~IdempotentConsumer();  // close()
    IdempotentConsumer(const IdempotentConsumer&) = delete;
    IdempotentConsumer& operator=(const IdempotentConsumer&) = delete;

    // Processes one delivery as the header describes and sets `context`'s decision: Ack for Processed and
    // Skipped; Retry (with the error) or the handler's Reject for RolledBack. Never throws.
    LedgerOutcome handle(const broker::Delivery& delivery, const IdempotentHandler& handler, DeliveryContext& context);
    // A DeliveryHandler for Consumer::subscribe; this object must outlive that Consumer.
    DeliveryHandler wrap(IdempotentHandler handler);

    // Whether the ledger holds `messageId` in this consumer's scope.
    Result<bool> contains(const std::string& messageId);
    // Deletes ledger rows older than `keep` now. Returns how many.
    Result<uint64_t> prune();
    LedgerStats stats() const;
    // The scope ledger rows are written in.
    const std::string& scope() const;

    // subscribe(): the Consumer (nullptr after open()).
    Consumer* consumer();
    // Closes the Consumer, if any (Consumer::close: a running handler finishes first). Idempotent.
    Status close();

    struct State;

private:
    explicit IdempotentConsumer(std::unique_ptr<State> state);

    std::unique_ptr<State> m_state;
    std::unique_ptr<Consumer> m_consumer;
};

}  // namespace depot::client
