#include "pages/DurabilityPage.h"

#include <algorithm>

#include <QComboBox>
#include <QStringList>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QRadioButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "backend/BrokerLink.h"
#include "models/QueueTableModel.h"
#include "models/StorageStatsModel.h"
#include "pages/BrokerDefaultsBox.h"

namespace depot::ui {
namespace {

QString latency(uint64_t nanoseconds) { return StorageStatsModel::formatDuration(nanoseconds); }

QLabel* wrapped(const QString& text = {}) {
    auto* label = new QLabel(text);
    label->setWordWrap(true);
    return label;
}

}  // namespace

DurabilityPage::DurabilityPage(BrokerLink* link, QWidget* parent)
    : QWidget(parent), m_link(link), m_model(new QueueTableModel(this)), m_proxy(new QSortFilterProxyModel(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(QueueTableModel::SortRole);
    m_view = new QTableView;
    m_view->setObjectName("durabilityTable");
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(QueueTableModel::Name, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    // The same queue model as the Queues page; here only what durability is about.
    const QList<int> shown = {QueueTableModel::Name,  QueueTableModel::Kind,    QueueTableModel::Ready,
                              QueueTableModel::Unacked, QueueTableModel::Flush, QueueTableModel::Replication};
    for (int column = 0; column < QueueTableModel::ColumnCount; ++column)
        m_view->setColumnHidden(column, !shown.contains(column));
    m_view->horizontalHeader()->setStretchLastSection(true);
    connect(m_model, &QAbstractItemModel::modelReset, m_view, &QTableView::resizeColumnsToContents);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DurabilityPage::showSelected);

    auto* right = new QVBoxLayout;
    right->addWidget(buildMachineBox());
    right->addWidget(buildEditor());
    m_defaults = new BrokerDefaultsBox(m_link);
    connect(m_defaults, &BrokerDefaultsBox::message, this, &DurabilityPage::message);
    right->addWidget(m_defaults);
    right->addStretch(1);
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(m_view, 2);
    layout->addLayout(right, 3);
    showSelected();
}

QWidget* DurabilityPage::buildMachineBox() {
    auto* box = new QGroupBox(tr("This machine, measured by the broker"));
    auto* layout = new QVBoxLayout(box);
    m_fsync = wrapped();
    m_fsync->setObjectName("fsyncFigures");
    m_atRisk = wrapped();
    m_atRisk->setObjectName("atRiskFigures");
    m_replicas = wrapped();
    m_replicas->setObjectName("replicaFigures");
    m_replicas->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_fsync);
    layout->addWidget(m_atRisk);
    layout->addWidget(m_replicas);
    return box;
}

QWidget* DurabilityPage::buildEditor() {
    auto* box = new QGroupBox(tr("Flush and replication of the selected queue"));
    auto* layout = new QVBoxLayout(box);
    m_queueTitle = new QLabel;
    QFont bold = m_queueTitle->font();
    bold.setBold(true);
    m_queueTitle->setFont(bold);
    m_sync = new QRadioButton(tr("&Sync: confirm after fdatasync"));
    m_sync->setObjectName("flushSync");
    m_async = new QRadioButton(tr("&Async: confirm when written, fdatasync shortly after"));
    m_async->setObjectName("flushAsync");
    m_syncText = wrapped();
    m_asyncText = wrapped();
    for (QLabel* text : {m_syncText, m_asyncText})
        text->setIndent(24);
    m_replication = new QComboBox;
    m_replication->setObjectName("replicationChoice");
    for (broker::Replication mode : {broker::Replication::None, broker::Replication::Async, broker::Replication::Sync})
        m_replication->addItem(QString::fromUtf8(broker::toString(mode).data()), int(mode));
    m_replicationText = wrapped();
    m_replicationText->setObjectName("replicationTradeOff");
    connect(m_replication, &QComboBox::currentIndexChanged, this, &DurabilityPage::updateTradeOffs);
    m_apply = new QPushButton(tr("A&pply to queue"));
    m_apply->setObjectName("applyFlush");
    connect(m_apply, &QPushButton::clicked, this, &DurabilityPage::applyFlush);
    connect(m_sync, &QRadioButton::toggled, this, &DurabilityPage::updateTradeOffs);

    auto* replicationRow = new QHBoxLayout;
    replicationRow->addWidget(new QLabel(tr("Replication")));
    replicationRow->addWidget(m_replication);
    replicationRow->addStretch(1);
    layout->addWidget(m_queueTitle);
    layout->addWidget(m_sync);
    layout->addWidget(m_syncText);
    layout->addWidget(m_async);
    layout->addWidget(m_asyncText);
    layout->addLayout(replicationRow);
    layout->addWidget(m_replicationText);
    layout->addWidget(m_apply, 0, Qt::AlignRight);
    return box;
}

void DurabilityPage::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    m_snapshot = snapshot;
    m_model->setSnapshot(snapshot);
    m_defaults->setSnapshot(snapshot);
    updateEnabled();
    updateTradeOffs();
}

bool DurabilityPage::selectQueue(const QString& name) {
    for (int row = 0; row < m_proxy->rowCount(); ++row)
        if (m_proxy->index(row, QueueTableModel::Name).data().toString() == name) {
            m_view->selectRow(row);
            return true;
        }
    return false;
}

const client::QueueDetails* DurabilityPage::selected() const {
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (!m_snapshot || rows.isEmpty())
        return nullptr;
    return findQueue(m_snapshot, m_model->queueName(m_proxy->mapToSource(rows.first()).row()).toStdString());
}

void DurabilityPage::showSelected() {
    const client::QueueDetails* queue = selected();
    updateEnabled();
    if (!queue) {
        m_queueTitle->setText(tr("Select a queue"));
        return;
    }
    const QString name = QString::fromStdString(queue->info.name);
    m_queueTitle->setText(queue->info.policy.durable
                              ? tr("Queue %1").arg(name)
                              : tr("Queue %1 is transient: its messages live in memory only and never reach the "
                                   "disk, so flushing does not apply.")
                                    .arg(name));
    (queue->info.policy.flush == broker::FlushMode::Sync ? m_sync : m_async)->setChecked(true);
    m_replication->setCurrentIndex(m_replication->findData(int(queue->info.policy.replication)));
    updateTradeOffs();
}

void DurabilityPage::updateEnabled() {
    // A replica or a fenced broker refuses changes: nothing to apply there.
    const client::QueueDetails* queue = selected();
    const bool editable = queue && queue->info.policy.durable && m_snapshot &&
                          m_snapshot->replication.role == broker::Role::Primary;
    for (QWidget* widget : std::initializer_list<QWidget*>{m_sync, m_async, m_replication, m_apply})
        widget->setEnabled(editable);
    m_defaults->setEnabled(m_snapshot && m_snapshot->replication.role == broker::Role::Primary);
}

void DurabilityPage::updateTradeOffs() {
    if (!m_snapshot)
        return;
    const broker::BrokerStats& stats = m_snapshot->stats;
    const LatencyHistogram& fsync = stats.fsyncLatency;
    const QString p50 = fsync.count() ? latency(fsync.percentile(50)) : tr("not measured yet");
    const QString p99 = fsync.count() ? latency(fsync.percentile(99)) : tr("not measured yet");
    m_fsync->setText(tr("fdatasync of the commit log: p50 %1, p99 %2 (%3 flushes since the broker started).")
                         .arg(p50, p99)
                         .arg(fsync.count()));
    const QString window = tr("%1 ms").arg(stats.asyncFlushIntervalMs);
    QString risk = stats.unflushedMessages
                       ? tr("At risk right now: %1 confirmed messages of async queues are not yet on disk; a power "
                            "loss now would lose them. The loss window of async flush is %2.")
                             .arg(stats.unflushedMessages)
                             .arg(window)
                       : tr("At risk right now: nothing on this disk. Every confirmed message is covered by an "
                            "fdatasync. The loss window of async flush is %1.")
                             .arg(window);
    if (const uint64_t unreplicated = m_snapshot->replication.atRisk)
        risk += " " + tr("%1 confirmed messages of replicated queues are on no replica yet: losing this machine "
                         "now would lose them.")
                          .arg(unreplicated);
    m_atRisk->setText(risk);
    m_replicas->setText(replicasText());
    m_replicationText->setText(replicationText());
    m_syncText->setText(tr("Each publish waits for the fdatasync that covers it: about %1 at the median, %2 at "
                           "the 99th percentile here, shared by every message written meanwhile. A confirmed "
                           "message survives kill -9 and power loss.")
                            .arg(p50, p99));
    m_asyncText->setText(tr("Confirms without waiting, so publishing is faster; the log is flushed in the "
                            "background at least every %1. A process crash loses nothing (the page cache "
                            "survives it), but a power loss loses what was confirmed since the last flush: up to %1 "
                            "of publishes, %2 messages right now.")
                             .arg(tr("%1 ms").arg(stats.asyncFlushIntervalMs))
                             .arg(stats.unflushedMessages));
}

QString DurabilityPage::replicasText() const {
    const broker::ReplicationStatus& r = m_snapshot->replication;
    const QString primary = QString::fromStdString(r.primary);
    if (r.role == broker::Role::Replica)
        return tr("This broker is a read-only replica of %1 (%2): it copies that broker's log and refuses writes. "
                  "Behind by %3 ms. Promote it with `depotctl replica promote` if that broker is lost.")
            .arg(primary, r.connected ? tr("connected") : tr("not connected: %1").arg(QString::fromStdString(r.lastError)))
            .arg(r.lagMs);
    if (r.role == broker::Role::Fenced)
        return tr("FENCED: a newer primary took over (%1). This broker takes no writes; restart it with "
                  "--replica-of the new primary to rejoin.")
            .arg(QString::fromStdString(r.fencedBy));
    if (r.replicas.empty())
        return tr("Replicas: none follows this broker (epoch %1). Start one on another machine with "
                  "`depotd --data DIR --replica-of ENDPOINT`.")
            .arg(r.epoch);
    QStringList lines;
    for (const broker::ReplicaInfo& replica : r.replicas)
        lines << (replica.connected
                      ? (replica.lagMessages
                             ? tr("%1 (%2): %3 messages behind, the oldest for %4 ms")
                                   .arg(QString::fromStdString(replica.name), QString::fromStdString(replica.address))
                                   .arg(replica.lagMessages)
                                   .arg(replica.lagMs)
                             : tr("%1 (%2): caught up").arg(QString::fromStdString(replica.name),
                                                             QString::fromStdString(replica.address)))
                      : tr("%1 (%2): not connected for %3 s, %4 messages behind")
                            .arg(QString::fromStdString(replica.name), QString::fromStdString(replica.address))
                            .arg((m_snapshot->stats.at - replica.lastContact) / 1000)
                            .arg(replica.lagMessages));
    return tr("Replicas (epoch %1): %2").arg(r.epoch).arg(lines.join("; "));
}

QString DurabilityPage::replicationText() const {
    const auto mode = broker::Replication(m_replication->currentData().toInt());
    const bool anyReplica = std::any_of(m_snapshot->replication.replicas.begin(), m_snapshot->replication.replicas.end(),
                                        [](const broker::ReplicaInfo& r) { return r.connected; });
    const client::QueueDetails* queue = selected();
    const QString timeout = queue ? tr("%1 ms").arg(queue->info.policy.replicaTimeout.count()) : tr("5000 ms");
    switch (mode) {
        case broker::Replication::Sync:
            return tr("Sync: a publish is confirmed only once a replica has it on disk, so losing this whole machine "
                      "loses no confirmed message. Each confirm waits one more round trip and fdatasync. Without a "
                      "replica answering within %1 the publish is nacked (replica-unavailable).%2")
                .arg(timeout, anyReplica || m_snapshot->replication.role != broker::Role::Primary
                                  ? QString()
                                  : tr(" No replica is connected now: every publish would be nacked."));
        case broker::Replication::Async:
            return tr("Async: confirmed without waiting; a replica copies it shortly after. Losing this machine loses "
                      "what the replicas had not copied yet (see the lag above).");
        case broker::Replication::None:
            break;
    }
    return tr("None: the messages are only on this machine; a lost disk loses them whatever the flush mode.");
}

void DurabilityPage::applyFlush() {
    const client::QueueDetails* queue = selected();
    if (!queue)
        return;
    broker::QueuePolicy policy = queue->info.policy;
    policy.flush = m_sync->isChecked() ? broker::FlushMode::Sync : broker::FlushMode::Async;
    policy.replication = broker::Replication(m_replication->currentData().toInt());
    const QString text = tr("flush of '%1' set to %2, replication %3")
                             .arg(QString::fromStdString(queue->info.name), m_sync->isChecked() ? "sync" : "async",
                                  QString::fromUtf8(broker::toString(policy.replication).data()));
    m_link->submit([name = queue->info.name, policy](client::Admin& admin) {
        return admin.updateQueue(name, policy).status();
    }, this, [this, text](const Status& status) {
        emit message(status ? text : tr("%1 failed: %2").arg(text, QString::fromStdString(status.message())));
    });
}

}  // namespace depot::ui
