#pragma once
// RequeueRunner: a bulk requeue (or deletion: RequeueRequest::remove) on its own thread, so the broker thread keeps serving everyone else. It takes
// the matching messages' sequences once, then moves them a few at a time (each move one atomic log batch),
// at most `ratePerSecond`, until done or cancelled, and reports every message's outcome.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/BrokerLoop.h"

namespace depot::broker {

class RequeueRunner final : public RequeueJob, public std::enable_shared_from_this<RequeueRunner> {
public:
    static Result<std::shared_ptr<RequeueRunner>> start(BrokerLoop& loop, BrokerCore& core, RequeueRequest request);
    ~RequeueRunner() override;

    uint64_t total() const override { return m_sequences.size(); }
    uint64_t done() const override { return m_done.load(); }
    void cancel() override { m_cancelled.store(true); }
    bool finished() const override { return m_finished.load(); }
    RequeueReport wait() override;

private:
    RequeueRunner(BrokerLoop& loop, BrokerCore& core, RequeueRequest request, std::vector<uint64_t> sequences);
    void run();
    void finish(RequeueItem item);
    void removeOne(uint64_t sequence);

    static constexpr size_t kInFlight = 64;

    BrokerLoop& m_loop;
    BrokerCore& m_core;
    RequeueRequest m_request;
    std::vector<uint64_t> m_sequences;
    std::atomic<uint64_t> m_done{0};
    std::atomic<bool> m_cancelled{false};
    std::atomic<bool> m_finished{false};
    std::mutex m_mutex;
    std::condition_variable m_changed;
    size_t m_inFlight = 0;
    RequeueReport m_report;
    std::thread m_thread;
};

}  // namespace depot::broker
