#include "depot/client/IdempotentConsumer.h"

#include <atomic>
#include <exception>
#include <mutex>

#include "catalog/Sqlite.h"
#include "client/LocalSql.h"

namespace depot::client {

struct IdempotentConsumer::State {
    State(IdempotentOptions options_, catalog::SqliteDb db_) : options(std::move(options_)), db(std::move(db_)) {}

    const IdempotentOptions options;
    std::mutex mutex;  // one delivery at a time on the connection
    catalog::SqliteDb db;
    int64_t lastPruneAt = 0;

    std::atomic<uint64_t> processed{0};
    std::atomic<uint64_t> skipped{0};
    std::atomic<uint64_t> rolledBack{0};
    std::atomic<uint64_t> pruned{0};

    Result<bool> containsLocked(const std::string& key);
    Status insertLocked(const std::string& key, int64_t now);
    Result<uint64_t> pruneLocked(int64_t now);
    LedgerOutcome handleLocked(const broker::Delivery& delivery, const IdempotentHandler& handler,
                               DeliveryContext& context);
};

namespace {

// Redeliveries keep the message id; so does a duplicate publish of the same id. Without an id the broker's
// sequence is the best identity there is: stable across retries, restarts and requeues within the queue.
std::string ledgerKey(const broker::Delivery& delivery) {
    if (!delivery.messageId.empty())
        return delivery.messageId;
    return "seq:" + delivery.queue + ":" + std::to_string(delivery.sequence);
}

Status runHandler(const IdempotentHandler& handler, const broker::Delivery& delivery, sqlite3* db,
                  DeliveryContext& context) {
    try {
        return handler(delivery, db, context);
    } catch (const std::exception& error) {
        return Status::invalidArgument(error.what());
    } catch (...) {
        return Status::invalidArgument("the handler threw a non-standard exception");
    }
}

}  // namespace

Result<bool> IdempotentConsumer::State::containsLocked(const std::string& key) {
    Result<LocalStatement> select = LocalStatement::prepare(
        db.handle(), "SELECT 1 FROM " + options.table + " WHERE scope = ?1 AND message_id = ?2", "ledger: look up");
    if (!select)
        return select.status();
    DEPOT_RETURN_IF_ERROR(select->bindText(1, options.scope));
    DEPOT_RETURN_IF_ERROR(select->bindText(2, key));
    return select->step();
}

Status IdempotentConsumer::State::insertLocked(const std::string& key, int64_t now) {
    Result<LocalStatement> insert = LocalStatement::prepare(
        db.handle(), "INSERT INTO " + options.table + " (scope, message_id, processed_at) VALUES (?1, ?2, ?3)",
        "ledger: insert");
    if (!insert)
        return insert.status();
    DEPOT_RETURN_IF_ERROR(insert->bindText(1, options.scope));
    DEPOT_RETURN_IF_ERROR(insert->bindText(2, key));
    DEPOT_RETURN_IF_ERROR(insert->bind(3, now));
    return insert->run();
}

Result<uint64_t> IdempotentConsumer::State::pruneLocked(int64_t now) {
    Result<LocalStatement> erase = LocalStatement::prepare(
        db.handle(), "DELETE FROM " + options.table + " WHERE processed_at <= ?1", "ledger: prune");
    if (!erase)
        return erase.status();
    DEPOT_RETURN_IF_ERROR(erase->bind(1, now - options.keep.count()));
    DEPOT_RETURN_IF_ERROR(erase->run());
    lastPruneAt = now;
    const auto count = uint64_t(db.changes());
    pruned += count;
    return count;
}

LedgerOutcome IdempotentConsumer::State::handleLocked(const broker::Delivery& delivery,
                                                      const IdempotentHandler& handler, DeliveryContext& context) {
    const std::string key = ledgerKey(delivery);
    Result<catalog::SqliteTransaction> transaction = catalog::SqliteTransaction::begin(db, "ledger");
    if (!transaction) {
        context.retry(transaction.status().toString());
        return LedgerOutcome::RolledBack;
    }
    Result<bool> found = containsLocked(key);
    if (!found) {
        context.retry(found.status().toString());
        return LedgerOutcome::RolledBack;
    }
    if (*found) {
        (void)transaction->commit();  // it only read; a failed commit rolls back just as well
        context.ack();
        return LedgerOutcome::Skipped;
    }
    const Status status = runHandler(handler, delivery, db.handle(), context);
    if (!status) {
        context.retry(status.message());
        return LedgerOutcome::RolledBack;
    }
    if (context.decision() == DeliveryContext::Decision::Retry ||
        context.decision() == DeliveryContext::Decision::Reject)
        return LedgerOutcome::RolledBack;
    // A handler that committed or rolled back the transaction itself broke the atomicity this class promises.
    if (!inTransaction(db.handle())) {
        context.retry("the handler ended the ledger's transaction itself");
        return LedgerOutcome::RolledBack;
    }
    Status committed = insertLocked(key, wallClockMs());
    if (committed)
        committed = transaction->commit();
    if (!committed) {
        context.retry(committed.toString());
        return LedgerOutcome::RolledBack;
    }
    context.ack();
    return LedgerOutcome::Processed;
}

Result<std::unique_ptr<IdempotentConsumer>> IdempotentConsumer::open(IdempotentOptions options) {
    if (options.database.empty())
        return Status::invalidArgument("idempotent consumer: no database file given");
    if (!isSqlIdentifier(options.table))
        return Status::invalidArgument("idempotent consumer: table name '" + options.table +
                                       "' is not [A-Za-z_][A-Za-z0-9_]* (at most 64 characters)");
    Result<catalog::SqliteDb> db = openLocalDatabase(options.database, options.wal, "idempotent consumer ledger");
    if (!db)
        return db.status();
    const std::string schema = "CREATE TABLE IF NOT EXISTS " + options.table +
                               " (scope TEXT NOT NULL, message_id TEXT NOT NULL, processed_at INTEGER NOT NULL, "
                               "PRIMARY KEY (scope, message_id)) WITHOUT ROWID;\n"
                               "CREATE INDEX IF NOT EXISTS " +
                               options.table + "_processed_at ON " + options.table + " (processed_at);";
    DEPOT_RETURN_IF_ERROR(db->exec(schema.c_str(), "idempotent consumer ledger: create table"));
    auto state = std::make_unique<State>(std::move(options), std::move(db).value());
    // Pruned now (so processes that never live a whole pruneInterval still prune) and then every interval.
    (void)state->pruneLocked(wallClockMs());
    return std::unique_ptr<IdempotentConsumer>(new IdempotentConsumer(std::move(state)));
}

Result<std::unique_ptr<IdempotentConsumer>> IdempotentConsumer::subscribe(std::shared_ptr<Connection> connection,
                                                                          ConsumerOptions consumer,
                                                                          IdempotentOptions options,
                                                                          IdempotentHandler handler) {
    if (options.scope.empty())
        options.scope = consumer.queue;
    Result<std::unique_ptr<IdempotentConsumer>> ledger = open(std::move(options));
    if (!ledger)
        return ledger.status();
    IdempotentConsumer& self = **ledger;
    Result<std::unique_ptr<Consumer>> subscribed =
        Consumer::subscribe(std::move(connection), std::move(consumer), self.wrap(std::move(handler)));
    if (!subscribed)
        return subscribed.status();
    self.m_consumer = std::move(subscribed).value();
    return ledger;
}

IdempotentConsumer::IdempotentConsumer(std::unique_ptr<State> state) : m_state(std::move(state)) {}

IdempotentConsumer::~IdempotentConsumer() { (void)close(); }

LedgerOutcome IdempotentConsumer::handle(const broker::Delivery& delivery, const IdempotentHandler& handler,
                                         DeliveryContext& context) {
    State& state = *m_state;
    std::lock_guard lock(state.mutex);
    const LedgerOutcome outcome = state.handleLocked(delivery, handler, context);
    ++(outcome == LedgerOutcome::Processed ? state.processed
       : outcome == LedgerOutcome::Skipped ? state.skipped
                                           : state.rolledBack);
    const int64_t now = wallClockMs();
    // Pruning is housekeeping: a failure is retried at the next interval and never affects the delivery.
    if (outcome == LedgerOutcome::Processed && now - state.lastPruneAt >= state.options.pruneInterval.count())
        (void)state.pruneLocked(now);
    return outcome;
}

DeliveryHandler IdempotentConsumer::wrap(IdempotentHandler handler) {
    return [this, handler = std::move(handler)](const broker::Delivery& delivery, DeliveryContext& context) {
        (void)handle(delivery, handler, context);
    };
}

Result<bool> IdempotentConsumer::contains(const std::string& messageId) {
    std::lock_guard lock(m_state->mutex);
    return m_state->containsLocked(messageId);
}

Result<uint64_t> IdempotentConsumer::prune() {
    std::lock_guard lock(m_state->mutex);
    return m_state->pruneLocked(wallClockMs());
}

LedgerStats IdempotentConsumer::stats() const {
    return {m_state->processed.load(), m_state->skipped.load(), m_state->rolledBack.load(), m_state->pruned.load()};
}

const std::string& IdempotentConsumer::scope() const { return m_state->options.scope; }

Consumer* IdempotentConsumer::consumer() { return m_consumer.get(); }

Status IdempotentConsumer::close() { return m_consumer ? m_consumer->close() : Status::ok(); }

}  // namespace depot::client
