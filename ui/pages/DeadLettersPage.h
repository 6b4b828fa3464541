#pragma once
// DeadLettersPage: the operator's dead-letter workbench. Every dead-letter queue with its depth and growth; the
// dead letters of the chosen one in a lazy table (a million rows cost a few pages of memory), narrowed by a
// filter and grouped into failure groups; one message in full below; and the actions — requeue to the origin or
// to a chosen queue, edit and requeue, delete — on the selection or on everything the filter matches, each
// previewed, run by the broker as a job with a rate limit, progress, Cancel and a per-message report, and
// audited. Browsing never changes broker state.
#include <QWidget>

#include "backend/Snapshot.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTableWidget;

namespace depot::ui {

class BrokerLink;
class DeadLetterFilterBar;
class DeadLetterTableModel;
class MessageDetailPane;
class QueueTableModel;

class DeadLettersPage : public QWidget {
    Q_OBJECT

public:
    explicit DeadLettersPage(BrokerLink* link, QWidget* parent = nullptr);
    void setSnapshot(const SnapshotPtr& snapshot);

    bool selectDeadLetterQueue(const QString& name);
    QString currentQueue() const;
    DeadLetterTableModel* model() const { return m_model; }
    QTableView* view() const { return m_view; }
    DeadLetterFilterBar* filterBar() const { return m_filterBar; }
    MessageDetailPane* detail() const { return m_detail; }
    QTableWidget* groups() const { return m_groups; }

public slots:
    void applyFilter();
    void requeueToOrigin();
    void requeueTo(const QString& target = {});  // empty: ask which queue
    void editAndRequeue();
    void deleteMessages();
    void refreshGroups();
    // JSON Lines (depot/client/MessageFile.h), off the GUI thread. Export: the selection, or everything matching.
    // Import: every line checked first (a bad file imports nothing), then published with confirms to `target` or
    // to the queue each line names.
    void exportTo(const QString& path);
    void importFrom(const QString& path, const QString& target = {});

signals:
    void message(const QString& text);
    void traceRequested(const QString& messageId);
    void exported(quint64 messages, const QString& error);               // error empty: done
    void imported(quint64 confirmed, quint64 refused, const QString& error);

private:
    QWidget* buildQueueList();
    QWidget* buildGroups();
    QWidget* buildMessages();
    void queueChosen();
    void selectionChanged();
    void showDetailOf(uint64_t sequence);
    // The messages an action applies to: the selected rows, or all that match when that box is ticked.
    bool scope(broker::RequeueRequest& request, uint64_t& count) const;
    void runBulk(broker::RequeueRequest request, uint64_t count);
    void chooseExportFile();
    void chooseImportFile();
    void updateScope();
    QStringList normalQueues() const;

    BrokerLink* m_link;
    SnapshotPtr m_snapshot;
    uint64_t m_lastDepth = 0;
    QueueTableModel* m_queues;
    QSortFilterProxyModel* m_dlqs;
    QTableView* m_dlqView = nullptr;
    DeadLetterFilterBar* m_filterBar = nullptr;
    DeadLetterTableModel* m_model;
    QTableView* m_view = nullptr;
    MessageDetailPane* m_detail = nullptr;
    QComboBox* m_groupBy = nullptr;
    QTableWidget* m_groups = nullptr;
    QCheckBox* m_allMatching = nullptr;
    QLabel* m_scope = nullptr;
    QList<QPushButton*> m_actions;
    QPushButton* m_edit = nullptr;
    quint64 m_detailRequest = 0;
    quint64 m_groupsRequest = 0;
    bool m_groupsInFlight = false;
    bool m_groupsWanted = false;  // asked while one was in flight: asked again when it answers
    QLabel* m_groupsNote = nullptr;
};

}  // namespace depot::ui
