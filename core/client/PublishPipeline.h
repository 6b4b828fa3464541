#pragma once
// PublishPipeline: every confirmed publish of a connection, from hand-over to outcome. I/O thread only.
//
// A job waits in line until the broker's window (maxUnconfirmed in flight) has room, is sent with a fresh request
// id, and waits for its CONFIRM (one of its own, or a cumulative one covering its id). Each attempt has a
// deadline; a retryable outcome starts another attempt after a backoff, with the same message id. When the
// session is lost, the jobs in flight go back to the head of the line, in their order, and are sent again on the
// next session (the broker deduplicates by message id).
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "client/RequestTable.h"
#include "client/TimerQueue.h"
#include "depot/client/Producer.h"

namespace depot::client {

class ClientCore;
struct WireError;

struct PublishJob {
    enum class State { Waiting, InFlight, Backoff, Done };

    broker::PublishRequest request;  // message id set
    std::string header;              // the encoded PUBLISH header: the same for every attempt
    Millis timeout{10000};           // per attempt
    // true (sync send): the deadline runs from hand-over, waiting for window room included. false (async): waiting
    // in line on a live session is backpressure, not failure; the deadline restarts when the message is sent.
    bool deadlineIncludesQueue = false;
    uint32_t retries = 0;
    Millis backoff{100};
    SendCallback done;  // exactly once

    State state = State::Waiting;
    uint64_t sequence = 0;     // hand-over order
    uint32_t attempt = 0;      // 1 for the first
    uint64_t requestId = 0;    // of the attempt in flight
    TimerQueue::Handle timer;  // the attempt's deadline, or the end of a backoff
};

// Whether a retry may help: unconfirmed (timed out, no session) or a transient nack.
bool isRetryable(const SendResult& result);
// The wait before retry `attempt` (1 = the first retry): backoff doubled each time, at most 30 s.
Millis retryDelay(Millis backoff, uint32_t attempt);

class PublishPipeline {
public:
    explicit PublishPipeline(ClientCore& core) : m_core(core) {}

    void submit(std::shared_ptr<PublishJob> job);
    // ONEWAY: sent now if a session is up, else dropped without a word (documented as lossy).
    void sendOneway(const std::string& header, const std::string& body);
    // Sends waiting jobs while the window has room.
    void pump();
    // False when the id is not a publish of this session (a TX_END, or already answered).
    bool onConfirm(uint64_t requestId, uint16_t flags, std::string_view header);
    bool onError(uint64_t requestId, const WireError& error);
    void onSessionLost();
    void failAll(const Status& status);

    size_t inFlight() const { return m_window.size(); }

private:
    using JobPtr = std::shared_ptr<PublishJob>;

    void startAttempt(const JobPtr& job);
    void finishAttempt(const JobPtr& job, SendResult result);
    void expire(const JobPtr& job);
    void armDeadline(const JobPtr& job);
    bool live(const JobPtr& job, uint64_t requestId) const {
        return job->state == PublishJob::State::InFlight && job->requestId == requestId;
    }

    ClientCore& m_core;
    // Sent and unanswered, including attempts given up on (the broker still counts them against the window).
    RequestTable<JobPtr> m_window;
    // (job, attempt): an entry whose job has moved on (expired, retried) is skipped.
    std::deque<std::pair<JobPtr, uint32_t>> m_waiting;
    std::map<uint64_t, JobPtr> m_jobs;  // every job without an outcome yet, by sequence
    uint64_t m_nextSequence = 1;
    SteadyTime m_pausedUntil{};  // after `busy`
};

}  // namespace depot::client
