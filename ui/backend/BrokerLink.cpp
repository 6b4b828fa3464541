#include "backend/BrokerLink.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"

namespace depot::ui {

BrokerLink::BrokerLink(client::ClientOptions options, int pollIntervalMs)
    : m_options(std::move(options)), m_pollIntervalMs(pollIntervalMs) {
    qRegisterMetaType<depot::ui::SnapshotPtr>();
}

BrokerLink::~BrokerLink() = default;

void BrokerLink::start() {
    if (!m_timer) {
        m_timer = new QTimer(this);
        m_timer->setInterval(m_pollIntervalMs);
        connect(m_timer, &QTimer::timeout, this, &BrokerLink::pollNow);
    }
    m_timer->start();
    pollNow();
}

void BrokerLink::stop() {
    if (m_timer)
        m_timer->stop();
    m_admin.reset();
    m_backfilled = false;
    if (m_connection)
        m_connection->close();
    m_connection.reset();
}

Status BrokerLink::ensureConnected() {
    if (m_admin)
        return Status::ok();
    auto connection = client::Connection::connect(m_options);
    if (!connection)
        return connection.status();
    m_connection = std::move(connection).value();
    m_admin = std::make_unique<client::Admin>(m_connection);
    return Status::ok();
}

void BrokerLink::pollNow() {
    QElapsedTimer clock;
    clock.start();
    auto snapshot = std::make_shared<Snapshot>();
    Status status = ensureConnected();
    if (status) {
        auto stats = m_admin->stats(/*withQueues=*/false);  // listQueues() brings each queue's stats
        auto queues = stats ? m_admin->listQueues() : Result<std::vector<client::QueueDetails>>(stats.status());
        auto sessions = queues ? m_admin->sessions() : Result<std::vector<client::SessionInfo>>(queues.status());
        auto alerts = sessions ? m_admin->alerts() : Result<std::vector<broker::AlertState>>(sessions.status());
        auto replication = alerts ? m_admin->replicationStatus() : Result<broker::ReplicationStatus>(alerts.status());
        if (replication) {
            snapshot->stats = std::move(stats).value();
            snapshot->queues = std::move(queues).value();
            snapshot->sessions = std::move(sessions).value();
            snapshot->alerts = std::move(alerts).value();
            snapshot->replication = std::move(replication).value();
            status = backfill(*snapshot);
        } else {
            status = replication.status();
        }
    }
    const bool connected = status.isOk() && m_connection && m_connection->connected();
    if (connected != m_connected || !status) {
        m_connected = connected;
        emit connectionChanged(connected, QString::fromStdString(status ? m_options.endpoint : status.message()));
    }
    if (!status)
        snapshot->error = status.message();
    emit snapshotReady(std::move(snapshot));
    // Polls are answered on the broker's thread: when one grows slow (tens of thousands of queues), ask less often,
    // at most once per twice the time a poll took, so the console leaves the broker most of its time.
    if (m_timer)
        m_timer->setInterval(std::max<qint64>(m_pollIntervalMs, 2 * clock.elapsed()));
}

Status BrokerLink::backfill(Snapshot& snapshot) {
    if (m_backfilled)
        return Status::ok();
    auto samples = m_admin->history("", snapshot.stats.at - kLiveHistoryMs, snapshot.stats.at);
    if (!samples)
        return samples.status();
    snapshot.backfill = std::move(samples).value();
    m_backfilled = true;
    return Status::ok();
}

void BrokerLink::submit(Action action, QObject* receiver, std::function<void(const Status&)> done) {
    QMetaObject::invokeMethod(this, [this, action = std::move(action), receiver = QPointer<QObject>(receiver),
                                     done = std::move(done)] { runAction(action, receiver, done, true); });
}

void BrokerLink::submitRead(Action action, QObject* receiver, std::function<void(const Status&)> done) {
    QMetaObject::invokeMethod(this, [this, action = std::move(action), receiver = QPointer<QObject>(receiver),
                                     done = std::move(done)] { runAction(action, receiver, done, false); });
}

void BrokerLink::submitOnConnection(ConnectionAction action, QObject* receiver,
                                    std::function<void(const Status&)> done) {
    submit([this, action = std::move(action)](client::Admin&) { return action(m_connection); }, receiver,
           std::move(done));
}

void BrokerLink::runAction(const Action& action, QObject* receiver, const std::function<void(const Status&)>& done,
                           bool pollAfter) {
    Status status = ensureConnected();
    if (status)
        status = action(*m_admin);
    if (receiver && done)
        QMetaObject::invokeMethod(receiver, [done, status] { done(status); });
    if (pollAfter)
        pollNow();  // show the effect at once rather than up to a poll interval later
}

}  // namespace depot::ui
