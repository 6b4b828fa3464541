// Replication between two real depotd processes on loopback (issue 7): a replica catches up from empty and from
// a stale offset, applies definitions, refuses writes; a sync-replicated publish is not confirmed while the replica
// is stopped (SIGSTOP) and is nacked after the timeout (or confirmed as replica-unavailable when the queue says
// so); async confirms at once and its lag drains after SIGCONT; killing the replica mid-stream loses nothing;
// failover: SIGKILL the primary under sync load, promote the replica, every confirmed message is there; the old
// primary comes back fenced, rejoins as a replica and truncates the suffix the new primary never had.
#include <QProcess>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Consumer.h"
#include "depot/client/Producer.h"
#include "support/DepotdProcess.h"
#include "support/TempDir.h"

using namespace depot;
using client::Millis;

namespace {

struct Node {
    test::TempDir data;
    std::unique_ptr<test::DepotdProcess> process;
    std::shared_ptr<client::Connection> connection;
    std::unique_ptr<client::Admin> admin;

    explicit Node(std::vector<std::string> args = {}) : process(std::make_unique<test::DepotdProcess>(data.path(), args)) {}

    bool start() { return process->start() && connect(); }
    bool restart() { return process->restart() && connect(); }
    bool connect() {
        client::ClientOptions options;
        options.endpoint = process->endpoint();
        options.client = "replication-test";
        options.heartbeat = Millis(500);
        options.requestTimeout = Millis(10000);
        auto connected = client::Connection::connect(options);
        if (!connected) return false;
        connection = *connected;
        admin = std::make_unique<client::Admin>(connection);
        return true;
    }
    broker::ReplicationStatus status() {
        auto status = admin->replicationStatus();
        return status ? *status : broker::ReplicationStatus{};
    }
    uint64_t ready(const std::string& queue) {
        auto details = admin->showQueue(queue);
        return details ? details->stats.ready : UINT64_MAX;
    }
};

broker::QueueSpec queueSpec(const std::string& name, broker::Replication replication, Millis timeout = Millis(1000),
                            broker::ReplicaTimeoutAction action = broker::ReplicaTimeoutAction::Nack) {
    broker::QueueSpec spec;
    spec.name = name;
    spec.policy.replication = replication;
    spec.policy.replicaTimeout = timeout;
    spec.policy.onReplicaTimeout = action;
    return spec;
}

client::SendResult publish(const std::shared_ptr<client::Connection>& connection, const std::string& queue,
                           const std::string& id) {
    client::Producer producer(connection);
    broker::PublishRequest request;
    request.routingKey = queue;
    request.message.id = id;
    request.message.body = "body of " + id;
    client::SendOptions options;
    options.timeout = Millis(20000);
    return producer.send(std::move(request), options);
}

// depotctl against a node, as an operator runs it: exit code and everything it printed.
struct CtlRun {
    int exitCode = -1;
    std::string output;
};

CtlRun depotctl(const Node& node, const QStringList& args) {
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral(DEPOTCTL_PATH),
                  QStringList{"--endpoint", QString::fromStdString(node.process->endpoint())} + args);
    if (!process.waitForFinished(30000)) return {-1, "depotctl did not finish"};
    return {process.exitCode(), process.readAll().toStdString()};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Enums compared by name: a failure then says which.
template <typename E>
std::string name(E value) {
    return std::string(broker::toString(value));
}

}  // namespace

class TestReplication : public QObject {
    Q_OBJECT

private:
    // A primary and a replica following it; the replica has caught up once definitions and records exist.
    static std::unique_ptr<Node> startReplica(Node& primary, const std::string& name = "replica-1") {
        auto replica = std::make_unique<Node>(
            std::vector<std::string>{"--replica-of", primary.process->endpoint(), "--replica-name", name});
        if (!replica->start()) return nullptr;
        return replica;
    }

    // The replica has everything durable on the primary, and the primary has heard so (its acknowledgement
    // arrives with the replica's next fetch).
    static std::string whoAcknowledged(Node& primary) {
        broker::ReplicationStatus s = primary.status();
        std::string text = "primary durable " + std::to_string(s.durableOffset) + ", replicas:";
        for (const broker::ReplicaInfo& r : s.replicas)
            text += " [" + r.name + " at " + r.address + " acked " + std::to_string(r.ackedOffset) +
                    (r.connected ? ", connected" : "") + ", last contact " + std::to_string(r.lastContact) + "]";
        return text;
    }

    static std::string traceOf(Node& node, const std::string& id) {
        broker::TraceQuery query;
        query.messageId = id;
        auto events = node.admin->trace(query);
        std::string text;
        if (events)
            for (const broker::TraceEvent& e : *events)
                text += " " + std::to_string(e.at) + " " + std::string(broker::toString(e.kind)) + " #" +
                        std::to_string(e.sequence) + " " + e.detail + ";";
        return text;
    }

    static bool caughtUp(Node& primary, Node& replica) {
        broker::ReplicationStatus p = primary.status(), r = replica.status();
        const bool acknowledged = std::any_of(p.replicas.begin(), p.replicas.end(), [&](const broker::ReplicaInfo& i) {
            return i.ackedOffset == p.durableOffset;
        });
        return r.role == broker::Role::Replica && r.durableOffset == p.durableOffset && p.durableOffset > 0 &&
               acknowledged;
    }

private slots:
    void testReplicaCatchesUpFromEmptyAndFromAStaleOffset() {
        Node primary;
        QVERIFY2(primary.start(), qPrintable(primary.process->error()));
        QVERIFY(primary.admin->declareQueue(queueSpec("orders", broker::Replication::Async)).isOk());
        for (int i = 0; i < 200; ++i) QVERIFY(publish(primary.connection, "orders", "a-" + std::to_string(i)).ok());

        auto replica = startReplica(primary);
        QVERIFY(replica);
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(primary, *replica), 20000);
        QCOMPARE(replica->ready("orders"), uint64_t(200));  // the definition came with the records
        QCOMPARE(replica->status().primary, primary.process->endpoint());
        // It took the primary's log: the same identity, which its every fetch names from now on.
        QVERIFY(!primary.status().logId.empty());
        QCOMPARE(replica->status().logId, primary.status().logId);
        CtlRun onPrimary = depotctl(primary, {"replica", "status"});
        QVERIFY2(onPrimary.exitCode == 0 && contains(onPrimary.output, "role: primary") &&
                     contains(onPrimary.output, "log " + primary.status().logId) &&
                     contains(onPrimary.output, "replica-1"),
                 onPrimary.output.c_str());
        CtlRun onReplica = depotctl(*replica, {"replica", "status"});
        QVERIFY2(onReplica.exitCode == 0 && contains(onReplica.output, "role: replica") &&
                     contains(onReplica.output, "primary: " + primary.process->endpoint() + " (connected)"),
                 onReplica.output.c_str());

        // Writes are refused, naming the primary; reads of what the replica holds are served.
        client::SendResult refused = publish(replica->connection, "orders", "on-replica");
        QVERIFY(refused.nacked());
        QCOMPARE(name(refused.result.reason), name(broker::NackReason::NotPrimary));
        QVERIFY2(refused.result.error.find(primary.process->endpoint()) != std::string::npos,
                 refused.result.error.c_str());
        auto declared = replica->admin->declareQueue(queueSpec("other", broker::Replication::None));
        QVERIFY(!declared.isOk());
        QCOMPARE(declared.status().code(), StatusCode::ReadOnly);

        // Stale: stopped while the primary went on; it fetches from its own end when it comes back.
        replica->process->kill(SIGTERM);
        QCOMPARE(replica->process->waitForExit(), std::optional<int>(0));
        QVERIFY(primary.admin->declareQueue(queueSpec("payments", broker::Replication::Async)).isOk());
        for (int i = 0; i < 100; ++i) QVERIFY(publish(primary.connection, "payments", "b-" + std::to_string(i)).ok());
        QVERIFY(replica->restart());
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(primary, *replica), 20000);
        QCOMPARE(replica->ready("orders"), uint64_t(200));
        QCOMPARE(replica->ready("payments"), uint64_t(100));
        broker::ReplicationStatus status = primary.status();
        QCOMPARE(status.replicas.size(), size_t(1));
        QCOMPARE(status.replicas[0].name, std::string("replica-1"));
        QCOMPARE(status.replicas[0].ackedOffset, status.durableOffset);
        QCOMPARE(status.atRisk, uint64_t(0));
    }

    void testSyncPublishWaitsForTheReplica() {
        Node primary;
        QVERIFY2(primary.start(), qPrintable(primary.process->error()));
        QVERIFY(primary.admin->declareQueue(queueSpec("sync", broker::Replication::Sync)).isOk());
        QVERIFY(primary.admin->declareQueue(queueSpec("lenient", broker::Replication::Sync, Millis(500),
                                                      broker::ReplicaTimeoutAction::Confirm))
                    .isOk());
        // No replica at all: not confirmed.
        client::SendResult alone = publish(primary.connection, "sync", "m-alone");
        QVERIFY(alone.nacked());
        QCOMPARE(name(alone.result.reason), name(broker::NackReason::ReplicaUnavailable));

        auto replica = startReplica(primary);
        QVERIFY(replica);
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(primary, *replica), 20000);
        QVERIFY(publish(primary.connection, "sync", "m-1").ok());
        // The earlier nacked message was stored on the primary: its retry is a duplicate now that a replica has it.
        client::SendResult retried = publish(primary.connection, "sync", "m-alone");
        QCOMPARE(name(retried.result.outcome), name(broker::PublishOutcome::Duplicate));

        QVERIFY(replica->process->pause());
        client::SendResult stopped = publish(primary.connection, "sync", "m-2");
        // CI once saw "confirmed" here, when the test sent SIGSTOP and went on without waiting for the stop to take
        // hold (the replica's follower ran on for a few milliseconds). Should it ever happen again: who acked what.
        QVERIFY2(stopped.nacked(), (std::string(client::outcomeName(stopped)) + "; " + whoAcknowledged(primary) +
                                    "; trace of m-2:" + traceOf(primary, "m-2"))
                                       .c_str());
        QCOMPARE(name(stopped.result.reason), name(broker::NackReason::ReplicaUnavailable));
        client::SendResult lenient = publish(primary.connection, "lenient", "m-3");
        QCOMPARE(name(lenient.result.outcome), name(broker::PublishOutcome::Confirmed));  // the SLAVE_NOT_AVAILABLE case
        QCOMPARE(name(lenient.result.reason), name(broker::NackReason::ReplicaUnavailable));
        broker::ReplicationStatus during = primary.status();
        QCOMPARE(during.nackedForReplica, uint64_t(2));  // m-alone and m-2
        QCOMPARE(during.confirmedWithoutReplica, uint64_t(1));
        QVERIFY(during.atRisk >= 1);  // m-3 is confirmed and on no replica

        replica->process->kill(SIGCONT);
        QTRY_COMPARE_WITH_TIMEOUT(primary.status().atRisk, uint64_t(0), 20000);
        QCOMPARE(name(publish(primary.connection, "sync", "m-2").result.outcome), name(broker::PublishOutcome::Duplicate));
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(primary, *replica), 20000);
        QCOMPARE(replica->ready("sync"), uint64_t(3));  // m-alone, m-1, m-2: each once
        QCOMPARE(replica->ready("lenient"), uint64_t(1));
    }

    void testAsyncConfirmsAtOnceAndTheLagDrains() {
        Node primary;
        QVERIFY2(primary.start(), qPrintable(primary.process->error()));
        QVERIFY(primary.admin->declareQueue(queueSpec("async", broker::Replication::Async)).isOk());
        auto replica = startReplica(primary);
        QVERIFY(replica);
        QVERIFY(publish(primary.connection, "async", "first").ok());
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(primary, *replica), 20000);

        QVERIFY(replica->process->pause());
        for (int i = 0; i < 50; ++i)
            QCOMPARE(name(publish(primary.connection, "async", "lag-" + std::to_string(i)).result.outcome),
                     name(broker::PublishOutcome::Confirmed));
        broker::ReplicationStatus lagging = primary.status();
        QCOMPARE(lagging.atRisk, uint64_t(50));
        QCOMPARE(lagging.replicas.size(), size_t(1));
        QCOMPARE(lagging.replicas[0].lagMessages, uint64_t(50));
        QVERIFY(lagging.replicas[0].lagBytes > 0);

        replica->process->kill(SIGCONT);
        QTRY_COMPARE_WITH_TIMEOUT(primary.status().atRisk, uint64_t(0), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(primary, *replica), 20000);
        QCOMPARE(primary.status().replicas[0].lagMessages, uint64_t(0));
        QCOMPARE(replica->ready("async"), uint64_t(51));
    }

    void testKillingTheReplicaMidStreamLosesNothing() {
        Node primary;
        QVERIFY2(primary.start(), qPrintable(primary.process->error()));
        QVERIFY(primary.admin->declareQueue(queueSpec("stream", broker::Replication::Async)).isOk());
        auto replica = startReplica(primary);
        QVERIFY(replica);
        std::atomic<bool> stop = false;
        std::atomic<uint64_t> confirmed = 0;
        std::thread producer([&] {
            for (int i = 0; !stop; ++i)
                if (publish(primary.connection, "stream", "s-" + std::to_string(i)).ok()) ++confirmed;
        });
        auto joinOnExit = qScopeGuard([&] {
            stop = true;
            producer.join();
        });
        for (int round = 0; round < 3; ++round) {
            QTRY_VERIFY_WITH_TIMEOUT(confirmed > uint64_t(100 * (round + 1)), 20000);
            replica->process->kill(SIGKILL);
            QVERIFY2(replica->restart(), qPrintable(replica->process->error()));
        }
        stop = true;
        producer.join();
        joinOnExit.dismiss();
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(primary, *replica), 20000);
        QCOMPARE(replica->ready("stream"), confirmed.load());
        QCOMPARE(primary.ready("stream"), confirmed.load());
    }

    // A broker holding a log of its own pointed at a primary (a mistaken --replica-of, or a stranger answering
    // at a replica's or fencer's remembered address): offsets and epochs of two logs mean nothing to each other,
    // so it is refused, never counted as an acknowledgement, and a fence naming another log changes nothing.
    void testABrokerHoldingAnotherLogIsNeitherReplicaNorFenced() {
        Node primary, stranger;
        QVERIFY2(primary.start(), qPrintable(primary.process->error()));
        QVERIFY2(stranger.start(), qPrintable(stranger.process->error()));
        for (Node* node : {&primary, &stranger}) {
            QVERIFY(node->admin->declareQueue(queueSpec("sync", broker::Replication::Sync)).isOk());
            QVERIFY(node->admin->declareQueue(queueSpec("plain", broker::Replication::None)).isOk());
        }
        // More on the stranger than on the primary: its durable end would cover the primary's next publish.
        for (int i = 0; i < 20; ++i) QVERIFY(publish(stranger.connection, "plain", "s-" + std::to_string(i)).ok());
        QVERIFY(publish(primary.connection, "plain", "p-0").ok());
        const std::string strangersLog = stranger.status().logId;
        QVERIFY(!strangersLog.empty() && strangersLog != primary.status().logId);

        stranger.process->setExtraArgs({"--replica-of", primary.process->endpoint(), "--replica-name", "stranger"});
        QVERIFY2(stranger.restart(), qPrintable(stranger.process->error()));
        QTRY_VERIFY_WITH_TIMEOUT(stranger.status().lastError.find("another log") != std::string::npos, 20000);
        QCOMPARE(stranger.status().logId, strangersLog);
        QCOMPARE(stranger.ready("plain"), uint64_t(20));  // nothing of its own was touched
        QVERIFY(primary.status().replicas.empty());
        client::SendResult unreplicated = publish(primary.connection, "sync", "p-1");
        QVERIFY(unreplicated.nacked());
        QCOMPARE(name(unreplicated.result.reason), name(broker::NackReason::ReplicaUnavailable));

        // A fence for another log (an epoch far ahead) is refused; the primary goes on taking writes.
        auto fence = primary.admin->call("replica.fence", R"({"epoch": 99, "log": ")" + strangersLog + R"(", "by": "x"})");
        QVERIFY(!fence.isOk());
        QVERIFY2(fence.status().message().find("never followed") != std::string::npos, fence.status().toString().c_str());
        QCOMPARE(name(primary.status().role), name(broker::Role::Primary));
        QVERIFY(publish(primary.connection, "plain", "p-2").ok());
    }

    void testFailoverKeepsEveryConfirmedMessageAndFencesTheOldPrimary() {
        Node primary;
        QVERIFY2(primary.start(), qPrintable(primary.process->error()));
        QVERIFY(primary.admin->declareQueue(queueSpec("critical", broker::Replication::Sync, Millis(2000))).isOk());
        auto replica = startReplica(primary);
        QVERIFY(replica);
        QTRY_VERIFY_WITH_TIMEOUT(replica->status().connected, 20000);

        // Sync load from two producers; then the replica stops answering, one more publish is stored on the
        // primary only (nacked), and the primary is killed: its log now holds a suffix the replica never had.
        std::mutex mutex;
        std::set<std::string> confirmed;
        std::atomic<bool> stop = false;
        std::vector<std::thread> producers;
        for (int p = 0; p < 2; ++p)
            producers.emplace_back([&, p] {
                for (int i = 0; !stop; ++i) {
                    const std::string id = "c-" + std::to_string(p) + "-" + std::to_string(i);
                    client::SendResult result = publish(primary.connection, "critical", id);
                    if (result.ok()) {
                        std::lock_guard lock(mutex);
                        confirmed.insert(id);
                    }
                }
            });
        auto joinOnExit = qScopeGuard([&] {
            stop = true;
            for (auto& thread : producers) thread.join();
        });
        QTRY_VERIFY_WITH_TIMEOUT(([&] { std::lock_guard lock(mutex); return confirmed.size() >= 300; })(), 30000);
        // A fetch the replica sent before it stopped may still carry the first of these to it (it reads it when it
        // resumes); the second cannot reach it: no fetch of its is left to answer.
        QVERIFY(replica->process->pause());
        QVERIFY(publish(primary.connection, "critical", "maybe-on-the-replica").nacked());
        QVERIFY(publish(primary.connection, "critical", "only-on-the-old-primary").nacked());
        primary.process->kill(SIGKILL);
        stop = true;
        for (auto& thread : producers) thread.join();
        joinOnExit.dismiss();
        replica->process->kill(SIGCONT);

        CtlRun promotion = depotctl(*replica, {"replica", "promote"});
        QVERIFY2(promotion.exitCode == 0 && contains(promotion.output, "primary now, epoch 1"), promotion.output.c_str());
        auto promoted = replica->admin->replicationStatus();
        QVERIFY2(promoted.isOk(), promoted.status().toString().c_str());
        QCOMPARE(name(promoted->role), name(broker::Role::Primary));
        QCOMPARE(promoted->epoch, uint64_t(1));
        const std::string logId = promoted->logId;
        QVERIFY(!logId.empty());  // the log it took from the primary: the old primary can rejoin it

        // Every confirmed message is on the new primary, each once.
        std::set<std::string> drained;
        {
            auto consumer = client::Consumer::open(replica->connection, {.queue = "critical", .prefetch = 500});
            QVERIFY2(consumer.isOk(), consumer.status().toString().c_str());
            while (auto delivery = (*consumer)->receive(Millis(1000))) {
                QVERIFY2(drained.insert(delivery->messageId).second, delivery->messageId.c_str());
                QVERIFY((*consumer)->ack(*delivery).isOk());
            }
        }
        std::string lost;
        for (const std::string& id : confirmed)
            if (!drained.count(id)) lost += " " + id;
        QVERIFY2(lost.empty(), ("confirmed but lost in the failover:" + lost).c_str());
        QVERIFY(!drained.count("only-on-the-old-primary"));

        // The new primary restarts (as a primary now: no --replica-of); it still knows whom to fence. The old
        // primary comes back as it was started: the new primary fences it within a second or so.
        replica->process->kill(SIGTERM);
        QCOMPARE(replica->process->waitForExit(), std::optional<int>(0));
        replica->process->setExtraArgs({});
        QVERIFY2(replica->restart(), qPrintable(replica->process->error()));
        QCOMPARE(name(replica->status().role), name(broker::Role::Primary));
        QVERIFY2(primary.restart(), qPrintable(primary.process->error()));
        QTRY_COMPARE_WITH_TIMEOUT(name(primary.status().role), name(broker::Role::Fenced), 20000);
        client::SendResult refused = publish(primary.connection, "critical", "after-fencing");
        QVERIFY(refused.nacked());
        QCOMPARE(name(refused.result.reason), name(broker::NackReason::NotPrimary));

        // It rejoins as a replica of the new primary: the suffix the new primary never had is cut off.
        primary.process->setExtraArgs({"--replica-of", replica->process->endpoint(), "--replica-name", "old-primary"});
        QVERIFY2(primary.restart(), qPrintable(primary.process->error()));
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(*replica, primary), 20000);
        broker::ReplicationStatus rejoined = primary.status();
        QCOMPARE(name(rejoined.role), name(broker::Role::Replica));
        QCOMPARE(rejoined.epoch, uint64_t(1));
        QCOMPARE(rejoined.logId, logId);
        QCOMPARE(rejoined.writtenOffset, replica->status().writtenOffset);
        QCOMPARE(primary.ready("critical"), replica->ready("critical"));
        auto audit = primary.admin->audit();
        QVERIFY(audit.isOk());
        bool truncated = false;
        for (const broker::AuditEntry& entry : *audit) truncated = truncated || entry.action == "replica-truncate";
        QVERIFY2(truncated, "the rejoining primary did not truncate its divergent suffix");
    }
};

QTEST_GUILESS_MAIN(TestReplication)
#include "TestReplication.moc"
