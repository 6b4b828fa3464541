#include "backend/Text.h"
#include "editors/BulkActionDialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <memory>

#include "backend/BrokerLink.h"
#include "depot/client/Admin.h"

namespace depot::ui {
namespace {

constexpr int kPollMs = 250;
constexpr int kDefaultRate = 500;  // messages/s: a redrive that does not flood the consumers it feeds

}  // namespace

BulkActionDialog::BulkActionDialog(BrokerLink* link, broker::RequeueRequest request, uint64_t count, QWidget* parent)
    : QDialog(parent), m_link(link), m_request(std::move(request)), m_count(count), m_poll(new QTimer(this)) {
    setWindowTitle(m_request.remove ? tr("Delete dead letters") : tr("Requeue dead letters"));
    const QString from = text(m_request.queue);
    const QString to = m_request.target.empty() ? tr("the queue each one died in") : text(m_request.target);
    m_summary = new QLabel(m_request.remove
                               ? tr("Delete %n message(s) from %1. Deleted messages cannot be recovered.", "",
                                    int(count))
                                     .arg(from)
                               : tr("%1 %n message(s) from %2 to %3.", "", int(count)).arg(verb(), from, to));
    m_summary->setObjectName("bulkSummary");
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::PlainText);
    m_destinations = new QLabel;
    m_destinations->setObjectName("bulkDestinations");
    m_destinations->setWordWrap(true);
    m_destinations->setTextFormat(Qt::PlainText);
    m_rate = new QSpinBox;
    m_rate->setObjectName("bulkRate");
    m_rate->setRange(0, 1'000'000);
    m_rate->setValue(kDefaultRate);
    m_rate->setSuffix(tr(" messages/s"));
    m_rate->setSpecialValueText(tr("as fast as possible"));
    m_progress = new QProgressBar;
    m_progress->setObjectName("bulkProgress");
    m_progress->setRange(0, int(std::max<uint64_t>(count, 1)));
    m_progress->setValue(0);
    m_items = new QTableWidget(0, 3);
    m_items->setObjectName("bulkReport");
    m_items->setHorizontalHeaderLabels({tr("Message id"), tr("To"), tr("Outcome")});
    m_items->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_items->verticalHeader()->hide();
    m_items->horizontalHeader()->setStretchLastSection(true);
    m_items->hide();

    auto* buttons = new QDialogButtonBox;
    m_start = buttons->addButton(m_request.remove ? tr("&Delete") : tr("&Requeue"), QDialogButtonBox::AcceptRole);
    m_start->setObjectName("bulkStart");
    m_cancel = buttons->addButton(QDialogButtonBox::Cancel);
    m_cancel->setObjectName("bulkCancel");
    m_close = buttons->addButton(QDialogButtonBox::Close);
    m_close->hide();
    connect(m_start, &QPushButton::clicked, this, &BulkActionDialog::start);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_step == Step::Running)
            cancelJob();
        else
            reject();
    });
    connect(m_close, &QPushButton::clicked, this, &QDialog::accept);
    connect(m_poll, &QTimer::timeout, this, &BulkActionDialog::poll);

    auto* form = new QFormLayout;
    form->addRow(tr("Rate"), m_rate);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(m_destinations);
    layout->addLayout(form);
    layout->addWidget(m_progress);
    layout->addWidget(m_items, 1);
    layout->addWidget(buttons);
    resize(560, 240);

    if (!m_request.remove && m_request.target.empty()) {
        m_destinations->setText(tr("Counting where they go…"));
        m_link->fetch<broker::MessageGroups>(
            [queue = m_request.queue, filter = m_request.filter](client::Admin& admin) {
                return admin.groups(queue, broker::GroupBy::Source, filter, 20);
            },
            this, [this](Result<broker::MessageGroups> groups) {
                if (groups)
                    showDestinations(*groups);
                else
                    m_destinations->setText(
                        tr("Could not count the destinations: %1").arg(text(groups.status().message())));
            });
    }
}

QString BulkActionDialog::verb() const {
    return m_request.body || m_request.headers ? tr("Edit and requeue") : tr("Requeue");
}

void BulkActionDialog::showDestinations(const broker::MessageGroups& groups) {
    QStringList parts;
    for (const broker::MessageGroup& group : groups.groups)
        parts << tr("%1: %2").arg(group.key.empty() ? tr("(no source: will fail)") : text(group.key)).arg(group.count);
    if (parts.isEmpty())
        return m_destinations->setText({});
    m_destinations->setText(tr("Destinations: %1%2")
                                .arg(parts.join(QStringLiteral(", ")))
                                .arg(groups.partial ? tr(" (counted among the first %1 messages)").arg(groups.scanned)
                                                    : QString()));
}

void BulkActionDialog::start() {
    if (m_step != Step::Preview)
        return;
    m_step = Step::Running;
    m_request.ratePerSecond = m_rate->value();
    m_start->setEnabled(false);
    m_rate->setEnabled(false);
    m_cancel->setText(tr("Stop"));
    auto started = std::make_shared<client::RequeueStarted>();
    m_link->submit(
        [started, request = m_request](client::Admin& admin) {
            auto result = admin.startRequeue(request);
            if (result)
                *started = *result;
            return result.status();
        },
        this, [this, started](const Status& status) {
            if (!status) {
                m_step = Step::Finished;
                m_summary->setText(tr("The broker refused the job: %1").arg(text(status.message())));
                m_cancel->hide();
                m_close->show();
                return;
            }
            m_job = started->job;
            m_progress->setRange(0, int(std::max<uint64_t>(started->total, 1)));
            m_poll->start(kPollMs);
        });
}

void BulkActionDialog::reject() {
    if (m_step == Step::Running) {
        cancelJob();
        return;
    }
    QDialog::reject();
}

void BulkActionDialog::cancelJob() {
    if (m_step != Step::Running || m_job == 0)
        return;
    m_cancel->setEnabled(false);
    m_link->submit([job = m_job](client::Admin& admin) { return admin.cancelRequeue(job); }, this,
                   [](const Status&) {});  // the next poll reports where it stopped
}

void BulkActionDialog::poll() {
    m_link->fetch<client::RequeueStatus>(
        [job = m_job](client::Admin& admin) { return admin.requeueStatus(job); }, this,
        [this](Result<client::RequeueStatus> status) {
            if (!status || m_step != Step::Running)
                return;
            m_progress->setValue(int(status->done));
            if (!status->finished || !status->report)
                return;
            m_poll->stop();
            m_report = *status->report;
            m_step = Step::Finished;
            showReport();
            emit finished(m_report);
        });
}

void BulkActionDialog::showReport() {
    const QString done = m_request.remove ? tr("deleted") : tr("requeued");
    m_summary->setText(tr("%1 %2, %3 failed%4.")
                           .arg(m_report.requeued)
                           .arg(done)
                           .arg(m_report.failed)
                           .arg(m_report.cancelled ? tr(", stopped before the end: the rest was not touched") : ""));
    // Failures first: they are what the operator has to act on.
    std::vector<const broker::RequeueItem*> items;
    for (const auto& item : m_report.items)
        items.push_back(&item);
    std::stable_partition(items.begin(), items.end(), [](const broker::RequeueItem* i) { return !i->status.isOk(); });
    m_items->setRowCount(int(items.size()));
    for (int row = 0; row < int(items.size()); ++row) {
        const broker::RequeueItem& item = *items[size_t(row)];
        const QString outcome = item.status ? done : tr("failed: %1").arg(text(item.status.message()));
        const QStringList cells = {item.messageId.empty() ? tr("#%1").arg(item.sequence) : text(item.messageId),
                                   item.target.empty() ? tr("–") : text(item.target), outcome};
        for (int column = 0; column < 3; ++column)
            m_items->setItem(row, column, new QTableWidgetItem(cells[column]));
    }
    m_items->resizeColumnsToContents();
    m_items->show();
    m_progress->setValue(m_progress->maximum());
    m_cancel->hide();
    m_close->show();
    resize(width(), 420);
}

}  // namespace depot::ui
