#include "MainWindow.h"

#include <algorithm>

#include <QApplication>
#include <QStringList>
#include <QClipboard>
#include <QCloseEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QInputDialog>
#include <QMessageBox>
#include <QProcess>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QThread>
#include <QToolButton>

#include "AlertBanner.h"
#include "backend/BrokerLink.h"
#include "depot/client/Admin.h"
#include "models/StorageStatsModel.h"
#include "pages/AuditPage.h"
#include "pages/ClientsPage.h"
#include "pages/DeadLettersPage.h"
#include "pages/DurabilityPage.h"
#include "pages/OverviewPage.h"
#include "pages/QueuesPage.h"
#include "pages/TracePage.h"

namespace depot::ui {
namespace {

const QString kNavigationStyle = QStringLiteral("QListWidget#navigation::item { padding: 8px 12px; }");

}  // namespace

MainWindow::MainWindow(ConsoleTarget target, QWidget* parent)
    : QMainWindow(parent), m_target(std::move(target)), m_thread(new QThread(this)),
      m_link(new BrokerLink(m_target.link)) {
    m_link->moveToThread(m_thread);
    connect(m_thread, &QThread::started, m_link, &BrokerLink::start);
    connect(m_thread, &QThread::finished, m_link, &QObject::deleteLater);
    connect(m_link, &BrokerLink::snapshotReady, this, &MainWindow::applySnapshot);
    connect(m_link, &BrokerLink::connectionChanged, this, &MainWindow::onConnectionChanged);
    buildPages();
    buildMenus();
    buildStatusBar();
    restoreSettings();
    m_thread->setObjectName("BrokerLink");
    m_thread->start();
}

MainWindow::~MainWindow() { shutdownLink(); }

void MainWindow::shutdownLink() {
    if (!m_thread->isRunning())
        return;
    QMetaObject::invokeMethod(m_link, &BrokerLink::stop, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
}

void MainWindow::buildPages() {
    m_navigation = new QListWidget;
    m_navigation->setObjectName("navigation");
    m_navigation->setFixedWidth(160);
    m_navigation->setFrameShape(QFrame::NoFrame);
    m_navigation->setStyleSheet(kNavigationStyle);
    QFont navigationFont = m_navigation->font();
    navigationFont.setPointSizeF(navigationFont.pointSizeF() * 1.15);
    m_navigation->setFont(navigationFont);
    m_stack = new QStackedWidget;
    m_overview = new OverviewPage;
    m_queues = new QueuesPage(m_link);
    m_overview->setHistoryProvider([this](qint64 from, qint64 to, OverviewPage::HistoryCallback done) {
        m_link->fetch<std::vector<broker::MetricsSample>>(
            [from, to](client::Admin& admin) { return admin.history("", from, to); }, m_overview, std::move(done));
    });
    m_durability = new DurabilityPage(m_link);
    m_clients = new ClientsPage;
    m_deadLetters = new DeadLettersPage(m_link);
    m_trace = new TracePage(m_link);
    m_audit = new AuditPage(m_link);
    const std::pair<QString, QWidget*> pages[] = {{tr("Overview"), m_overview},       {tr("Queues"), m_queues},
                                                  {tr("Durability"), m_durability},   {tr("Dead Letters"), m_deadLetters},
                                                  {tr("Trace"), m_trace},             {tr("Clients"), m_clients},
                                                  {tr("Audit"), m_audit}};
    static_assert(std::size(pages) == PageCount);
    for (const auto& [title, page] : pages) {
        m_navigation->addItem(title);
        m_stack->addWidget(page);
    }
    connect(m_navigation, &QListWidget::currentRowChanged, m_stack, &QStackedWidget::setCurrentIndex);
    auto showMessage = [this](const QString& text) { statusBar()->showMessage(text, 8000); };
    connect(m_queues, &QueuesPage::message, this, showMessage);
    connect(m_durability, &DurabilityPage::message, this, showMessage);
    connect(m_deadLetters, &DeadLettersPage::message, this, showMessage);
    connect(m_deadLetters, &DeadLettersPage::traceRequested, this, &MainWindow::traceMessage);
    connect(m_queues, &QueuesPage::traceRequested, this, &MainWindow::traceMessage);
    m_banner = new AlertBanner;
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(windowIcon(), this);
        m_tray->setToolTip(tr("Depot"));
        m_tray->show();
    }
    connect(m_banner, &AlertBanner::raised, this, [this](const QString& what) {
        if (m_tray)
            m_tray->showMessage(tr("Depot alert"), what, QSystemTrayIcon::Warning);
        QApplication::alert(this);  // the taskbar entry asks for attention where there is no tray
    });
    auto* right = new QVBoxLayout;
    right->setContentsMargins(0, 0, 0, 0);
    right->addWidget(m_banner);
    right->addWidget(m_stack, 1);
    auto* central = new QWidget;
    auto* layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_navigation);
    layout->addLayout(right, 1);
    setCentralWidget(central);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Connect to a broker…"), QKeySequence(Qt::CTRL | Qt::Key_O), this,
                    &MainWindow::connectToBroker);
    file->addAction(tr("&Refresh"), QKeySequence::Refresh, m_link, &BrokerLink::pollNow);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* go = menuBar()->addMenu(tr("&Go"));
    for (int page = 0; page < m_navigation->count(); ++page)
        go->addAction(m_navigation->item(page)->text(), QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + page)), this,
                      [this, page] { showPage(Page(page)); });
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Depot"), this, &MainWindow::showAbout);
}

void MainWindow::buildStatusBar() {
    m_mode = new QLabel(m_target.embedded ? tr("Embedded broker") : tr("Remote broker"));
    m_endpoint = new QLabel(m_target.shownEndpoint);
    m_endpoint->setObjectName("endpoint");
    m_endpoint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* copy = new QToolButton;
    copy->setText(tr("Copy"));
    copy->setToolTip(tr("Copy the endpoint, to point an application at this broker"));
    connect(copy, &QToolButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(m_target.shownEndpoint); });
    m_risk = new QLabel;
    m_risk->setObjectName("atRisk");
    m_disk = new QLabel;
    m_flush = new QLabel;
    m_flush->setToolTip(tr("Sync: confirmed after fdatasync. Async: confirmed when written (see Durability)"));
    m_replication = new QLabel;
    m_replication->setObjectName("replicationState");
    statusBar()->addPermanentWidget(m_mode);
    statusBar()->addPermanentWidget(m_endpoint);
    statusBar()->addPermanentWidget(copy);
    statusBar()->addPermanentWidget(m_flush);
    statusBar()->addPermanentWidget(m_replication);
    statusBar()->addPermanentWidget(m_risk);
    statusBar()->addPermanentWidget(m_disk);
    const QString where = m_target.embedded ? tr("embedded, %1").arg(m_target.dataDir) : m_target.shownEndpoint;
    setWindowTitle(tr("Depot — %1").arg(where));
}

void MainWindow::showReplication(const broker::ReplicationStatus& r) {
    QString text, tip;
    if (r.role == broker::Role::Replica) {
        text = tr("Replica of %1, %2 ms behind").arg(QString::fromStdString(r.primary)).arg(r.lagMs);
        tip = tr("Read-only: this broker copies its primary's log. Promote it with `depotctl replica promote`.");
    } else if (r.role == broker::Role::Fenced) {
        text = tr("FENCED: takes no writes");
        tip = QString::fromStdString(r.fencedBy);
    } else {
        int connected = 0;
        int64_t lag = 0;
        for (const broker::ReplicaInfo& replica : r.replicas) {
            connected += replica.connected;
            lag = std::max(lag, replica.lagMs);
        }
        const int known = int(r.replicas.size());
        text = connected ? tr("Replicas: %1, lag %2 ms").arg(connected).arg(lag)
               : known   ? tr("Replicas: %1 not connected").arg(known)
                         : tr("Replicas: none");
        tip = connected ? tr("Primary, epoch %1: see Durability for each replica").arg(r.epoch)
                        : tr("No replica follows this broker: its messages are as safe as this machine's disk");
    }
    m_replication->setText(text);
    m_replication->setToolTip(tip);
}

void MainWindow::applySnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot)
        return;
    if (snapshot->error.empty()) {
        const broker::BrokerStats& stats = snapshot->stats;
        const broker::ReplicationStatus& replication = snapshot->replication;
        QStringList risks;
        if (stats.unflushedMessages) risks << tr("%1 not yet flushed").arg(stats.unflushedMessages);
        if (replication.atRisk) risks << tr("%1 on no replica").arg(replication.atRisk);
        m_risk->setText(risks.isEmpty() ? tr("At risk: none") : tr("At risk: %1").arg(risks.join(", ")));
        m_risk->setToolTip(tr("Confirmed messages that a power loss (not yet flushed) or the loss of this machine (on "
                              "no replica) would lose now"));
        showReplication(replication);
        size_t async = 0;
        for (const client::QueueDetails& queue : snapshot->queues)
            async += queue.info.policy.durable && queue.info.policy.flush == broker::FlushMode::Async;
        m_flush->setText(async ? tr("Flush: %1 of %2 queues async").arg(async).arg(snapshot->queues.size())
                               : tr("Flush: sync"));
        m_disk->setText(tr("Log %1 on disk").arg(StorageStatsModel::formatBytes(stats.logBytesOnDisk)) +
                        (stats.logReadOnly ? tr(" — READ-ONLY: %1").arg(QString::fromStdString(stats.logFailure))
                                           : QString()));
    }
    m_overview->setSnapshot(snapshot);
    m_queues->setSnapshot(snapshot);
    m_durability->setSnapshot(snapshot);
    m_clients->setSnapshot(snapshot);
    m_deadLetters->setSnapshot(snapshot);
    m_banner->setSnapshot(snapshot);
    emit snapshotApplied(snapshot);
}

void MainWindow::onConnectionChanged(bool connected, const QString& detail) {
    if (connected)
        statusBar()->showMessage(tr("Connected to %1").arg(detail), 5000);
    else
        statusBar()->showMessage(tr("Not connected: %1").arg(detail));
}

void MainWindow::showPage(Page page) { m_navigation->setCurrentRow(int(page)); }

void MainWindow::traceMessage(const QString& messageId) {
    showPage(TraceIndex);
    m_trace->traceMessage(messageId);
}

MainWindow::Page MainWindow::currentPage() const { return Page(m_stack->currentIndex()); }

void MainWindow::restoreSettings() {
    QSettings settings;
    if (!restoreGeometry(settings.value("window/geometry").toByteArray()))
        resize(1280, 760);
    showPage(Page(std::clamp(settings.value("window/page", 0).toInt(), 0, int(PageCount) - 1)));
}

void MainWindow::saveSettings() const {
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/page", int(currentPage()));
}

void MainWindow::changeEvent(QEvent* event) {
    QMainWindow::changeEvent(event);
    // A widget with a style sheet keeps the palette it was polished with: set it again so the navigation follows
    // a light/dark switch like the rest of the window.
    if (event->type() == QEvent::PaletteChange && m_navigation) {
        m_navigation->setStyleSheet({});
        m_navigation->setStyleSheet(kNavigationStyle);
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveSettings();
    QMainWindow::closeEvent(event);
}

// Another broker opens in a window (and process) of its own, as `depot --connect ENDPOINT`: this window keeps
// its broker, which may be the embedded one that applications are using.
void MainWindow::connectToBroker() {
    bool ok = false;
    const QString endpoint = QInputDialog::getText(this, tr("Connect to a broker"),
                                                   tr("Endpoint of a running depotd (e.g. tcp://127.0.0.1:7420):"),
                                                   QLineEdit::Normal, QStringLiteral("tcp://127.0.0.1:7420"), &ok)
                                 .trimmed();
    if (!ok || endpoint.isEmpty())
        return;
    if (!QProcess::startDetached(QCoreApplication::applicationFilePath(), {"--connect", endpoint}))
        QMessageBox::warning(this, tr("Depot"), tr("Could not start a console for %1.").arg(endpoint));
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About Depot"),
                       tr("<b>Depot</b> %1<br>A local message broker and its console.<br>"
                          "A confirmed message is never lost.")
                           .arg(QApplication::applicationVersion()));
}

}  // namespace depot::ui
