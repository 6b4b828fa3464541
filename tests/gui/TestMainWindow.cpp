// The console's main window against a real embedded broker on a temporary directory (offscreen): the operator's
// paths through it — create a queue through the dialog (a bad name is refused as it is typed), edit its policy
// and see the broker apply it, watch counts move as an application publishes over TCP, purge with a
// confirmation — and a screenshot of every page at 1366×768 for the README.
#include <QtTest>

#include <QApplication>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QRadioButton>
#include <QSpinBox>
#include <QTableView>

#include <algorithm>
#include <functional>
#include <memory>

#include "ConsoleTestBase.h"
#include "MainWindow.h"
#include "backend/BrokerLink.h"
#include "backend/EmbeddedBroker.h"
#include "charts/TimeSeriesChart.h"
#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Producer.h"
#include "editors/PeekDialog.h"
#include "editors/PublishDialog.h"
#include "editors/QueueDialog.h"
#include "models/QueueTableModel.h"
#include "pages/AuditPage.h"
#include "pages/ClientsPage.h"
#include "pages/DurabilityPage.h"
#include "pages/OverviewPage.h"
#include "pages/QueuesPage.h"
#include "pages/TracePage.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::ui;

using depot::ui::test::clickButton;
using depot::ui::test::kWaitMs;
using depot::ui::test::onNextModal;

namespace {

constexpr QSize kScreenshotSize(1366, 768);

}  // namespace

class TestMainWindow : public depot::ui::test::ConsoleTestBase {
    Q_OBJECT

private:
    QueuesPage* queues() const { return m_window->queuesPage(); }

    int rowOf(const QString& queue) const {
        QAbstractItemModel* model = queues()->view()->model();
        for (int row = 0; row < model->rowCount(); ++row)
            if (model->index(row, QueueTableModel::Name).data().toString() == queue)
                return row;
        return -1;
    }

    QString cell(const QString& queue, int column) const {
        const int row = rowOf(queue);
        return row < 0 ? QString() : queues()->view()->model()->index(row, column).data().toString();
    }

    bool select(const QString& queue) {
        const int row = rowOf(queue);
        if (row < 0)
            return false;
        queues()->view()->selectRow(row);
        return queues()->selectedQueue() == queue;
    }

    // Reads the broker's history through the console's own link, as the application does.
    static bool hasPointAbove(const QList<QPointF>& points, double value) {
        return std::any_of(points.begin(), points.end(), [value](const QPointF& p) { return p.y() > value; });
    }

    static QPalette darkPalette() {
        QPalette p;
        const QColor window(0x2b, 0x2b, 0x2b), base(0x1e, 0x1e, 0x1e), text(0xe6, 0xe6, 0xe6);
        p.setColor(QPalette::Window, window);
        p.setColor(QPalette::Base, base);
        p.setColor(QPalette::AlternateBase, window);
        p.setColor(QPalette::Button, window);
        for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
            p.setColor(role, text);
        for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
            p.setColor(QPalette::Disabled, role, QColor(0x80, 0x80, 0x80));
        p.setColor(QPalette::Highlight, QColor(0x3d, 0x6e, 0xa8));
        return p;
    }

    static double meanLightness(const QImage& image) {
        double sum = 0;
        int samples = 0;
        for (int y = 0; y < image.height(); y += 4)
            for (int x = 0; x < image.width(); x += 4, ++samples)
                sum += image.pixelColor(x, y).lightness();
        return samples ? sum / samples : 0;
    }

private slots:
    void initTestCase() { startConsole(QSize(1280, 800)); }
    void cleanupTestCase() { stopConsole(); }

    void testStatusBarNamesTheBrokerAndItsEndpoint() {
        auto* endpoint = m_window->findChild<QLabel*>("endpoint");
        QVERIFY(endpoint);
        QCOMPARE(endpoint->text(), QString::fromStdString(m_broker->tcpEndpoint()));
        QVERIFY(m_window->windowTitle().contains("embedded"));
        QTRY_VERIFY_WITH_TIMEOUT(m_window->findChild<QLabel*>("atRisk")->text().startsWith("At risk"), kWaitMs);
    }

    void testNewQueueDialogRefusesABadNameAndCreatesAGoodOne() {
        m_window->showPage(MainWindow::QueuesIndex);
        bool sawRefusal = false;
        onNextModal([&](QWidget* dialog) {
            auto* name = dialog->findChild<QLineEdit*>("name");
            auto* ok = dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
            name->setText(" orders");  // leading whitespace: the broker's rules refuse it
            const QString error = dialog->findChild<QLabel*>("validationError")->text();
            sawRefusal = !ok->isEnabled() && error.contains("whitespace");
            name->setText("orders");
            ok->click();
        });
        queues()->newQueue();
        QVERIFY(sawRefusal);
        QTRY_VERIFY_WITH_TIMEOUT(rowOf("orders") >= 0, kWaitMs);
        QVERIFY(admin().showQueue("orders").isOk());
    }

    void testPublishedMessagesShowInTheTableAndTheOverview() {
        client::Producer producer(m_app);
        for (int i = 0; i < 3; ++i) {
            broker::PublishRequest request;
            request.routingKey = "orders";
            request.message.body = "order " + std::to_string(i);
            QVERIFY(producer.send(request).ok());
        }
        QTRY_COMPARE_WITH_TIMEOUT(cell("orders", QueueTableModel::Ready), QString("3"), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(m_window->overviewPage()->tileValue("Published"), QString("3"), kWaitMs);
    }

    void testOverviewChartsThePublishRate() {
        OverviewPage* overview = m_window->overviewPage();
        QCOMPARE(overview->range(), OverviewPage::Live);
        QTRY_VERIFY_WITH_TIMEOUT(hasPointAbove(overview->series(MetricsSeries::PublishRate), 0), kWaitMs);
        QVERIFY(!overview->series(MetricsSeries::Backlog).isEmpty());
        QVERIFY(overview->chart(OverviewPage::PublishChart)->yMax() >= 1);
        QVERIFY(overview->chart(OverviewPage::PublishChart)->subtitle().contains("live"));
    }

    void testOverviewShowsTheBrokersHistoryAndGoesBackToLive() {
        OverviewPage* overview = m_window->overviewPage();
        auto* range = overview->findChild<QComboBox*>("historyRange");
        QVERIFY(range);
        // The broker samples its metrics every second; the page asks for them up to its latest snapshot.
        auto sampledBeforeLatestSnapshot = [&] {
            auto samples = admin().history("", 0, overview->liveSeries().latestAt());
            return samples.isOk() && !samples->empty();
        };
        QTRY_VERIFY_WITH_TIMEOUT(sampledBeforeLatestSnapshot(), kWaitMs);
        range->setCurrentIndex(OverviewPage::LastHour);
        QCOMPARE(overview->range(), OverviewPage::LastHour);
        QTRY_VERIFY_WITH_TIMEOUT(!overview->series(MetricsSeries::Backlog).isEmpty(), kWaitMs);
        QVERIFY(overview->chart(OverviewPage::DepthChart)->subtitle().contains("history"));
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (const QPointF& point : overview->series(MetricsSeries::Backlog))
            QVERIFY(point.x() > double(now - 2 * 3600 * 1000) && point.x() < double(now + 3600 * 1000));
        range->setCurrentIndex(OverviewPage::LastDay);  // asked an hour at a time, drawn once all have come
        QTRY_VERIFY_WITH_TIMEOUT(overview->chart(OverviewPage::DepthChart)->subtitle().contains("24 hours"), kWaitMs);
        QVERIFY(!overview->series(MetricsSeries::Backlog).isEmpty());
        range->setCurrentIndex(OverviewPage::Live);
        QCOMPARE(overview->range(), OverviewPage::Live);
        QVERIFY(hasPointAbove(overview->series(MetricsSeries::PublishRate), 0));  // live points were kept
        QVERIFY(overview->chart(OverviewPage::PublishChart)->subtitle().contains("live"));
    }

    void testEditedPolicyIsAppliedByTheBroker() {
        QTRY_VERIFY_WITH_TIMEOUT(select("orders"), kWaitMs);
        onNextModal([](QWidget* dialog) {
            dialog->findChild<QSpinBox*>("maxAttempts")->setValue(9);
            clickButton(dialog, QDialogButtonBox::Ok);
        });
        queues()->editQueue();
        QTRY_COMPARE_WITH_TIMEOUT(admin().showQueue("orders").value().info.policy.maxAttempts, 9u, kWaitMs);
    }

    void testPurgeAsksFirstAndEmptiesTheQueue() {
        QTRY_VERIFY_WITH_TIMEOUT(select("orders"), kWaitMs);
        QString question;
        onNextModal([&](QWidget* dialog) {
            auto* box = qobject_cast<QMessageBox*>(dialog);
            question = box ? box->text() : QString();
            if (box)
                box->button(QMessageBox::Cancel)->click();
        });
        queues()->purgeQueue();
        QVERIFY2(question.contains("orders") && question.contains("3"), qPrintable(question));
        QCOMPARE(admin().showQueue("orders").value().stats.ready, 3u);  // cancelled: nothing happened

        onNextModal([](QWidget* dialog) {
            if (auto* box = qobject_cast<QMessageBox*>(dialog))
                box->button(QMessageBox::Yes)->click();
        });
        queues()->purgeQueue();
        QTRY_COMPARE_WITH_TIMEOUT(cell("orders", QueueTableModel::Ready), QString("0"), kWaitMs);
        QCOMPARE(admin().showQueue("orders").value().stats.ready, 0u);
    }

    void testPublishDialogShowsWhatTheBrokerConfirmed() {
        QTRY_VERIFY_WITH_TIMEOUT(select("orders"), kWaitMs);
        QString outcome;
        onNextModal([&](QWidget* dialog) {
            dialog->findChild<QPlainTextEdit*>("body")->setPlainText("{\"order\": 42}");
            dialog->findChild<QSpinBox*>("repeat")->setValue(5);
            auto* shown = dialog->findChild<QLabel*>("outcome");
            dialog->findChild<QPushButton*>("send")->click();
            // The answer comes from the link's thread; wait for it here, inside the dialog's event loop.
            QTRY_VERIFY_WITH_TIMEOUT(shown->text().contains("confirmed,"), kWaitMs);
            outcome = shown->text();
            qobject_cast<QDialog*>(dialog)->reject();
        });
        queues()->publishToQueue();
        QVERIFY2(outcome.startsWith("5 confirmed, 0 duplicate, 0 nacked"), qPrintable(outcome));
        QCOMPARE(admin().showQueue("orders").value().stats.ready, 5u);
    }

    void testPeekShowsTheHeadWithoutSideEffects() {
        QTRY_VERIFY_WITH_TIMEOUT(select("orders"), kWaitMs);
        int rows = -1;
        QString body;
        onNextModal([&](QWidget* dialog) {
            auto* table = dialog->findChild<QTableWidget*>("peekTable");
            QTRY_VERIFY_WITH_TIMEOUT(table->rowCount() > 0, kWaitMs);
            rows = table->rowCount();
            table->selectRow(0);
            body = dialog->findChild<QPlainTextEdit*>("peekBody")->toPlainText();
            qobject_cast<QDialog*>(dialog)->reject();
        });
        queues()->peekQueue();
        QCOMPARE(rows, 5);
        QVERIFY2(body.contains("{\"order\": 42}"), qPrintable(body));
        const client::QueueDetails after = admin().showQueue("orders").value();
        QCOMPARE(after.stats.ready, 5u);  // still there, still ready
        QCOMPARE(after.stats.unacked, 0u);
    }

    // One click from a message row to its timeline.
    void testPeekLeadsToTheMessagesTrace() {
        m_window->showPage(MainWindow::QueuesIndex);
        QTRY_VERIFY_WITH_TIMEOUT(select("orders"), kWaitMs);
        onNextModal([](QWidget* dialog) {
            auto* table = dialog->findChild<QTableWidget*>("peekTable");
            QTRY_VERIFY_WITH_TIMEOUT(table->rowCount() > 0, kWaitMs);
            table->selectRow(0);
            dialog->findChild<QPushButton*>("peekTrace")->click();
        });
        queues()->peekQueue();
        QCOMPARE(m_window->currentPage(), MainWindow::TraceIndex);
        QTableWidget* timeline = m_window->tracePage()->timeline();
        QTRY_VERIFY_WITH_TIMEOUT(timeline->rowCount() > 0, kWaitMs);
        QCOMPARE(timeline->item(0, 2)->text(), QString("published"));
        QCOMPARE(timeline->item(0, 3)->text(), QString("orders"));
    }

    void testDurabilityPageSwitchesAQueueToAsyncFlush() {
        m_window->showPage(MainWindow::DurabilityIndex);
        DurabilityPage* page = m_window->durabilityPage();
        QTRY_VERIFY_WITH_TIMEOUT(page->selectQueue("orders"), kWaitMs);
        auto* fsync = page->findChild<QLabel*>("fsyncFigures");
        QVERIFY2(fsync->text().contains("p50"), qPrintable(fsync->text()));  // measured by the broker, shown here
        auto* risk = page->findChild<QLabel*>("atRiskFigures");
        QVERIFY2(risk->text().contains("loss window of async flush is 100 ms"), qPrintable(risk->text()));
        page->findChild<QRadioButton*>("flushAsync")->setChecked(true);
        page->applyFlush();
        QTRY_VERIFY_WITH_TIMEOUT(admin().showQueue("orders").value().info.policy.flush == broker::FlushMode::Async,
                                 kWaitMs);
        // The broker audits the change.
        broker::AuditQuery query;
        bool audited = false;
        const std::vector<broker::AuditEntry> entries = admin().audit(query).value();
        for (const broker::AuditEntry& entry : entries)
            audited |= entry.action == "update-policy" && entry.target == "orders";
        QVERIFY(audited);
    }

    // The broker-wide defaults: applied at runtime, audited, and offered to the next new queue.
    void testDurabilityPageChangesTheBrokerDefaults() {
        m_window->showPage(MainWindow::DurabilityIndex);
        DurabilityPage* page = m_window->durabilityPage();
        auto* flush = page->findChild<QComboBox*>("defaultFlush");
        auto* interval = page->findChild<QSpinBox*>("asyncFlushInterval");
        auto* apply = page->findChild<QPushButton*>("applyDefaults");
        QVERIFY(flush && interval && apply);
        QTRY_COMPARE_WITH_TIMEOUT(interval->value(), 100, kWaitMs);
        QVERIFY(!apply->isEnabled());  // nothing edited yet
        flush->setCurrentIndex(1);
        interval->setValue(250);
        QVERIFY(apply->isEnabled());
        apply->click();
        auto applied = [this] {
            auto settings = admin().settings();
            return settings.isOk() && settings->defaultFlush == broker::FlushMode::Async &&
                   settings->asyncFlushInterval == broker::Millis(250);
        };
        QTRY_VERIFY_WITH_TIMEOUT(applied(), kWaitMs);
        auto* risk = page->findChild<QLabel*>("atRiskFigures");
        QTRY_VERIFY_WITH_TIMEOUT(risk->text().contains("250 ms"), kWaitMs);  // the loss window follows
        bool audited = false;
        const std::vector<broker::AuditEntry> entries = admin().audit({}).value();
        for (const broker::AuditEntry& entry : entries)
            audited |= entry.action == "configure-broker" && entry.detail.find("async") != std::string::npos;
        QVERIFY(audited);

        m_window->showPage(MainWindow::QueuesIndex);
        QString offered;
        onNextModal([&](QWidget* dialog) {
            offered = dialog->findChild<QComboBox*>("flush")->currentText();
            dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Cancel)->click();
        });
        queues()->newQueue();
        QVERIFY2(offered.startsWith("async") && offered.contains("broker default"), qPrintable(offered));
        QVERIFY(admin().configure({}).isOk());  // back to sync every 100 ms for the pages that follow
        QTRY_COMPARE_WITH_TIMEOUT(interval->value(), 100, kWaitMs);
    }

    void testClientsPageListsTheConnectedApplication() {
        QAbstractItemModel* model = m_window->clientsPage()->view()->model();
        auto listed = [model](const QString& client) {
            for (int row = 0; row < model->rowCount(); ++row)
                if (model->index(row, 0).data().toString() == client)
                    return true;
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(listed("test application") && listed("depot console"), kWaitMs);
    }

    // Not an assertion about looks: it renders every page as a user sees it, for people and the README.
    void testEveryPageRendersToAScreenshot() {
        const QString dir = QStringLiteral(DEPOT_SCREENSHOT_DIR);
        QVERIFY(QDir().mkpath(dir));
        const char* names[] = {"overview", "queues", "durability", "dead-letters", "trace", "clients", "audit"};
        static_assert(std::size(names) == MainWindow::PageCount);
        // 1366×768: a small laptop screen, maximised, the smallest the pages must suit (these go in the README);
        // 1280×800 into a folder of its own.
        for (const QSize size : {kScreenshotSize, QSize(1280, 800)}) {
            const QString folder = size == kScreenshotSize ? dir : dir + "/1280x800";
            QVERIFY(QDir().mkpath(folder));
            m_window->resize(size);
            for (int page = 0; page < MainWindow::PageCount; ++page) {
                m_window->showPage(MainWindow::Page(page));
                QCoreApplication::processEvents();
                if (page == MainWindow::AuditIndex)  // read from the broker when shown: wait for it
                    QTRY_VERIFY_WITH_TIMEOUT(m_window->auditPage()->table()->rowCount() > 0, kWaitMs);
                const QImage image = m_window->grab().toImage();
                QCOMPARE(image.size(), size);
                const QString file = folder + "/" + names[page] + ".png";
                QVERIFY2(image.save(file), qPrintable(file));
            }
        }
        m_window->resize(kScreenshotSize);
        QueueDialog dialog;
        dialog.findChild<QLineEdit*>("name")->setText("payments");
        dialog.show();
        QCoreApplication::processEvents();
        QVERIFY(dialog.grab().toImage().save(dir + "/queue-dialog.png"));
        PublishDialog publish(m_window->link(), "orders");
        publish.show();
        QCoreApplication::processEvents();
        QVERIFY(publish.grab().toImage().save(dir + "/publish-dialog.png"));
        PeekDialog peek(m_window->link(), "orders");
        peek.show();
        QTRY_VERIFY_WITH_TIMEOUT(peek.table()->rowCount() > 0, kWaitMs);
        peek.table()->selectRow(0);
        QVERIFY(peek.grab().toImage().save(dir + "/peek-dialog.png"));
    }

    // The console follows the palette it is given (a dark desktop theme): the charts repaint on the change.
    void testPagesFollowADarkPalette() {
        const QPalette light = QApplication::palette();
        TimeSeriesChart* chart = m_window->overviewPage()->chart(OverviewPage::PublishChart);
        m_window->showPage(MainWindow::OverviewIndex);
        QCoreApplication::processEvents();
        QVERIFY2(meanLightness(chart->grab().toImage()) > 128, "a light palette draws a light chart");
        QApplication::setPalette(darkPalette());
        QCoreApplication::processEvents();
        const double dark = meanLightness(chart->grab().toImage());
        const double navigation = meanLightness(m_window->findChild<QWidget*>("navigation")->grab().toImage());
        const QString dir = QStringLiteral(DEPOT_SCREENSHOT_DIR) + "/dark";
        QVERIFY(QDir().mkpath(dir));
        for (auto [page, name] : {std::pair{MainWindow::OverviewIndex, "overview"}, {MainWindow::DurabilityIndex, "durability"}}) {
            m_window->showPage(page);
            QCoreApplication::processEvents();
            QVERIFY(m_window->grab().toImage().save(dir + "/" + name + ".png"));
        }
        QApplication::setPalette(light);
        QVERIFY2(dark < 100, qPrintable(QString("chart: mean lightness %1 on a dark palette").arg(dark)));
        QVERIFY2(navigation < 100, qPrintable(QString("navigation: mean lightness %1").arg(navigation)));
    }
};

QTEST_MAIN(TestMainWindow)
#include "TestMainWindow.moc"
