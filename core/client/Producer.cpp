#include "depot/client/Producer.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "client/ClientCore.h"
#include "client/MessageIds.h"
#include "client/PublishPipeline.h"
#include "common/ThreadName.h"
#include "depot/client/Connection.h"
#include "protocol/Protocol.h"
#include "protocol/ProtocolJson.h"

namespace depot::client {

namespace {

constexpr Millis kWaitGuard{2000};

SendResult unconfirmed(Status status, const std::string& messageId) {
    SendResult result{std::move(status), {}};
    result.result.messageId = messageId;
    return result;
}

// Hands a job to the I/O thread. `callback` runs exactly once: there, or here if the connection is closed.
void submit(ClientCore& core, broker::PublishRequest request, const SendOptions& options, bool sync,
            SendCallback callback) {
    auto job = std::make_shared<PublishJob>();
    job->deadlineIncludesQueue = sync;
    job->header = protocol::encodePublish(request);
    job->request = std::move(request);
    job->timeout = options.timeout.value_or(core.options().requestTimeout);
    job->retries = options.retries;
    job->backoff = options.backoff;
    if (!core.publishSlots().acquire(!core.onIoThread())) {
        callback(unconfirmed(core.closedStatus(), job->request.message.id));
        return;
    }
    PublishSlots& slots = core.publishSlots();
    job->done = [&slots, callback = std::move(callback)](const SendResult& result) {
        slots.release();
        try {
            callback(result);
        } catch (...) {
            // A throwing callback must not take the I/O thread down with it.
        }
    };
    if (!core.post([&core, job] { core.publishes().submit(job); }))
        job->done(unconfirmed(core.closedStatus(), job->request.message.id));
}

// How long the I/O thread may take at most to give a job its outcome (every attempt and backoff).
Millis longestSend(const SendOptions& options, Millis timeout) {
    Millis total = timeout;
    for (uint32_t retry = 1; retry <= options.retries; ++retry)
        total += timeout + retryDelay(options.backoff, retry);
    return total;
}

}  // namespace

std::string_view outcomeName(const SendResult& result) {
    if (result.unconfirmed())
        return "unconfirmed";
    return broker::toString(result.result.outcome);
}

struct Producer::State {
    explicit State(ClientCore& core) : core(core) {}

    ClientCore& core;
    std::mutex mutex;
    std::condition_variable idle;
    uint64_t outstanding = 0;  // sendAsync calls without their callback yet

    std::mutex checkMutex;
    std::condition_variable checkWake;
    std::deque<std::pair<std::string, std::string>> checks;  // (transaction, message id)
    TransactionChecker checker;
    bool stopChecks = false;
    std::thread worker;

    void enqueueCheck(const std::string& transaction, const std::string& messageId) {
        {
            std::lock_guard lock(checkMutex);
            if (stopChecks)
                return;
            checks.emplace_back(transaction, messageId);
        }
        checkWake.notify_one();
    }

    void runChecks() {
        std::unique_lock lock(checkMutex);
        while (true) {
            checkWake.wait(lock, [&] { return stopChecks || !checks.empty(); });
            if (stopChecks)
                return;
            auto [transaction, messageId] = std::move(checks.front());
            checks.pop_front();
            TransactionChecker check = checker;
            lock.unlock();
            answer(transaction, decide(check, transaction, messageId));
            lock.lock();
        }
    }

    static TransactionDecision decide(const TransactionChecker& check, const std::string& transaction,
                                      const std::string& messageId) {
        try {
            return check ? check(transaction, messageId) : TransactionDecision::Unknown;
        } catch (...) {
            return TransactionDecision::Unknown;
        }
    }

    // The CONFIRM that answers a check-back's TX_END concerns the broker only; a lost one is asked again.
    void answer(const std::string& transaction, TransactionDecision decision) {
        if (decision == TransactionDecision::Unknown)
            return;
        protocol::Json header = {{"transaction", transaction},
                                 {"action", decision == TransactionDecision::Commit ? "commit" : "rollback"}};
        ClientCore* target = &core;
        target->post([target, header = protocol::toText(header), transaction] {
            target->request({protocol::Command::TxEnd, header, "TX_END " + transaction, OnSessionLoss::Fail,
                             target->options().requestTimeout},
                            [](Result<Answer>) {});
        });
    }
};

Producer::Producer(std::shared_ptr<Connection> connection)
    : m_connection(std::move(connection)), m_state(std::make_shared<State>(m_connection->core())) {}

Producer::~Producer() {
    {
        std::lock_guard lock(m_state->checkMutex);
        m_state->stopChecks = true;
    }
    m_state->checkWake.notify_all();
    if (m_state->worker.joinable())
        m_state->worker.join();
}

namespace {

void prepare(const ClientOptions& options, broker::PublishRequest& request, bool assignId) {
    if (assignId && request.message.id.empty())
        request.message.id = MessageIds::next();
    if (request.producer.empty())
        request.producer = options.producerGroup;
}

}  // namespace

SendResult Producer::send(broker::PublishRequest request, const SendOptions& options) {
    ClientCore& core = m_connection->core();
    prepare(core.options(), request, true);
    const std::string messageId = request.message.id;
    if (core.onIoThread())
        return unconfirmed(Status::invalidArgument("Producer::send on the client's I/O thread would deadlock: use "
                                                   "sendAsync in callbacks"),
                           messageId);
    auto promise = std::make_shared<std::promise<SendResult>>();
    std::future<SendResult> future = promise->get_future();
    submit(core, std::move(request), options, true,
           [promise](const SendResult& result) { promise->set_value(result); });
    const Millis longest = longestSend(options, options.timeout.value_or(core.options().requestTimeout));
    if (future.wait_for(longest + kWaitGuard) != std::future_status::ready)
        return unconfirmed(Status::timedOut("no outcome from the broker at " + core.options().endpoint + " within " +
                                            std::to_string(longest.count()) + " ms"),
                           messageId);
    return future.get();
}

void Producer::sendAsync(broker::PublishRequest request, SendCallback callback, const SendOptions& options) {
    ClientCore& core = m_connection->core();
    prepare(core.options(), request, true);
    {
        std::lock_guard lock(m_state->mutex);
        ++m_state->outstanding;
    }
    submit(core, std::move(request), options, false,
           [state = m_state, callback = std::move(callback)](const SendResult& result) {
               try {
                   if (callback)
                       callback(result);
               } catch (...) {
               }
               {
                   std::lock_guard lock(state->mutex);
                   --state->outstanding;
               }
               state->idle.notify_all();
           });
}

Status Producer::sendOneway(broker::PublishRequest request) {
    ClientCore& core = m_connection->core();
    if (!core.connected())
        return Status::unavailable("no session with the broker at " + core.options().endpoint +
                                   ": the oneway message was not sent");
    // No id assigned: nothing will ever be resent, and the broker keeps the ids it assigns out of its dedup window.
    prepare(core.options(), request, false);
    std::string header = protocol::encodePublish(request);
    if (!core.post([&core, header = std::move(header), body = std::move(request.message.body)] {
            core.publishes().sendOneway(header, body);
        }))
        return core.closedStatus();
    return Status::ok();
}

Status Producer::flush(Millis timeout) {
    std::unique_lock lock(m_state->mutex);
    if (!m_state->idle.wait_for(lock, timeout, [&] { return m_state->outstanding == 0; }))
        return Status::timedOut(std::to_string(m_state->outstanding) + " publishes still without an outcome after " +
                                std::to_string(timeout.count()) + " ms");
    return Status::ok();
}

SendResult Producer::commit(const std::string& transaction) { return endTransaction(transaction, true); }

SendResult Producer::rollback(const std::string& transaction) { return endTransaction(transaction, false); }

SendResult Producer::endTransaction(const std::string& transaction, bool commit) {
    const char* action = commit ? "commit" : "rollback";
    protocol::Json header = {{"transaction", transaction}, {"action", action}};
    Result<Answer> answer = m_connection->core().call({protocol::Command::TxEnd, protocol::toText(header),
                                                       std::string("TX_END ") + action + " " + transaction,
                                                       OnSessionLoss::ResendIfUnexecuted, std::nullopt});
    if (!answer)
        return SendResult{answer.status(), {}};
    if (answer->command != protocol::Command::Confirm)
        return SendResult{Status::invalidArgument("the broker answered TX_END with a REPLY, not a CONFIRM"), {}};
    SendResult result;
    if (answer->header.empty()) {  // cumulative
        result.result.outcome = broker::PublishOutcome::Confirmed;
        return result;
    }
    Result<broker::PublishResult> decoded = protocol::decodeConfirm(answer->header);
    if (!decoded)
        return SendResult{Status::invalidArgument("unreadable CONFIRM for TX_END: " + decoded.status().message()), {}};
    result.result = std::move(decoded).value();
    return result;
}

Status Producer::setTransactionChecker(TransactionChecker checker) {
    ClientCore& core = m_connection->core();
    if (core.options().producerGroup.empty())
        return Status::invalidArgument(
            "ClientOptions::producerGroup is empty: the broker sends check-backs only to sessions whose HELLO names "
            "a producer group");
    {
        std::lock_guard lock(m_state->checkMutex);
        m_state->checker = std::move(checker);
        if (!m_state->worker.joinable())
            m_state->worker = std::thread([state = m_state.get()] {
                nameThisThread("depot-txcheck");
                state->runChecks();
            });
    }
    std::weak_ptr<State> weak = m_state;
    if (!core.post([&core, weak] {
            core.setTransactionCheckHandler([weak](const std::string& transaction, const std::string& messageId) {
                if (std::shared_ptr<State> state = weak.lock())
                    state->enqueueCheck(transaction, messageId);
            });
        }))
        return core.closedStatus();
    return Status::ok();
}

}  // namespace depot::client
