#include "depot/client/Outbox.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "catalog/Sqlite.h"
#include "client/LocalSql.h"
#include "client/OutboxTable.h"
#include "common/ThreadName.h"
#include "depot/client/Connection.h"

namespace depot::client {

struct Outbox::State {
    State(std::shared_ptr<Connection> connection_, OutboxOptions options_, std::string prefix_,
          catalog::SqliteDb appDb_, catalog::SqliteDb relayDb_)
        : options(std::move(options_)),
          table(options.table),
          prefix(std::move(prefix_)),
          producer(std::move(connection_)),
          appDb(std::move(appDb_)),
          file(databaseFile(appDb.handle())),
          relayDb(std::move(relayDb_)) {}

    const OutboxOptions options;
    OutboxTable table;
    const std::string prefix;
    Producer producer;

    // The outbox's own connection, for transaction() and the listings. Recursive: the work of a transaction()
    // may list rows.
    std::recursive_mutex appMutex;
    catalog::SqliteDb appDb;
    const std::string file;

    std::mutex relayMutex;  // one round at a time
    catalog::SqliteDb relayDb;
    int64_t lastPruneAt = 0;

    std::mutex threadMutex;
    std::condition_variable wake;
    bool notified = false;
    bool stopping = false;
    std::thread thread;

    mutable std::mutex errorMutex;
    Status lastError;
};

namespace {

// Nacks that another attempt cannot fix without someone changing the broker's definitions or the message.
bool isPermanent(const SendResult& result) {
    if (result.nacked()) {
        switch (result.result.reason) {
            case broker::NackReason::NoExchange:
            case broker::NackReason::NoQueue:
            case broker::NackReason::NoRoute:
            case broker::NackReason::TooLarge:
            case broker::NackReason::Invalid:
                return true;
            default:
                return false;
        }
    }
    return result.status.code() == StatusCode::TooLarge;
}

Millis backoffAfter(const std::vector<Millis>& backoff, uint32_t attempts) {
    if (backoff.empty() || attempts == 0)
        return Millis(0);
    return backoff[std::min<size_t>(attempts - 1, backoff.size() - 1)];
}

OutboxRowUpdate decide(const OutboxOptions& options, const OutboxEntry& row, const SendResult& result, int64_t now,
                       RelayReport& report) {
    OutboxRowUpdate update{row.row, OutboxState::Sent, std::string(outcomeName(result)), {}, now};
    if (result.ok()) {
        ++(result.result.outcome == broker::PublishOutcome::Duplicate ? report.duplicates : report.confirmed);
        return update;
    }
    update.error = result.nacked() ? std::string(broker::toString(result.result.reason)) + ": " + result.result.error
                                   : result.status.toString();
    const uint32_t attempts = row.attempts + 1;
    if (isPermanent(result) || (options.maxAttempts != 0 && attempts >= options.maxAttempts)) {
        update.state = OutboxState::Failed;
        ++report.failed;
        return update;
    }
    update.state = OutboxState::Pending;
    update.nextAttemptAt = now + backoffAfter(options.backoff, attempts).count();
    ++report.retrying;
    return update;
}

// Publishes every row at once (the broker confirms them with one group commit) and waits for all the answers.
// The producer calls back exactly once per publish, within the per-attempt timeout.
std::vector<SendResult> publishAll(Producer& producer, const std::vector<OutboxRow>& rows, Millis timeout) {
    struct Batch {
        std::mutex mutex;
        std::condition_variable done;
        std::vector<SendResult> results;
        std::vector<bool> answered;
        size_t remaining = 0;
    };
    auto batch = std::make_shared<Batch>();
    batch->results.resize(rows.size());
    batch->answered.resize(rows.size(), false);
    batch->remaining = rows.size();
    SendOptions options;
    options.timeout = timeout;
    options.retries = 0;  // a failed row is retried by the relay, after its backoff, with the outcome recorded
    for (size_t i = 0; i < rows.size(); ++i) {
        producer.sendAsync(
            rows[i].request,
            [batch, i](const SendResult& result) {
                std::lock_guard lock(batch->mutex);
                batch->results[i] = result;
                batch->answered[i] = true;
                if (--batch->remaining == 0)
                    batch->done.notify_all();
            },
            options);
    }
    // The producer answers each publish within its timeout (after any wait for the window); the deadline only
    // guards the relay against a callback that never comes. Late callbacks write into `batch`, kept alive by them.
    const auto deadline = std::chrono::steady_clock::now() + timeout * 2 + std::chrono::seconds(30);
    std::unique_lock lock(batch->mutex);
    if (!batch->done.wait_until(lock, deadline, [&] { return batch->remaining == 0; })) {
        for (size_t i = 0; i < rows.size(); ++i) {
            if (!batch->answered[i])
                batch->results[i] =
                    SendResult{Status::timedOut("outbox relay: no answer from the producer in time"), {}};
        }
    }
    return batch->results;
}

Status runHook(const OutboxOptions& options, const OutboxEntry& row, const SendResult& result) {
    try {
        return options.afterPublish(row, result);
    } catch (const std::exception& error) {
        return Status::invalidArgument(std::string("outbox afterPublish hook threw: ") + error.what());
    } catch (...) {
        return Status::invalidArgument("outbox afterPublish hook threw");
    }
}

}  // namespace

Result<std::unique_ptr<Outbox>> Outbox::open(std::shared_ptr<Connection> connection, OutboxOptions options) {
    if (!connection)
        return Status::invalidArgument("outbox: no connection");
    if (options.database.empty())
        return Status::invalidArgument("outbox: no database file given");
    if (!isSqlIdentifier(options.table))
        return Status::invalidArgument("outbox: table name '" + options.table +
                                       "' is not [A-Za-z_][A-Za-z0-9_]* (at most 64 characters)");
    if (options.batchSize == 0)
        return Status::invalidArgument("outbox: batchSize must be at least 1");
    Result<catalog::SqliteDb> appDb = openLocalDatabase(options.database, options.wal, "outbox");
    if (!appDb)
        return appDb.status();
    Result<catalog::SqliteDb> relayDb = openLocalDatabase(options.database, false, "outbox relay");
    if (!relayDb)
        return relayDb.status();
    Result<std::string> prefix = OutboxTable(options.table).create(*appDb, options.idPrefix);
    if (!prefix)
        return prefix.status();
    auto state = std::make_unique<State>(std::move(connection), std::move(options), std::move(prefix).value(),
                                         std::move(appDb).value(), std::move(relayDb).value());
    return std::unique_ptr<Outbox>(new Outbox(std::move(state)));
}

Outbox::Outbox(std::unique_ptr<State> state) : m_state(std::move(state)) {}

Outbox::~Outbox() { stop(); }

Result<std::string> Outbox::enqueue(sqlite3* db, const broker::PublishRequest& request) {
    if (!db)
        return Status::invalidArgument("Outbox::enqueue: no database connection");
    if (!request.transaction.empty())
        return Status::invalidArgument("Outbox::enqueue: a half message (transaction '" + request.transaction +
                                       "') cannot go through the outbox; publish it with Producer");
    if (!inTransaction(db))
        return Status::invalidArgument(
            "Outbox::enqueue outside a transaction: begin one (or use "
            "Outbox::transaction) so the row commits together with the business change");
    if (!isDatabaseFile(db, m_state->file))
        return Status::invalidArgument("Outbox::enqueue: the connection is not to the outbox's database " +
                                       m_state->file + " (it is '" + databaseFile(db) + "')");
    return m_state->table.insert(db, request, m_state->prefix, wallClockMs());
}

Status Outbox::transaction(const std::function<Status(sqlite3* db)>& work) {
    State& state = *m_state;
    {
        std::lock_guard lock(state.appMutex);
        Result<catalog::SqliteTransaction> transaction =
            catalog::SqliteTransaction::begin(state.appDb, "outbox transaction");
        if (!transaction)
            return transaction.status();
        Status status;
        try {
            status = work(state.appDb.handle());
        } catch (const std::exception& error) {
            status = Status::invalidArgument(std::string("outbox transaction: the work threw: ") + error.what());
        } catch (...) {
            status = Status::invalidArgument("outbox transaction: the work threw");
        }
        if (!status)
            return status;  // the transaction's destructor rolls back
        if (!inTransaction(state.appDb.handle()))
            return Status::invalidArgument("outbox transaction: the work ended the transaction itself");
        DEPOT_RETURN_IF_ERROR(transaction->commit());
    }
    notify();
    return Status::ok();
}

void Outbox::notify() {
    {
        std::lock_guard lock(m_state->threadMutex);
        m_state->notified = true;
    }
    m_state->wake.notify_all();
}

void Outbox::start() {
    std::lock_guard lock(m_state->threadMutex);
    if (m_state->thread.joinable())
        return;
    m_state->stopping = false;
    m_state->thread = std::thread([this] {
        nameThisThread("depot-outbox");
        relayLoop();
    });
}

void Outbox::stop() {
    std::thread thread;
    {
        std::lock_guard lock(m_state->threadMutex);
        m_state->stopping = true;
        thread = std::move(m_state->thread);
    }
    m_state->wake.notify_all();
    if (thread.joinable())
        thread.join();
}

void Outbox::relayLoop() {
    State& state = *m_state;
    std::unique_lock lock(state.threadMutex);
    while (!state.stopping) {
        state.notified = false;
        lock.unlock();
        Result<RelayReport> report = relayOnce();
        {
            std::lock_guard errorLock(state.errorMutex);
            state.lastError = report ? Status::ok() : report.status();
        }
        // A full round suggests more rows are due: go on at once.
        const bool full = report && report->published >= state.options.batchSize;
        lock.lock();
        if (!full)
            state.wake.wait_for(lock, state.options.pollInterval, [&] { return state.stopping || state.notified; });
    }
}

Result<RelayReport> Outbox::relayOnce() {
    State& state = *m_state;
    std::lock_guard lock(state.relayMutex);
    Result<std::vector<OutboxRow>> rows =
        state.table.due(state.relayDb.handle(), wallClockMs(), state.options.batchSize);
    if (!rows)
        return rows.status();
    RelayReport report;
    report.published = rows->size();
    if (!rows->empty()) {
        const std::vector<SendResult> results = publishAll(state.producer, *rows, state.options.publishTimeout);
        if (state.options.afterPublish) {
            for (size_t i = 0; i < rows->size(); ++i)
                DEPOT_RETURN_IF_ERROR(runHook(state.options, (*rows)[i].entry, results[i]));
        }
        const int64_t now = wallClockMs();
        std::vector<OutboxRowUpdate> updates;
        updates.reserve(rows->size());
        for (size_t i = 0; i < rows->size(); ++i)
            updates.push_back(decide(state.options, (*rows)[i].entry, results[i], now, report));
        DEPOT_RETURN_IF_ERROR(state.table.record(state.relayDb, updates, now));
    }
    // Sent rows are kept a while for inspection; deleting them is housekeeping, so a failure waits for a later
    // round instead of failing this one (whose outcomes are recorded).
    const int64_t now = wallClockMs();
    const int64_t pruneEvery = std::min<int64_t>(state.options.keepSent.count(), 60000);
    if (now - state.lastPruneAt >= pruneEvery) {
        if (state.table.deleteSentBefore(state.relayDb.handle(), now - state.options.keepSent.count()))
            state.lastPruneAt = now;
    }
    return report;
}

Status Outbox::lastRelayError() const {
    std::lock_guard lock(m_state->errorMutex);
    return m_state->lastError;
}

Result<std::vector<OutboxEntry>> Outbox::pending(size_t limit) {
    std::lock_guard lock(m_state->appMutex);
    return m_state->table.list(m_state->appDb.handle(), OutboxState::Pending, limit);
}

Result<std::vector<OutboxEntry>> Outbox::failed(size_t limit) {
    std::lock_guard lock(m_state->appMutex);
    return m_state->table.list(m_state->appDb.handle(), OutboxState::Failed, limit);
}

Result<uint64_t> Outbox::retryFailed() {
    Result<uint64_t> count = [&]() -> Result<uint64_t> {
        std::lock_guard lock(m_state->appMutex);
        return m_state->table.retryFailed(m_state->appDb.handle(), wallClockMs());
    }();
    if (count && *count > 0)
        notify();
    return count;
}

}  // namespace depot::client
