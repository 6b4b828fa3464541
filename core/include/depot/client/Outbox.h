#pragma once
// Outbox: the local-message-table pattern (transactional outbox) on SQLite. It closes the gap between an
// application's database commit and its publish: without it, a crash after the commit and before the confirm
// loses the message, and publishing first and committing after sends a message for a change that may roll back.
//
// The application writes its business row and an outbox row in ONE transaction on its own SQLite database, so
// both commit or neither does. A relay then publishes the pending rows, in row order, with publisher confirms,
// and marks a row sent only after the broker answered confirmed or duplicate. A crash anywhere in between leaves
// the row pending and it is published again (on the next round or the next start) under the SAME message id, so
// the broker's deduplication stores it once as long as the resend comes within the queue's dedup window (5 min by
// default; after that a consumer may see it twice: pair the outbox with an IdempotentConsumer).
//
// Writing rows, on the outbox's own connection to the database:
//
//     auto outbox = client::Outbox::open(connection, {.database = "shop.db"}).value();
//     outbox->start();  // the relay thread
//     Status done = outbox->transaction([&](sqlite3* db) -> Status {
//         // business writes with the SQLite C API on db, e.g. INSERT INTO orders ...
//         return outbox->enqueue(db, request).status();  // the outbox row, in the same transaction
//     });  // committed (and the relay woken) when the lambda returns OK; rolled back otherwise
//
// or inside the application's own transaction, on its own connection to the same file:
//
//     sqlite3_exec(db, "BEGIN IMMEDIATE", ...);  /* business writes */
//     Result<std::string> id = outbox->enqueue(db, request);
//     sqlite3_exec(db, "COMMIT", ...);
//     outbox->notify();  // optional: the relay polls every pollInterval anyway
//
// Message ids: an empty request.message.id becomes "<idPrefix>-<row id>", fixed when the row is written (rows use
// AUTOINCREMENT, so a row id is never reused after old rows are deleted: a reused id would be taken for a
// duplicate and dropped). A non-empty id is kept as it is.
//
// Failures: a transient failure (no answer in time, no session, nack overflow/storage-failed/read-only/
// shutting-down) leaves the row pending, with the reason, for another attempt after backoff. A permanent nack
// (no-queue, no-exchange, no-route, too-large, invalid) marks it failed: failed() lists those rows and
// retryFailed() makes them pending again once the cause is fixed (the queue declared, say). Rows are retried
// without limit unless maxAttempts says otherwise. Ordering: rows are published in row order, but a row that
// failed and is retried later arrives after rows that followed it.
//
// Threads: every member is thread-safe. The database file should be in WAL mode (open() switches it unless told
// not to) so the relay's reads do not block the application's writers.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Message.h"
#include "depot/client/ClientOptions.h"
#include "depot/client/Producer.h"

struct sqlite3;  // the SQLite C API's connection; include <sqlite3.h> to write business rows

namespace depot::client {

class Connection;

enum class OutboxState { Pending, Sent, Failed };

// One outbox row, as pending() and failed() list it (without the message's body and headers).
struct OutboxEntry {
    int64_t row = 0;
    std::string messageId;
    std::string exchange;
    std::string routingKey;
    OutboxState state = OutboxState::Pending;
    uint32_t attempts = 0;      // publishes whose outcome has been recorded
    std::string lastError;      // why the last attempt did not succeed ("" if none failed)
    std::string outcome;        // sent rows: "confirmed" or "duplicate"; failed rows: "nacked" or "unconfirmed"
    int64_t createdAt = 0;      // milliseconds since the Unix epoch
    int64_t nextAttemptAt = 0;  // pending rows: not published before this
    int64_t sentAt = 0;         // sent rows
};

struct OutboxOptions {
    std::string database;                // the application's SQLite file; created if missing
    std::string table = "depot_outbox";  // [A-Za-z_][A-Za-z0-9_]*; "<table>_meta" is created beside it
    // Message id prefix for rows without an id. Empty: a random one made when the table is first created and
    // kept in the database, so two applications' outboxes never produce the same ids.
    std::string idPrefix;
    size_t batchSize = 256;        // rows published (all in flight at once) per relay round
    Millis pollInterval{200};      // the relay thread looks for due rows at least this often
    Millis publishTimeout{10000};  // per publish: no answer by then counts as a transient failure
    std::vector<Millis> backoff{Millis(1000), Millis(5000), Millis(15000), Millis(30000)};  // the last repeats
    uint32_t maxAttempts = 0;   // 0: retry transient failures forever; else failed after this many
    Millis keepSent{86400000};  // sent rows are deleted this long after their confirm
    bool wal = true;            // switch the database to WAL mode at open()
    // Called on the relay for each row of a round, in row order, after the broker answered (or the publish
    // gave up) and BEFORE the outcome is written to the database. A non-OK Status abandons the round without
    // writing anything, as a crash at that moment would: the rows stay pending and relayOnce() returns the
    // Status. For tests and demonstrations of the crash window; leave empty otherwise.
    std::function<Status(const OutboxEntry& row, const SendResult& result)> afterPublish;
};

// What one relay round did.
struct RelayReport {
    size_t published = 0;   // rows handed to the producer
    size_t confirmed = 0;   // marked sent on a confirm
    size_t duplicates = 0;  // marked sent on a duplicate: the broker had it already (a resend)
    size_t retrying = 0;    // transient failure: pending again after backoff
    size_t failed = 0;      // permanent nack (or maxAttempts reached): marked failed
};

class Outbox {
public:
    // Opens the database (creating the tables if missing) and a producer on `connection`. Does not start the
    // relay. InvalidArgument for a bad table name or an empty database path.
    static Result<std::unique_ptr<Outbox>> open(std::shared_ptr<Connection> connection, OutboxOptions options);
    ~Outbox();  // stop()
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    // Writes an outbox row for `request` through `db`, which must be a connection to this outbox's database
    // with a transaction open (InvalidArgument otherwise: outside a transaction the row would not be atomic with
    // anything). Nothing is published until that transaction commits. Returns the message id the row will be
    // published with. InvalidArgument for a transactional (half) message: the outbox is the alternative to them.
    Result<std::string> enqueue(sqlite3* db, const broker::PublishRequest& request);

    // Runs `work` inside BEGIN IMMEDIATE … COMMIT on the outbox's own connection; `work` makes its business
    // writes and enqueue() calls through the handle it is given, and must not end the transaction itself.
    // Committed when `work` returns OK (then the relay is woken), rolled back when it returns an error (which is
    // returned) or throws (InvalidArgument with the exception's text).
    Status transaction(const std::function<Status(sqlite3* db)>& work);

    // Wakes the relay thread now instead of at its next poll.
    void notify();

    // The relay thread: rounds of relayOnce() until stop(); woken by notify() and transaction(). Idempotent.
    void start();
    // Waits for the round in progress to end (its publishes are answered or time out). Idempotent.
    void stop();
    // One round on the caller's thread: publishes the due pending rows (at most batchSize), waits for every
    // answer, then records all outcomes in one transaction. Rounds never overlap.
    Result<RelayReport> relayOnce();
    // The error of the relay thread's latest round (OK if it succeeded).
    Status lastRelayError() const;

    // Oldest first.
    Result<std::vector<OutboxEntry>> pending(size_t limit = 100);
    Result<std::vector<OutboxEntry>> failed(size_t limit = 100);
    // Makes every failed row pending again (attempts reset) and wakes the relay. Returns how many.
    Result<uint64_t> retryFailed();

    struct State;

private:
    explicit Outbox(std::unique_ptr<State> state);
    void relayLoop();

    std::unique_ptr<State> m_state;
};

}  // namespace depot::client
