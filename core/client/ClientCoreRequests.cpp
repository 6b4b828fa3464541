// ClientCore: requests that wait for a REPLY (or a CONFIRM, for TX_END), their deadlines and their fate when the
// session ends.
#include "client/ClientCore.h"

namespace depot::client {

void ClientCore::request(RequestSpec spec, AnswerCallback callback) {
    if (m_closing) {
        callback(closedStatus());
        return;
    }
    auto pending = std::make_shared<PendingRequest>();
    pending->spec = std::move(spec);
    pending->callback = std::move(callback);
    if (pending->spec.timeout) {
        std::weak_ptr<PendingRequest> weak = pending;
        pending->deadline = m_timers.schedule(SteadyClock::now() + *pending->spec.timeout, [this, weak] {
            if (PendingPtr expired = weak.lock())
                expire(expired);
        });
    }
    if (ready())
        sendRequest(pending);
    else
        m_unsent.push_back(std::move(pending));
}

void ClientCore::sendRequest(const PendingPtr& pending) {
    pending->requestId = nextRequestId();
    m_requests.add(pending->requestId, pending);
    sendFrame(pending->spec.command, 0, pending->requestId, pending->spec.header);
}

void ClientCore::sendUnsent() {
    std::deque<PendingPtr> unsent;
    unsent.swap(m_unsent);
    for (const PendingPtr& pending : unsent) {
        if (!pending->finished)
            sendRequest(pending);
    }
}

void ClientCore::finish(const PendingPtr& pending, Result<Answer> result) {
    if (pending->finished)
        return;
    pending->finished = true;
    m_timers.cancel(pending->deadline);
    AnswerCallback callback = std::move(pending->callback);
    callback(std::move(result));
}

void ClientCore::expire(const PendingPtr& pending) {
    if (pending->finished)
        return;
    pending->deadline = {};
    const std::string timeout = std::to_string(pending->spec.timeout->count());
    if (pending->requestId == 0) {  // never sent: waiting for a session
        finish(pending,
               Status::unavailable(pending->spec.what + " not sent within " + timeout + " ms: " + noSessionText()));
        return;
    }
    m_requests.take(pending->requestId);
    finish(pending, Status::timedOut("no answer from the broker at " + m_options.endpoint + " to " +
                                     pending->spec.what + " within " + timeout + " ms"));
}

void ClientCore::answer(uint64_t requestId, Result<Answer> result) {
    if (std::optional<PendingPtr> pending = m_requests.take(requestId))
        finish(*pending, std::move(result));
}

void ClientCore::requestsLost(uint64_t unexecutedFrom) {
    std::deque<PendingPtr> again;
    for (auto& [id, pending] : m_requests.takeAll()) {
        if (pending->finished)
            continue;
        OnSessionLoss onLoss = pending->spec.onLoss;
        if (onLoss == OnSessionLoss::ResendIfUnexecuted)
            onLoss = id >= unexecutedFrom ? OnSessionLoss::Resend : OnSessionLoss::Fail;
        switch (onLoss) {
            case OnSessionLoss::Resend:
                pending->requestId = 0;
                again.push_back(pending);
                break;
            case OnSessionLoss::Succeed:
                finish(pending, Answer{protocol::Command::Reply, 0, "{}"});
                break;
            case OnSessionLoss::Forget:
                pending->finished = true;
                m_timers.cancel(pending->deadline);
                break;
            default:
                finish(pending, Status::unavailable("the session with the broker at " + m_options.endpoint +
                                                    " ended before " + pending->spec.what +
                                                    " was answered: its outcome is unknown (" + m_lastProblem + ")"));
                break;
        }
    }
    // Repeated requests go first, in their original order.
    m_unsent.insert(m_unsent.begin(), again.begin(), again.end());
}

void ClientCore::failAllRequests(const Status& status) {
    for (auto& [id, pending] : m_requests.takeAll())
        finish(pending, status);
    std::deque<PendingPtr> unsent;
    unsent.swap(m_unsent);
    for (const PendingPtr& pending : unsent)
        finish(pending, status);
}

}  // namespace depot::client
