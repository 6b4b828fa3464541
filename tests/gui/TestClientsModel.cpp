#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

#include <memory>
#include <string>
#include <vector>

#include "ModelTestSupport.h"
#include "backend/Snapshot.h"
#include "models/ClientsModel.h"

using depot::broker::TimeMs;
using depot::test::cell;
using depot::test::failedPoll;
using depot::test::kReport;
using depot::test::SortedView;
using depot::client::SessionConsumerInfo;
using depot::client::SessionInfo;
using depot::ui::ClientsModel;
using depot::ui::Snapshot;
using depot::ui::SnapshotPtr;

namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

SessionInfo makeSession(uint64_t id, const std::string& client = "worker") {
    SessionInfo session;
    session.session = id;
    session.client = client;
    session.role = "consumer";
    session.address = "tcp://10.0.0.7:51234";
    session.connectedAt = kStart - 60'000;
    session.lastHeardAt = kStart;
    return session;
}

SessionConsumerInfo makeConsumer(const std::string& queue, uint32_t prefetch, uint64_t unacked, bool autoAck = false) {
    SessionConsumerInfo consumer;
    consumer.consumer = 7;
    consumer.queue = queue;
    consumer.prefetch = prefetch;
    consumer.unacked = unacked;
    consumer.autoAck = autoAck;
    return consumer;
}

SnapshotPtr makeSnapshot(TimeMs at, std::vector<SessionInfo> sessions) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->stats.at = at;
    snapshot->sessions = std::move(sessions);
    return snapshot;
}

}  // namespace

class TestClientsModel : public QObject {
    Q_OBJECT

private slots:
    void testHeadersNameEveryColumn() {
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        QCOMPARE(model.columnCount(), 7);
        QCOMPARE(model.headerData(ClientsModel::Client, Qt::Horizontal).toString(), QStringLiteral("Client"));
        QCOMPARE(model.headerData(ClientsModel::LastHeard, Qt::Horizontal).toString(), QStringLiteral("Last heard"));
        QCOMPARE(model.headerData(ClientsModel::Consumers, Qt::Horizontal).toString(), QStringLiteral("Consumers"));
    }

    void testIsEmptyUntilTheFirstSnapshot() {
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        QCOMPARE(model.rowCount(), 0);
        model.setSnapshot(makeSnapshot(kStart, {makeSession(1), makeSession(2)}));
        QCOMPARE(model.rowCount(), 2);
    }

    void testRowsShowEachSessionsValues() {
        // Built from local wall-clock parts so the expected "hh:mm:ss" holds in any time zone.
        const TimeMs connectedAt = QDateTime(QDate(2024, 5, 1), QTime(13, 4, 5)).toMSecsSinceEpoch();
        SessionInfo session = makeSession(41, "billing-service");
        session.role = "producer+consumer";
        session.connectedAt = connectedAt;
        session.lastHeardAt = connectedAt + 10'000 - 400;
        session.unconfirmed = 12;
        session.consumers = {makeConsumer("orders", 100, 3), makeConsumer("billing", 10, 0, true)};
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(connectedAt + 10'000, {session}));

        QCOMPARE(cell(model, 0, ClientsModel::Client), QStringLiteral("billing-service"));
        QCOMPARE(cell(model, 0, ClientsModel::Role), QStringLiteral("producer+consumer"));
        QCOMPARE(cell(model, 0, ClientsModel::Address), QStringLiteral("tcp://10.0.0.7:51234"));
        QCOMPARE(cell(model, 0, ClientsModel::Connected), QStringLiteral("13:04:05"));
        QCOMPARE(cell(model, 0, ClientsModel::LastHeard), QStringLiteral("0.4 s ago"));
        QCOMPARE(cell(model, 0, ClientsModel::Unconfirmed), QStringLiteral("12"));
        QCOMPARE(cell(model, 0, ClientsModel::Consumers),
                 QStringLiteral("orders (prefetch 100, unacked 3); billing (auto-ack)"));
        QCOMPARE(model.index(0, ClientsModel::Connected).data(Qt::ToolTipRole).toString(),
                 QStringLiteral("2024-05-01 13:04:05"));
        QCOMPARE(model.sessionId(0), uint64_t(41));
        QCOMPARE(model.sessionId(1), uint64_t(0));
    }

    void testSessionWithoutConsumersShowsADash() {
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {makeSession(1)}));
        QCOMPARE(cell(model, 0, ClientsModel::Consumers), QStringLiteral("–"));
    }

    void testUnlimitedPrefetchIsSpelledOut() {
        SessionInfo session = makeSession(1);
        session.consumers = {makeConsumer("orders", 0, 250)};
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {session}));
        QCOMPARE(cell(model, 0, ClientsModel::Consumers), QStringLiteral("orders (prefetch unlimited, unacked 250)"));
    }

    void testLastHeardIsRelativeToTheSnapshotTime_data() {
        QTest::addColumn<TimeMs>("ago");
        QTest::addColumn<QString>("text");
        QTest::newRow("just now") << TimeMs(0) << QStringLiteral("0.0 s ago");
        QTest::newRow("tenths") << TimeMs(400) << QStringLiteral("0.4 s ago");
        QTest::newRow("seconds") << TimeMs(12'345) << QStringLiteral("12.3 s ago");
        QTest::newRow("almost a minute") << TimeMs(59'990) << QStringLiteral("1 min ago");
        QTest::newRow("minutes") << TimeMs(125'000) << QStringLiteral("2 min ago");
        QTest::newRow("hours") << TimeMs(3'900'000) << QStringLiteral("1 h 5 min ago");
        QTest::newRow("heard after the snapshot's clock") << TimeMs(-50) << QStringLiteral("0.0 s ago");
    }

    void testLastHeardIsRelativeToTheSnapshotTime() {
        QFETCH(TimeMs, ago);
        QFETCH(QString, text);
        SessionInfo session = makeSession(1);
        session.lastHeardAt = kStart - ago;
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {session}));
        QCOMPARE(cell(model, 0, ClientsModel::LastHeard), text);
    }

    void testUnchangedSessionsUpdateInPlace() {
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {makeSession(1), makeSession(2)}));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

        SessionInfo busier = makeSession(2);
        busier.unconfirmed = 9;
        model.setSnapshot(makeSnapshot(kStart + 1000, {makeSession(1), busier}));

        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).value<QModelIndex>(), model.index(0, 0));
        QCOMPARE(changed.at(0).at(1).value<QModelIndex>(), model.index(1, ClientsModel::ColumnCount - 1));
        QCOMPARE(cell(model, 1, ClientsModel::Unconfirmed), QStringLiteral("9"));
    }

    void testChangedSessionsResetTheModel_data() {
        QTest::addColumn<QList<quint64>>("ids");
        QTest::newRow("connected") << QList<quint64>{1, 2, 3};
        QTest::newRow("disconnected") << QList<quint64>{2};
        QTest::newRow("reordered") << QList<quint64>{2, 1};
        QTest::newRow("reconnected under a new session") << QList<quint64>{1, 4};
    }

    void testChangedSessionsResetTheModel() {
        QFETCH(QList<quint64>, ids);
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {makeSession(1), makeSession(2)}));
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        std::vector<SessionInfo> sessions;
        for (quint64 id : ids)
            sessions.push_back(makeSession(id));
        model.setSnapshot(makeSnapshot(kStart + 1000, sessions));

        QCOMPARE(reset.count(), 1);
        QCOMPARE(changed.count(), 0);
        QCOMPARE(model.rowCount(), int(ids.size()));
        for (int row = 0; row < model.rowCount(); ++row)
            QCOMPARE(model.sessionId(row), uint64_t(ids.at(row)));
    }

    void testErrorSnapshotChangesNothing() {
        SessionInfo session = makeSession(1, "billing");
        session.unconfirmed = 5;
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {session}));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

        model.setSnapshot(failedPoll());
        model.setSnapshot(nullptr);

        QCOMPARE(changed.count(), 0);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(cell(model, 0, ClientsModel::Client), QStringLiteral("billing"));
        QCOMPARE(cell(model, 0, ClientsModel::Unconfirmed), QStringLiteral("5"));
    }

    void testSortRoleSortsNumerically() {
        std::vector<SessionInfo> sessions{makeSession(1, "a"), makeSession(2, "b"), makeSession(3, "c")};
        sessions[0].unconfirmed = 100;
        sessions[1].unconfirmed = 9;
        sessions[2].unconfirmed = 10;
        sessions[0].lastHeardAt = kStart - 100'000;  // "1 min ago"
        sessions[1].lastHeardAt = kStart - 9'000;    // "9.0 s ago"
        sessions[2].lastHeardAt = kStart - 20'000;   // "20.0 s ago"
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, sessions));
        SortedView view(&model, ClientsModel::SortRole);
        QSortFilterProxyModel& proxy = view.proxy;

        proxy.sort(ClientsModel::Unconfirmed, Qt::AscendingOrder);
        QCOMPARE(cell(proxy, 0, ClientsModel::Unconfirmed), QStringLiteral("9"));
        QCOMPARE(cell(proxy, 1, ClientsModel::Unconfirmed), QStringLiteral("10"));
        QCOMPARE(cell(proxy, 2, ClientsModel::Unconfirmed), QStringLiteral("100"));

        proxy.sort(ClientsModel::LastHeard, Qt::AscendingOrder);
        QCOMPARE(cell(proxy, 0, ClientsModel::Client), QStringLiteral("b"));
        QCOMPARE(cell(proxy, 1, ClientsModel::Client), QStringLiteral("c"));
        QCOMPARE(cell(proxy, 2, ClientsModel::Client), QStringLiteral("a"));

        proxy.sort(ClientsModel::Client, Qt::DescendingOrder);
        QCOMPARE(cell(proxy, 0, ClientsModel::Client), QStringLiteral("c"));
    }

    void testNumericColumnsAreRightAligned() {
        ClientsModel model;
        QAbstractItemModelTester tester(&model, kReport);
        model.setSnapshot(makeSnapshot(kStart, {makeSession(1)}));
        const auto alignment = [&](int column) {
            return Qt::Alignment(model.index(0, column).data(Qt::TextAlignmentRole).toInt()) & Qt::AlignHorizontal_Mask;
        };
        QCOMPARE(alignment(ClientsModel::Unconfirmed), Qt::Alignment(Qt::AlignRight));
        QCOMPARE(alignment(ClientsModel::LastHeard), Qt::Alignment(Qt::AlignRight));
        QCOMPARE(alignment(ClientsModel::Client), Qt::Alignment(Qt::AlignLeft));
        QCOMPARE(alignment(ClientsModel::Consumers), Qt::Alignment(Qt::AlignLeft));
    }
};

QTEST_MAIN(TestClientsModel)
#include "TestClientsModel.moc"
