#include "broker/RequeueRunner.h"

#include <chrono>
#include <limits>

#include "common/ThreadName.h"

namespace depot::broker {

Result<std::shared_ptr<RequeueRunner>> RequeueRunner::start(BrokerLoop& loop, BrokerCore& core,
                                                            RequeueRequest request) {
    if (request.ratePerSecond < 0) return Status::invalidArgument("requeue rate must not be negative");
    BrowseOptions browse;
    browse.limit = std::numeric_limits<size_t>::max();
    browse.bodies = false;
    browse.filter = request.filter;
    auto page = loop.call([&] { return core.browse(request.queue, browse); });
    if (!page) return page.status();
    // A missing target is not refused here: each message reports it (NotFound) and stays, as when a message's
    // source queue has been deleted, so the operator always gets the per-message outcome.
    std::vector<uint64_t> sequences;
    for (const QueuedMessage& message : page->messages)
        if (message.state != MessageState::Unacked) sequences.push_back(message.sequence);
    std::shared_ptr<RequeueRunner> runner(new RequeueRunner(loop, core, std::move(request), std::move(sequences)));
    runner->m_thread = std::thread([runner = runner.get()] {
        nameThisThread("depot-requeue");
        runner->run();
    });
    return runner;
}

RequeueRunner::RequeueRunner(BrokerLoop& loop, BrokerCore& core, RequeueRequest request,
                             std::vector<uint64_t> sequences)
    : m_loop(loop), m_core(core), m_request(std::move(request)), m_sequences(std::move(sequences)) {}

RequeueRunner::~RequeueRunner() {
    cancel();
    if (m_thread.joinable()) m_thread.join();
}

void RequeueRunner::finish(RequeueItem item) {
    std::lock_guard lock(m_mutex);
    (item.status ? m_report.requeued : m_report.failed) += 1;
    m_report.items.push_back(std::move(item));
    --m_inFlight;
    ++m_done;
    m_changed.notify_all();
}

void RequeueRunner::run() {
    using Clock = std::chrono::steady_clock;
    auto interval = m_request.ratePerSecond > 0
                        ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / m_request.ratePerSecond))
                        : Clock::duration::zero();
    auto next = Clock::now();
    for (uint64_t sequence : m_sequences) {
        if (m_cancelled) break;
        if (interval.count()) {
            std::this_thread::sleep_until(next);
            next += interval;
        }
        {
            std::unique_lock lock(m_mutex);
            m_changed.wait(lock, [this] { return m_inFlight < kInFlight; });
            ++m_inFlight;
        }
        bool posted = m_loop.post([this, sequence] {
            if (m_request.remove)
                removeOne(sequence);
            else
                m_core.requeueOne(m_request.queue, sequence, m_request, [this](RequeueItem item) { finish(item); });
        });
        if (!posted) finish({sequence, "", m_request.target, Status::closed("the broker is closed")});
    }
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return m_inFlight == 0; });
        m_report.cancelled = m_cancelled.load() && m_report.items.size() < m_sequences.size();
    }
    std::string action = m_request.remove                         ? "delete-messages"
                         : m_request.body || m_request.headers ? "edit-requeue"
                                                               : "requeue";
    std::string detail = m_request.remove ? std::to_string(m_report.requeued) + " deleted, "
                                          : "to " + (m_request.target.empty() ? std::string("source queues")
                                                                              : m_request.target) +
                                                ": " + std::to_string(m_report.requeued) + " requeued, ";
    detail += std::to_string(m_report.failed) + " failed" + (m_report.cancelled ? ", cancelled" : "");
    // Recorded before wait() returns, so whoever waited finds the job in the audit log.
    (void)m_loop.call([&] {
        m_core.audit(m_request.actor, action, m_request.queue, detail, m_report.requeued, Status::ok());
        return Status::ok();
    });
    std::lock_guard lock(m_mutex);
    m_finished = true;
    m_changed.notify_all();
}

// On the broker thread. A deletion is settled like an ack: the item is done once its SETTLE record is durable.
void RequeueRunner::removeOne(uint64_t sequence) {
    auto removed = m_core.removeWaiting(m_request.queue, sequence, m_request.actor);
    RequeueItem item{sequence, removed ? *removed : "", "", removed.status()};
    if (!item.status) return finish(std::move(item));
    m_core.whenAllDurable([this, item](const Status& durable) mutable {
        if (!durable) item.status = durable;
        finish(std::move(item));
    });
}

RequeueReport RequeueRunner::wait() {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return m_finished.load(); });
    return m_report;
}

}  // namespace depot::broker
