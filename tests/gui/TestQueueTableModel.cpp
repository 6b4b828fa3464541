#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

#include <memory>
#include <string>
#include <vector>

#include "ModelTestSupport.h"
#include "backend/Snapshot.h"
#include "models/QueueTableModel.h"

using depot::broker::Millis;
using depot::broker::TimeMs;
using depot::test::cell;
using depot::test::failedPoll;
using depot::test::kReport;
using depot::test::SortedView;
using depot::client::QueueDetails;
using depot::ui::QueueTableModel;
using depot::ui::Snapshot;
using depot::ui::SnapshotPtr;

namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

QueueDetails makeQueue(const std::string& name, uint64_t ready = 0) {
    QueueDetails queue;
    queue.info.name = name;
    queue.info.deadLetterQueue = name + ".dlq";
    queue.stats.name = name;
    queue.stats.deadLetterQueue = name + ".dlq";
    queue.stats.ready = ready;
    return queue;
}

SnapshotPtr makeSnapshot(TimeMs at, std::vector<QueueDetails> queues) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->stats.at = at;
    snapshot->queues = std::move(queues);
    return snapshot;
}

SnapshotPtr namedQueues(TimeMs at, const std::vector<std::string>& names) {
    std::vector<QueueDetails> queues;
    for (const std::string& name : names)
        queues.push_back(makeQueue(name));
    return makeSnapshot(at, std::move(queues));
}

QueueDetails withCounters(QueueDetails queue, uint64_t published, uint64_t acked) {
    queue.stats.counters.published = published;
    queue.stats.counters.acked = acked;
    return queue;
}

QVariant sortValue(const QAbstractItemModel& model, int row, int column) {
    return model.index(row, column).data(QueueTableModel::SortRole);
}

}  // namespace

class TestQueueTableModel : public QObject {
    Q_OBJECT

private slots:
    void testHeadersNameEveryColumn() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        QCOMPARE(model.columnCount(), 13);
        QCOMPARE(model.headerData(QueueTableModel::Name, Qt::Horizontal).toString(), QStringLiteral("Name"));
        QCOMPARE(model.headerData(QueueTableModel::InRate, Qt::Horizontal).toString(), QStringLiteral("In/s"));
        QCOMPARE(model.headerData(QueueTableModel::Flush, Qt::Horizontal).toString(), QStringLiteral("Flush"));
        QCOMPARE(model.headerData(QueueTableModel::Replication, Qt::Horizontal).toString(),
                 QStringLiteral("Replication"));
        for (int column = 0; column < model.columnCount(); ++column)
            QVERIFY(!model.headerData(column, Qt::Horizontal).toString().isEmpty());
    }

    void testIsEmptyUntilTheFirstSnapshot() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        QCOMPARE(model.rowCount(), 0);
        model.setSnapshot(namedQueues(kStart, {"orders", "billing"}));
        QCOMPARE(model.rowCount(), 2);
    }

    void testRowsShowEachQueuesValues() {
        QueueDetails orders = makeQueue("orders", 12);
        orders.info.policy.flush = depot::broker::FlushMode::Async;
        orders.stats.unacked = 3;
        orders.stats.delayed = 4;
        orders.stats.consumers = 2;
        orders.stats.deadLetterDepth = 7;
        orders.stats.oldestPublishedAt = kStart - 3000;
        QueueDetails deadLetters = makeQueue("orders.dlq");
        deadLetters.info.kind = depot::broker::QueueKind::DeadLetter;
        deadLetters.info.deadLetterQueue.clear();
        deadLetters.stats.deadLetterQueue.clear();

        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {orders, deadLetters}));

        QCOMPARE(cell(model, 0, QueueTableModel::Name), QStringLiteral("orders"));
        QCOMPARE(cell(model, 0, QueueTableModel::Kind), QStringLiteral("normal"));
        QCOMPARE(cell(model, 0, QueueTableModel::Ready), QStringLiteral("12"));
        QCOMPARE(cell(model, 0, QueueTableModel::Unacked), QStringLiteral("3"));
        QCOMPARE(cell(model, 0, QueueTableModel::Delayed), QStringLiteral("4"));
        QCOMPARE(cell(model, 0, QueueTableModel::Consumers), QStringLiteral("2"));
        QCOMPARE(cell(model, 0, QueueTableModel::OldestAge), QStringLiteral("3 s"));
        QCOMPARE(cell(model, 0, QueueTableModel::DeadLetterQueue), QStringLiteral("orders.dlq"));
        QCOMPARE(cell(model, 0, QueueTableModel::DeadLetterDepth), QStringLiteral("7"));
        QCOMPARE(cell(model, 0, QueueTableModel::Flush), QStringLiteral("async"));
        QCOMPARE(cell(model, 0, QueueTableModel::Replication), QStringLiteral("none"));

        QCOMPARE(cell(model, 1, QueueTableModel::Kind), QStringLiteral("dead-letter"));
        QCOMPARE(cell(model, 1, QueueTableModel::DeadLetterQueue), QStringLiteral("–"));
        QCOMPARE(cell(model, 1, QueueTableModel::OldestAge), QStringLiteral("–"));
        QCOMPARE(cell(model, 1, QueueTableModel::Flush), QStringLiteral("sync"));
    }

    void testOldestAgeIsHumanText_data() {
        QTest::addColumn<TimeMs>("age");
        QTest::addColumn<QString>("text");
        QTest::newRow("under a second") << TimeMs(400) << QStringLiteral("0 s");
        QTest::newRow("seconds") << TimeMs(3'000) << QStringLiteral("3 s");
        QTest::newRow("minutes") << TimeMs(150'000) << QStringLiteral("2 min");
        QTest::newRow("hours and minutes") << TimeMs(3'900'000) << QStringLiteral("1 h 5 min");
        QTest::newRow("whole hours") << TimeMs(7'200'000) << QStringLiteral("2 h");
        QTest::newRow("days") << TimeMs(100'800'000) << QStringLiteral("1 d 4 h");
        QTest::newRow("published after the snapshot's clock") << TimeMs(-20) << QStringLiteral("0 s");
    }

    void testOldestAgeIsHumanText() {
        QFETCH(TimeMs, age);
        QFETCH(QString, text);
        QueueDetails queue = makeQueue("orders", 1);
        queue.stats.oldestPublishedAt = kStart - age;
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {queue}));
        QCOMPARE(cell(model, 0, QueueTableModel::OldestAge), text);
        QCOMPARE(sortValue(model, 0, QueueTableModel::OldestAge).toULongLong(), qulonglong(std::max<TimeMs>(age, 0)));
    }

    void testRatesAreMessagesPerSecondBetweenSnapshots() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {withCounters(makeQueue("orders"), 5000, 4000)}));
        model.setSnapshot(makeSnapshot(kStart + 2000, {withCounters(makeQueue("orders"), 6000, 4200)}));

        QCOMPARE(cell(model, 0, QueueTableModel::InRate), QStringLiteral("500.0"));
        QCOMPARE(cell(model, 0, QueueTableModel::OutRate), QStringLiteral("100.0"));
        QCOMPARE(sortValue(model, 0, QueueTableModel::InRate).toDouble(), 500.0);
        QCOMPARE(sortValue(model, 0, QueueTableModel::OutRate).toDouble(), 100.0);
    }

    void testFirstSnapshotShowsNoRate() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {withCounters(makeQueue("orders"), 5000, 4000)}));
        QCOMPARE(cell(model, 0, QueueTableModel::InRate), QStringLiteral("–"));
        QCOMPARE(cell(model, 0, QueueTableModel::OutRate), QStringLiteral("–"));
    }

    void testQueueNewSinceThePreviousSnapshotShowsNoRate() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {withCounters(makeQueue("orders"), 100, 0)}));
        // "audit" is declared before "orders" in the listing: the rows move, the rate must follow the name.
        model.setSnapshot(makeSnapshot(
            kStart + 1000, {withCounters(makeQueue("audit"), 50, 0), withCounters(makeQueue("orders"), 400, 0)}));
        QCOMPARE(cell(model, 0, QueueTableModel::Name), QStringLiteral("audit"));
        QCOMPARE(cell(model, 0, QueueTableModel::InRate), QStringLiteral("–"));
        QCOMPARE(cell(model, 1, QueueTableModel::InRate), QStringLiteral("300.0"));
    }

    void testCounterThatWentBackwardsShowsNoRate() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {withCounters(makeQueue("orders"), 9000, 9000)}));
        // The broker restarted: its counters began again from zero.
        model.setSnapshot(makeSnapshot(kStart + 1000, {withCounters(makeQueue("orders"), 10, 5)}));
        QCOMPARE(cell(model, 0, QueueTableModel::InRate), QStringLiteral("–"));
        QCOMPARE(cell(model, 0, QueueTableModel::OutRate), QStringLiteral("–"));
    }

    void testUnchangedQueueNamesUpdateInPlace() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {makeQueue("billing", 1), makeQueue("orders", 2)}));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

        model.setSnapshot(makeSnapshot(kStart + 1000, {makeQueue("billing", 10), makeQueue("orders", 20)}));

        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).value<QModelIndex>(), model.index(0, 0));
        QCOMPARE(changed.at(0).at(1).value<QModelIndex>(), model.index(1, QueueTableModel::ColumnCount - 1));
        QCOMPARE(cell(model, 1, QueueTableModel::Ready), QStringLiteral("20"));
    }

    void testChangedQueueNamesResetTheModel_data() {
        QTest::addColumn<QStringList>("names");
        QTest::newRow("declared") << QStringList{"billing", "orders", "shipping"};
        QTest::newRow("deleted") << QStringList{"orders"};
        QTest::newRow("reordered") << QStringList{"orders", "billing"};
        QTest::newRow("renamed") << QStringList{"billing", "orders2"};
    }

    void testChangedQueueNamesResetTheModel() {
        QFETCH(QStringList, names);
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(namedQueues(kStart, {"billing", "orders"}));
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        std::vector<std::string> next;
        for (const QString& name : names)
            next.push_back(name.toStdString());
        model.setSnapshot(namedQueues(kStart + 1000, next));

        QCOMPARE(reset.count(), 1);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(model.rowCount(), int(names.size()));
        for (int row = 0; row < model.rowCount(); ++row)
            QCOMPARE(model.queueName(row), names.at(row));
    }

    void testErrorSnapshotChangesNothing() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {withCounters(makeQueue("orders", 5), 1000, 0)}));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

        model.setSnapshot(failedPoll());
        model.setSnapshot(nullptr);

        QCOMPARE(changed.count(), 0);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(cell(model, 0, QueueTableModel::Ready), QStringLiteral("5"));
        // The next good snapshot's rate spans the failed poll: it is measured from the last good one.
        model.setSnapshot(makeSnapshot(kStart + 4000, {withCounters(makeQueue("orders", 5), 3000, 0)}));
        QCOMPARE(cell(model, 0, QueueTableModel::InRate), QStringLiteral("500.0"));
    }

    void testSortRoleSortsNumerically() {
        std::vector<QueueDetails> queues{makeQueue("a", 100), makeQueue("b", 9), makeQueue("c", 10)};
        queues[0].stats.oldestPublishedAt = kStart - 100'000;  // "1 min"
        queues[1].stats.oldestPublishedAt = kStart - 9'000;    // "9 s"
        queues[2].stats.oldestPublishedAt = kStart - 20'000;   // "20 s"
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, queues));
        SortedView view(&model, QueueTableModel::SortRole);
        QSortFilterProxyModel& proxy = view.proxy;

        proxy.sort(QueueTableModel::Ready, Qt::AscendingOrder);
        QCOMPARE(cell(proxy, 0, QueueTableModel::Ready), QStringLiteral("9"));
        QCOMPARE(cell(proxy, 1, QueueTableModel::Ready), QStringLiteral("10"));
        QCOMPARE(cell(proxy, 2, QueueTableModel::Ready), QStringLiteral("100"));

        proxy.sort(QueueTableModel::OldestAge, Qt::DescendingOrder);
        QCOMPARE(cell(proxy, 0, QueueTableModel::Name), QStringLiteral("a"));
        QCOMPARE(cell(proxy, 1, QueueTableModel::Name), QStringLiteral("c"));
        QCOMPARE(cell(proxy, 2, QueueTableModel::Name), QStringLiteral("b"));

        proxy.sort(QueueTableModel::Name, Qt::DescendingOrder);
        QCOMPARE(cell(proxy, 0, QueueTableModel::Name), QStringLiteral("c"));
    }

    void testRatesSortNumerically() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {withCounters(makeQueue("a"), 0, 0), withCounters(makeQueue("b"), 0, 0),
                                                withCounters(makeQueue("c"), 0, 0)}));
        model.setSnapshot(
            makeSnapshot(kStart + 1000, {withCounters(makeQueue("a"), 100, 0), withCounters(makeQueue("b"), 9, 0),
                                         withCounters(makeQueue("c"), 10, 0)}));
        SortedView view(&model, QueueTableModel::SortRole);
        QSortFilterProxyModel& proxy = view.proxy;
        proxy.sort(QueueTableModel::InRate, Qt::AscendingOrder);
        QCOMPARE(cell(proxy, 0, QueueTableModel::InRate), QStringLiteral("9.0"));
        QCOMPARE(cell(proxy, 1, QueueTableModel::InRate), QStringLiteral("10.0"));
        QCOMPARE(cell(proxy, 2, QueueTableModel::InRate), QStringLiteral("100.0"));
    }

    void testNumericColumnsAreRightAligned() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(namedQueues(kStart, {"orders"}));
        const auto alignment = [&](int column) {
            return Qt::Alignment(model.index(0, column).data(Qt::TextAlignmentRole).toInt()) & Qt::AlignHorizontal_Mask;
        };
        for (int column : {QueueTableModel::Ready, QueueTableModel::Unacked, QueueTableModel::Delayed,
                           QueueTableModel::Consumers, QueueTableModel::InRate, QueueTableModel::OutRate,
                           QueueTableModel::OldestAge, QueueTableModel::DeadLetterDepth})
            QCOMPARE(alignment(column), Qt::Alignment(Qt::AlignRight));
        for (int column :
             {QueueTableModel::Name, QueueTableModel::Kind, QueueTableModel::DeadLetterQueue, QueueTableModel::Flush})
            QCOMPARE(alignment(column), Qt::Alignment(Qt::AlignLeft));
    }

    void testNameToolTipDescribesThePolicy() {
        QueueDetails queue = makeQueue("orders");
        queue.info.policy.ttl = Millis(600'000);
        queue.info.policy.maxLength = 1000;
        queue.info.policy.ordering = depot::broker::Ordering::PerKey;
        queue.info.policy.backoff = {Millis(500), Millis(1500), Millis(90'000)};
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {queue}));

        const QString tip = model.index(0, QueueTableModel::Name).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("Durable")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Flush: sync")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Max attempts: 5")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Retry backoff: 500 ms, 1.5 s, 1 min 30 s (the last repeats)")),
                 qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Ack timeout: 1 min")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Time to live: 10 min")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Max length: 1000 messages, then publishes are refused")),
                 qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Ordering: per key")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Deduplication window: 5 min")), qPrintable(tip));
        QVERIFY(model.index(0, QueueTableModel::Ready).data(Qt::ToolTipRole).isNull());
    }

    void testToolTipSaysWhatIsOff() {
        QueueDetails queue = makeQueue("scratch");
        queue.info.policy.durable = false;
        queue.info.policy.flush = depot::broker::FlushMode::Async;
        queue.info.policy.maxAttempts = 0;
        queue.info.policy.ackTimeout = Millis(0);
        queue.info.policy.dedupWindow = Millis(0);
        queue.info.policy.backoff.clear();
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {queue}));

        const QString tip = model.index(0, QueueTableModel::Name).data(Qt::ToolTipRole).toString();
        for (const char* phrase :
             {"Transient", "Flush: async", "Max attempts: unlimited", "Retry backoff: none", "Ack timeout: never",
              "Time to live: unlimited", "Max length: unlimited", "Ordering: none", "Deduplication: off"})
            QVERIFY2(tip.contains(QLatin1String(phrase)), qPrintable(tip));
        // Flushing and replication do not apply to messages that never reach the disk.
        QCOMPARE(cell(model, 0, QueueTableModel::Flush), QStringLiteral("memory"));
        QCOMPARE(cell(model, 0, QueueTableModel::Replication), QStringLiteral("–"));
    }

    void testQueueNameGivesTheRowsQueue() {
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(namedQueues(kStart, {"billing", "orders"}));
        QCOMPARE(model.queueName(1), QStringLiteral("orders"));
        QCOMPARE(model.queueName(2), QString());
        QCOMPARE(model.queueName(-1), QString());
    }

    void testTenThousandQueuesLoad() {
        std::vector<std::string> names;
        for (int i = 0; i < 10'000; ++i)
            names.push_back("queue-" + std::to_string(i));
        QueueTableModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(namedQueues(kStart, names));
        QCOMPARE(model.rowCount(), 10'000);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setSnapshot(namedQueues(kStart + 1000, names));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(model.queueName(9'999), QStringLiteral("queue-9999"));
    }
};

QTEST_MAIN(TestQueueTableModel)
#include "TestQueueTableModel.moc"
