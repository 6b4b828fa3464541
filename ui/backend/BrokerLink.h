#pragma once
// BrokerLink: the console's one connection to a broker (the embedded one over inproc://, or a remote depotd over
// tcp://, with the same code). It lives on a worker thread of its own: it polls a Snapshot every second and runs
// the operator's actions, so the GUI thread never waits on the broker. Results come back as queued signals or
// as callbacks run on the receiver's thread.
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

#include "backend/Snapshot.h"
#include "depot/Result.h"
#include "depot/client/ClientOptions.h"

class QTimer;

namespace depot::client {
class Connection;
class Admin;
}  // namespace depot::client

namespace depot::ui {

class BrokerLink : public QObject {
    Q_OBJECT

public:
    using Action = std::function<Status(client::Admin&)>;
    // For what needs more than Admin (publishing a test message): the link's own connection.
    using ConnectionAction = std::function<Status(const std::shared_ptr<client::Connection>&)>;

    // `options.endpoint` and, for inproc://, `options.zmqContext` say where the broker is.
    explicit BrokerLink(client::ClientOptions options, int pollIntervalMs = 1000);
    ~BrokerLink() override;

    // Runs `action` on the link's thread; `done` then runs on `receiver`'s thread (not at all if the receiver is
    // gone). A change is shown at once: the link polls a snapshot after it. Thread-safe.
    void submit(Action action, QObject* receiver, std::function<void(const Status&)> done);
    // The same for an action that changes nothing (browsing, trace, audit): no snapshot poll after it.
    void submitRead(Action action, QObject* receiver, std::function<void(const Status&)> done);
    // A read that returns something: `read` runs on the link's thread, `done` gets its result (or why the link
    // could not run it) on `receiver`'s thread. No snapshot poll after it.
    template <typename T>
    void fetch(std::function<Result<T>(client::Admin&)> read, QObject* receiver,
               std::function<void(Result<T>)> done) {
        auto answer = std::make_shared<std::optional<Result<T>>>();
        submitRead(
            [answer, read = std::move(read)](client::Admin& admin) {
                *answer = read(admin);
                return answer->value().status();
            },
            receiver, [answer, done = std::move(done)](const Status& status) {
                done(answer->has_value() ? std::move(**answer) : Result<T>(status));
            });
    }
    void submitOnConnection(ConnectionAction action, QObject* receiver, std::function<void(const Status&)> done);

public slots:
    void start();    // connects and starts polling (call on the link's thread, e.g. from QThread::started)
    void pollNow();
    void stop();     // stops polling and closes the connection (on the link's thread)

signals:
    void snapshotReady(depot::ui::SnapshotPtr snapshot);
    void connectionChanged(bool connected, const QString& detail);

private:
    Status ensureConnected();
    Status backfill(Snapshot& snapshot);
    void runAction(const Action& action, QObject* receiver, const std::function<void(const Status&)>& done,
                   bool pollAfter);

    client::ClientOptions m_options;
    int m_pollIntervalMs;
    QTimer* m_timer = nullptr;
    std::shared_ptr<client::Connection> m_connection;
    std::unique_ptr<client::Admin> m_admin;
    bool m_connected = false;
    bool m_backfilled = false;
};

}  // namespace depot::ui
