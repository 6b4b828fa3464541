#pragma once
// StorageStatsModel: a two-column table ("Metric", "Value") of one CommitLogStats snapshot, for the console.
// Empty until the first setStats(). The rows are fixed, so later snapshots update values in place with
// dataChanged (views keep their selection and scroll position); no reset.

#include <QAbstractTableModel>
#include <QList>
#include <QString>

#include <cstdint>

#include "depot/storage/CommitLog.h"

namespace depot::ui {

class StorageStatsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { MetricColumn = 0, ValueColumn = 1, ColumnCount = 2 };

    explicit StorageStatsModel(QObject* parent = nullptr);

    void setStats(const depot::storage::CommitLogStats& stats);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Human units: "850 ns", "16.4 µs", "4.19 ms", "1.50 s".
    static QString formatDuration(uint64_t nanoseconds);
    // Binary units: "512 B", "4.0 KiB", "64.0 MiB", "1.5 GiB".
    static QString formatBytes(uint64_t bytes);

private:
    struct Row {
        QString metric;
        QString value;
        QString toolTip;
        bool numeric = true;  // right-aligned
    };
    static QList<Row> rowsFor(const depot::storage::CommitLogStats& stats);

    QList<Row> m_rows;
};

}  // namespace depot::ui
