#include "Publisher.h"

#include <chrono>
#include <cstdio>

namespace depotctl {

using depot::Status;
using depot::broker::PublishOutcome;
using depot::broker::PublishRequest;
using depot::client::SendResult;

namespace {

// How long finish() waits without any outcome arriving before it gives up on the rest. The client library calls
// back every send within its own timeout; this only guards against a hang.
constexpr Millis kStallGuard{30000};

}  // namespace

Publisher::Publisher(Context& context, depot::client::Producer& producer, PublishMode mode, std::string verb)
    : m_context(context), m_producer(producer), m_mode(mode), m_verb(std::move(verb)) {}

bool Publisher::send(PublishRequest request, std::optional<std::string> echo) {
    ++m_sent;
    if (m_mode == PublishMode::Sync) {
        record({std::move(echo), m_producer.send(std::move(request))});
        return true;
    }
    if (m_mode == PublishMode::Async) {
        m_producer.sendAsync(std::move(request), [inbox = m_inbox, echo = std::move(echo)](const SendResult& result) {
            {
                std::lock_guard lock(inbox->mutex);
                inbox->outcomes.push_back({echo, result});
            }
            inbox->arrived.notify_one();
        });
        drain(false);
        return true;
    }
    Outcome outcome{std::move(echo), {}};
    outcome.result.result.messageId = request.message.id;
    outcome.result.status = m_producer.sendOneway(std::move(request));
    if (!outcome.result.status.isOk())
        m_onewayFailed = true;
    else  // handed over: its fate is unknown by design
        outcome.result.status = Status::unavailable("");
    record(outcome);
    return !m_onewayFailed;
}

void Publisher::record(const Outcome& outcome) {
    const SendResult& r = outcome.result;
    ++m_reported;
    std::string problem;
    if (r.unconfirmed()) {
        ++m_unconfirmed;
        if (m_mode != PublishMode::Oneway || m_onewayFailed)
            problem = "unconfirmed: " + r.status.message();
    } else if (r.nacked()) {
        ++m_nacked;
        problem = "nacked (" + std::string(toString(r.result.reason)) + "): " + r.result.error;
    } else if (r.result.outcome == PublishOutcome::Duplicate) {
        ++m_duplicate;
    } else {
        ++m_confirmed;
    }
    if (m_firstProblem.empty())
        m_firstProblem = problem;
    if (!m_context.json())
        return;
    Json line = {{"id", r.result.messageId}};
    if (outcome.echo)
        putBody(line, *outcome.echo);
    line["outcome"] = std::string(outcomeName(r));
    if (r.nacked()) {
        line["reason"] = std::string(toString(r.result.reason));
        line["error"] = r.result.error;
    } else if (!problem.empty()) {
        line["error"] = r.status.message();
    }
    printJsonLine(line);
}

void Publisher::drain(bool waitForAll) {
    auto lastProgress = std::chrono::steady_clock::now();
    const Millis stall = m_context.requestTimeout() + kStallGuard;
    while (true) {
        std::deque<Outcome> batch;
        {
            std::unique_lock lock(m_inbox->mutex);
            if (waitForAll)
                m_inbox->arrived.wait_for(lock, Millis(500), [&] { return !m_inbox->outcomes.empty(); });
            batch.swap(m_inbox->outcomes);
        }
        if (!batch.empty())
            lastProgress = std::chrono::steady_clock::now();
        for (const Outcome& outcome : batch)
            record(outcome);
        if (!waitForAll || m_reported >= m_sent)
            return;
        if (std::chrono::steady_clock::now() - lastProgress > stall) {
            m_unconfirmed += m_sent - m_reported;
            if (m_firstProblem.empty())
                m_firstProblem = "unconfirmed: no outcome from the client library";
            m_reported = m_sent;
            return;
        }
    }
}

// The broker handles a session's messages in order, so its answer to a request sent after the oneway messages
// means they reached it (the client would otherwise drop them unsent when the connection closes at exit).
void Publisher::confirmOnewayDelivery() {
    depot::Result<Json> answer = m_context.call("sessions");
    if (!answer) {
        m_onewayFailed = true;
        m_firstProblem = "oneway messages may not have reached the broker: " + answer.status().message();
    }
}

std::string Publisher::summary() const {
    std::string text = m_verb + " " + std::to_string(m_sent) + ", confirmed " + std::to_string(m_confirmed) +
                       ", nacked " + std::to_string(m_nacked);
    if (m_duplicate)
        text += ", duplicate " + std::to_string(m_duplicate);
    if (m_unconfirmed)
        text += ", unconfirmed " + std::to_string(m_unconfirmed);
    if (m_mode == PublishMode::Oneway)
        text += " (oneway: the broker sends no confirms)";
    return text;
}

int Publisher::finish() {
    if (m_mode == PublishMode::Async)
        drain(true);
    if (m_mode == PublishMode::Oneway && m_sent > 0 && !m_onewayFailed)
        confirmOnewayDelivery();
    if (!m_context.json())
        std::printf("%s\n", summary().c_str());
    const uint64_t bad = m_nacked + m_unconfirmed;
    const bool failed = m_mode == PublishMode::Oneway ? m_onewayFailed : bad > 0;
    if (!failed)
        return kExitOk;
    if (m_mode == PublishMode::Oneway)
        return m_context.fail(m_firstProblem);
    return m_context.fail(std::to_string(bad) + " of " + std::to_string(m_sent) +
                          " messages not taken by the broker; first: " + m_firstProblem);
}

}  // namespace depotctl
