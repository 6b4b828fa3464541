#pragma once
// PublishDialog: publish test messages to one queue, with confirms, and see what the broker answered for them
// (confirmed, duplicate, or nacked with its reason). The messages go through the console's own connection, as an
// application's would.
#include <QDialog>

#include "depot/Result.h"
#include "depot/broker/Message.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QCheckBox;

namespace depot::ui {

class BrokerLink;

class PublishDialog : public QDialog {
    Q_OBJECT

public:
    PublishDialog(BrokerLink* link, const QString& queue, QWidget* parent = nullptr);

    // The request as entered (one message; --repeat sends it `repeat()` times, ids suffixed -1, -2, ...).
    Result<broker::PublishRequest> request() const;
    int repeat() const;
    // The outcome line of the last send ("10 confirmed, 0 duplicate, 0 nacked"), empty before.
    QString outcome() const;

public slots:
    void send();

signals:
    void sent(const QString& outcome);

private:
    BrokerLink* m_link;
    QString m_queue;
    QPlainTextEdit* m_body;
    QPlainTextEdit* m_headers;
    QLineEdit* m_key;
    QLineEdit* m_id;
    QLineEdit* m_ttl;
    QLineEdit* m_delay;
    QSpinBox* m_repeat;
    QCheckBox* m_persistent;
    QLabel* m_outcome;
    QPushButton* m_send;
};

}  // namespace depot::ui
