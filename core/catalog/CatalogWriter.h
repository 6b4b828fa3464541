#pragma once
// CatalogWriter: a thread that writes rows for the catalog, so the threads producing them never wait on SQLite.
// Whatever is queued when the thread wakes is committed in one transaction, with statements prepared once and
// reused. The catalog runs two: one writes audit entries into the catalog file (synced like a definition), the
// other trace events and metrics samples into the history file (never synced), each on its own connection.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "broker/TraceBatch.h"
#include "catalog/Catalog.h"
#include "catalog/Sqlite.h"
#include "catalog/TraceRows.h"

namespace depot::catalog {

class CatalogWriter {
public:
    // Audit: appendAudit only. History: appendTrace, appendMetrics and prune.
    enum class Kind { Audit, History };

    // `db` is the connection to write with, shared with other writes under `dbMutex` (the catalog's
    // definitions); both outlive the writer. Nothing is written until start().
    CatalogWriter(Kind kind, SqliteDb& db, std::mutex& dbMutex, CatalogOptions options);
    ~CatalogWriter();  // commits everything queued, then joins the thread
    CatalogWriter(const CatalogWriter&) = delete;
    CatalogWriter& operator=(const CatalogWriter&) = delete;

    Status start();

    // Trace events are refused (false, and counted) while maxQueuedTrace of them wait; audit entries and
    // metrics samples are always queued.
    bool appendTrace(const broker::TraceEvent& event);
    // Returns an empty batch for the next events, reusing one already written (Catalog::appendTrace).
    broker::TraceBatch appendTrace(broker::TraceBatch events);
    void appendAudit(broker::AuditEntry entry);
    void appendMetrics(std::vector<broker::MetricsSample> samples);
    void prune(broker::TimeMs now);
    // Waits until everything queued before the call is committed (or has failed); returns the first error the
    // writer met since it started, OK if none.
    Status flush();
    uint64_t droppedTrace() const { return m_dropped.load(std::memory_order_relaxed); }

private:
    struct Batch {
        // As handed over: a broker round's events move in whole, not one by one under the lock.
        std::vector<broker::TraceBatch> trace;
        size_t traceCount = 0;
        std::vector<broker::AuditEntry> audit;
        std::vector<broker::MetricsSample> metrics;
        std::optional<broker::TimeMs> pruneAt;
        bool empty() const { return traceCount == 0 && audit.empty() && metrics.empty() && !pruneAt; }
    };
    struct Statements;
    // At most one commit per interval while events keep coming (one broker round's events at 40,000 publishes/s
    // are a few dozen rows; a transaction each cost more than the rows).
    static constexpr std::chrono::milliseconds kMinCommitInterval{20};
    // The writer offers its CPU to waiting threads this often while it inserts a batch. A batch is a few ms of
    // CPU in one stretch; on a two-core machine that left the broker and flusher threads, woken meanwhile, waiting
    // for a core, and confirms waiting for them (publish@64: fdatasync p99 3.9-4.2 ms -> 1.8-3.1 ms, msgs/s
    // +15-30 %; docs/benchmarks.md). A yield costs a syscall per 64 rows, about 1 % of the rows' time.
    static constexpr size_t kRowsBetweenYields = 64;
    // After writing this many events, the writer trims the heap once it has caught up (DESIGN: RAM per queued
    // message is a target; a burst's freed event memory would otherwise stay in the process).
    static constexpr size_t kTrimAfterEvents = 20'000;

    static Result<std::unique_ptr<Statements>> prepareStatements(SqliteDb& db, Kind kind);
    void run();
    Status write(const Batch& batch, std::unique_ptr<Statements>& statements);
    Status writeTransaction(const Batch& batch, Statements& statements);
    Status insertAll(const Batch& batch, Statements& statements);
    Status pruneOlder(broker::TimeMs now, Statements& statements);
    // With m_mutex held: a new generation is waiting. Wakes the writer only if it waits for work: while it
    // gathers (kMinCommitInterval) it takes everything when the interval ends anyway, and a wake-up per broker
    // round was a futex call on the broker thread and a pointless one on the writer's.
    void queued();

    const Kind m_kind;
    SqliteDb& m_db;
    std::mutex& m_dbMutex;
    const CatalogOptions m_options;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;       // the writer: something was queued, or it is time to stop
    std::condition_variable m_committed;  // flush(): a batch was written
    Batch m_pending;
    // Written batches kept for appendTrace to hand back: the broker thread allocated their buffers, and reusing
    // them spares it an allocation per round and this thread freeing it (under the broker's arena lock).
    std::vector<broker::TraceBatch> m_spareTrace;
    static constexpr size_t kSpareTraceBatches = 4;
    static constexpr size_t kSpareTraceBytes = 256 * 1024;  // a burst's larger buffers are freed
    // Every append bumps m_queuedGeneration; the writer publishes the generation it took with its batch once
    // the batch is committed. flush() waits for the generation current at its call.
    uint64_t m_queuedGeneration = 0;
    uint64_t m_writtenGeneration = 0;
    bool m_stopping = false;
    int m_flushWaiters = 0;  // callers in flush(): the writer commits at once rather than gathering more
    bool m_idle = false;     // the writer waits for something to be queued
    Status m_firstError;
    std::atomic<uint64_t> m_dropped{0};
    TraceRowPlanner m_rowPlanner;  // the writer thread's
    std::thread m_thread;
};

}  // namespace depot::catalog
