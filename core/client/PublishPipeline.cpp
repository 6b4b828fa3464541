#include "client/PublishPipeline.h"

#include <algorithm>

#include "client/ClientCore.h"
#include "client/WireError.h"
#include "protocol/Protocol.h"

namespace depot::client {

namespace {

constexpr Millis kMaxRetryDelay{30000};
constexpr Millis kBusyPause{100};
// A frame over twice maxMessageSize makes the broker close the connection (ZMQ_MAXMSGSIZE): never send one.
constexpr size_t kFrameLimitFactor = 2;

SendResult answered(broker::PublishResult result) { return SendResult{Status::ok(), std::move(result)}; }

}  // namespace

bool isRetryable(const SendResult& result) {
    if (result.unconfirmed())
        return result.status.code() == StatusCode::TimedOut || result.status.code() == StatusCode::Unavailable;
    // replica-unavailable: stored on the primary only; the retry is a duplicate, confirmed once a replica has it.
    return result.nacked() && (result.result.reason == broker::NackReason::ShuttingDown ||
                               result.result.reason == broker::NackReason::Overflow ||
                               result.result.reason == broker::NackReason::ReplicaUnavailable);
}

Millis retryDelay(Millis backoff, uint32_t attempt) {
    Millis delay = backoff;
    for (uint32_t i = 1; i < attempt && delay < kMaxRetryDelay; ++i)
        delay *= 2;
    return std::min(delay, kMaxRetryDelay);
}

void PublishPipeline::submit(std::shared_ptr<PublishJob> job) {
    if (m_core.closing()) {
        SendResult result{m_core.closedStatus(), {}};
        result.result.messageId = job->request.message.id;
        job->done(result);
        return;
    }
    const size_t frameLimit = kFrameLimitFactor * m_core.session().maxMessageSize;
    if (job->request.message.body.size() > frameLimit || job->header.size() > frameLimit) {
        broker::PublishResult nack;
        nack.reason = broker::NackReason::TooLarge;
        nack.error = "not sent: larger than twice the broker's maxMessageSize (" +
                     std::to_string(m_core.session().maxMessageSize) + " bytes), which would close the connection";
        nack.messageId = job->request.message.id;
        job->done(answered(std::move(nack)));
        return;
    }
    job->sequence = m_nextSequence++;
    m_jobs.emplace(job->sequence, job);
    startAttempt(job);
}

void PublishPipeline::sendOneway(const std::string& header, const std::string& body) {
    if (m_core.ready() && !m_core.closing())
        m_core.sendFrame(protocol::Command::Publish, protocol::kFlagOneway, m_core.nextRequestId(), header, body);
}

void PublishPipeline::startAttempt(const JobPtr& job) {
    ++job->attempt;
    job->state = PublishJob::State::Waiting;
    if (job->deadlineIncludesQueue)
        armDeadline(job);
    m_waiting.emplace_back(job, job->attempt);
    pump();
    // An async job sent at once got its deadline as it was sent; one left waiting gets it now (expire() tells
    // backpressure from a missing session).
    if (job->state == PublishJob::State::Waiting && !job->timer)
        armDeadline(job);
}

void PublishPipeline::armDeadline(const JobPtr& job) {
    m_core.timers().cancel(job->timer);
    // Captures the sequence, not the job: small enough for std::function to hold without an allocation.
    job->timer = m_core.timers().schedule(SteadyClock::now() + job->timeout, [this, sequence = job->sequence] {
        auto it = m_jobs.find(sequence);
        if (it == m_jobs.end())
            return;  // finished meanwhile (its timer is cancelled then; this is a guard)
        JobPtr expired = it->second;
        expired->timer = {};
        expire(expired);
    });
}

void PublishPipeline::pump() {
    if (!m_core.ready() || m_core.closing() || SteadyClock::now() < m_pausedUntil)
        return;
    const size_t window = std::max<size_t>(1, m_core.session().maxUnconfirmed);
    while (m_window.size() < window && !m_waiting.empty()) {
        auto [job, attempt] = std::move(m_waiting.front());
        m_waiting.pop_front();
        if (job->state != PublishJob::State::Waiting || job->attempt != attempt)
            continue;
        job->requestId = m_core.nextRequestId();
        job->state = PublishJob::State::InFlight;
        m_window.add(job->requestId, job);
        if (!job->deadlineIncludesQueue)
            armDeadline(job);
        m_core.sendFrame(protocol::Command::Publish, 0, job->requestId, job->header, job->request.message.body);
    }
}

bool PublishPipeline::onConfirm(uint64_t requestId, uint16_t flags, std::string_view header) {
    if (flags & protocol::kFlagCumulative) {
        auto entries = m_window.takeUpTo(requestId);
        bool found = false;
        for (auto& [id, job] : entries) {
            found = found || id == requestId;
            if (!live(job, id))
                continue;
            broker::PublishResult confirmed;
            confirmed.outcome = broker::PublishOutcome::Confirmed;
            confirmed.messageId = job->request.message.id;
            finishAttempt(job, answered(std::move(confirmed)));
        }
        pump();
        return found;
    }
    std::optional<JobPtr> job = m_window.take(requestId);
    if (!job)
        return false;
    if (live(*job, requestId)) {
        Result<broker::PublishResult> decoded = protocol::decodeConfirm(header);
        if (!decoded) {
            SendResult unreadable{
                Status::invalidArgument("unreadable CONFIRM from the broker at " + m_core.options().endpoint + ": " +
                                        decoded.status().message()),
                {}};
            unreadable.result.messageId = (*job)->request.message.id;
            finishAttempt(*job, std::move(unreadable));
        } else {
            if (decoded->messageId.empty())
                decoded->messageId = (*job)->request.message.id;
            finishAttempt(*job, answered(std::move(decoded).value()));
        }
    }
    pump();
    return true;
}

bool PublishPipeline::onError(uint64_t requestId, const WireError& error) {
    std::optional<JobPtr> job = m_window.take(requestId);
    if (!job)
        return false;
    if (live(*job, requestId)) {
        if (error.isBusy()) {
            // Nothing was stored: back to the head of the line, and a short pause before sending more.
            (*job)->state = PublishJob::State::Waiting;
            m_waiting.emplace_front(*job, (*job)->attempt);
            m_pausedUntil = SteadyClock::now() + kBusyPause;
            m_core.timers().schedule(m_pausedUntil, [this] { pump(); });
            return true;
        }
        broker::PublishResult nack;
        nack.reason = error.nackReason();
        nack.error = error.code + ": " + error.message;
        nack.messageId = (*job)->request.message.id;
        finishAttempt(*job, answered(std::move(nack)));
    }
    pump();
    return true;
}

void PublishPipeline::finishAttempt(const JobPtr& job, SendResult result) {
    m_core.timers().cancel(job->timer);
    if (isRetryable(result) && job->attempt <= job->retries && !m_core.closing()) {
        job->state = PublishJob::State::Backoff;
        job->timer = m_core.timers().schedule(SteadyClock::now() + retryDelay(job->backoff, job->attempt), [this, job] {
            job->timer = {};
            startAttempt(job);
        });
        return;
    }
    job->state = PublishJob::State::Done;
    m_jobs.erase(job->sequence);
    job->done(result);
    m_core.publishSlots().retire(job);  // freed by the sending thread (PublishSlots.h)
}

void PublishPipeline::expire(const JobPtr& job) {
    SendResult result;
    result.result.messageId = job->request.message.id;
    const std::string timeout = std::to_string(job->timeout.count()) + " ms";
    if (job->state == PublishJob::State::InFlight) {
        result.status = Status::timedOut("no confirm from the broker at " + m_core.options().endpoint + " within " +
                                         timeout + ": the message may or may not be stored");
    } else if (m_core.ready() && !job->deadlineIncludesQueue) {
        armDeadline(job);  // only waiting for window room: backpressure, bounded by maxPendingPublishes
        return;
    } else if (!m_core.ready()) {
        result.status = Status::unavailable("not sent within " + timeout + ": " + m_core.noSessionText());
    } else {
        result.status =
            Status::timedOut("not sent within " + timeout + ": the broker's window of " +
                             std::to_string(m_core.session().maxUnconfirmed) + " unconfirmed publishes stayed full");
    }
    finishAttempt(job, std::move(result));
}

void PublishPipeline::onSessionLost() {
    std::deque<std::pair<JobPtr, uint32_t>> again;
    for (auto& [id, job] : m_window.takeAll()) {
        if (!live(job, id))
            continue;
        job->state = PublishJob::State::Waiting;
        again.emplace_back(job, job->attempt);
    }
    m_waiting.insert(m_waiting.begin(), again.begin(), again.end());
    m_pausedUntil = {};
}

void PublishPipeline::failAll(const Status& status) {
    auto jobs = std::move(m_jobs);
    m_jobs.clear();
    m_waiting.clear();
    m_window.takeAll();
    for (auto& [sequence, job] : jobs) {
        m_core.timers().cancel(job->timer);
        job->state = PublishJob::State::Done;
        SendResult result{status, {}};
        result.result.messageId = job->request.message.id;
        SendCallback done = std::move(job->done);
        done(result);
    }
}

}  // namespace depot::client
