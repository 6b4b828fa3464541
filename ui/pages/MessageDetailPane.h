#pragma once
// MessageDetailPane: one message in full, as plain text only (never rich text: a body is untrusted): the payload
// as text, pretty JSON or a hex dump; its headers; its death record; its lineage (each requeue out of a
// dead-letter queue: when, by whom, from where to where). Copy puts the shown payload on the clipboard.
#include <QWidget>

#include <optional>

#include "depot/broker/Message.h"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QTableWidget;
class QTabWidget;

namespace depot::ui {

class MessageDetailPane : public QWidget {
    Q_OBJECT

public:
    enum PayloadView { Text = 0, PrettyJson, Hex };

    explicit MessageDetailPane(QWidget* parent = nullptr);
    void showMessage(const std::optional<broker::QueuedMessage>& message);  // nullopt: "select a message"
    void showNote(const QString& note);  // instead of a message: "3 selected", "loading…"
    QString payloadText() const;
    // The message shown (with its body), if any.
    const std::optional<broker::QueuedMessage>& message() const { return m_message; }

    // The renderings, for the pane and its tests.
    static QString prettyJson(const std::string& body);  // or a line saying why it is not JSON
    static QString hexDump(const std::string& body, size_t maxBytes = 64 * 1024);

signals:
    void traceRequested(const QString& messageId);

private:
    void renderPayload();
    void fillHeaders(const broker::QueuedMessage& message);
    void fillDeath(const broker::QueuedMessage& message);

    std::optional<broker::QueuedMessage> m_message;
    QLabel* m_title;
    QComboBox* m_view;
    QTabWidget* m_tabs;
    QPlainTextEdit* m_payload;
    QTableWidget* m_headers;
    QPlainTextEdit* m_death;
    QTableWidget* m_lineage;
};

}  // namespace depot::ui
