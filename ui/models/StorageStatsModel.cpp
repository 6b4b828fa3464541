#include "models/StorageStatsModel.h"

#include <QStringList>

#include <iterator>

namespace depot::ui {

namespace {

QString number(uint64_t value) { return QString::number(qulonglong(value)); }

QString exactBytes(uint64_t bytes) { return QStringLiteral("%1 bytes").arg(qulonglong(bytes)); }

// Percentiles of an empty histogram are not zero latencies, so show that there is nothing to show.
QString latency(const LatencyHistogram& histogram, uint64_t nanoseconds) {
    return histogram.count() == 0 ? QStringLiteral("—") : StorageStatsModel::formatDuration(nanoseconds);
}

QString quarantineToolTip(const std::vector<depot::storage::CorruptRange>& ranges) {
    QStringList lines;
    for (const depot::storage::CorruptRange& range : ranges) {
        lines << QStringLiteral("[%1, %2) in %3: %4")
                     .arg(qulonglong(range.begin))
                     .arg(qulonglong(range.end))
                     .arg(QString::fromStdString(range.segment), QString::fromStdString(range.reason));
    }
    return lines.join(QLatin1Char('\n'));
}

}  // namespace

StorageStatsModel::StorageStatsModel(QObject* parent) : QAbstractTableModel(parent) {}

QList<StorageStatsModel::Row> StorageStatsModel::rowsFor(const depot::storage::CommitLogStats& stats) {
    // A durable offset ahead of the written one would be a bug in the log; never show a negative window.
    const uint64_t unsynced = stats.writtenOffset > stats.durableOffset ? stats.writtenOffset - stats.durableOffset : 0;
    const LatencyHistogram& sync = stats.syncLatency;
    const QString state = stats.readOnly ? QStringLiteral("read-only: %1").arg(QString::fromStdString(stats.failure))
                                         : QStringLiteral("writable");
    return {
        {tr("Start offset"), number(stats.startOffset), {}},
        {tr("Written offset"), number(stats.writtenOffset), {}},
        {tr("Durable offset"), number(stats.durableOffset), {}},
        {tr("Unsynced bytes"), formatBytes(unsynced), exactBytes(unsynced)},
        {tr("Segments"), number(stats.segmentCount), {}},
        {tr("Bytes on disk"), formatBytes(stats.bytesOnDisk), exactBytes(stats.bytesOnDisk)},
        {tr("Records appended"), number(stats.appendedRecords), {}},
        {tr("Batches appended"), number(stats.appendedBatches), {}},
        {tr("Write calls"), number(stats.writeCalls), {}},
        {tr("Fsyncs"), number(stats.syncs), {}},
        {tr("Fsync p50"), latency(sync, sync.percentile(50)), {}},
        {tr("Fsync p99"), latency(sync, sync.percentile(99)), {}},
        {tr("Fsync max"), latency(sync, sync.max()), {}},
        {tr("Quarantined ranges"), number(stats.quarantined.size()), quarantineToolTip(stats.quarantined)},
        {tr("State"), state, {}, false},
    };
}

void StorageStatsModel::setStats(const depot::storage::CommitLogStats& stats) {
    QList<Row> rows = rowsFor(stats);
    if (m_rows.isEmpty()) {
        beginInsertRows({}, 0, int(rows.size()) - 1);
        m_rows = std::move(rows);
        endInsertRows();
        return;
    }
    // The row set never changes after the first snapshot: report only the span of values that did.
    Q_ASSERT(rows.size() == m_rows.size());
    int first = -1;
    int last = -1;
    for (int row = 0; row < int(rows.size()); ++row) {
        const Row& before = m_rows.at(row);
        const Row& after = rows.at(row);
        if (before.value != after.value || before.toolTip != after.toolTip) {
            first = first < 0 ? row : first;
            last = row;
        }
    }
    m_rows = std::move(rows);
    if (first >= 0)
        emit dataChanged(index(first, ValueColumn), index(last, ValueColumn), {Qt::DisplayRole, Qt::ToolTipRole});
}

int StorageStatsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

int StorageStatsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant StorageStatsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& row = m_rows.at(index.row());
    const bool isValue = index.column() == ValueColumn;
    switch (role) {
        case Qt::DisplayRole:
            return isValue ? row.value : row.metric;
        case Qt::ToolTipRole:
            return isValue && !row.toolTip.isEmpty() ? QVariant(row.toolTip) : QVariant();
        case Qt::TextAlignmentRole: {
            const Qt::Alignment horizontal = isValue && row.numeric ? Qt::AlignRight : Qt::AlignLeft;
            // An int, not Qt::Alignment: what Qt 6.4's delegates and older views read back.
            return int(horizontal | Qt::AlignVCenter);
        }
        default:
            return {};
    }
}

QVariant StorageStatsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case MetricColumn:
            return tr("Metric");
        case ValueColumn:
            return tr("Value");
        default:
            return {};
    }
}

QString StorageStatsModel::formatDuration(uint64_t nanoseconds) {
    // Each threshold is where the value would round up to 1000 of its unit ("1000.0 µs"): show the next unit.
    const double ns = double(nanoseconds);
    if (nanoseconds < 1'000)
        return QStringLiteral("%1 ns").arg(qulonglong(nanoseconds));
    if (nanoseconds < 999'950)
        return QStringLiteral("%1 µs").arg(ns / 1e3, 0, 'f', 1);
    if (nanoseconds < 999'995'000)
        return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', 2);
    return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', 2);
}

QString StorageStatsModel::formatBytes(uint64_t bytes) {
    static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(qulonglong(bytes));
    double value = double(bytes) / 1024.0;
    size_t unit = 0;
    // 1023.95 and above would print as "1024.0": move to the next unit instead.
    while (value >= 1023.95 && unit + 1 < std::size(kUnits)) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(value, 0, 'f', 1).arg(QLatin1String(kUnits[unit]));
}

}  // namespace depot::ui
