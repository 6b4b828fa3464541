#pragma once
// PeekDialog: the head of a queue, read without side effects (no delivery, no attempt counted, nothing locked).
// Bodies are shown as plain text when they are UTF-8, else as hex; never as rich text.
#include <QDialog>

#include "depot/broker/Broker.h"

class QLabel;
class QPlainTextEdit;
class QTableWidget;

namespace depot::ui {

class BrokerLink;

class PeekDialog : public QDialog {
    Q_OBJECT

public:
    static constexpr size_t kLimit = 100;

    PeekDialog(BrokerLink* link, const QString& queue, QWidget* parent = nullptr);
    QTableWidget* table() const { return m_table; }
    // Plain text for UTF-8, else "hex: 00 ff …" (at most `maxBytes` shown).
    static QString bodyText(const std::string& body, int maxBytes = 4096);

public slots:
    void refresh();

signals:
    void loaded(int count);
    void traceRequested(const QString& messageId);  // the operator asked for the selected message's timeline

private:
    void display(const broker::BrowsePage& page);
    void showBody();

    BrokerLink* m_link;
    QString m_queue;
    std::vector<broker::QueuedMessage> m_messages;
    QLabel* m_summary;
    QTableWidget* m_table;
    QPlainTextEdit* m_body;
};

}  // namespace depot::ui
