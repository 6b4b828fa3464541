// The Dead Letters and Trace pages driven as an operator would, on the real window and a real embedded broker:
// messages that exhaust their retries appear with their reason and attempts; looking at them and filtering them
// changes no broker state; Requeue moves exactly the selected ones (checked through the client library) and is
// audited; Edit & requeue delivers the edited body; a rate-limited bulk requeue of 10,000 can be stopped and
// reports what it did; Trace shows a dead letter's life. Screenshots of both pages for the README.
#include <QtTest>

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSpinBox>
#include <QTableView>
#include <QTableWidget>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>

#include "AlertBanner.h"
#include "ConsoleTestBase.h"
#include "depot/client/Consumer.h"
#include "depot/client/Producer.h"
#include "editors/BulkActionDialog.h"
#include "models/DeadLetterTableModel.h"
#include "pages/DeadLetterFilterBar.h"
#include "pages/DeadLettersPage.h"
#include "pages/MessageDetailPane.h"
#include "pages/QueuesPage.h"
#include "pages/TracePage.h"

using namespace depot;
using namespace depot::ui;
using depot::ui::test::kWaitMs;
using depot::ui::test::onNextModal;

namespace {

constexpr int kFlood = 10'000;

QString cellOf(const QAbstractItemModel* model, int row, int column) {
    return model->index(row, column).data().toString();
}

broker::PublishRequest requestTo(const std::string& queue, const std::string& id, const std::string& body) {
    broker::PublishRequest request;
    request.routingKey = queue;
    request.message.id = id;
    request.message.body = body;
    return request;
}

}  // namespace

class TestDeadLettersPage : public depot::ui::test::ConsoleTestBase {
    Q_OBJECT

private:
    DeadLettersPage* page() const { return m_window->deadLettersPage(); }
    DeadLetterTableModel* model() const { return page()->model(); }

    void declare(const std::string& name, broker::QueuePolicy policy) {
        broker::QueueSpec spec;
        spec.name = name;
        spec.policy = std::move(policy);
        auto declared = admin().declareQueue(spec);
        QVERIFY2(declared.isOk(), declared.status().toString().c_str());
    }

    uint64_t ready(const std::string& queue) {
        auto details = admin().showQueue(queue);
        return details ? details->stats.ready : 0;
    }

    // Opens `queue` on the Dead Letters page and waits until its rows are there and loaded.
    void open(const QString& queue, int rows) {
        m_window->showPage(MainWindow::DeadLettersIndex);
        QTRY_VERIFY_WITH_TIMEOUT(page()->selectDeadLetterQueue(queue), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(model()->rowCount(), rows, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(model()->isLoaded(0), kWaitMs);
    }

    QStringList idsIn(const std::string& queue) {
        broker::BrowseOptions options;
        options.limit = 1000;
        QStringList ids;
        const broker::BrowsePage browsed = admin().browse(queue, options).value();
        for (const broker::QueuedMessage& m : browsed.messages)
            ids << QString::fromStdString(m.messageId);
        ids.sort();
        return ids;
    }

    // Answers the next BulkActionDialog: optionally sets its rate, starts it, waits for its report, closes it.
    void runNextBulkDialog(int rate = 0, std::function<void(BulkActionDialog*)> whileRunning = {}) {
        onNextModal([rate, whileRunning](QWidget* widget) {
            auto* dialog = qobject_cast<BulkActionDialog*>(widget);
            QVERIFY(dialog);
            dialog->findChild<QSpinBox*>("bulkRate")->setValue(rate);
            dialog->findChild<QPushButton*>("bulkStart")->click();
            if (whileRunning)
                whileRunning(dialog);
            QTRY_VERIFY_WITH_TIMEOUT(dialog->step() == BulkActionDialog::Step::Finished, 60000);
            dialog->accept();
        });
    }

private slots:
    void initTestCase() {
        startConsole(QSize(1366, 768));
        broker::QueuePolicy payments;
        payments.maxAttempts = 2;
        payments.backoff = {broker::Millis(10)};
        declare("payments", payments);
        client::Producer producer(m_app);
        for (int i = 1; i <= 3; ++i) {
            const std::string body = R"({"payment": )" + std::to_string(i) + R"(, "card": "4242"})";
            QVERIFY(producer.send(requestTo("payments", "pay-" + std::to_string(i), body)).ok());
        }
        // A consumer whose every attempt fails: each message is retried once, then dead-lettered (max-attempts).
        auto consumer = client::Consumer::subscribe(m_app, {"payments", 10}, [](const broker::Delivery&, auto&) {
            throw std::runtime_error("card declined by issuer");
        });
        QVERIFY(consumer.isOk());
        QTRY_COMPARE_WITH_TIMEOUT(ready("payments.dlq"), uint64_t(3), kWaitMs);
        QVERIFY((*consumer)->close().isOk());
    }

    void cleanupTestCase() { stopConsole(); }

    void testExhaustedRetriesShowTheirReasonAndAttempts() {
        open("payments.dlq", 3);
        for (int row = 0; row < 3; ++row) {
            QVERIFY(cellOf(model(), row, DeadLetterTableModel::Id).startsWith("pay-"));
            QCOMPARE(cellOf(model(), row, DeadLetterTableModel::SourceQueue), QString("payments"));
            QCOMPARE(cellOf(model(), row, DeadLetterTableModel::Reason), QString("max-attempts"));
            QCOMPARE(cellOf(model(), row, DeadLetterTableModel::Attempts), QString("2"));
            QCOMPARE(cellOf(model(), row, DeadLetterTableModel::LastError), QString("card declined by issuer"));
        }
        QTRY_COMPARE_WITH_TIMEOUT(page()->groups()->rowCount(), 1, kWaitMs);  // one failure group, by error text
        QCOMPARE(page()->groups()->item(0, 1)->text(), QString("3"));
    }

    void testLookingAndFilteringChangeNothing() {
        open("payments.dlq", 3);
        const client::QueueDetails before = admin().showQueue("payments.dlq").value();
        page()->view()->selectRow(0);
        QTRY_VERIFY_WITH_TIMEOUT(page()->detail()->message().has_value(), kWaitMs);
        QVERIFY(page()->detail()->payloadText().contains("4242"));
        page()->detail()->findChild<QComboBox*>("payloadView")->setCurrentIndex(MessageDetailPane::PrettyJson);
        QVERIFY2(page()->detail()->payloadText().contains("\"card\": \"4242\""),
                 qPrintable(page()->detail()->payloadText()));
        page()->filterBar()->findChild<QLineEdit*>("filterJsonPath")->setText("$.payment");
        page()->filterBar()->findChild<QLineEdit*>("filterJsonEquals")->setText("2");
        page()->applyFilter();
        QTRY_COMPARE_WITH_TIMEOUT(model()->matched(), uint64_t(1), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(cellOf(model(), 0, DeadLetterTableModel::Id), QString("pay-2"), kWaitMs);
        page()->filterBar()->clear();
        // A time range on the last death: tomorrow holds none of them, a range around now all three.
        auto* since = page()->filterBar()->findChild<QComboBox*>("filterSince");
        since->setCurrentIndex(since->count() - 1);  // between…
        auto* from = page()->filterBar()->findChild<QDateTimeEdit*>("filterFrom");
        auto* to = page()->filterBar()->findChild<QDateTimeEdit*>("filterTo");
        const QDateTime now = QDateTime::currentDateTime();
        from->setDateTime(now.addDays(1));
        to->setDateTime(now.addDays(2));
        page()->applyFilter();
        QTRY_COMPARE_WITH_TIMEOUT(model()->matched(), uint64_t(0), kWaitMs);
        from->setDateTime(now.addSecs(-3600));
        to->setDateTime(now.addSecs(3600));
        page()->applyFilter();
        QTRY_COMPARE_WITH_TIMEOUT(model()->matched(), uint64_t(3), kWaitMs);
        page()->filterBar()->clear();
        page()->applyFilter();
        QTRY_COMPARE_WITH_TIMEOUT(model()->matched(), uint64_t(3), kWaitMs);

        const client::QueueDetails after = admin().showQueue("payments.dlq").value();
        QCOMPARE(after.stats.ready, before.stats.ready);
        QCOMPARE(after.stats.unacked, uint64_t(0));
        QCOMPARE(after.stats.counters.delivered, before.stats.counters.delivered);
        const broker::BrowsePage browsed = admin().browse("payments.dlq").value();
        for (const broker::QueuedMessage& m : browsed.messages)
            QCOMPARE(m.death->attempts, 2u);  // nothing was delivered or counted while looking
    }

    void testRequeueMovesExactlyTheSelectedAndIsAudited() {
        open("payments.dlq", 3);
        page()->view()->selectionModel()->clearSelection();
        QStringList chosen;
        for (int row : {0, 2}) {
            page()->view()->selectionModel()->select(model()->index(row, 0),
                                                     QItemSelectionModel::Select | QItemSelectionModel::Rows);
            chosen << cellOf(model(), row, DeadLetterTableModel::Id);
        }
        chosen.sort();
        runNextBulkDialog();
        page()->requeueToOrigin();
        QCOMPARE(idsIn("payments"), chosen);
        QCOMPARE(ready("payments.dlq"), uint64_t(1));
        QTRY_COMPARE_WITH_TIMEOUT(model()->rowCount(), 1, kWaitMs);
        bool audited = false;
        const std::vector<broker::AuditEntry> entries = admin().audit({}).value();
        for (const broker::AuditEntry& entry : entries)
            audited |= entry.action == "requeue" && entry.target == "payments.dlq" && entry.count == 2 &&
                       entry.actor.find("depot console") != std::string::npos;
        QVERIFY(audited);
    }

    void testEditAndRequeueDeliversTheEditedBody() {
        open("payments.dlq", 1);
        const QString id = cellOf(model(), 0, DeadLetterTableModel::Id);
        page()->view()->selectRow(0);
        QTRY_VERIFY_WITH_TIMEOUT(page()->detail()->message().has_value(), kWaitMs);
        onNextModal([this](QWidget* dialog) {
            auto* body = dialog->findChild<QPlainTextEdit*>("editBody");
            body->setPlainText("{\"payment\": 9, \"card\": \"not json");  // refused: the body was JSON
            QVERIFY(!dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->isEnabled());
            body->setPlainText(R"({"payment": 9, "card": "5555"})");
            runNextBulkDialog();
            depot::ui::test::clickButton(dialog, QDialogButtonBox::Ok);
        });
        page()->editAndRequeue();
        QTRY_COMPARE_WITH_TIMEOUT(ready("payments.dlq"), uint64_t(0), kWaitMs);
        auto consumer = client::Consumer::open(m_app, {"payments", 10});
        QVERIFY(consumer.isOk());
        std::string edited;
        for (int i = 0; i < 3 && edited.empty(); ++i) {
            auto delivery = (*consumer)->receive(broker::Millis(kWaitMs));
            QVERIFY(delivery);
            if (delivery->messageId == id.toStdString())
                edited = delivery->body;
            QVERIFY((*consumer)->ack(*delivery).isOk());
        }
        QCOMPARE(QString::fromStdString(edited), QString(R"({"payment": 9, "card": "5555"})"));
    }

    void testABulkRequeueOfTenThousandCanBeStopped() {
        broker::QueuePolicy small;
        small.maxLength = 1;
        small.overflow = broker::Overflow::DeadLetterOldest;  // every publish but the last dead-letters one
        small.dedupWindow = broker::Millis(0);
        declare("flood", small);
        declare("flood-target", {});
        client::Producer producer(m_app);
        std::atomic<int> failed{0};
        std::mutex mutex;
        std::string why;
        for (int i = 0; i <= kFlood; ++i)
            producer.sendAsync(requestTo("flood", "f-" + std::to_string(i), "x"), [&](const client::SendResult& r) {
                if (r.ok())
                    return;
                ++failed;
                std::lock_guard lock(mutex);
                why = r.status.toString() + " " + std::string(broker::toString(r.result.reason)) + " " + r.result.error;
            });
        QVERIFY(producer.flush(broker::Millis(60000)).isOk());
        QVERIFY2(failed.load() == 0, (std::to_string(failed.load()) + " failed, e.g. " + why).c_str());
        QTRY_COMPARE_WITH_TIMEOUT(ready("flood.dlq"), uint64_t(kFlood), kWaitMs);
        open("flood.dlq", kFlood);
        QVERIFY(model()->pagesInMemory() <= DeadLetterTableModel::kPagesKept);
        page()->findChild<QCheckBox*>("allMatching")->setChecked(true);
        runNextBulkDialog(2000, [](BulkActionDialog* dialog) {
            auto* progress = dialog->findChild<QProgressBar*>("bulkProgress");
            QTRY_VERIFY_WITH_TIMEOUT(progress->value() > 0, kWaitMs);
            dialog->cancelJob();
        });
        page()->requeueTo("flood-target");
        page()->findChild<QCheckBox*>("allMatching")->setChecked(false);

        // What the report says happened is what the broker has: no message lost or doubled.
        const std::vector<broker::AuditEntry> entries = admin().audit({0, INT64_MAX, "flood.dlq", 10}).value();
        QVERIFY(!entries.empty());
        const uint64_t moved = entries.back().count;
        QVERIFY2(moved > 0 && moved < uint64_t(kFlood), qPrintable(QString::number(moved)));
        QVERIFY2(entries.back().detail.find("cancelled") != std::string::npos, entries.back().detail.c_str());
        QCOMPARE(ready("flood-target"), moved);
        QCOMPARE(ready("flood.dlq"), uint64_t(kFlood) - moved);
    }

    // Export then Import: the same ids, keys, headers and bodies, byte for byte (a body that is not UTF-8 too).
    void testExportImportRoundTripsBodiesAndHeaders() {
        broker::QueuePolicy once;
        once.maxAttempts = 1;
        declare("binary", once);
        declare("restored", {});
        client::Producer producer(m_app);
        broker::PublishRequest raw = requestTo("binary", "raw-1", std::string("\xff\x00\x01 raw", 7));
        raw.message.headers = {{"trace", std::string("\xfe\x01", 2)}, {"kind", "raw"}};
        broker::PublishRequest text = requestTo("binary", "text-1", "héllo, 世界");
        text.message.key = "customer-7";
        QVERIFY(producer.send(raw).ok());
        QVERIFY(producer.send(text).ok());
        auto consumer = client::Consumer::open(m_app, {"binary", 10});
        QVERIFY(consumer.isOk());
        for (int i = 0; i < 2; ++i) {
            auto delivery = (*consumer)->receive(broker::Millis(kWaitMs));
            QVERIFY(delivery);
            QVERIFY((*consumer)->nack(*delivery, {false, "unreadable"}).isOk());
        }
        QTRY_COMPARE_WITH_TIMEOUT(ready("binary.dlq"), uint64_t(2), kWaitMs);
        open("binary.dlq", 2);

        const QString file = QString::fromStdString(m_dir->file("binary.jsonl"));
        QSignalSpy exported(page(), &DeadLettersPage::exported);
        page()->findChild<QCheckBox*>("allMatching")->setChecked(true);
        page()->exportTo(file);
        QTRY_COMPARE_WITH_TIMEOUT(exported.count(), 1, kWaitMs);
        page()->findChild<QCheckBox*>("allMatching")->setChecked(false);
        QCOMPARE(exported.first().at(1).toString(), QString());
        QCOMPARE(exported.first().at(0).toULongLong(), 2ull);
        QSignalSpy imported(page(), &DeadLettersPage::imported);
        page()->importFrom(file, "restored");
        QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, kWaitMs);
        QCOMPARE(imported.first().at(2).toString(), QString());
        QCOMPARE(imported.first().at(0).toULongLong(), 2ull);

        broker::BrowseOptions options;
        const broker::BrowsePage original = admin().browse("binary.dlq", options).value();
        const broker::BrowsePage restored = admin().browse("restored", options).value();
        QCOMPARE(restored.messages.size(), size_t(2));
        for (const broker::QueuedMessage& before : original.messages) {
            auto after = std::find_if(restored.messages.begin(), restored.messages.end(),
                                      [&](const auto& m) { return m.messageId == before.messageId; });
            QVERIFY(after != restored.messages.end());
            QVERIFY(after->body == before.body);
            QVERIFY(after->headers == before.headers);
            QCOMPARE(after->key, before.key);
        }
        QVERIFY(original.messages.front().body.size() == 7 || original.messages.back().body.size() == 7);
    }

    void testAFileWithABadLineImportsNothing() {
        const QString file = QString::fromStdString(m_dir->file("bad.jsonl"));
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write("{\"queue\": \"restored\", \"id\": \"ok-1\", \"body\": \"fine\"}\n{\"id\": \"no-body\"}\n");
        out.close();
        const uint64_t before = ready("restored");
        QSignalSpy imported(page(), &DeadLettersPage::imported);
        page()->importFrom(file);
        QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, kWaitMs);
        QVERIFY2(imported.first().at(2).toString().contains("line 2"), qPrintable(imported.first().at(2).toString()));
        QCOMPARE(ready("restored"), before);
    }

    void testTraceShowsADeadLettersLife() {
        client::Producer producer(m_app);
        broker::QueuePolicy once;
        once.maxAttempts = 1;
        declare("traced", once);
        QVERIFY(producer.send(requestTo("traced", "trace-me", R"({"step": 1})")).ok());
        auto consumer = client::Consumer::open(m_app, {"traced", 1});
        QVERIFY(consumer.isOk());
        auto delivery = (*consumer)->receive(broker::Millis(kWaitMs));
        QVERIFY(delivery);
        QVERIFY((*consumer)->nack(*delivery, {true, "stock service down"}).isOk());
        QTRY_COMPARE_WITH_TIMEOUT(ready("traced.dlq"), uint64_t(1), kWaitMs);
        open("traced.dlq", 1);
        page()->view()->selectRow(0);
        QTRY_VERIFY_WITH_TIMEOUT(page()->detail()->message().has_value(), kWaitMs);
        screenshot("dead-letters-workbench");
        page()->detail()->findChild<QPushButton*>("traceMessage")->click();
        QCOMPARE(m_window->currentPage(), MainWindow::TraceIndex);
        QTableWidget* timeline = m_window->tracePage()->timeline();
        auto kinds = [timeline] {
            QStringList out;
            for (int row = 0; row < timeline->rowCount(); ++row)
                out << timeline->item(row, 2)->text();
            return out;
        };
        QTRY_VERIFY_WITH_TIMEOUT(kinds().contains("dead-lettered"), kWaitMs);
        for (const char* kind : {"published", "confirmed", "delivered"})
            QVERIFY2(kinds().contains(kind), qPrintable(kinds().join(", ")));
        screenshot("trace-timeline");
    }

    // A threshold set in the console: its crossing shows in the banner and is recorded by the broker.
    void testAnAlertCrossingShowsTheBannerAndIsRecorded() {
        m_window->showPage(MainWindow::QueuesIndex);
        QAbstractItemModel* queues = m_window->queuesPage()->view()->model();
        auto selectPayments = [&] {
            for (int row = 0; row < queues->rowCount(); ++row)
                if (queues->index(row, 0).data().toString() == "payments") {
                    m_window->queuesPage()->view()->selectRow(row);
                    return true;
                }
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(selectPayments(), kWaitMs);
        onNextModal([](QWidget* dialog) {
            dialog->findChild<QCheckBox*>("dlq-depth")->setChecked(true);
            dialog->findChild<QCheckBox*>("dlq-depth")->parentWidget()->findChildren<QSpinBox*>().first()->setValue(1);
            depot::ui::test::clickButton(dialog, QDialogButtonBox::Ok);
        });
        m_window->queuesPage()->editAlerts();
        auto hasRule = [this] {
            auto alerts = admin().alerts();
            return alerts.isOk() && alerts->size() == 1 && alerts->front().rule.threshold == 1;
        };
        QTRY_VERIFY_WITH_TIMEOUT(hasRule(), kWaitMs);
        QVERIFY(m_window->alertBanner()->text().isEmpty());

        client::Producer producer(m_app);
        QVERIFY(producer.send(requestTo("payments", "alarm-1", "{}")).ok());
        auto consumer = client::Consumer::open(m_app, {"payments", 100});
        QVERIFY(consumer.isOk());
        for (;;) {  // what the earlier tests left in payments goes too; the new one is rejected
            auto delivery = (*consumer)->receive(broker::Millis(kWaitMs));
            QVERIFY(delivery);
            const bool alarm = delivery->messageId == "alarm-1";
            QVERIFY((alarm ? (*consumer)->nack(*delivery, {false, "no"}) : (*consumer)->ack(*delivery)).isOk());
            if (alarm)
                break;
        }
        QTRY_VERIFY_WITH_TIMEOUT(m_window->alertBanner()->text().contains("payments: 1 dead letters waiting"),
                                 kWaitMs);
        screenshot("alert-banner");
        bool recorded = false;
        const std::vector<broker::AuditEntry> entries = admin().audit({0, INT64_MAX, "payments", 100}).value();
        for (const broker::AuditEntry& entry : entries)
            recorded |= entry.action == "alert-raised" && entry.actor == "broker";
        QVERIFY(recorded);
    }

private:
    void screenshot(const QString& name) {
        const QString dir = QStringLiteral(DEPOT_SCREENSHOT_DIR);
        QVERIFY(QDir().mkpath(dir));
        QCoreApplication::processEvents();
        const QImage image = m_window->grab().toImage();
        QCOMPARE(image.size(), QSize(1366, 768));  // the page fits a small laptop screen: nothing forces it wider
        QVERIFY(image.save(dir + "/" + name + ".png"));
    }
};

QTEST_MAIN(TestDeadLettersPage)
#include "TestDeadLettersPage.moc"
