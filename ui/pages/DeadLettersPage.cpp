#include "backend/Text.h"
#include "pages/DeadLettersPage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <memory>

#include "backend/BrokerLink.h"
#include "editors/BulkActionDialog.h"
#include "editors/EditRequeueDialog.h"
#include "models/DeadLetterTableModel.h"
#include "models/QueueTableModel.h"
#include "pages/DeadLetterFilterBar.h"
#include "pages/MessageDetailPane.h"

namespace depot::ui {
namespace {

QPushButton* actionButton(const QString& label, const char* name, const QString& tip) {
    auto* button = new QPushButton(label);
    button->setObjectName(name);
    button->setToolTip(tip);
    return button;
}

}  // namespace

DeadLettersPage::DeadLettersPage(BrokerLink* link, QWidget* parent)
    : QWidget(parent), m_link(link), m_queues(new QueueTableModel(this)), m_dlqs(new QSortFilterProxyModel(this)) {
    m_model = new DeadLetterTableModel(
        [this](const std::string& queue, const broker::MessageFilter& filter, size_t start, size_t limit,
               DeadLetterTableModel::PageCallback done) {
            broker::BrowseOptions options;
            options.start = start;
            options.limit = limit;
            options.bodies = false;
            options.filter = filter;
            m_link->fetch<broker::BrowsePage>(
                [queue, options](client::Admin& admin) { return admin.browse(queue, options); }, this, done);
        },
        this);
    m_dlqs->setSourceModel(m_queues);
    m_dlqs->setFilterKeyColumn(QueueTableModel::Kind);
    m_dlqs->setFilterFixedString(QStringLiteral("dead-letter"));
    m_dlqs->setSortRole(QueueTableModel::SortRole);

    auto* left = new QSplitter(Qt::Vertical);
    left->addWidget(buildQueueList());
    left->addWidget(buildGroups());
    left->setStretchFactor(0, 1);
    left->setStretchFactor(1, 1);
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(left);
    split->addWidget(buildMessages());
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({290, 910});
    auto* layout = new QHBoxLayout(this);
    layout->addWidget(split);

    connect(m_model, &DeadLetterTableModel::matchedChanged, this, &DeadLettersPage::updateScope);
    connect(m_model, &DeadLetterTableModel::loadFailed, this,
            [this](const QString& why) { emit message(tr("Could not read dead letters: %1").arg(why)); });
    updateScope();
}

QWidget* DeadLettersPage::buildQueueList() {
    m_dlqView = new QTableView;
    m_dlqView->setObjectName("deadLetterQueues");
    m_dlqView->setModel(m_dlqs);
    m_dlqView->setSortingEnabled(true);
    m_dlqView->sortByColumn(QueueTableModel::Name, Qt::AscendingOrder);
    m_dlqView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_dlqView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_dlqView->verticalHeader()->hide();
    m_dlqView->setWordWrap(false);
    m_dlqView->setTextElideMode(Qt::ElideMiddle);  // "orders.dl…" hides the part that tells queues apart
    for (int column = 0; column < QueueTableModel::ColumnCount; ++column)
        m_dlqView->setColumnHidden(column, column != QueueTableModel::Name && column != QueueTableModel::Ready &&
                                               column != QueueTableModel::InRate);
    m_dlqView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_dlqView->horizontalHeader()->setSectionResizeMode(QueueTableModel::Name, QHeaderView::Stretch);
    connect(m_dlqView->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DeadLettersPage::queueChosen);
    auto* box = new QGroupBox(tr("Dead-letter queues (depth, growth per second)"));
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(m_dlqView);
    return box;
}

QWidget* DeadLettersPage::buildGroups() {
    m_groupBy = new QComboBox;
    m_groupBy->setObjectName("groupBy");
    m_groupBy->addItem(tr("by error text"), int(broker::GroupBy::Error));
    m_groupBy->addItem(tr("by reason"), int(broker::GroupBy::Reason));
    m_groupBy->addItem(tr("by source queue"), int(broker::GroupBy::Source));
    m_groups = new QTableWidget(0, 2);
    m_groups->setObjectName("failureGroups");
    m_groups->setHorizontalHeaderLabels({tr("Group"), tr("Messages")});
    m_groups->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_groups->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_groups->verticalHeader()->hide();
    m_groups->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_groups->setToolTip(tr("Double-click a group to filter the table to it"));
    connect(m_groupBy, &QComboBox::currentIndexChanged, this, &DeadLettersPage::refreshGroups);
    connect(m_groups, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        const QVariant key = m_groups->item(row, 0)->data(Qt::UserRole);
        m_filterBar->narrowTo(broker::GroupBy(m_groupBy->currentData().toInt()), key.toString());
    });
    m_groupsNote = new QLabel;
    m_groupsNote->setWordWrap(true);
    m_groupsNote->hide();
    auto* box = new QGroupBox(tr("Failure groups"));
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(m_groupBy);
    layout->addWidget(m_groups);
    layout->addWidget(m_groupsNote);
    return box;
}

QWidget* DeadLettersPage::buildMessages() {
    m_filterBar = new DeadLetterFilterBar;
    connect(m_filterBar, &DeadLetterFilterBar::applied, this, &DeadLettersPage::applyFilter);
    m_view = new QTableView;
    m_view->setObjectName("deadLetters");
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);  // uniform rows: no per-row sizing
    m_view->horizontalHeader()->setStretchLastSection(true);
    for (auto [column, width] : {std::pair{DeadLetterTableModel::Id, 120}, {DeadLetterTableModel::SourceQueue, 95},
                                 {DeadLetterTableModel::Reason, 100}, {DeadLetterTableModel::Attempts, 64},
                                 {DeadLetterTableModel::LastError, 165}, {DeadLetterTableModel::FirstDeath, 135},
                                 {DeadLetterTableModel::LastDeath, 135}, {DeadLetterTableModel::Size, 60}})
        m_view->setColumnWidth(column, width);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DeadLettersPage::selectionChanged);

    m_allMatching = new QCheckBox(tr("All &matching"));
    m_allMatching->setToolTip(tr("Act on every message the filter matches, not only the selected rows"));
    m_allMatching->setObjectName("allMatching");
    m_scope = new QLabel;
    m_scope->setObjectName("scope");
    connect(m_allMatching, &QCheckBox::toggled, this, &DeadLettersPage::updateScope);
    auto* requeue = actionButton(tr("&Requeue"), "requeueToOrigin", tr("Back to the queue each message died in"));
    auto* requeueTo = actionButton(tr("Requeue &to…"), "requeueTo", tr("To a queue you choose"));
    m_edit = actionButton(tr("&Edit && requeue…"), "editRequeue", tr("Fix the body or headers of one message first"));
    auto* remove = actionButton(tr("&Delete…"), "deleteDeadLetters", tr("Remove for good (asks first)"));
    auto* exportButton = actionButton(tr("E&xport…"), "exportDeadLetters", tr("To a JSON Lines file"));
    auto* importButton = actionButton(tr("&Import…"), "importMessages", tr("Publish the messages of a JSON Lines file"));
    connect(exportButton, &QPushButton::clicked, this, &DeadLettersPage::chooseExportFile);
    connect(importButton, &QPushButton::clicked, this, &DeadLettersPage::chooseImportFile);
    connect(requeue, &QPushButton::clicked, this, &DeadLettersPage::requeueToOrigin);
    connect(requeueTo, &QPushButton::clicked, this, [this] { this->requeueTo(); });
    connect(m_edit, &QPushButton::clicked, this, &DeadLettersPage::editAndRequeue);
    connect(remove, &QPushButton::clicked, this, &DeadLettersPage::deleteMessages);
    m_actions = {requeue, requeueTo, remove, exportButton};
    auto* actions = new QHBoxLayout;
    for (QPushButton* button : {requeue, requeueTo, m_edit, remove, exportButton, importButton})
        actions->addWidget(button);
    actions->addSpacing(12);
    actions->addWidget(m_allMatching);
    actions->addStretch(1);
    actions->addWidget(m_scope);

    m_detail = new MessageDetailPane;
    connect(m_detail, &MessageDetailPane::traceRequested, this, &DeadLettersPage::traceRequested);
    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(m_filterBar);
    topLayout->addLayout(actions);
    topLayout->addWidget(m_view, 1);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(m_detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    return split;
}

void DeadLettersPage::setSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot || !snapshot->error.empty())
        return;
    m_snapshot = snapshot;
    m_queues->setSnapshot(snapshot);
    m_filterBar->setSourceQueues(normalQueues());
    if (currentQueue().isEmpty() && m_dlqs->rowCount() > 0)
        m_dlqView->selectRow(0);
    // New dead letters (or fewer): show them without waiting for the operator to ask.
    if (const client::QueueDetails* queue = findQueue(snapshot, m_model->queue())) {
        const uint64_t depth = queue->stats.ready + queue->stats.delayed + queue->stats.unacked;
        if (depth != m_lastDepth) {
            m_lastDepth = depth;
            m_model->refresh();
            refreshGroups();
        }
    }
}

QStringList DeadLettersPage::normalQueues() const {
    QStringList names;
    if (m_snapshot)
        for (const client::QueueDetails& queue : m_snapshot->queues)
            if (queue.info.kind == broker::QueueKind::Normal)
                names << text(queue.info.name);
    names.sort();
    return names;
}

bool DeadLettersPage::selectDeadLetterQueue(const QString& name) {
    for (int row = 0; row < m_dlqs->rowCount(); ++row)
        if (m_dlqs->index(row, QueueTableModel::Name).data().toString() == name) {
            m_dlqView->selectRow(row);
            return true;
        }
    return false;
}

QString DeadLettersPage::currentQueue() const {
    const QModelIndexList rows = m_dlqView->selectionModel()->selectedRows(QueueTableModel::Name);
    return rows.isEmpty() ? QString() : rows.first().data().toString();
}

void DeadLettersPage::queueChosen() {
    const QString queue = currentQueue();
    if (queue.toStdString() == m_model->queue())
        return;
    const client::QueueDetails* details = findQueue(m_snapshot, queue.toStdString());
    m_lastDepth = details ? details->stats.ready + details->stats.delayed + details->stats.unacked : 0;
    applyFilter();
}

void DeadLettersPage::applyFilter() {
    const broker::TimeMs now = m_snapshot ? m_snapshot->stats.at : 0;
    m_model->setQuery(currentQueue().toStdString(), m_filterBar->filter(now));
    m_detail->showMessage(std::nullopt);
    refreshGroups();
}

void DeadLettersPage::refreshGroups() {
    const std::string queue = m_model->queue();
    if (queue.empty()) {
        m_groups->setRowCount(0);
        return;
    }
    // One count at a time: on a big queue it takes the broker a while, and requests piling up behind each other
    // would delay everything else this console asks (pages of the table too).
    if (m_groupsInFlight) {
        m_groupsWanted = true;
        return;
    }
    m_groupsInFlight = true;
    const quint64 request = ++m_groupsRequest;
    const auto by = broker::GroupBy(m_groupBy->currentData().toInt());
    m_link->fetch<broker::MessageGroups>(
        [queue, by, filter = m_model->filter()](client::Admin& admin) { return admin.groups(queue, by, filter, 50); },
        this, [this, request](Result<broker::MessageGroups> groups) {
            m_groupsInFlight = false;
            if (m_groupsWanted) {  // asked again meanwhile: this answer is already stale
                m_groupsWanted = false;
                refreshGroups();
                return;
            }
            if (!groups || request != m_groupsRequest)
                return;
            m_groupsNote->setText(groups->partial ? tr("Counted among the first %1 messages.").arg(groups->scanned)
                                                  : QString());
            m_groupsNote->setVisible(groups->partial);
            m_groups->setRowCount(int(groups->groups.size()));
            for (int row = 0; row < int(groups->groups.size()); ++row) {
                const broker::MessageGroup& group = groups->groups[size_t(row)];
                auto* key = new QTableWidgetItem(group.key.empty() ? tr("(none)") : text(group.key));
                key->setData(Qt::UserRole, text(group.key));
                key->setToolTip(text(group.key));
                auto* count = new QTableWidgetItem(QString::number(group.count));
                count->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                m_groups->setItem(row, 0, key);
                m_groups->setItem(row, 1, count);
            }
        });
}

void DeadLettersPage::selectionChanged() {
    updateScope();
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.size() != 1) {
        m_detail->showNote(rows.isEmpty() ? tr("Select a dead letter to see it in full.")
                                          : tr("%n messages selected.", "", int(rows.size())));
        return;
    }
    if (const broker::QueuedMessage* message = m_model->messageAt(rows.first().row()))
        showDetailOf(message->sequence);
}

void DeadLettersPage::showDetailOf(uint64_t sequence) {
    const quint64 request = ++m_detailRequest;
    m_detail->showNote(tr("Loading…"));
    broker::BrowseOptions options;
    options.filter.sequences = {sequence};
    options.limit = 1;
    m_link->fetch<broker::BrowsePage>(
        [queue = m_model->queue(), options](client::Admin& admin) { return admin.browse(queue, options); }, this,
        [this, request](Result<broker::BrowsePage> page) {
            if (request != m_detailRequest)
                return;  // the operator has moved on
            if (!page)
                m_detail->showNote(tr("Could not load it: %1").arg(text(page.status().message())));
            else if (page->messages.empty())
                m_detail->showNote(tr("It is gone: requeued or deleted meanwhile."));
            else
                m_detail->showMessage(page->messages.front());
        });
}

void DeadLettersPage::updateScope() {
    const int selected = int(m_view->selectionModel()->selectedRows().size());
    const uint64_t matched = m_model->matched();
    m_scope->setText(m_allMatching->isChecked() ? tr("all %1 matching").arg(matched)
                                                : tr("%1 selected of %2").arg(selected).arg(matched));
    const bool any = m_allMatching->isChecked() ? matched > 0 : selected > 0;
    for (QPushButton* button : m_actions)
        button->setEnabled(any);
    m_edit->setEnabled(!m_allMatching->isChecked() && selected == 1);
}

bool DeadLettersPage::scope(broker::RequeueRequest& request, uint64_t& count) const {
    request.queue = m_model->queue();
    if (m_allMatching->isChecked()) {
        request.filter = m_model->filter();
        count = m_model->matched();
        return count > 0;
    }
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    for (const QModelIndex& row : rows)
        if (const broker::QueuedMessage* message = m_model->messageAt(row.row()))
            request.filter.sequences.push_back(message->sequence);
    count = request.filter.sequences.size();
    if (count < uint64_t(rows.size())) {
        // Rows far from the screen are not loaded: their messages are unknown here. Acting on the loaded part
        // only would surprise; the filter reaches them all.
        QMessageBox::information(const_cast<DeadLettersPage*>(this), tr("Dead letters"),
                                 tr("%1 of the %2 selected rows are not loaded. Narrow the filter to the messages "
                                    "you mean and tick \"All matching\", or select fewer rows.")
                                     .arg(uint64_t(rows.size()) - count)
                                     .arg(rows.size()));
        return false;
    }
    return count > 0;
}

void DeadLettersPage::runBulk(broker::RequeueRequest request, uint64_t count) {
    BulkActionDialog dialog(m_link, std::move(request), count, this);
    connect(&dialog, &BulkActionDialog::finished, this, [this](const broker::RequeueReport& report) {
        emit message(tr("%1 done, %2 failed").arg(report.requeued).arg(report.failed));
        m_model->refresh();
        refreshGroups();
    });
    dialog.exec();
}

void DeadLettersPage::requeueToOrigin() {
    broker::RequeueRequest request;
    uint64_t count = 0;
    if (scope(request, count))
        runBulk(std::move(request), count);
}

void DeadLettersPage::requeueTo(const QString& chosen) {
    broker::RequeueRequest request;
    uint64_t count = 0;
    if (!scope(request, count))
        return;
    QString target = chosen;
    if (target.isEmpty()) {
        bool ok = false;
        target = QInputDialog::getItem(this, tr("Requeue to"), tr("Send the messages to queue:"), normalQueues(), 0,
                                       false, &ok);
        if (!ok || target.isEmpty())
            return;
    }
    request.target = target.toStdString();
    runBulk(std::move(request), count);
}

void DeadLettersPage::editAndRequeue() {
    const std::optional<broker::QueuedMessage> shown = m_detail->message();
    if (!shown)
        return;
    EditRequeueDialog dialog(*shown, normalQueues(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    Result<broker::RequeueRequest> request = dialog.request();
    if (request)
        runBulk(std::move(request).value(), 1);
}

void DeadLettersPage::deleteMessages() {
    broker::RequeueRequest request;
    uint64_t count = 0;
    if (!scope(request, count))
        return;
    request.remove = true;
    runBulk(std::move(request), count);
}

}  // namespace depot::ui
