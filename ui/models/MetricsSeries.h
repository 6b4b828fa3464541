#pragma once
// MetricsSeries: the Overview's chart data — per-second points made from the console's snapshots (live, the last
// kLiveHistoryMs) or from the broker's metrics history (1 h / 24 h views). No QtCharts here: the points are plain
// QPointF (x = milliseconds since the epoch, y in the metric's unit) so the arithmetic can be tested without
// rendering anything.
#include <QList>
#include <QPointF>

#include <array>
#include <optional>
#include <vector>

#include "backend/Snapshot.h"
#include "depot/LatencyHistogram.h"
#include "depot/broker/Observability.h"

namespace depot::ui {

class MetricsSeries {
public:
    enum Metric {
        PublishRate,  // messages/s
        ConfirmRate,
        NackRate,
        DeliverRate,
        AckRate,
        RedeliverRate,
        RetryRate,
        DeadLetterRate,
        DeadLetterDepth,  // messages in dead-letter queues
        Backlog,          // ready + unacked + delayed of normal queues
        ConfirmP50,       // publish → confirm latency, µs
        ConfirmP99,
        FsyncP50,  // the log's fdatasync latency, µs
        FsyncP99,
        MetricCount
    };

    // A bound on the points of each series after setHistory (24 h of per-second samples would be 86,400).
    static constexpr int kMaxHistoryPoints = 1500;
    // Snapshots closer together than this (an action's immediate re-poll) add no point: the next one measures
    // the longer interval, so a burst is not shown as a spike of its instantaneous rate.
    static constexpr broker::TimeMs kMinIntervalMs = 500;

    // Live use. The first snapshot (or any carrying `backfill`) adds a point per backfill sample newer than the
    // newest point; each later one adds a point from its difference with the previous one: rates are
    // Δcounter / Δt, latencies are the percentiles of the interval's own samples (no point if it had none).
    // A counter or histogram that went down (the broker restarted) restarts the baseline without a point.
    // Points older than kLiveHistoryMs before the snapshot are dropped. Snapshots with an error are ignored.
    void addSnapshot(const Snapshot& snapshot);

    // History use: replaces every series with the broker-wide samples (MetricsSample::queue empty; others are
    // ignored), oldest first, averaged over equal buckets of time so no series has more than `maxPoints` points.
    // Forgets the live baseline: an instance serves either live snapshots or history.
    void setHistory(const std::vector<broker::MetricsSample>& samples, int maxPoints = kMaxHistoryPoints);

    void clear();
    const QList<QPointF>& series(Metric metric) const { return m_series[metric]; }
    // The time of the newest snapshot or sample seen, ms since the epoch (0 if none).
    broker::TimeMs latestAt() const { return m_latestAt; }

private:
    struct CounterBase {
        broker::TimeMs at = 0;
        broker::Counters counters;
    };
    struct LatencyBase {
        broker::TimeMs at = 0;
        LatencyHistogram confirm;
        LatencyHistogram fsync;
    };

    void addBackfill(const std::vector<broker::MetricsSample>& samples);
    void addSamplePoints(const broker::MetricsSample& sample, const std::optional<CounterBase>& previous);
    void addRates(const CounterBase& from, const CounterBase& to);
    void addLatencies(const LatencyBase& from, const LatencyBase& to);
    void append(Metric metric, broker::TimeMs at, double value);
    void dropBefore(broker::TimeMs at);

    std::array<QList<QPointF>, MetricCount> m_series;
    std::optional<CounterBase> m_counterBase;
    std::optional<LatencyBase> m_latencyBase;
    broker::TimeMs m_latestAt = 0;
};

}  // namespace depot::ui
