#pragma once
// QueuesPage: every queue in a sortable, filterable table, with the actions an operator takes on one: create,
// edit its policy, purge, delete (the last two confirm, naming the queue and how many messages go).
#include <QWidget>

#include "backend/Snapshot.h"

class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace depot::ui {

class BrokerLink;
class QueueTableModel;

class QueuesPage : public QWidget {
    Q_OBJECT

public:
    explicit QueuesPage(BrokerLink* link, QWidget* parent = nullptr);

    void setSnapshot(const SnapshotPtr& snapshot);
    QTableView* view() const { return m_view; }
    // The queue of the current row; empty when none is selected.
    QString selectedQueue() const;

public slots:
    void newQueue();
    void editQueue();
    void purgeQueue();
    void publishToQueue();
    void peekQueue();
    void deleteQueue();
    void editAlerts();

signals:
    // A one-line outcome for the status bar ("queue 'orders' created", or why it failed).
    void message(const QString& text);
    void traceRequested(const QString& messageId);

private:
    const client::QueueDetails* selectedDetails() const;
    void updateActions();
    void run(const QString& what, std::function<Status(client::Admin&)> action);

    BrokerLink* m_link;
    SnapshotPtr m_snapshot;
    QueueTableModel* m_model;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view;
    QLineEdit* m_filter;
    QPushButton* m_edit;
    QPushButton* m_publish;
    QPushButton* m_peek;
    QPushButton* m_alerts;
    QPushButton* m_purge;
    QPushButton* m_delete;
};

}  // namespace depot::ui
