#pragma once
// MainWindow: the console. Navigation on the left, one page at a time, and a status bar that always says which
// broker this is (embedded in this process, or a remote depotd), its endpoint (one click copies it), and what is
// at risk right now. A BrokerLink on a worker thread polls snapshots; the GUI thread only applies them.
#include <QMainWindow>

#include <memory>

#include "backend/Snapshot.h"
#include "depot/client/ClientOptions.h"

class QLabel;
class QListWidget;
class QStackedWidget;
class QSystemTrayIcon;
class QThread;

namespace depot::ui {

class AlertBanner;
class AuditPage;
class BrokerLink;
class ClientsPage;
class DeadLettersPage;
class DurabilityPage;
class TracePage;
class OverviewPage;
class QueuesPage;

struct ConsoleTarget {
    bool embedded = true;
    QString dataDir;          // embedded: where the broker keeps its data
    QString shownEndpoint;    // what applications connect to (the embedded broker's TCP endpoint, or the remote one)
    client::ClientOptions link;  // how the console itself connects (inproc:// for the embedded broker)
};

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    enum Page {
        OverviewIndex = 0,
        QueuesIndex,
        DurabilityIndex,
        DeadLettersIndex,
        TraceIndex,
        ClientsIndex,
        AuditIndex,
        PageCount
    };

    explicit MainWindow(ConsoleTarget target, QWidget* parent = nullptr);
    ~MainWindow() override;  // stops the link thread before the pages go

    BrokerLink* link() const { return m_link; }
    OverviewPage* overviewPage() const { return m_overview; }
    QueuesPage* queuesPage() const { return m_queues; }
    DurabilityPage* durabilityPage() const { return m_durability; }
    ClientsPage* clientsPage() const { return m_clients; }
    DeadLettersPage* deadLettersPage() const { return m_deadLetters; }
    TracePage* tracePage() const { return m_trace; }
    AuditPage* auditPage() const { return m_audit; }
    AlertBanner* alertBanner() const { return m_banner; }
    // Opens the Trace page on this message's timeline (from any message row).
    void traceMessage(const QString& messageId);
    void showPage(Page page);
    Page currentPage() const;
    // Stops polling and closes the connection (the embedded broker can close after this). Idempotent.
    void shutdownLink();

signals:
    void snapshotApplied(depot::ui::SnapshotPtr snapshot);

protected:
    void closeEvent(QCloseEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    void buildPages();
    void buildMenus();
    void buildStatusBar();
    void applySnapshot(const SnapshotPtr& snapshot);
    void showReplication(const broker::ReplicationStatus& replication);  // the status bar's replication state
    void onConnectionChanged(bool connected, const QString& detail);
    void restoreSettings();
    void saveSettings() const;
    void showAbout();
    void connectToBroker();

    ConsoleTarget m_target;
    QThread* m_thread;
    BrokerLink* m_link;
    QListWidget* m_navigation = nullptr;
    QStackedWidget* m_stack = nullptr;
    OverviewPage* m_overview = nullptr;
    QueuesPage* m_queues = nullptr;
    DurabilityPage* m_durability = nullptr;
    ClientsPage* m_clients = nullptr;
    DeadLettersPage* m_deadLetters = nullptr;
    TracePage* m_trace = nullptr;
    AuditPage* m_audit = nullptr;
    AlertBanner* m_banner = nullptr;
    QSystemTrayIcon* m_tray = nullptr;  // null where the desktop has no tray: the banner alone tells
    QLabel* m_mode = nullptr;
    QLabel* m_endpoint = nullptr;
    QLabel* m_flush = nullptr;
    QLabel* m_risk = nullptr;
    QLabel* m_replication = nullptr;
    QLabel* m_disk = nullptr;
};

}  // namespace depot::ui
