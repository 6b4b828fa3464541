#pragma once
// Producer: publishing with publisher confirms (docs/protocol.md, PUBLISH/CONFIRM/TX_END/TX_CHECK).
//
// Three modes, from safe to lossy:
// - send(): blocks until the broker confirms or nacks the message, or the timeout passes (retries with backoff);
// - sendAsync(): returns at once; the callback gets the outcome later;
// - sendOneway(): fire and forget. LOSSY: no confirm, not even a nack; a message the broker refuses, or one
//   in flight when the connection drops, is lost without a word. For demonstrations only.
//
// Message ids: a message without an id gets one from the client (unique per process run), so a resend after a
// lost connection or a retry is deduplicated by the broker and stored once. SendResult says which id was used.
//
// Backpressure: at most the broker's maxUnconfirmed publishes are in flight per session; more wait in the
// connection (a sync send waits within its timeout, sendAsync waits in a queue bounded by
// ClientOptions::maxPendingPublishes and blocks its caller when that is full). The broker's `busy` is never seen.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "depot/Status.h"
#include "depot/broker/Message.h"
#include "depot/client/ClientOptions.h"

namespace depot::client {

class Connection;

// The outcome of one publish, as far as the client knows it.
//
// status OK: the broker answered and `result` is its answer: Confirmed or Duplicate (the broker took
// responsibility for the message) or Nacked (not stored; result.reason says why). status not OK: the message is
// UNCONFIRMED, which is not a nack: TimedOut (sent, no answer in time: it may or may not be stored),
// Unavailable (no session with the broker: it was not sent, or the session died before the answer), Closed (the
// connection closed first), InvalidArgument (refused before sending, e.g. a sync call on the I/O thread). Resend
// an unconfirmed message with result.messageId to be safe.
//
// result.messageId is always the id used. A cumulative confirm names no queues: result.queues is empty then.
struct SendResult {
    Status status;
    broker::PublishResult result;

    // The broker took responsibility for the message (confirmed or duplicate).
    bool ok() const { return status.isOk() && result.outcome != broker::PublishOutcome::Nacked; }
    bool nacked() const { return status.isOk() && result.outcome == broker::PublishOutcome::Nacked; }
    bool unconfirmed() const { return !status.isOk(); }
};

// "confirmed", "duplicate", "nacked" or "unconfirmed" (depotctl's --json outcome spellings).
std::string_view outcomeName(const SendResult& result);

using SendCallback = std::function<void(const SendResult&)>;

struct SendOptions {
    // Per attempt. send(): from the call to the answer, any wait for window room included. sendAsync(): from the
    // moment the message is sent; waiting in line for window room on a live session does not count (that is
    // backpressure, bounded by ClientOptions::maxPendingPublishes), waiting for a session does.
    // nullopt: ClientOptions::requestTimeout.
    std::optional<Millis> timeout;
    // Further attempts after an unconfirmed outcome or a transient nack (shutting-down, overflow,
    // replica-unavailable); the same
    // message id every time. Other nacks (no-queue, too-large, invalid, ...) are final.
    uint32_t retries = 0;
    Millis backoff{100};  // before retry n: backoff * 2^(n-1), at most 30 s
};

// The answer to a transaction check-back (TX_CHECK).
enum class TransactionDecision {
    Commit,
    Rollback,
    Unknown,  // not decided yet: no answer now, the broker asks again later
};
// Called on a producer worker thread (not the I/O thread), so it may query a database.
using TransactionChecker =
    std::function<TransactionDecision(const std::string& transaction, const std::string& messageId)>;

class Producer {
public:
    explicit Producer(std::shared_ptr<Connection> connection);
    ~Producer();  // stops the check-back worker; outstanding sendAsync callbacks still run
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    // An empty request.producer takes ClientOptions::producerGroup.
    SendResult send(broker::PublishRequest request, const SendOptions& options = {});
    // The callback runs exactly once, on the connection's I/O thread (quick work only).
    void sendAsync(broker::PublishRequest request, SendCallback callback, const SendOptions& options = {});
    // LOSSY (see above). OK means handed to the socket; Unavailable when no session is up at the moment.
    Status sendOneway(broker::PublishRequest request);

    // Waits until every sendAsync of this producer has called back. TimedOut after `timeout`.
    Status flush(Millis timeout);

    // Transactions: publish half messages with request.transaction set, then end the transaction. The result is
    // that of its messages. An unknown (or already ended) transaction is never ok(): the broker nacks it with
    // reason invalid (docs/protocol.md, TX_END). A commit whose session died
    // before the answer is Unavailable: the broker will check back.
    SendResult commit(const std::string& transaction);
    SendResult rollback(const std::string& transaction);
    // Answers the broker's check-backs for ClientOptions::producerGroup (InvalidArgument when it is empty). One
    // checker per connection; a later one replaces it. An exception thrown by the checker counts as Unknown.
    Status setTransactionChecker(TransactionChecker checker);

    struct State;

private:
    SendResult endTransaction(const std::string& transaction, bool commit);

    std::shared_ptr<Connection> m_connection;
    std::shared_ptr<State> m_state;
};

}  // namespace depot::client
