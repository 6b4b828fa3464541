#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "depot/storage/CommitLog.h"
#include "models/StorageStatsModel.h"

using depot::storage::CommitLogStats;
using depot::ui::StorageStatsModel;

namespace {

// Values of the form 2^k - 1 end a histogram bucket (buckets split at powers of two), so percentile(), which
// reports a bucket's upper bound, returns them exactly.
constexpr uint64_t kFastSync = (uint64_t(1) << 14) - 1;  // 16383 ns
constexpr uint64_t kSlowSync = (uint64_t(1) << 22) - 1;  // 4194303 ns
constexpr uint64_t kWorstSync = 20'000'000;

CommitLogStats sampleStats() {
    CommitLogStats stats;
    stats.startOffset = 4096;
    stats.writtenOffset = 1'000'000;
    stats.durableOffset = 998'976;
    stats.segmentCount = 2;
    stats.bytesOnDisk = 128ull << 20;
    stats.appendedRecords = 5000;
    stats.appendedBatches = 700;
    stats.writeCalls = 701;
    stats.syncs = 101;
    // 101 samples: the 51st (p50) is fast, the 100th (p99) is slow, the worst is only the max.
    for (int i = 0; i < 90; ++i)
        stats.syncLatency.record(kFastSync);
    for (int i = 0; i < 10; ++i)
        stats.syncLatency.record(kSlowSync);
    stats.syncLatency.record(kWorstSync);
    stats.quarantined.push_back({8192, 8300, "00000000000000000000.seg", "crc mismatch"});
    return stats;
}

int rowOf(const QAbstractItemModel& model, const QString& metric) {
    for (int row = 0; row < model.rowCount(); ++row) {
        if (model.index(row, StorageStatsModel::MetricColumn).data().toString() == metric)
            return row;
    }
    return -1;
}

QString valueOf(const QAbstractItemModel& model, const QString& metric) {
    const int row = rowOf(model, metric);
    if (row < 0)
        return QStringLiteral("<no row '%1'>").arg(metric);
    return model.index(row, StorageStatsModel::ValueColumn).data().toString();
}

Qt::Alignment alignmentOf(const QAbstractItemModel& model, const QString& metric) {
    const QModelIndex index = model.index(rowOf(model, metric), StorageStatsModel::ValueColumn);
    return Qt::Alignment(index.data(Qt::TextAlignmentRole).toInt());
}

}  // namespace

class TestStorageStatsModel : public QObject {
    Q_OBJECT

private slots:
    void testHeadersAreMetricAndValue() {
        StorageStatsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QCOMPARE(model.columnCount(), 2);
        QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("Metric"));
        QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), QStringLiteral("Value"));
    }

    void testIsEmptyUntilTheFirstSnapshot() {
        StorageStatsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QCOMPARE(model.rowCount(), 0);
        model.setStats(sampleStats());
        QCOMPARE(model.rowCount(), 15);
    }

    void testShowsEveryMetricOfASnapshot_data() {
        QTest::addColumn<QString>("metric");
        QTest::addColumn<QString>("value");
        QTest::newRow("start") << "Start offset" << "4096";
        QTest::newRow("written") << "Written offset" << "1000000";
        QTest::newRow("durable") << "Durable offset" << "998976";
        QTest::newRow("unsynced is written minus durable") << "Unsynced bytes" << "1.0 KiB";
        QTest::newRow("segments") << "Segments" << "2";
        QTest::newRow("bytes on disk") << "Bytes on disk" << "128.0 MiB";
        QTest::newRow("records") << "Records appended" << "5000";
        QTest::newRow("batches") << "Batches appended" << "700";
        QTest::newRow("write calls") << "Write calls" << "701";
        QTest::newRow("fsyncs") << "Fsyncs" << "101";
        QTest::newRow("p50") << "Fsync p50" << QStringLiteral("16.4 µs");
        QTest::newRow("p99") << "Fsync p99" << "4.19 ms";
        QTest::newRow("max") << "Fsync max" << "20.00 ms";
        QTest::newRow("quarantined") << "Quarantined ranges" << "1";
        QTest::newRow("state") << "State" << "writable";
    }
    void testShowsEveryMetricOfASnapshot() {
        QFETCH(QString, metric);
        QFETCH(QString, value);
        StorageStatsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStats(sampleStats());
        QCOMPARE(valueOf(model, metric), value);
    }

    void testQuarantinedRangesAreListedInTheToolTip() {
        StorageStatsModel model;
        model.setStats(sampleStats());
        const QModelIndex index = model.index(rowOf(model, "Quarantined ranges"), StorageStatsModel::ValueColumn);
        const QString toolTip = index.data(Qt::ToolTipRole).toString();
        QVERIFY2(toolTip.contains("[8192, 8300)"), qPrintable(toolTip));
        QVERIFY2(toolTip.contains("crc mismatch"), qPrintable(toolTip));
    }

    void testReadOnlyStateShowsTheFailure() {
        StorageStatsModel model;
        CommitLogStats stats = sampleStats();
        stats.readOnly = true;
        stats.failure = "IoError: fdatasync 00000000000000000000.seg: Input/output error";
        model.setStats(stats);
        QCOMPARE(valueOf(model, "State"),
                 QStringLiteral("read-only: IoError: fdatasync 00000000000000000000.seg: Input/output error"));
    }

    void testLatenciesOfAnEmptyHistogramAreNotShownAsZero() {
        StorageStatsModel model;
        CommitLogStats stats = sampleStats();
        stats.syncLatency.reset();
        model.setStats(stats);
        QCOMPARE(valueOf(model, "Fsync p50"), QStringLiteral("—"));
        QCOMPARE(valueOf(model, "Fsync max"), QStringLiteral("—"));
    }

    void testNumbersAreRightAlignedAndTextLeftAligned() {
        StorageStatsModel model;
        model.setStats(sampleStats());
        QVERIFY(alignmentOf(model, "Durable offset") & Qt::AlignRight);
        QVERIFY(alignmentOf(model, "Fsync p99") & Qt::AlignRight);
        QVERIFY(alignmentOf(model, "Bytes on disk") & Qt::AlignRight);
        QVERIFY(alignmentOf(model, "State") & Qt::AlignLeft);
        const QModelIndex metric = model.index(0, StorageStatsModel::MetricColumn);
        QVERIFY(Qt::Alignment(metric.data(Qt::TextAlignmentRole).toInt()) & Qt::AlignLeft);
    }

    void testNextSnapshotUpdatesValuesWithDataChangedNotReset() {
        StorageStatsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setStats(sampleStats());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy layout(&model, &QAbstractItemModel::layoutChanged);

        CommitLogStats next = sampleStats();
        next.durableOffset = next.writtenOffset;
        next.syncs = 102;
        model.setStats(next);

        QCOMPARE(reset.count(), 0);
        QCOMPARE(inserted.count(), 0);
        QCOMPARE(layout.count(), 0);
        QCOMPARE(changed.count(), 1);
        const auto topLeft = changed.at(0).at(0).value<QModelIndex>();
        const auto bottomRight = changed.at(0).at(1).value<QModelIndex>();
        QCOMPARE(topLeft.row(), rowOf(model, "Durable offset"));
        QCOMPARE(bottomRight.row(), rowOf(model, "Fsyncs"));
        QCOMPARE(topLeft.column(), int(StorageStatsModel::ValueColumn));
        QCOMPARE(bottomRight.column(), int(StorageStatsModel::ValueColumn));
        QCOMPARE(valueOf(model, "Durable offset"), QStringLiteral("1000000"));
        QCOMPARE(valueOf(model, "Unsynced bytes"), QStringLiteral("0 B"));
        QCOMPARE(valueOf(model, "Fsyncs"), QStringLiteral("102"));
    }

    void testUnchangedSnapshotEmitsNothing() {
        StorageStatsModel model;
        model.setStats(sampleStats());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        model.setStats(sampleStats());
        QCOMPARE(changed.count(), 0);
        QCOMPARE(reset.count(), 0);
    }

    void testFormatDuration_data() {
        QTest::addColumn<qulonglong>("nanoseconds");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0ull << "0 ns";
        QTest::newRow("nanoseconds") << 850ull << "850 ns";
        QTest::newRow("microseconds") << 12'345ull << QStringLiteral("12.3 µs");
        QTest::newRow("just below the rounding edge") << 999'949ull << QStringLiteral("999.9 µs");
        QTest::newRow("would round to 1000.0 µs") << 999'950ull << "1.00 ms";
        QTest::newRow("milliseconds") << 4'560'000ull << "4.56 ms";
        QTest::newRow("seconds") << 1'500'000'000ull << "1.50 s";
    }
    void testFormatDuration() {
        QFETCH(qulonglong, nanoseconds);
        QFETCH(QString, text);
        QCOMPARE(StorageStatsModel::formatDuration(nanoseconds), text);
    }

    void testFormatBytes_data() {
        QTest::addColumn<qulonglong>("bytes");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0ull << "0 B";
        QTest::newRow("bytes") << 1023ull << "1023 B";
        QTest::newRow("kibibyte") << 1024ull << "1.0 KiB";
        QTest::newRow("just below the rounding edge") << 1'048'524ull << "1023.9 KiB";
        QTest::newRow("would round to 1024.0 KiB") << 1'048'525ull << "1.0 MiB";
        QTest::newRow("segment") << (64ull << 20) << "64.0 MiB";
        QTest::newRow("gibibytes") << (3ull << 29) << "1.5 GiB";
    }
    void testFormatBytes() {
        QFETCH(qulonglong, bytes);
        QFETCH(QString, text);
        QCOMPARE(StorageStatsModel::formatBytes(bytes), text);
    }
};

QTEST_MAIN(TestStorageStatsModel)
#include "TestStorageStatsModel.moc"
