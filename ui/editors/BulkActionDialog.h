#pragma once
// BulkActionDialog: requeue or delete many dead letters as one broker job, in three steps. Preview: how many
// messages, from where, to where (for "back to origin", how many go to each source queue), at what rate.
// Running: progress from the broker and Cancel (what is done stays done; nothing is half moved: each copy is
// confirmed before its original is settled). Report: requeued / failed, and why, message by message.
#include <QDialog>

#include "depot/broker/Broker.h"

class QDialogButtonBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace depot::ui {

class BrokerLink;

class BulkActionDialog : public QDialog {
    Q_OBJECT

public:
    // `request.queue` and `request.filter` say which messages (filter.sequences for a selection); `count` is how
    // many the operator sees selected or matching.
    BulkActionDialog(BrokerLink* link, broker::RequeueRequest request, uint64_t count, QWidget* parent = nullptr);

    enum class Step { Preview, Running, Finished };
    Step step() const { return m_step; }
    const broker::RequeueReport& report() const { return m_report; }

public slots:
    void start();
    void cancelJob();
    void reject() override;  // while running: stops the job (keeps the dialog for the report)

signals:
    void finished(const broker::RequeueReport& report);

private:
    void showDestinations(const broker::MessageGroups& groups);
    void poll();
    void showReport();
    QString verb() const;

    BrokerLink* m_link;
    broker::RequeueRequest m_request;
    uint64_t m_count;
    Step m_step = Step::Preview;
    uint64_t m_job = 0;
    broker::RequeueReport m_report;
    QLabel* m_summary;
    QLabel* m_destinations;
    QSpinBox* m_rate;
    QProgressBar* m_progress;
    QTableWidget* m_items;
    QPushButton* m_start;
    QPushButton* m_cancel;
    QPushButton* m_close;
    QTimer* m_poll;
};

}  // namespace depot::ui
