#include "StorageMeasurements.h"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>

#include "depot/storage/CommitLog.h"

namespace depot::bench {

using Clock = std::chrono::steady_clock;
using namespace depot::storage;

void Measurement::add(const Measurement& slice) {
    records += slice.records;
    bytes += slice.bytes;
    seconds += slice.seconds;
    syncs += slice.syncs;
    if (slice.latency) {
        if (!latency)
            latency.emplace();
        latency->merge(*slice.latency);
    }
}

std::string benchPayload(size_t size) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i)
        payload[i] = char('a' + (i * 7 + i / 13) % 26);  // not zeros: zeros would look like the end of data
    return payload;
}

namespace {

uint64_t nanosBetween(Clock::time_point from, Clock::time_point to) {
    return uint64_t(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count()));
}

double secondsBetween(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

// Collects durable notifications from the flusher thread with the time they arrived; the driver thread takes them.
class DurableEvents {
public:
    struct Event {
        uint64_t durableOffset;
        Clock::time_point at;
    };

    void notify(uint64_t durableOffset, const Status& status) {
        const Clock::time_point at = Clock::now();
        std::lock_guard lock(m_mutex);
        if (!status.isOk())
            m_failure = status;
        else
            m_events.push_back({durableOffset, at});
        m_changed.notify_one();
    }

    // Waits up to `timeout` for at least one event; `failure` is set once the log failed.
    std::vector<Event> take(std::chrono::milliseconds timeout, Status& failure) {
        std::unique_lock lock(m_mutex);
        m_changed.wait_for(lock, timeout, [this] { return !m_events.empty() || !m_failure.isOk(); });
        failure = m_failure;
        std::vector<Event> taken;
        taken.swap(m_events);
        return taken;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<Event> m_events;
    Status m_failure;
};

struct Pending {
    uint64_t endOffset;
    Clock::time_point appended;  // when append() was called
};

// One phase of the SYNC driver: keeps `inFlight` records outstanding until the budget is spent, then drains.
Result<Measurement> runSyncPhase(CommitLog& log, DurableEvents& events, int inFlight, const Budget& budget,
                                 const std::string& payload) {
    const RecordView view{1, payload};
    const uint64_t syncsBefore = log.stats().syncs;
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(budget.time);
    std::deque<Pending> pending;
    Measurement result;
    result.latency.emplace();
    Clock::time_point last = start;
    uint64_t issued = 0;
    for (;;) {
        bool stopping = issued >= budget.maxRecords || Clock::now() >= deadline;
        while (!stopping && pending.size() < size_t(inFlight)) {
            const Clock::time_point appendedAt = Clock::now();
            auto appended = log.append(std::span(&view, 1), Durability::Sync);
            if (!appended.isOk())
                return appended.status();
            pending.push_back({appended->endOffset, appendedAt});
            stopping = ++issued >= budget.maxRecords;
        }
        if (pending.empty())
            break;
        Status failure;
        std::vector<DurableEvents::Event> taken = events.take(std::chrono::seconds(30), failure);
        if (!failure.isOk())
            return failure;
        if (taken.empty())
            return Status::timedOut("no durable notification for 30 s");
        for (const DurableEvents::Event& event : taken) {
            while (!pending.empty() && pending.front().endOffset <= event.durableOffset) {
                result.latency->record(nanosBetween(pending.front().appended, event.at));
                pending.pop_front();
                ++result.records;
                last = event.at;
            }
        }
    }
    result.seconds = secondsBetween(start, last);
    result.bytes = result.records * payload.size();
    result.syncs = log.stats().syncs - syncsBefore;
    return result;
}

// A commit log of its own in `<scratch>/<name>`, removed with the row.
class LogRow : public ThroughputRow {
public:
    ~LogRow() override {
        m_log.reset();
        std::error_code ignored;
        std::filesystem::remove_all(m_dir, ignored);
    }

protected:
    // Deletes the sealed segments after a slice (untimed), so the benchmark needs a few segments of disk per log
    // rather than everything a fast row writes in its seconds.
    Status trim() { return m_log->dropBefore(m_log->durableOffset()); }

    Status openLog(const StorageSetup& setup, const std::string& name) {
        m_dir = setup.scratchDir + "/" + name;
        m_payload = benchPayload(setup.recordSize);
        CommitLogOptions options;
        options.segmentSize = setup.segmentSize;
        auto opened = CommitLog::open(m_dir, options);
        if (!opened.isOk())
            return opened.status();
        m_log = std::move(opened.value());
        return Status::ok();
    }

    std::string m_dir;
    std::string m_payload;
    std::unique_ptr<CommitLog> m_log;
};

class SyncAppendRow : public LogRow {
public:
    // Closing the log joins its flusher, the only caller of the listener, before m_events goes away. (Clearing
    // the listener would not do: the flusher calls a copy of it outside the log's lock.)
    ~SyncAppendRow() override { m_log.reset(); }

    Status open(const StorageSetup& setup, int inFlight) {
        m_inFlight = inFlight;
        m_result.name = "SYNC@" + std::to_string(inFlight);
        DEPOT_RETURN_IF_ERROR(openLog(setup, "sync-" + std::to_string(inFlight)));
        m_log->setDurableListener([this](uint64_t offset, const Status& status) { m_events.notify(offset, status); });
        return Status::ok();
    }

    Status runSlice(const Budget& budget, bool counted) override {
        auto slice = runSyncPhase(*m_log, m_events, m_inFlight, budget, m_payload);
        if (!slice.isOk())
            return slice.status();
        if (counted)
            m_result.add(*slice);
        return trim();
    }

private:
    DurableEvents m_events;
    int m_inFlight = 1;
};

Result<Measurement> runAsyncPhase(CommitLog& log, const Budget& budget, const std::string& payload) {
    const RecordView view{1, payload};
    const uint64_t syncsBefore = log.stats().syncs;
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(budget.time);
    Measurement result;
    while (result.records < budget.maxRecords && Clock::now() < deadline) {
        auto appended = log.append(std::span(&view, 1), Durability::Async);
        if (!appended.isOk())
            return appended.status();
        ++result.records;
    }
    // The data is on disk only after a sync: the closing flush belongs to the cost.
    if (Status status = log.flush(); !status.isOk())
        return status;
    result.seconds = secondsBetween(start, Clock::now());
    result.bytes = result.records * payload.size();
    result.syncs = log.stats().syncs - syncsBefore;
    return result;
}

class AsyncAppendRow : public LogRow {
public:
    Status open(const StorageSetup& setup) {
        m_result.name = "ASYNC";
        m_result.note = "flush every 100 ms; a flush() ends each slice";
        return openLog(setup, "async");
    }

    Status runSlice(const Budget& budget, bool counted) override {
        auto slice = runAsyncPhase(*m_log, budget, m_payload);
        if (!slice.isOk())
            return slice.status();
        if (counted)
            m_result.add(*slice);
        return trim();
    }
};

}  // namespace

Result<std::unique_ptr<ThroughputRow>> makeSyncAppendRow(const StorageSetup& setup, int inFlight) {
    auto row = std::make_unique<SyncAppendRow>();
    DEPOT_RETURN_IF_ERROR(row->open(setup, inFlight));
    return std::unique_ptr<ThroughputRow>(std::move(row));
}

Result<std::unique_ptr<ThroughputRow>> makeAsyncAppendRow(const StorageSetup& setup) {
    auto row = std::make_unique<AsyncAppendRow>();
    DEPOT_RETURN_IF_ERROR(row->open(setup));
    return std::unique_ptr<ThroughputRow>(std::move(row));
}

}  // namespace depot::bench
