#include "pages/QueuesPage.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "backend/BrokerLink.h"
#include "editors/PeekDialog.h"
#include "editors/PublishDialog.h"
#include "editors/AlertsDialog.h"
#include "editors/QueueDialog.h"
#include "models/QueueTableModel.h"

namespace depot::ui {

QueuesPage::QueuesPage(BrokerLink* link, QWidget* parent)
    : QWidget(parent), m_link(link), m_model(new QueueTableModel(this)), m_proxy(new QSortFilterProxyModel(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(QueueTableModel::SortRole);
    m_proxy->setFilterKeyColumn(QueueTableModel::Name);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);

    m_filter = new QLineEdit;
    m_filter->setObjectName("queueFilter");
    m_filter->setPlaceholderText(tr("Filter queues by name"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);

    auto* create = new QPushButton(tr("&New queue…"));
    create->setObjectName("newQueue");
    create->setShortcut(QKeySequence::New);
    m_edit = new QPushButton(tr("&Edit policy…"));
    m_publish = new QPushButton(tr("P&ublish…"));
    m_publish->setObjectName("publishToQueue");
    m_peek = new QPushButton(tr("Pee&k…"));
    m_peek->setObjectName("peekQueue");
    m_alerts = new QPushButton(tr("&Alerts…"));
    m_alerts->setObjectName("queueAlerts");
    m_alerts->setToolTip(tr("Thresholds on dead letters, message age and backlog"));
    m_purge = new QPushButton(tr("&Purge…"));
    m_delete = new QPushButton(tr("&Delete…"));
    m_delete->setObjectName("deleteQueue");
    m_purge->setObjectName("purgeQueue");
    connect(create, &QPushButton::clicked, this, &QueuesPage::newQueue);
    connect(m_alerts, &QPushButton::clicked, this, &QueuesPage::editAlerts);
    connect(m_edit, &QPushButton::clicked, this, &QueuesPage::editQueue);
    connect(m_publish, &QPushButton::clicked, this, &QueuesPage::publishToQueue);
    connect(m_peek, &QPushButton::clicked, this, &QueuesPage::peekQueue);
    connect(m_purge, &QPushButton::clicked, this, &QueuesPage::purgeQueue);
    connect(m_delete, &QPushButton::clicked, this, &QueuesPage::deleteQueue);

    m_view = new QTableView;
    m_view->setObjectName("queueTable");
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(QueueTableModel::Name, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->setWordWrap(false);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    // New or removed queues: fit the columns again (bounded work: Qt measures at most 1000 rows).
    connect(m_model, &QAbstractItemModel::modelReset, m_view, &QTableView::resizeColumnsToContents);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &QueuesPage::updateActions);
    connect(m_view, &QTableView::doubleClicked, this, &QueuesPage::editQueue);

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_filter, 1);
    bar->addWidget(create);
    bar->addWidget(m_edit);
    bar->addWidget(m_publish);
    bar->addWidget(m_peek);
    bar->addWidget(m_alerts);
    bar->addWidget(m_purge);
    bar->addWidget(m_delete);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    updateActions();
}

void QueuesPage::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    m_snapshot = snapshot;
    m_model->setSnapshot(snapshot);
    updateActions();
}

QString QueuesPage::selectedQueue() const {
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return {};
    return m_model->queueName(m_proxy->mapToSource(rows.first()).row());
}

const client::QueueDetails* QueuesPage::selectedDetails() const {
    return findQueue(m_snapshot, selectedQueue().toStdString());
}

void QueuesPage::updateActions() {
    const bool selected = !selectedQueue().isEmpty();
    for (QPushButton* button : {m_edit, m_publish, m_peek, m_alerts, m_purge, m_delete})
        button->setEnabled(selected);
}

void QueuesPage::run(const QString& what, std::function<Status(client::Admin&)> action) {
    m_link->submit(std::move(action), this, [this, what](const Status& status) {
        emit message(status ? what : tr("%1 failed: %2").arg(what, QString::fromStdString(status.message())));
        if (!status)
            QMessageBox::warning(this, tr("Depot"), QString::fromStdString(status.message()));
    });
}

void QueuesPage::newQueue() {
    QueueDialog dialog(m_snapshot ? m_snapshot->stats.defaultFlush : broker::FlushMode::Sync, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    Result<broker::QueueSpec> spec = dialog.spec();
    if (!spec)
        return;
    const QString name = QString::fromStdString(spec->name);
    run(tr("queue '%1' created").arg(name),
        [spec = *spec](client::Admin& admin) { return admin.declareQueue(spec).status(); });
}

void QueuesPage::editQueue() {
    const client::QueueDetails* details = selectedDetails();
    if (!details)
        return;
    QueueDialog dialog(details->info, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    Result<broker::QueueSpec> spec = dialog.spec();
    if (!spec)
        return;
    run(tr("policy of '%1' updated").arg(QString::fromStdString(spec->name)), [spec = *spec](client::Admin& admin) {
        return admin.updateQueue(spec.name, spec.policy).status();
    });
}

void QueuesPage::publishToQueue() {
    const QString queue = selectedQueue();
    if (queue.isEmpty())
        return;
    PublishDialog dialog(m_link, queue, this);
    connect(&dialog, &PublishDialog::sent, this,
            [this, queue](const QString& outcome) { emit message(tr("%1: %2").arg(queue, outcome.section('\n', 0, 0))); });
    dialog.exec();
}

void QueuesPage::peekQueue() {
    const QString queue = selectedQueue();
    if (queue.isEmpty())
        return;
    PeekDialog dialog(m_link, queue, this);
    connect(&dialog, &PeekDialog::traceRequested, this, &QueuesPage::traceRequested);
    dialog.exec();
}

void QueuesPage::editAlerts() {
    const QString queue = selectedQueue();
    if (queue.isEmpty() || !m_snapshot)
        return;
    AlertsDialog dialog(queue, m_snapshot->alerts, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const auto set = dialog.rulesToSet();
    const auto removed = dialog.rulesToDelete();
    if (set.empty() && removed.empty())
        return;
    run(tr("alerts of '%1' saved").arg(queue), [set, removed, name = queue.toStdString()](client::Admin& admin) {
        for (const broker::AlertRule& rule : set)
            DEPOT_RETURN_IF_ERROR(admin.setAlert(rule));
        for (broker::AlertMetric metric : removed)
            DEPOT_RETURN_IF_ERROR(admin.deleteAlert(name, metric));
        return Status::ok();
    });
}

void QueuesPage::purgeQueue() {
    const client::QueueDetails* details = selectedDetails();
    if (!details)
        return;
    const QString name = QString::fromStdString(details->info.name);
    const qulonglong count = details->stats.ready + details->stats.delayed;
    const auto answer = QMessageBox::question(
        this, tr("Purge queue"),
        tr("Remove the %1 waiting messages of '%2'? Messages being processed (unacked) stay. This cannot be undone.")
            .arg(count)
            .arg(name),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    run(tr("queue '%1' purged").arg(name),
        [queue = details->info.name](client::Admin& admin) { return admin.purgeQueue(queue).status(); });
}

void QueuesPage::deleteQueue() {
    const client::QueueDetails* details = selectedDetails();
    if (!details)
        return;
    const QString name = QString::fromStdString(details->info.name);
    const qulonglong count = details->stats.ready + details->stats.delayed + details->stats.unacked;
    const auto answer = QMessageBox::question(
        this, tr("Delete queue"),
        tr("Delete '%1' and its %2 messages? Its dead-letter queue is kept. This cannot be undone.").arg(name).arg(count),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    run(tr("queue '%1' deleted").arg(name),
        [queue = details->info.name](client::Admin& admin) { return admin.deleteQueue(queue); });
}

}  // namespace depot::ui
