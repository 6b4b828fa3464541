// A network partition between a primary and its replica (issue 7, label slow): the replica runs in a network
// namespace of its own, joined to this one by a veth pair; taking the link down drops every packet both ways
// without a reset, as a broken network does (no RST, no FIN: ZeroMQ notices nothing until heartbeats say so).
// While the link is down, sync-replicated publishes are nacked (never confirmed) and async ones are confirmed and
// counted at risk; when it is back, the replica catches up and holds every confirmed message.
// Needs root and `ip netns` (skipped otherwise).
#include <QtTest>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Producer.h"
#include "support/DepotdProcess.h"
#include "support/TempDir.h"

using namespace depot;
using client::Millis;

namespace {

const std::string kNamespace = "depot-partition";
const std::string kHostSide = "dp-host";
const std::string kReplicaSide = "dp-replica";
const std::string kHostAddress = "10.231.7.1";
const std::string kReplicaAddress = "10.231.7.2";

bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

void removeNetwork() {
    run("ip link del " + kHostSide);
    run("ip netns del " + kNamespace);
}

bool makeNetwork() {
    removeNetwork();
    return run("ip netns add " + kNamespace) && run("ip link add " + kHostSide + " type veth peer name " + kReplicaSide) &&
           run("ip link set " + kReplicaSide + " netns " + kNamespace) &&
           run("ip addr add " + kHostAddress + "/24 dev " + kHostSide) && run("ip link set " + kHostSide + " up") &&
           run("ip netns exec " + kNamespace + " ip addr add " + kReplicaAddress + "/24 dev " + kReplicaSide) &&
           run("ip netns exec " + kNamespace + " ip link set " + kReplicaSide + " up") &&
           run("ip netns exec " + kNamespace + " ip link set lo up");
}

std::shared_ptr<client::Connection> connectTo(const std::string& endpoint) {
    client::ClientOptions options;
    options.endpoint = endpoint;
    options.heartbeat = Millis(500);
    auto connection = client::Connection::connect(options);
    return connection ? *connection : nullptr;
}

client::SendResult publish(const std::shared_ptr<client::Connection>& connection, const std::string& queue,
                           const std::string& id) {
    client::Producer producer(connection);
    broker::PublishRequest request;
    request.routingKey = queue;
    request.message.id = id;
    request.message.body = id;
    return producer.send(std::move(request), {.timeout = Millis(10000)});
}

}  // namespace

class TestReplicationPartition : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        if (::geteuid() != 0) QSKIP("needs root for network namespaces");
        if (!makeNetwork()) {
            removeNetwork();
            QSKIP("cannot make a network namespace and a veth pair here (ip netns)");
        }
    }

    void cleanupTestCase() { removeNetwork(); }

    void testPartitionLosesNothingConfirmed() {
        test::TempDir primaryDir, replicaDir, scripts;
        test::DepotdProcess primary(primaryDir.path(), {"--listen", "tcp://" + kHostAddress + ":0", "--insecure"});
        QVERIFY2(primary.start(), qPrintable(primary.error()));
        // The replica runs inside the namespace: depotd started through `ip netns exec` (it execs, same pid).
        const std::string wrapper = scripts.file("depotd-in-namespace");
        std::ofstream(wrapper) << "#!/bin/sh\nexec ip netns exec " << kNamespace << " "
                               << test::DepotdProcess::executable().toStdString() << " \"$@\"\n";
        QVERIFY(::chmod(wrapper.c_str(), 0755) == 0);
        // The primary's endpoint on the veth (it listens on loopback and on the host side of the pair).
        std::string primaryEndpoint;
        for (const QString& line : primary.output().split('\n'))
            if (line.contains(QString::fromStdString(kHostAddress)) && line.startsWith("depotd listening on "))
                primaryEndpoint = line.mid(int(strlen("depotd listening on "))).trimmed().toStdString();
        QVERIFY2(!primaryEndpoint.empty(), qPrintable(primary.output()));
        qputenv("DEPOTD", QByteArray::fromStdString(wrapper));
        test::DepotdProcess replica(replicaDir.path(), {"--replica-of", primaryEndpoint, "--insecure"},
                                    "tcp://" + kReplicaAddress + ":0");
        const bool started = replica.start();
        qunsetenv("DEPOTD");
        QVERIFY2(started, qPrintable(replica.error()));

        auto toPrimary = connectTo(primary.endpoint());
        auto toReplica = connectTo(replica.endpoint());
        QVERIFY(toPrimary && toReplica);
        client::Admin primaryAdmin(toPrimary), replicaAdmin(toReplica);
        for (auto [name, mode] : {std::pair{"partition.sync", broker::Replication::Sync},
                                  std::pair{"partition.async", broker::Replication::Async}}) {
            broker::QueueSpec spec;
            spec.name = name;
            spec.policy.replication = mode;
            spec.policy.replicaTimeout = Millis(1000);
            QVERIFY(primaryAdmin.declareQueue(spec).isOk());
        }
        QTRY_VERIFY_WITH_TIMEOUT(replicaAdmin.replicationStatus()->connected, 30000);
        QVERIFY(publish(toPrimary, "partition.sync", "before").ok());

        // Three seconds of partition.
        QVERIFY(run("ip link set " + kHostSide + " down"));
        auto heal = qScopeGuard([] { run("ip link set " + kHostSide + " up"); });
        client::SendResult sync = publish(toPrimary, "partition.sync", "during-sync");
        QVERIFY2(sync.nacked(), client::outcomeName(sync).data());
        uint64_t asyncConfirmed = 0;
        for (int i = 0; i < 55; ++i) asyncConfirmed += publish(toPrimary, "partition.async", "a-" + std::to_string(i)).ok();
        QCOMPARE(asyncConfirmed, uint64_t(55));
        QVERIFY(primaryAdmin.replicationStatus()->atRisk >= 55);
        QTest::qWait(2000);
        QVERIFY(run("ip link set " + kHostSide + " up"));
        heal.dismiss();

        // Healed: the replica refetches from its own end; the retry of the nacked publish is confirmed as a
        // duplicate once the replica has the stored copy.
        QTRY_COMPARE_WITH_TIMEOUT(primaryAdmin.replicationStatus()->atRisk, uint64_t(0), 30000);
        client::SendResult retried = publish(toPrimary, "partition.sync", "during-sync");
        QVERIFY2(retried.ok(), client::outcomeName(retried).data());
        auto ready = [&](const std::string& queue) {
            auto details = replicaAdmin.showQueue(queue);
            return details ? details->stats.ready : 0;
        };
        QTRY_COMPARE_WITH_TIMEOUT(ready("partition.async"), uint64_t(55), 30000);
        QCOMPARE(ready("partition.sync"), uint64_t(2));
    }
};

QTEST_GUILESS_MAIN(TestReplicationPartition)
#include "TestReplicationPartition.moc"
