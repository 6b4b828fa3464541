#pragma once
// Catalog: the broker's SQLite databases (DESIGN.md "SQLite catalog"). The catalog file holds definitions,
// policies, settings and the audit log; the history file beside it trace events and metrics samples. Never
// message bodies.
//
// Definitions are written synchronously and are durable when the call returns (WAL, synchronous=FULL).
// Audit entries are queued and written in batches by one writer thread (and synced); trace events and metrics
// samples by another into the history file, which is never synced and has its own connection, so definitions
// never wait for history and history's writes never queue behind the log's fsyncs. The broker thread never
// waits on SQLite; trace events are dropped (and counted) when the writer falls behind, audit entries and
// metrics are not. Queries use their own connections and may run on any thread.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/TraceBatch.h"
#include "depot/Result.h"
#include "depot/broker/Observability.h"
#include "depot/broker/Policy.h"

namespace depot::catalog {

struct CatalogOptions {
    uint64_t traceRetentionRows = 2'000'000;
    int64_t historyRetentionMs = 24 * 3600 * 1000;  // trace events and metrics samples older than this go
    size_t maxQueuedTrace = 200'000;                 // beyond this, trace events are dropped and counted
    std::string historyPath;                         // empty: history.db beside the catalog
};

class Catalog {
public:
    // Opens or creates `path` and the history file and migrates their schemas to the current versions. Fails with
    // Corruption for a catalog that is not a Depot catalog or has a newer schema than this build knows; a history
    // file like that, or one SQLite finds damaged, is set aside as `<history>.damaged` and a new one begun.
    static Result<std::unique_ptr<Catalog>> open(const std::string& path, CatalogOptions options = {});
    ~Catalog();  // writes everything queued, then stops the writer
    Catalog(const Catalog&) = delete;
    Catalog& operator=(const Catalog&) = delete;

    static constexpr int kSchemaVersion = 5;

    // Definitions. Queue ids come from the catalog and are never reused.
    Result<std::vector<broker::QueueInfo>> loadQueues();
    Result<std::vector<broker::ExchangeSpec>> loadExchanges();
    Result<std::vector<broker::Binding>> loadBindings();
    Result<uint32_t> insertQueue(const broker::QueueInfo& queue);  // queue.id is ignored; returns the new id
    Status updateQueue(const broker::QueueInfo& queue);            // by id: policy, kind, dead-letter queue
    Status deleteQueue(uint32_t id);                               // and every binding to it
    Status upsertExchange(const broker::ExchangeSpec& exchange);
    Status deleteExchange(const std::string& name);                // and its bindings
    Status insertBinding(const broker::Binding& binding);          // an existing identical binding is OK
    Status deleteBinding(const broker::Binding& binding);          // NotFound if absent
    // A replica takes its primary's definitions whole, with the primary's queue ids (the log's records name them).
    Status replaceDefinitions(const std::vector<broker::QueueInfo>& queues,
                              const std::vector<broker::ExchangeSpec>& exchanges,
                              const std::vector<broker::Binding>& bindings);
    // Broker settings as key → text; the broker owns their meaning. Durable when the call returns.
    Result<std::map<std::string, std::string>> loadSettings();
    Status putSettings(const std::map<std::string, std::string>& settings);  // all or none
    Status deleteSetting(const std::string& key);                            // absent: OK

    // Queued writes.
    bool appendTrace(const broker::TraceEvent& event);  // false: dropped, the writer is too far behind
    // As many as there is room for. Returns an empty batch to record the next events into: one handed over
    // earlier and written since, when there is one (its buffer is reused, not freed and allocated again).
    broker::TraceBatch appendTrace(broker::TraceBatch events);
    void appendAudit(broker::AuditEntry entry);
    void appendMetrics(std::vector<broker::MetricsSample> samples);
    // Waits until everything queued before the call is committed; returns the writer's first error, if any.
    Status flush();
    // Deletes trace rows beyond the retention bounds and history older than `now - historyRetentionMs`.
    // Runs on the writer thread; flush() after it to wait.
    void prune(broker::TimeMs now);
    uint64_t droppedTrace() const;

    // Queries, newest last.
    Result<std::vector<broker::TraceEvent>> queryTrace(const broker::TraceQuery& query);
    Result<std::vector<broker::AuditEntry>> queryAudit(const broker::AuditQuery& query);
    Result<std::vector<broker::MetricsSample>> queryMetrics(const std::string& queue, broker::TimeMs from,
                                                            broker::TimeMs to);

    struct Impl;

private:
    explicit Catalog(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace depot::catalog
