// The console with 10,000 queues and 1,000,000 queued messages (label `slow`): everything still arrives and
// the GUI thread's share stays small. Prints what it measured (poll on the link's thread, applying a snapshot
// and repainting on the GUI thread) for docs/benchmarks.md; asserts only behaviour, never time.
#include <QtTest>

#include <QElapsedTimer>
#include <QTableView>

#include <memory>

#include "MainWindow.h"
#include "backend/BrokerLink.h"
#include "backend/EmbeddedBroker.h"
#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Producer.h"
#include "pages/QueuesPage.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::ui;

namespace {

constexpr int kQueues = 10'000;
constexpr int kMessages = 1'000'000;
constexpr int kWaitMs = 600'000;

}  // namespace

class TestConsoleScale : public QObject {
    Q_OBJECT

private slots:
    void testTenThousandQueuesAndAMillionMessages() {
        test::TempDir dir;
        auto opened = EmbeddedBroker::open({dir.file("data"), "tcp://127.0.0.1:0"});
        QVERIFY2(opened.isOk(), opened.status().toString().c_str());
        std::unique_ptr<EmbeddedBroker> broker = std::move(opened).value();
        client::ClientOptions options;
        options.endpoint = broker->tcpEndpoint();
        options.requestTimeout = client::Millis(120'000);
        auto connection = client::Connection::connect(options).value();
        client::Admin admin(connection);

        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < kQueues; ++i) {
            broker::QueueSpec spec;
            spec.name = "scale-" + std::to_string(i);
            spec.policy.flush = broker::FlushMode::Async;
            QVERIFY(admin.declareQueue(spec).isOk());
        }
        qInfo("declared %d queues (and their dead-letter queues) in %.1f s", kQueues, clock.elapsed() / 1000.0);
        clock.restart();
        client::Producer producer(connection);
        for (int i = 0; i < kMessages; ++i) {
            broker::PublishRequest request;
            request.routingKey = "scale-" + std::to_string(i % kQueues);
            request.message.body = "m";
            producer.sendAsync(std::move(request), [](const client::SendResult&) {});
        }
        QVERIFY(producer.flush(client::Millis(kWaitMs)).isOk());
        qInfo("published %d messages in %.1f s", kMessages, clock.elapsed() / 1000.0);

        ConsoleTarget target;
        target.link.endpoint = broker->inprocEndpoint();
        target.link.zmqContext = broker->zmqContext();
        target.link.requestTimeout = client::Millis(120'000);
        MainWindow window(target);
        window.resize(1366, 768);
        window.show();
        window.showPage(MainWindow::QueuesIndex);
        QSignalSpy applied(&window, &MainWindow::snapshotApplied);
        QTRY_VERIFY_WITH_TIMEOUT(applied.count() >= 3, kWaitMs);
        const SnapshotPtr last = applied.last().at(0).value<SnapshotPtr>();
        QVERIFY(last && last->error.empty());
        QCOMPARE(int(last->queues.size()), 2 * kQueues);
        uint64_t ready = 0;
        for (const client::QueueDetails& queue : last->queues)
            ready += queue.stats.ready;
        QCOMPARE(ready, uint64_t(kMessages));
        QCOMPARE(window.queuesPage()->view()->model()->rowCount(), 2 * kQueues);

        // One poll on the link's thread, as the timer runs it.
        clock.restart();
        QMetaObject::invokeMethod(window.link(), &BrokerLink::pollNow, Qt::BlockingQueuedConnection);
        const double pollMs = clock.nsecsElapsed() / 1e6;
        QTRY_VERIFY_WITH_TIMEOUT(applied.count() >= 4, kWaitMs);
        // Applying a snapshot and repainting, on the GUI thread.
        const SnapshotPtr snapshot = applied.last().at(0).value<SnapshotPtr>();
        clock.restart();
        constexpr int kRounds = 10;
        for (int i = 0; i < kRounds; ++i) {
            emit window.link()->snapshotReady(snapshot);
            window.repaint();
        }
        const double applyMs = clock.nsecsElapsed() / 1e6 / kRounds;
        clock.restart();
        window.queuesPage()->view()->sortByColumn(2, Qt::DescendingOrder);  // by ready
        const double sortMs = clock.nsecsElapsed() / 1e6;
        qInfo("with %d queues and %d messages: poll %.1f ms (link thread), apply + repaint %.1f ms (GUI thread), "
              "sort by ready %.1f ms",
              2 * kQueues, kMessages, pollMs, applyMs, sortMs);
        // Where a poll's time goes: each admin call of it, over TCP from here.
        clock.restart();
        QVERIFY(admin.stats().isOk());
        const double statsMs = clock.nsecsElapsed() / 1e6;
        clock.restart();
        QVERIFY(admin.listQueues().isOk());
        const double listMs = clock.nsecsElapsed() / 1e6;
        clock.restart();
        QVERIFY(admin.call("stats").isOk());
        const double rawStatsMs = clock.nsecsElapsed() / 1e6;
        qInfo("admin calls: stats %.1f ms (of which the reply without decoding %.1f ms), queue.list %.1f ms", statsMs,
              rawStatsMs, listMs);
        window.shutdownLink();
        connection->close();
        QVERIFY(broker->close().isOk());
    }
};

QTEST_MAIN(TestConsoleScale)
#include "TestConsoleScale.moc"
