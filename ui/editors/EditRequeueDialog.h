#pragma once
// EditRequeueDialog: fix a dead letter before sending it back — its body (checked as JSON when it is JSON, so a
// typo is caught here rather than by the consumer) and its headers — and choose where it goes (its source queue,
// from the death record, unless another is named).
#include <QDialog>

#include "depot/broker/Broker.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace depot::ui {

class EditRequeueDialog : public QDialog {
    Q_OBJECT

public:
    EditRequeueDialog(const broker::QueuedMessage& message, const QStringList& queues, QWidget* parent = nullptr);

    // The requeue as edited: one message (by sequence), with the new body and headers. Invalid: why.
    Result<broker::RequeueRequest> request() const;

private:
    void revalidate();

    broker::QueuedMessage m_message;
    QPlainTextEdit* m_body;
    QCheckBox* m_json;
    QTableWidget* m_headers;
    QComboBox* m_target;
    QLabel* m_problem;
    QPushButton* m_ok;
};

}  // namespace depot::ui
