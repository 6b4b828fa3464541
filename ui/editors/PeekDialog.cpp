#include "editors/PeekDialog.h"

#include <QDateTime>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStringDecoder>
#include <QTableWidget>
#include <QVBoxLayout>

#include "backend/BrokerLink.h"
#include "depot/client/Admin.h"

namespace depot::ui {
namespace {

QString timeText(broker::TimeMs ms) {
    return ms ? QDateTime::fromMSecsSinceEpoch(ms).toString("yyyy-MM-dd hh:mm:ss.zzz") : QStringLiteral("–");
}

}  // namespace

PeekDialog::PeekDialog(BrokerLink* link, const QString& queue, QWidget* parent)
    : QDialog(parent), m_link(link), m_queue(queue) {
    setWindowTitle(tr("Peek into %1").arg(queue));
    resize(900, 560);
    m_summary = new QLabel(tr("Reading…"));
    m_table = new QTableWidget(0, 7);
    m_table->setObjectName("peekTable");
    m_table->setHorizontalHeaderLabels(
        {tr("Sequence"), tr("Message id"), tr("Key"), tr("State"), tr("Attempts"), tr("Size"), tr("Published")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_body = new QPlainTextEdit;
    m_body->setObjectName("peekBody");
    m_body->setReadOnly(true);
    m_body->setPlaceholderText(tr("Select a message to see its headers and body"));
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &PeekDialog::showBody);
    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_table);
    splitter->addWidget(m_body);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    QPushButton* again = buttons->addButton(tr("&Refresh"), QDialogButtonBox::ActionRole);
    connect(again, &QPushButton::clicked, this, &PeekDialog::refresh);
    QPushButton* trace = buttons->addButton(tr("&Trace"), QDialogButtonBox::ActionRole);
    trace->setObjectName("peekTrace");
    trace->setToolTip(tr("The selected message's life on the Trace page"));
    connect(trace, &QPushButton::clicked, this, [this] {
        const int row = m_table->currentRow();
        if (row < 0 || row >= int(m_messages.size()) || m_messages[size_t(row)].messageId.empty())
            return;
        emit traceRequested(QString::fromStdString(m_messages[size_t(row)].messageId));
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(splitter, 1);
    layout->addWidget(buttons);
    refresh();
}

void PeekDialog::refresh() {
    m_link->fetch<broker::BrowsePage>(
        [queue = m_queue.toStdString()](client::Admin& admin) {
            broker::BrowseOptions options;
            options.limit = kLimit;
            return admin.browse(queue, options);
        },
        this,
        [this](Result<broker::BrowsePage> page) {
            if (!page) {
                m_summary->setText(
                    tr("Cannot read %1: %2").arg(m_queue, QString::fromStdString(page.status().message())));
                return;
            }
            display(*page);
        });
}

void PeekDialog::display(const broker::BrowsePage& page) {
    m_messages = page.messages;
    m_summary->setText(tr("The first %1 of %2 messages, in delivery order. Reading them changes nothing.")
                           .arg(m_messages.size())
                           .arg(page.matched));
    m_table->setRowCount(int(m_messages.size()));
    for (int row = 0; row < int(m_messages.size()); ++row) {
        const broker::QueuedMessage& m = m_messages[size_t(row)];
        const QStringList cells = {QString::number(m.sequence),
                                   QString::fromStdString(m.messageId),
                                   QString::fromStdString(m.key),
                                   QString::fromStdString(std::string(broker::toString(m.state))),
                                   QString::number(m.attempts),
                                   QString::number(m.size),
                                   timeText(m.publishedAt)};
        for (int column = 0; column < cells.size(); ++column)
            m_table->setItem(row, column, new QTableWidgetItem(cells[column]));
    }
    m_table->resizeColumnsToContents();
    emit loaded(int(m_messages.size()));
}

void PeekDialog::showBody() {
    const int row = m_table->currentRow();
    if (row < 0 || row >= int(m_messages.size())) {
        m_body->clear();
        return;
    }
    const broker::QueuedMessage& m = m_messages[size_t(row)];
    QString text;
    for (const auto& [name, value] : m.headers)
        text += QString::fromStdString(name) + ": " + bodyText(value, 256) + "\n";
    if (m.expiresAt)
        text += tr("expires at %1\n").arg(timeText(m.expiresAt));
    if (!text.isEmpty())
        text += "\n";
    m_body->setPlainText(text + bodyText(m.body));
}

QString PeekDialog::bodyText(const std::string& body, int maxBytes) {
    auto decoder = QStringDecoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QByteArray bytes = QByteArray::fromStdString(body);
    QString text = decoder.decode(bytes);
    if (!decoder.hasError())
        return text.size() > maxBytes ? text.left(maxBytes) + tr("… (%1 bytes)").arg(body.size()) : text;
    QString hex = "hex: " + QString::fromLatin1(bytes.left(maxBytes).toHex(' '));
    if (int(body.size()) > maxBytes)
        hex += tr(" … (%1 bytes)").arg(body.size());
    return hex;
}

}  // namespace depot::ui
