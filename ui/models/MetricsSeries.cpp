#include "models/MetricsSeries.h"

#include <algorithm>
#include <utility>

namespace depot::ui {
namespace {

using broker::Counters;

constexpr std::pair<MetricsSeries::Metric, uint64_t Counters::*> kRates[] = {
    {MetricsSeries::PublishRate, &Counters::published}, {MetricsSeries::ConfirmRate, &Counters::confirmed},
    {MetricsSeries::NackRate, &Counters::nacked},       {MetricsSeries::DeliverRate, &Counters::delivered},
    {MetricsSeries::AckRate, &Counters::acked},         {MetricsSeries::RedeliverRate, &Counters::redelivered},
    {MetricsSeries::RetryRate, &Counters::retried},     {MetricsSeries::DeadLetterRate, &Counters::deadLettered},
};

constexpr uint64_t Counters::*kAllCounters[] = {
    &Counters::published, &Counters::confirmed, &Counters::nacked,       &Counters::delivered, &Counters::redelivered,
    &Counters::acked,     &Counters::retried,   &Counters::deadLettered, &Counters::expired,   &Counters::deduplicated,
};

// Counters only grow while a broker runs: one that went down means a new broker (or a reset), not a negative rate.
bool wentDown(const Counters& before, const Counters& after) {
    return std::any_of(std::begin(kAllCounters), std::end(kAllCounters),
                       [&](auto member) { return after.*member < before.*member; });
}

// The samples recorded between two cumulative histograms; nullopt if `after` is not a continuation of `before`.
std::optional<LatencyHistogram> difference(const LatencyHistogram& before, const LatencyHistogram& after) {
    LatencyHistogram interval;
    for (int bucket = 0; bucket < LatencyHistogram::kBucketCount; ++bucket) {
        const uint64_t was = before.bucketCount(bucket), is = after.bucketCount(bucket);
        if (is < was)
            return std::nullopt;
        interval.recordBucket(bucket, is - was);
    }
    return interval;
}

double microseconds(uint64_t nanoseconds) { return double(nanoseconds) / 1000.0; }

// Averages the points (x ascending) over `maxPoints` equal buckets of time; empty buckets give no point.
void downsample(QList<QPointF>& points, int maxPoints) {
    if (maxPoints <= 0 || points.size() <= maxPoints)
        return;
    const double first = points.front().x();
    const double width = (points.back().x() - first) / maxPoints;
    QList<QPointF> out;
    out.reserve(maxPoints);
    QPointF sum;
    int count = 0, current = 0;
    for (const QPointF& point : points) {
        const int bucket = width > 0 ? std::min(maxPoints - 1, int((point.x() - first) / width)) : 0;
        if (bucket != current && count) {
            out.append(sum / count);
            sum = {};
            count = 0;
        }
        current = bucket;
        sum += point;
        ++count;
    }
    if (count)
        out.append(sum / count);
    points = std::move(out);
}

}  // namespace

void MetricsSeries::clear() {
    for (QList<QPointF>& points : m_series)
        points.clear();
    m_counterBase.reset();
    m_latencyBase.reset();
    m_latestAt = 0;
}

void MetricsSeries::addSnapshot(const Snapshot& snapshot) {
    if (!snapshot.error.empty())
        return;
    if (!snapshot.backfill.empty())
        addBackfill(snapshot.backfill);
    const broker::BrokerStats& stats = snapshot.stats;
    const CounterBase counters{stats.at, stats.totals};
    if (!m_counterBase || stats.at < m_counterBase->at || wentDown(m_counterBase->counters, stats.totals)) {
        m_counterBase = counters;
    } else if (stats.at - m_counterBase->at >= kMinIntervalMs) {
        addRates(*m_counterBase, counters);
        m_counterBase = counters;
    }
    LatencyBase latency{stats.at, stats.confirmLatency, stats.fsyncLatency};
    if (!m_latencyBase || stats.at < m_latencyBase->at) {
        m_latencyBase = std::move(latency);
    } else if (stats.at - m_latencyBase->at >= kMinIntervalMs) {
        addLatencies(*m_latencyBase, latency);
        m_latencyBase = std::move(latency);
    }
    uint64_t deadLetters = 0, backlog = 0;
    for (const client::QueueDetails& queue : snapshot.queues) {
        const uint64_t depth = queue.stats.ready + queue.stats.unacked + queue.stats.delayed;
        (queue.info.kind == broker::QueueKind::DeadLetter ? deadLetters : backlog) += depth;
    }
    append(DeadLetterDepth, stats.at, double(deadLetters));
    append(Backlog, stats.at, double(backlog));
    m_latestAt = std::max(m_latestAt, stats.at);
    dropBefore(stats.at - kLiveHistoryMs);
}

void MetricsSeries::addBackfill(const std::vector<broker::MetricsSample>& samples) {
    std::optional<CounterBase> previous;
    for (const broker::MetricsSample& sample : samples) {
        if (!sample.queue.empty())
            continue;
        if (sample.at > m_latestAt)  // older ones only serve as the baseline of the first new one
            addSamplePoints(sample, previous);
        previous = CounterBase{sample.at, sample.counters};
    }
    if (previous && (!m_counterBase || previous->at > m_counterBase->at))
        m_counterBase = previous;
    if (previous)
        m_latestAt = std::max(m_latestAt, previous->at);
}

void MetricsSeries::setHistory(const std::vector<broker::MetricsSample>& samples, int maxPoints) {
    clear();
    std::optional<CounterBase> previous;
    for (const broker::MetricsSample& sample : samples) {
        if (!sample.queue.empty())
            continue;
        addSamplePoints(sample, previous);
        previous = CounterBase{sample.at, sample.counters};
        m_latestAt = std::max(m_latestAt, sample.at);
    }
    for (QList<QPointF>& points : m_series)
        downsample(points, maxPoints);
}

void MetricsSeries::addSamplePoints(const broker::MetricsSample& sample, const std::optional<CounterBase>& previous) {
    const CounterBase current{sample.at, sample.counters};
    if (previous && sample.at > previous->at && !wentDown(previous->counters, sample.counters))
        addRates(*previous, current);
    // The broker-wide sample sums every queue, dead-letter queues included; its deadLetterDepth is their part.
    const uint64_t all = sample.ready + sample.unacked + sample.delayed;
    append(DeadLetterDepth, sample.at, double(sample.deadLetterDepth));
    append(Backlog, sample.at, double(all - std::min(all, sample.deadLetterDepth)));
    // A second without confirms (or fsyncs) is stored as 0 µs: no measurement, not a fast one.
    if (sample.confirmP99Us) {
        append(ConfirmP50, sample.at, double(sample.confirmP50Us));
        append(ConfirmP99, sample.at, double(sample.confirmP99Us));
    }
    if (sample.fsyncP99Us) {
        append(FsyncP50, sample.at, double(sample.fsyncP50Us));
        append(FsyncP99, sample.at, double(sample.fsyncP99Us));
    }
}

void MetricsSeries::addRates(const CounterBase& from, const CounterBase& to) {
    const double seconds = double(to.at - from.at) / 1000.0;
    for (const auto& [metric, member] : kRates)
        append(metric, to.at, double(to.counters.*member - from.counters.*member) / seconds);
}

void MetricsSeries::addLatencies(const LatencyBase& from, const LatencyBase& to) {
    if (auto confirm = difference(from.confirm, to.confirm); confirm && confirm->count()) {
        append(ConfirmP50, to.at, microseconds(confirm->percentile(50)));
        append(ConfirmP99, to.at, microseconds(confirm->percentile(99)));
    }
    if (auto fsync = difference(from.fsync, to.fsync); fsync && fsync->count()) {
        append(FsyncP50, to.at, microseconds(fsync->percentile(50)));
        append(FsyncP99, to.at, microseconds(fsync->percentile(99)));
    }
}

void MetricsSeries::append(Metric metric, broker::TimeMs at, double value) {
    QList<QPointF>& points = m_series[metric];
    if (!points.isEmpty() && double(at) < points.back().x())
        return;  // x must not go back, or the line would double back on itself
    points.append(QPointF(double(at), value));
}

void MetricsSeries::dropBefore(broker::TimeMs at) {
    for (QList<QPointF>& points : m_series) {
        auto keep = std::find_if(points.begin(), points.end(), [at](const QPointF& p) { return p.x() >= double(at); });
        points.erase(points.begin(), keep);
    }
}

}  // namespace depot::ui
