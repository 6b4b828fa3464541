// The Dead Letters page on a dead-letter queue of 1,000,000 messages (label `slow`): the table knows every row,
// holds only a few pages, loads a page anywhere in it on demand, and filters and groups. Prints what it measured
// for docs/benchmarks.md ("Dead letters at scale"); asserts only behaviour, never time.
#include <QtTest>

#include <QElapsedTimer>
#include <QLineEdit>
#include <QTableView>
#include <QTableWidget>

#include "ConsoleTestBase.h"
#include "depot/client/Producer.h"
#include "models/DeadLetterTableModel.h"
#include "pages/DeadLetterFilterBar.h"
#include "pages/DeadLettersPage.h"

using namespace depot;
using namespace depot::ui;

namespace {

constexpr int kMessages = 1'000'000;
constexpr int kWaitMs = 600'000;

// Runs `until` through the event loop and returns the milliseconds it took to become true.
template <typename Until>
qint64 timeUntil(Until until) {
    QElapsedTimer clock;
    clock.start();
    while (!until() && clock.elapsed() < kWaitMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return clock.elapsed();
}

}  // namespace

class TestDeadLetterScale : public depot::ui::test::ConsoleTestBase {
    Q_OBJECT

private slots:
    void initTestCase() { startConsole(QSize(1366, 768)); }
    void cleanupTestCase() { stopConsole(); }

    void testAMillionDeadLetters() {
        broker::QueueSpec spec;
        spec.name = "big";
        spec.policy.maxLength = 1;
        spec.policy.overflow = broker::Overflow::DeadLetterOldest;  // every publish but the last dead-letters one
        spec.policy.dedupWindow = broker::Millis(0);
        spec.policy.flush = broker::FlushMode::Async;
        QVERIFY(admin().declareQueue(spec).isOk());
        QElapsedTimer clock;
        clock.start();
        client::Producer producer(m_app);
        for (int i = 0; i <= kMessages; ++i) {
            broker::PublishRequest request;
            request.routingKey = "big";
            request.message.id = "big-" + std::to_string(i);
            request.message.body = R"({"order": )" + std::to_string(i % 1000) + "}";
            producer.sendAsync(std::move(request), [](const client::SendResult&) {});
        }
        QVERIFY(producer.flush(broker::Millis(kWaitMs)).isOk());
        qInfo("dead-lettered %d messages in %.1f s", kMessages, clock.elapsed() / 1000.0);

        for (size_t start : {size_t(0), size_t(900'000)}) {
            broker::BrowseOptions options;
            options.start = start;
            options.limit = DeadLetterTableModel::kPageSize;
            options.bodies = false;
            clock.restart();
            auto browsed = admin().browse("big.dlq", options);
            QVERIFY2(browsed.isOk(), browsed.status().toString().c_str());
            qInfo("message.browse of %zu rows at %zu: %lld ms", browsed->messages.size(), start, clock.elapsed());
        }
        DeadLettersPage* page = m_window->deadLettersPage();
        DeadLetterTableModel* model = page->model();
        m_window->showPage(MainWindow::DeadLettersIndex);
        QTRY_VERIFY_WITH_TIMEOUT(page->selectDeadLetterQueue("big.dlq"), kWaitMs);
        const qint64 first = timeUntil([&] { return model->rowCount() == kMessages && model->isLoaded(0); });
        QCOMPARE(model->rowCount(), kMessages);
        qInfo("first page of %d rows shown after %lld ms", kMessages, first);

        const QModelIndex deep = model->index(900'000, DeadLetterTableModel::Id);
        page->view()->scrollTo(deep);
        const qint64 jump = timeUntil([&] { return model->isLoaded(900'000); });
        QCOMPARE(deep.data().toString(), QString("big-900000"));
        qInfo("row 900,000 loaded %lld ms after scrolling there", jump);
        for (int row = 0; row < kMessages; row += kMessages / 40)
            page->view()->scrollTo(model->index(row, 0));  // a drag of the scroll bar from top to bottom
        timeUntil([&] { return model->isLoaded(kMessages - kMessages / 40); });
        QVERIFY2(model->pagesInMemory() <= DeadLetterTableModel::kPagesKept,
                 qPrintable(QString::number(model->pagesInMemory())));

        QElapsedTimer paint;
        paint.start();
        for (int i = 0; i < 20; ++i)
            page->view()->viewport()->repaint();
        qInfo("repaint of the table: %.2f ms", paint.elapsed() / 20.0);

        page->filterBar()->findChild<QLineEdit*>("filterJsonPath")->setText("$.order");
        page->filterBar()->findChild<QLineEdit*>("filterJsonEquals")->setText("7");
        page->applyFilter();
        const qint64 filtered = timeUntil([&] { return model->matched() == 1000 && model->isLoaded(0); });
        QCOMPARE(model->matched(), uint64_t(1000));
        qInfo("JSON path filter over %d bodies: %lld ms (the broker reads every record)", kMessages, filtered);
        clock.restart();
        auto groups = admin().groups("big.dlq", broker::GroupBy::Reason);
        QVERIFY2(groups.isOk(), groups.status().toString().c_str());
        QVERIFY(groups->partial);
        QCOMPARE(groups->scanned, broker::kGroupScanLimit);
        QCOMPARE(groups->groups.front().key, std::string("overflow"));
        qInfo("failure groups (by reason, first %llu messages): %lld ms", qulonglong(groups->scanned),
              clock.elapsed());
    }
};

QTEST_MAIN(TestDeadLetterScale)
#include "TestDeadLetterScale.moc"
