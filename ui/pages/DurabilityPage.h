#pragma once
// DurabilityPage: how safe each queue's confirmed messages are, and the switch that trades safety for speed.
// Next to each choice, what it costs and risks on this machine: the broker's own fdatasync latency and the
// confirmed messages at risk right now. Changing a queue's flush is safe at runtime and audited by the broker.
#include <QWidget>

#include "backend/Snapshot.h"

class QButtonGroup;
class QComboBox;
class QLabel;
class QPushButton;
class QRadioButton;
class QSortFilterProxyModel;
class QTableView;

namespace depot::ui {

class BrokerDefaultsBox;
class BrokerLink;
class QueueTableModel;

class DurabilityPage : public QWidget {
    Q_OBJECT

public:
    explicit DurabilityPage(BrokerLink* link, QWidget* parent = nullptr);
    void setSnapshot(const SnapshotPtr& snapshot);

    QTableView* view() const { return m_view; }
    bool selectQueue(const QString& name);

public slots:
    void applyFlush();  // the selected queue gets the flush mode chosen below the table

signals:
    void message(const QString& text);

private:
    QWidget* buildMachineBox();
    QWidget* buildEditor();
    const client::QueueDetails* selected() const;
    void showSelected();
    void updateTradeOffs();
    void updateEnabled();
    QString replicasText() const;     // who follows this broker, and how far behind
    QString replicationText() const;  // what the selected replication choice promises, with the lag right now

    BrokerLink* m_link;
    SnapshotPtr m_snapshot;
    QueueTableModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view = nullptr;
    QLabel* m_fsync = nullptr;
    QLabel* m_atRisk = nullptr;
    QLabel* m_queueTitle = nullptr;
    QRadioButton* m_sync = nullptr;
    QRadioButton* m_async = nullptr;
    QLabel* m_syncText = nullptr;
    QLabel* m_asyncText = nullptr;
    QComboBox* m_replication = nullptr;
    QLabel* m_replicationText = nullptr;
    QLabel* m_replicas = nullptr;
    QPushButton* m_apply = nullptr;
    BrokerDefaultsBox* m_defaults = nullptr;
};

}  // namespace depot::ui
