#include "backend/Text.h"
#include "pages/AuditPage.h"

#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <memory>

#include "backend/BrokerLink.h"
#include "depot/client/Admin.h"
#include "models/DeadLetterTableModel.h"
#include "pages/ReadOnlyTable.h"

namespace depot::ui {
namespace {

constexpr size_t kLimit = 1000;
constexpr qint64 kHour = 3600 * 1000;

}  // namespace

AuditPage::AuditPage(BrokerLink* link, QWidget* parent) : QWidget(parent), m_link(link) {
    m_target = new QLineEdit;
    m_target->setObjectName("auditTarget");
    m_target->setPlaceholderText(tr("queue (empty: everything)"));
    m_target->setClearButtonEnabled(true);
    m_since = new QComboBox;
    m_since->addItem(tr("last hour"), kHour);
    m_since->addItem(tr("last 24 hours"), 24 * kHour);
    m_since->addItem(tr("last 7 days"), 7 * 24 * kHour);
    m_since->addItem(tr("all kept"), 0);
    m_since->setCurrentIndex(1);
    auto* refresh = new QPushButton(tr("&Refresh"));
    m_summary = new QLabel;
    m_summary->setTextFormat(Qt::PlainText);
    m_table = readOnlyTable(
        {tr("When"), tr("Who"), tr("Action"), tr("Target"), tr("Messages"), tr("Outcome"), tr("Detail")}, "auditTable");
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_target, 1);
    bar->addWidget(m_since);
    bar->addWidget(refresh);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(m_table, 1);
    connect(refresh, &QPushButton::clicked, this, &AuditPage::refresh);
    connect(m_target, &QLineEdit::returnPressed, this, &AuditPage::refresh);
    connect(m_since, &QComboBox::activated, this, &AuditPage::refresh);
}

void AuditPage::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    refresh();
}

void AuditPage::refresh() {
    broker::AuditQuery query;
    query.target = m_target->text().trimmed().toStdString();
    query.limit = kLimit;
    if (const qint64 span = m_since->currentData().toLongLong(); span > 0)
        query.from = QDateTime::currentMSecsSinceEpoch() - span;
    const quint64 request = ++m_request;
    if (m_table->rowCount() == 0)
        m_summary->setText(tr("Reading the audit log…"));
    m_link->fetch<std::vector<broker::AuditEntry>>(
        [query](client::Admin& admin) { return admin.audit(query); }, this,
        [this, request](Result<std::vector<broker::AuditEntry>> entries) {
            if (request != m_request)
                return;
            if (!entries) {
                m_summary->setText(
                    tr("The broker could not read its audit log: %1").arg(text(entries.status().message())));
                return;
            }
            m_summary->setText(entries->size() >= kLimit ? tr("The newest %1 entries.").arg(kLimit)
                                                         : tr("%n entries.", "", int(entries->size())));
            m_table->setRowCount(int(entries->size()));
            for (int row = 0; row < int(entries->size()); ++row) {
                const broker::AuditEntry& e = (*entries)[entries->size() - 1 - size_t(row)];  // newest first
                const QStringList cells = {DeadLetterTableModel::formatTime(e.at), text(e.actor), text(e.action),
                                           text(e.target), QString::number(e.count), e.ok ? tr("ok") : tr("failed"),
                                           text(e.detail)};
                setRowText(m_table, row, cells);
            }
            emit loaded(int(entries->size()));
        });
}

}  // namespace depot::ui
