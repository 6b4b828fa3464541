// MetricsSeries: the arithmetic behind the Overview's charts — rates and interval latencies from consecutive
// snapshots, the backfill of the first one, broker restarts, the live window and the downsampled history.
#include <QTest>

#include <algorithm>

#include "models/MetricsSeries.h"

using depot::LatencyHistogram;
using depot::broker::Counters;
using depot::broker::MetricsSample;
using depot::broker::QueueKind;
using depot::broker::TimeMs;
using depot::ui::MetricsSeries;
using depot::ui::Snapshot;

namespace {

constexpr TimeMs kStart = 1'700'000'000'000;  // a fixed "now": the series use the broker's clock only
constexpr uint64_t kMicrosecond = 1000;

Snapshot snapshotAt(TimeMs at, Counters totals = {}) {
    Snapshot snapshot;
    snapshot.stats.at = at;
    snapshot.stats.totals = totals;
    return snapshot;
}

depot::client::QueueDetails queue(QueueKind kind, uint64_t ready, uint64_t unacked, uint64_t delayed) {
    depot::client::QueueDetails details;
    details.info.kind = kind;
    details.stats.ready = ready;
    details.stats.unacked = unacked;
    details.stats.delayed = delayed;
    return details;
}

MetricsSample sampleAt(TimeMs at, uint64_t published) {
    MetricsSample sample;
    sample.at = at;
    sample.counters.published = published;
    sample.ready = 7;  // dead-letter queues included, as the broker sums them
    sample.deadLetterDepth = 2;
    sample.confirmP50Us = 40;
    sample.confirmP99Us = 90;
    return sample;
}

bool allNonNegative(const MetricsSeries& series) {
    for (int metric = 0; metric < MetricsSeries::MetricCount; ++metric)
        for (const QPointF& point : series.series(MetricsSeries::Metric(metric)))
            if (point.y() < 0)
                return false;
    return true;
}

}  // namespace

class TestMetricsSeries : public QObject {
    Q_OBJECT

private slots:
    void testRateIsTheCounterDifferenceOverTheInterval_data() {
        QTest::addColumn<int>("metric");
        QTest::addColumn<int>("field");  // index into the counters set below
        QTest::newRow("publish") << int(MetricsSeries::PublishRate) << 0;
        QTest::newRow("confirm") << int(MetricsSeries::ConfirmRate) << 1;
        QTest::newRow("nack") << int(MetricsSeries::NackRate) << 2;
        QTest::newRow("deliver") << int(MetricsSeries::DeliverRate) << 3;
        QTest::newRow("ack") << int(MetricsSeries::AckRate) << 4;
        QTest::newRow("redeliver") << int(MetricsSeries::RedeliverRate) << 5;
        QTest::newRow("retry") << int(MetricsSeries::RetryRate) << 6;
        QTest::newRow("dead-letter") << int(MetricsSeries::DeadLetterRate) << 7;
    }

    void testRateIsTheCounterDifferenceOverTheInterval() {
        QFETCH(int, metric);
        QFETCH(int, field);
        uint64_t Counters::*fields[] = {&Counters::published, &Counters::confirmed,   &Counters::nacked,
                                        &Counters::delivered, &Counters::acked,       &Counters::redelivered,
                                        &Counters::retried,   &Counters::deadLettered};
        Counters before, after;
        before.*fields[field] = 1000;
        after.*fields[field] = 1300;  // +300 in 2 s
        MetricsSeries series;
        series.addSnapshot(snapshotAt(kStart, before));
        QVERIFY(series.series(MetricsSeries::Metric(metric)).isEmpty());  // one snapshot: no interval yet
        series.addSnapshot(snapshotAt(kStart + 2000, after));
        const QList<QPointF>& points = series.series(MetricsSeries::Metric(metric));
        QCOMPARE(points.size(), 1);
        QCOMPARE(points[0], QPointF(double(kStart + 2000), 150.0));
    }

    void testLatencyIsTheIntervalsOwnNotTheCumulativeOne() {
        Snapshot snapshot = snapshotAt(kStart);
        MetricsSeries series;
        series.addSnapshot(snapshot);
        for (int i = 0; i < 100; ++i)
            snapshot.stats.fsyncLatency.record(100 * kMicrosecond);
        snapshot.stats.at += 1000;
        series.addSnapshot(snapshot);
        for (int i = 0; i < 100; ++i)
            snapshot.stats.fsyncLatency.record(1000 * kMicrosecond);
        snapshot.stats.at += 1000;
        series.addSnapshot(snapshot);
        // The cumulative median is still ~100 µs; the second second's own median is ~1 ms (within 12.5 %).
        QVERIFY(snapshot.stats.fsyncLatency.percentile(50) < 200 * kMicrosecond);
        const QList<QPointF>& p50 = series.series(MetricsSeries::FsyncP50);
        QCOMPARE(p50.size(), 2);
        QVERIFY2(std::abs(p50[0].y() - 100) <= 12.5, qPrintable(QString::number(p50[0].y())));
        QVERIFY2(std::abs(p50[1].y() - 1000) <= 125, qPrintable(QString::number(p50[1].y())));
        QVERIFY(std::abs(series.series(MetricsSeries::FsyncP99)[1].y() - 1000) <= 125);
    }

    void testIntervalWithoutSamplesAddsNoLatencyPoint() {
        Snapshot snapshot = snapshotAt(kStart);
        snapshot.stats.confirmLatency.record(50 * kMicrosecond);
        MetricsSeries series;
        series.addSnapshot(snapshot);
        snapshot.stats.at += 1000;
        series.addSnapshot(snapshot);  // nothing confirmed in that second
        QVERIFY(series.series(MetricsSeries::ConfirmP50).isEmpty());
        QVERIFY(series.series(MetricsSeries::ConfirmP99).isEmpty());
        QCOMPARE(series.series(MetricsSeries::PublishRate).size(), 1);  // a rate of 0 is a point
    }

    void testCounterGoingDownRestartsTheBaselineWithoutANegativePoint() {
        Counters counters;
        counters.published = 5000;
        Snapshot snapshot = snapshotAt(kStart, counters);
        snapshot.stats.fsyncLatency.record(100 * kMicrosecond);
        MetricsSeries series;
        series.addSnapshot(snapshot);
        Snapshot restarted = snapshotAt(kStart + 1000);  // a new broker: counters and histograms from zero
        restarted.stats.totals.published = 10;
        series.addSnapshot(restarted);
        QVERIFY(series.series(MetricsSeries::PublishRate).isEmpty());
        QVERIFY(series.series(MetricsSeries::FsyncP50).isEmpty());
        restarted.stats.at += 1000;
        restarted.stats.totals.published = 30;
        series.addSnapshot(restarted);
        QCOMPARE(series.series(MetricsSeries::PublishRate), QList<QPointF>{QPointF(double(kStart + 2000), 20.0)});
        QVERIFY(allNonNegative(series));
    }

    void testSnapshotsCloseTogetherWaitForALongerInterval() {
        Counters counters;
        MetricsSeries series;
        series.addSnapshot(snapshotAt(kStart, counters));
        counters.published = 5;
        series.addSnapshot(snapshotAt(kStart + 50, counters));  // an action's immediate re-poll
        QVERIFY(series.series(MetricsSeries::PublishRate).isEmpty());
        series.addSnapshot(snapshotAt(kStart + 1000, counters));
        QCOMPARE(series.series(MetricsSeries::PublishRate), QList<QPointF>{QPointF(double(kStart + 1000), 5.0)});
    }

    void testDepthsComeFromTheQueues() {
        Snapshot snapshot = snapshotAt(kStart);
        snapshot.queues = {queue(QueueKind::Normal, 10, 2, 1), queue(QueueKind::Normal, 5, 0, 0),
                           queue(QueueKind::DeadLetter, 3, 1, 0)};
        MetricsSeries series;
        series.addSnapshot(snapshot);
        QCOMPARE(series.series(MetricsSeries::Backlog), QList<QPointF>{QPointF(double(kStart), 18.0)});
        QCOMPARE(series.series(MetricsSeries::DeadLetterDepth), QList<QPointF>{QPointF(double(kStart), 4.0)});
    }

    void testBackfillStartsTheChartsFullAndLiveSnapshotsContinueIt() {
        Snapshot first = snapshotAt(kStart + 10'300);
        first.stats.totals.published = 100 + 10 * 10 + 3;
        for (int second = 0; second <= 10; ++second)
            first.backfill.push_back(sampleAt(kStart + second * 1000, 100 + 10 * uint64_t(second)));
        MetricsSeries series;
        series.addSnapshot(first);
        const QList<QPointF>& published = series.series(MetricsSeries::PublishRate);
        QCOMPARE(published.size(), 10);  // 11 samples, 10 intervals; the snapshot is 300 ms after the last
        QVERIFY(std::all_of(published.begin(), published.end(), [](const QPointF& p) { return p.y() == 10.0; }));
        QCOMPARE(series.series(MetricsSeries::Backlog).first().y(), 5.0);  // 7 in all queues, 2 of them dead
        QCOMPARE(series.series(MetricsSeries::ConfirmP99).first().y(), 90.0);

        Snapshot next = first;
        next.backfill.clear();
        next.stats.at = kStart + 11'000;
        next.stats.totals.published = 100 + 10 * 11;
        series.addSnapshot(next);  // 1 s after the last sample: measured from it, not from the early snapshot
        QCOMPARE(published.size(), 11);
        QCOMPARE(published.last(), QPointF(double(kStart + 11'000), 10.0));
    }

    void testLiveSeriesKeepFiveMinutes() {
        MetricsSeries series;
        Counters counters;
        for (int second = 0; second < 400; ++second) {
            counters.published += 3;
            series.addSnapshot(snapshotAt(kStart + second * 1000, counters));
        }
        const TimeMs newest = kStart + 399 * 1000;
        for (int metric : {MetricsSeries::PublishRate, MetricsSeries::Backlog}) {
            const QList<QPointF>& points = series.series(MetricsSeries::Metric(metric));
            QVERIFY(points.first().x() >= double(newest - depot::ui::kLiveHistoryMs));
            QCOMPARE(points.last().x(), double(newest));
            QVERIFY(points.size() <= 301);
        }
        QCOMPARE(series.latestAt(), newest);
    }

    void testHistoryIsDownsampledToTheBound() {
        std::vector<MetricsSample> day;
        for (int second = 0; second < 24 * 3600; ++second)
            day.push_back(sampleAt(kStart + TimeMs(second) * 1000, 4 * uint64_t(second)));  // 4 messages/s
        MetricsSample other = day.back();
        other.queue = "orders";  // per-queue samples are not broker-wide: ignored
        other.counters.published = 0;
        day.push_back(other);
        MetricsSeries series;
        series.setHistory(day);
        for (int metric = 0; metric < MetricsSeries::MetricCount; ++metric)
            QVERIFY(series.series(MetricsSeries::Metric(metric)).size() <= MetricsSeries::kMaxHistoryPoints);
        const QList<QPointF>& published = series.series(MetricsSeries::PublishRate);
        QVERIFY(published.size() > MetricsSeries::kMaxHistoryPoints / 2);
        for (int i = 0; i < published.size(); ++i) {
            QCOMPARE(published[i].y(), 4.0);  // an average of equal rates
            QVERIFY(published[i].x() >= double(kStart) && published[i].x() <= double(day.back().at));
            QVERIFY(i == 0 || published[i].x() > published[i - 1].x());
        }
        QVERIFY(series.series(MetricsSeries::FsyncP50).isEmpty());  // 0 µs stored: no fsync in those seconds
        QVERIFY(allNonNegative(series));
    }

    void testHistoryAcrossARestartHasNoNegativeRate() {
        std::vector<MetricsSample> samples = {sampleAt(kStart, 500), sampleAt(kStart + 1000, 600),
                                              sampleAt(kStart + 2000, 3), sampleAt(kStart + 3000, 13)};
        MetricsSeries series;
        series.setHistory(samples);
        QCOMPARE(series.series(MetricsSeries::PublishRate),
                 (QList<QPointF>{QPointF(double(kStart + 1000), 100.0), QPointF(double(kStart + 3000), 10.0)}));
    }

    void testSnapshotWithAnErrorIsIgnored() {
        Snapshot failed = snapshotAt(kStart);
        failed.error = "connection refused";
        MetricsSeries series;
        series.addSnapshot(failed);
        QVERIFY(series.series(MetricsSeries::Backlog).isEmpty());
        QCOMPARE(series.latestAt(), TimeMs(0));
    }
};

QTEST_MAIN(TestMetricsSeries)
#include "TestMetricsSeries.moc"
