#pragma once
// QueueTableModel: one row per queue of the latest Snapshot, for the Queues page. Empty until the first snapshot.
//
// Contract:
// - A snapshot whose queue names are the previous one's, in the same order, updates the table in place with one
//   dataChanged over every cell (views keep selection and scroll). Any other set or order of names resets the model.
// - A null snapshot or one with a non-empty error is ignored: the model keeps showing the last good one.
// - InRate/OutRate are messages per second between the last two accepted snapshots (from counters.published and
//   counters.acked over stats.at); "–" on the first snapshot, for a queue new since the previous one, when the
//   broker's clock did not advance, or when a counter went backwards (the broker restarted).
// - Qt::DisplayRole is text for people; SortRole is the raw value (qulonglong for counts and ages in milliseconds,
//   double for rates, QString for text columns) so QSortFilterProxyModel::setSortRole(SortRole) sorts numerically.
//   A missing rate or age sorts as 0.

#include <QAbstractTableModel>
#include <QString>

#include <cstdint>
#include <vector>

#include "backend/Snapshot.h"

namespace depot::ui {

class QueueTableModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        Name = 0,
        Kind,  // "normal" / "dead-letter"
        Ready,
        Unacked,
        Delayed,
        Consumers,
        InRate,           // messages/s published into the queue
        OutRate,          // messages/s acked from the queue
        OldestAge,        // age of the oldest message held, at the snapshot's time
        DeadLetterQueue,  // name or "–"
        DeadLetterDepth,
        Flush,        // "sync" / "async"; "memory" for a transient queue
        Replication,  // "none" (no replica yet); "–" for a transient queue
        ColumnCount
    };
    enum Role { SortRole = Qt::UserRole };

    explicit QueueTableModel(QObject* parent = nullptr);

    void setSnapshot(const SnapshotPtr& snapshot);

    // The queue shown in `row`; empty for a row out of range.
    QString queueName(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Coarse age for people: "0 s", "42 s", "2 min", "1 h 5 min", "3 d 4 h". Negative counts as 0.
    static QString formatAge(int64_t milliseconds);
    // A policy duration: "250 ms", "1.5 s", "30 s", "5 min", "1 h 5 min".
    static QString formatPolicyDuration(int64_t milliseconds);
    // The queue's policy in plain words, one setting per line (the Name column's tooltip).
    static QString describePolicy(const broker::QueueInfo& info);

private:
    static bool isNumeric(int column);
    bool sameNamesInSameOrder(const Snapshot& next) const;
    void mapPreviousRows(bool sameNames);
    // Messages per second of one counter between the previous snapshot and this one; negative when unknown.
    double rate(int row, uint64_t broker::Counters::*counter) const;
    QVariant display(const client::QueueDetails& queue, int row, int column) const;
    QVariant sortValue(const client::QueueDetails& queue, int row, int column) const;

    SnapshotPtr m_snapshot;  // shown; null until the first good snapshot
    SnapshotPtr m_previous;  // the one before, for rates; null on the first
    // For each row of m_snapshot, the same queue's row in m_previous, or -1. Reused between snapshots so an
    // in-place update allocates nothing.
    std::vector<int> m_previousRow;
};

}  // namespace depot::ui
