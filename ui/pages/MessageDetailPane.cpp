#include "backend/Text.h"
#include "pages/MessageDetailPane.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "editors/PeekDialog.h"
#include "models/DeadLetterTableModel.h"
#include "pages/ReadOnlyTable.h"

namespace depot::ui {
MessageDetailPane::MessageDetailPane(QWidget* parent) : QWidget(parent) {
    m_title = new QLabel;
    m_title->setTextFormat(Qt::PlainText);
    m_title->setObjectName("detailTitle");
    m_view = new QComboBox;
    m_view->setObjectName("payloadView");
    m_view->addItems({tr("Text"), tr("Pretty JSON"), tr("Hex")});
    auto* copy = new QPushButton(tr("&Copy"));
    copy->setObjectName("copyPayload");
    auto* trace = new QPushButton(tr("&Trace"));
    trace->setObjectName("traceMessage");
    trace->setToolTip(tr("This message's life on the Trace page"));

    m_payload = new QPlainTextEdit;
    m_payload->setObjectName("payload");
    m_payload->setReadOnly(true);
    m_payload->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_headers = readOnlyTable({tr("Header"), tr("Value")});
    m_death = new QPlainTextEdit;
    m_death->setObjectName("deathRecord");
    m_death->setReadOnly(true);
    m_lineage = readOnlyTable({tr("When"), tr("By"), tr("From"), tr("To")});
    m_lineage->setObjectName("lineage");
    m_tabs = new QTabWidget;
    m_tabs->addTab(m_payload, tr("Payload"));
    m_tabs->addTab(m_headers, tr("Headers"));
    m_tabs->addTab(m_death, tr("Death record"));
    m_tabs->addTab(m_lineage, tr("Lineage"));

    auto* top = new QHBoxLayout;
    top->addWidget(m_title, 1);
    top->addWidget(m_view);
    top->addWidget(copy);
    top->addWidget(trace);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_tabs, 1);

    connect(m_view, &QComboBox::currentIndexChanged, this, &MessageDetailPane::renderPayload);
    connect(copy, &QPushButton::clicked, this, [this] {
        const bool payload = m_tabs->currentWidget() == m_payload;
        QApplication::clipboard()->setText(payload ? payloadText() : m_death->toPlainText());
    });
    connect(trace, &QPushButton::clicked, this, [this] {
        if (m_message && !m_message->messageId.empty())
            emit traceRequested(text(m_message->messageId));
    });
    showMessage(std::nullopt);
}

void MessageDetailPane::showNote(const QString& note) {
    m_message.reset();
    m_title->setText(note);
    m_payload->clear();
    m_headers->setRowCount(0);
    m_death->clear();
    m_lineage->setRowCount(0);
}

void MessageDetailPane::showMessage(const std::optional<broker::QueuedMessage>& message) {
    if (!message) {
        showNote(tr("Select a dead letter to see it in full."));
        return;
    }
    m_message = message;
    m_title->setText(tr("%1 · %2 bytes")
                         .arg(message->messageId.empty() ? tr("#%1").arg(message->sequence) : text(message->messageId))
                         .arg(message->size));
    renderPayload();
    fillHeaders(*message);
    fillDeath(*message);
}

QString MessageDetailPane::payloadText() const { return m_payload->toPlainText(); }

void MessageDetailPane::renderPayload() {
    if (!m_message)
        return;
    const std::string& body = m_message->body;
    switch (m_view->currentIndex()) {
        case PrettyJson: m_payload->setPlainText(prettyJson(body)); break;
        case Hex: m_payload->setPlainText(hexDump(body)); break;
        default: m_payload->setPlainText(PeekDialog::bodyText(body, 1 << 20)); break;
    }
}

void MessageDetailPane::fillHeaders(const broker::QueuedMessage& message) {
    m_headers->setRowCount(int(message.headers.size()) + 1);
    setRowText(m_headers, 0, {tr("(key)"), message.key.empty() ? tr("–") : text(message.key)});
    for (size_t i = 0; i < message.headers.size(); ++i)
        setRowText(m_headers, int(i) + 1,
               {text(message.headers[i].first), PeekDialog::bodyText(message.headers[i].second, 4096)});
}

void MessageDetailPane::fillDeath(const broker::QueuedMessage& message) {
    m_lineage->setRowCount(0);
    if (!message.death) {
        m_death->setPlainText(tr("No death record: this message was never dead-lettered."));
        return;
    }
    const broker::DeathRecord& d = *message.death;
    m_death->setPlainText(tr("Reason: %1\nSource queue: %2\nAttempts: %3\nFirst death: %4\nLast death: %5\n"
                             "Deaths: %6\nTimes requeued: %7\n\nLast error:\n%8")
                              .arg(text(broker::toString(d.reason)), text(d.sourceQueue))
                              .arg(d.attempts)
                              .arg(DeadLetterTableModel::formatTime(d.firstDeathAt),
                                   DeadLetterTableModel::formatTime(d.lastDeathAt))
                              .arg(d.deaths)
                              .arg(d.requeues.size())
                              .arg(d.lastError.empty() ? tr("(none given)") : text(d.lastError)));
    m_lineage->setRowCount(int(d.requeues.size()));
    for (size_t i = 0; i < d.requeues.size(); ++i) {
        const broker::RequeueEvent& e = d.requeues[i];
        setRowText(m_lineage, int(i),
               {DeadLetterTableModel::formatTime(e.at), text(e.by), text(e.fromQueue), text(e.toQueue)});
    }
}

QString MessageDetailPane::prettyJson(const std::string& body) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromStdString(body), &error);
    if (error.error != QJsonParseError::NoError)
        return tr("Not JSON (%1 at byte %2). Shown as text:\n\n%3")
            .arg(error.errorString())
            .arg(error.offset)
            .arg(PeekDialog::bodyText(body, 1 << 20));
    return QString::fromUtf8(document.toJson(QJsonDocument::Indented));
}

QString MessageDetailPane::hexDump(const std::string& body, size_t maxBytes) {
    QString out;
    const size_t shown = std::min(body.size(), maxBytes);
    for (size_t line = 0; line < shown; line += 16) {
        QString hex, ascii;
        for (size_t i = line; i < line + 16; ++i) {
            if (i < shown) {
                const auto byte = static_cast<unsigned char>(body[i]);
                hex += QStringLiteral("%1 ").arg(byte, 2, 16, QLatin1Char('0'));
                ascii += byte >= 0x20 && byte < 0x7f ? QChar(byte) : QChar('.');
            } else {
                hex += QStringLiteral("   ");
            }
            if (i == line + 7)
                hex += QLatin1Char(' ');
        }
        out += QStringLiteral("%1  %2 %3\n").arg(line, 8, 16, QLatin1Char('0')).arg(hex, ascii);
    }
    if (shown < body.size())
        out += tr("… %1 more bytes\n").arg(body.size() - shown);
    return out;
}

}  // namespace depot::ui
