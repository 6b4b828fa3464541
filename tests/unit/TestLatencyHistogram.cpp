#include "depot/LatencyHistogram.h"

#include <QtTest>

#include <cmath>
#include <cstdint>

using depot::LatencyHistogram;

namespace {

constexpr uint64_t kUniformCount = 100000;

LatencyHistogram uniformHistogram() {
    LatencyHistogram histogram;
    for (uint64_t v = 1; v <= kUniformCount; ++v)
        histogram.record(v);
    return histogram;
}

}  // namespace

class TestLatencyHistogram : public QObject {
    Q_OBJECT

private slots:
    void testEmptyHistogramReportsZeros();
    void testSingleValueIsEveryPercentile_data();
    void testSingleValueIsEveryPercentile();
    void testUniformPercentilesAreWithinOneEighth_data();
    void testUniformPercentilesAreWithinOneEighth();
    void testHundredthPercentileIsMax();
    void testMergeEqualsRecordingEverythingInOne();
    void testResetEmptiesHistogram();
    void testBucketBoundariesAreContiguous();
    void testValueAtBucketBoundaryIsReportedExactly_data();
    void testValueAtBucketBoundaryIsReportedExactly();
    void testSmallValuesHaveExactBuckets();
    void testHugeValuesClampToLastBucket();
};

void TestLatencyHistogram::testEmptyHistogramReportsZeros() {
    LatencyHistogram histogram;
    QCOMPARE(histogram.count(), uint64_t(0));
    QCOMPARE(histogram.min(), uint64_t(0));
    QCOMPARE(histogram.max(), uint64_t(0));
    QCOMPARE(histogram.mean(), 0.0);
    for (double p : {0.0, 50.0, 99.9, 100.0})
        QCOMPARE(histogram.percentile(p), uint64_t(0));
}

void TestLatencyHistogram::testSingleValueIsEveryPercentile_data() {
    QTest::addColumn<quint64>("value");
    for (quint64 v : {quint64(0), quint64(1), quint64(7), quint64(1000), quint64(123456789), quint64(1) << 42})
        QTest::addRow("%llu", static_cast<unsigned long long>(v)) << v;
}

void TestLatencyHistogram::testSingleValueIsEveryPercentile() {
    QFETCH(quint64, value);
    LatencyHistogram histogram;
    histogram.record(value);
    QCOMPARE(histogram.count(), uint64_t(1));
    QCOMPARE(histogram.min(), value);
    QCOMPARE(histogram.max(), value);
    QCOMPARE(histogram.mean(), double(value));
    for (double p : {0.0, 1.0, 50.0, 99.0, 100.0})
        QCOMPARE(histogram.percentile(p), value);
}

void TestLatencyHistogram::testUniformPercentilesAreWithinOneEighth_data() {
    QTest::addColumn<double>("p");
    for (double p : {0.001, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99})
        QTest::addRow("p%g", p) << p;
}

void TestLatencyHistogram::testUniformPercentilesAreWithinOneEighth() {
    QFETCH(double, p);
    const LatencyHistogram histogram = uniformHistogram();
    const auto exact = uint64_t(std::ceil(p / 100.0 * double(kUniformCount)));
    const uint64_t reported = histogram.percentile(p);
    // The reported value is its bucket's upper bound: never below the true value, at most 12.5% above it.
    QVERIFY2(reported >= exact, qPrintable(QStringLiteral("%1 < %2").arg(reported).arg(exact)));
    QVERIFY2(double(reported) <= double(exact) * 1.125,
             qPrintable(QStringLiteral("%1 > 1.125 * %2").arg(reported).arg(exact)));
}

void TestLatencyHistogram::testHundredthPercentileIsMax() {
    const LatencyHistogram histogram = uniformHistogram();
    QCOMPARE(histogram.count(), kUniformCount);
    QCOMPARE(histogram.min(), uint64_t(1));
    QCOMPARE(histogram.max(), kUniformCount);
    QCOMPARE(histogram.mean(), (double(kUniformCount) + 1.0) / 2.0);
    QCOMPARE(histogram.percentile(100.0), kUniformCount);
    // 100000 is mid-bucket: only the clamp to max() makes p100 exact.
    QVERIFY(LatencyHistogram::bucketUpperBound(LatencyHistogram::bucketOf(kUniformCount)) > kUniformCount);
}

void TestLatencyHistogram::testMergeEqualsRecordingEverythingInOne() {
    LatencyHistogram low;
    LatencyHistogram high;
    LatencyHistogram all;
    for (uint64_t v = 1; v <= 5000; ++v) {
        (v % 3 == 0 ? high : low).record(v * 37);
        all.record(v * 37);
    }
    LatencyHistogram empty;
    low.merge(empty);
    low.merge(high);
    QCOMPARE(low.count(), all.count());
    QCOMPARE(low.min(), all.min());
    QCOMPARE(low.max(), all.max());
    QCOMPARE(low.mean(), all.mean());
    for (double p : {0.0, 10.0, 50.0, 90.0, 99.0, 100.0})
        QCOMPARE(low.percentile(p), all.percentile(p));

    empty.merge(all);
    QCOMPARE(empty.min(), all.min());
    QCOMPARE(empty.percentile(50.0), all.percentile(50.0));
}

void TestLatencyHistogram::testResetEmptiesHistogram() {
    LatencyHistogram histogram = uniformHistogram();
    histogram.reset();
    QCOMPARE(histogram.count(), uint64_t(0));
    QCOMPARE(histogram.min(), uint64_t(0));
    QCOMPARE(histogram.max(), uint64_t(0));
    QCOMPARE(histogram.percentile(50.0), uint64_t(0));
    histogram.record(500);
    QCOMPARE(histogram.min(), uint64_t(500));
    QCOMPARE(histogram.max(), uint64_t(500));
    QCOMPARE(histogram.percentile(50.0), uint64_t(500));
}

void TestLatencyHistogram::testBucketBoundariesAreContiguous() {
    // Walk the buckets in value order: each bucket's upper bound maps to that bucket and the next value to the next
    // non-empty bucket, and every bucket is at most 1/8 of its lower bound wide. The last bucket is open-ended.
    const int last = LatencyHistogram::kBucketCount - 1;
    QCOMPARE(LatencyHistogram::bucketOf(0), 0);
    uint64_t lower = 1;
    int previous = -1;
    int visited = 0;
    while (LatencyHistogram::bucketOf(lower) != last) {
        const int bucket = LatencyHistogram::bucketOf(lower);
        QVERIFY2(bucket > previous, qPrintable(QStringLiteral("value %1").arg(lower)));
        const uint64_t upper = LatencyHistogram::bucketUpperBound(bucket);
        QVERIFY2(upper >= lower, qPrintable(QStringLiteral("bucket %1").arg(bucket)));
        QCOMPARE(LatencyHistogram::bucketOf(upper), bucket);
        QVERIFY2((upper - lower) * 8 < lower || upper == lower,
                 qPrintable(QStringLiteral("bucket %1 [%2, %3] too wide").arg(bucket).arg(lower).arg(upper)));
        previous = bucket;
        lower = upper + 1;
        ++visited;
    }
    // Seven values below 8, then eight sub-buckets for each power of two from 2^3 to 2^42 but the last one.
    QCOMPARE(visited, 7 + 40 * 8 - 1);
    QCOMPARE(lower, (uint64_t(1) << 43) - (uint64_t(1) << 39));
    QCOMPARE(LatencyHistogram::bucketUpperBound(last), UINT64_MAX);
}

void TestLatencyHistogram::testValueAtBucketBoundaryIsReportedExactly_data() {
    QTest::addColumn<quint64>("value");
    QTest::addColumn<int>("bucket");
    for (int bucket : {8, 24, 25, 100, 200, 300, LatencyHistogram::kBucketCount - 2}) {
        const quint64 upper = LatencyHistogram::bucketUpperBound(bucket);
        QTest::addRow("upper bound of bucket %d", bucket) << upper << bucket;
        const quint64 previousUpper = LatencyHistogram::bucketUpperBound(bucket - 1);
        QTest::addRow("lower bound of bucket %d", bucket) << previousUpper + 1 << bucket;
    }
}

void TestLatencyHistogram::testValueAtBucketBoundaryIsReportedExactly() {
    QFETCH(quint64, value);
    QFETCH(int, bucket);
    QCOMPARE(LatencyHistogram::bucketOf(value), bucket);
    LatencyHistogram histogram;
    histogram.record(value);
    histogram.record(value);
    // A far larger maximum, so the clamp to max() is not what produces the answer.
    histogram.record(value * 4 + 100);
    const uint64_t upper = LatencyHistogram::bucketUpperBound(bucket);
    QCOMPARE(histogram.percentile(50.0), upper);
    QCOMPARE(histogram.percentile(0.0), upper);
    QVERIFY(upper >= value);
    QVERIFY(double(upper) <= double(value) * 1.125);
}

void TestLatencyHistogram::testSmallValuesHaveExactBuckets() {
    for (uint64_t v = 0; v < 16; ++v) {
        int bucket = LatencyHistogram::bucketOf(v);
        QCOMPARE(LatencyHistogram::bucketUpperBound(bucket), std::max<uint64_t>(v, 1));
        if (v > 1)
            QVERIFY(bucket > LatencyHistogram::bucketOf(v - 1));
    }
}

void TestLatencyHistogram::testHugeValuesClampToLastBucket() {
    const int last = LatencyHistogram::kBucketCount - 1;
    for (uint64_t v : {uint64_t(1) << 43, (uint64_t(1) << 50) + 3, UINT64_MAX - 1, UINT64_MAX})
        QCOMPARE(LatencyHistogram::bucketOf(v), last);
    QVERIFY(LatencyHistogram::bucketOf((uint64_t(1) << 43) - 1) <= last);

    LatencyHistogram histogram;
    for (int i = 0; i < 10; ++i)
        histogram.record(1000);
    histogram.record(UINT64_MAX);
    QCOMPARE(histogram.count(), uint64_t(11));
    QCOMPARE(histogram.max(), UINT64_MAX);
    QCOMPARE(histogram.percentile(100.0), UINT64_MAX);
    QVERIFY(histogram.percentile(50.0) >= 1000 && histogram.percentile(50.0) <= 1125);
    QVERIFY(histogram.mean() > 1e18);  // the sum saturates instead of wrapping to something small
}

QTEST_GUILESS_MAIN(TestLatencyHistogram)
#include "TestLatencyHistogram.moc"
