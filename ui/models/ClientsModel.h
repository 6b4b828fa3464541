#pragma once
// ClientsModel: one row per connected session of the latest Snapshot, for the Clients page. Empty until the first
// snapshot.
//
// Contract:
// - A snapshot whose session ids are the previous one's, in the same order, updates the table in place with one
//   dataChanged over every cell (views keep selection and scroll). Any other set or order of sessions resets it.
// - A null snapshot or one with a non-empty error is ignored: the model keeps showing the last good one.
// - Qt::DisplayRole is text for people; SortRole is the raw value so QSortFilterProxyModel::setSortRole(SortRole)
//   sorts numerically: qlonglong milliseconds since the epoch for Connected, qulonglong milliseconds ago for
//   LastHeard, qulonglong for Unconfirmed, QString for the text columns (Client, Role, Address, Consumers).

#include <QAbstractTableModel>
#include <QString>

#include <cstdint>

#include "backend/Snapshot.h"

namespace depot::ui {

class ClientsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        Client = 0,
        Role,
        Address,
        Connected,    // since, local time "hh:mm:ss" (the full date in the tooltip)
        LastHeard,    // "0.4 s ago", relative to the snapshot's time
        Unconfirmed,  // publishes not yet confirmed to this client
        Consumers,    // "orders (prefetch 100, unacked 3); billing (auto-ack)" or "–"
        ColumnCount
    };
    enum DataRole { SortRole = Qt::UserRole };

    explicit ClientsModel(QObject* parent = nullptr);

    void setSnapshot(const SnapshotPtr& snapshot);

    // The broker's session id shown in `row`; 0 for a row out of range.
    uint64_t sessionId(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // "0.4 s ago" under a minute, then coarser ("2 min ago", "1 h 5 min ago"). Negative counts as 0.
    static QString formatAgo(int64_t milliseconds);

private:
    static bool isNumeric(int column);
    bool sameSessionsInSameOrder(const Snapshot& next) const;
    int64_t millisecondsSinceHeard(const client::SessionInfo& session) const;
    QVariant display(const client::SessionInfo& session, int column) const;
    QVariant sortValue(const client::SessionInfo& session, int column) const;
    static QString describeConsumers(const client::SessionInfo& session);
    static QString consumerDetails(const client::SessionInfo& session);

    SnapshotPtr m_snapshot;  // shown; null until the first good snapshot
};

}  // namespace depot::ui
