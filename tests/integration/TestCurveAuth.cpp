// CURVE authentication against a real depotd (docs/protocol.md "Security"): key pairs from zmq_curve_keypair, the
// broker's secret key and an allow-list in files (--curve-secret, --allow-keys). The allow-list's role is the
// session's, whatever the client claims; a key not on the list, a client without CURVE and a client that expects
// another server key never get an answer to HELLO. A non-loopback address needs keys or --insecure.
#include <QtTest>

#include <zmq.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <string>

#include "RawDealer.h"
#include "depot/client/Admin.h"
#include "depot/client/Connection.h"
#include "depot/client/Producer.h"
#include "support/DepotdProcess.h"
#include "support/TempDir.h"

using namespace depot;
using depot::test::CurveClientKeys;
using depot::test::RawDealer;

namespace {

constexpr client::Millis kWait{15000};    // for an answer that must come (the machine is shared)
constexpr client::Millis kRefused{3000};  // for a HELLO that must stay unanswered

struct KeyPair {
    std::string publicKey;
    std::string secretKey;
};

KeyPair makeKeyPair() {
    char publicKey[41] = {}, secretKey[41] = {};
    if (zmq_curve_keypair(publicKey, secretKey) != 0)
        qFatal("zmq_curve_keypair: %s", zmq_strerror(zmq_errno()));
    return {publicKey, secretKey};
}

void writeFile(const std::string& path, const std::string& content) {
    std::ofstream out(path);
    out << content;
    if (!out)
        qFatal("cannot write %s", path.c_str());
}

// "tcp://0.0.0.0:PORT" as depotd reports it → an address a client can connect to.
std::string loopbackOf(std::string endpoint) {
    const std::string any = "tcp://0.0.0.0:";
    if (endpoint.rfind(any, 0) == 0)
        endpoint = "tcp://127.0.0.1:" + endpoint.substr(any.size());
    return endpoint;
}

}  // namespace

class TestCurveAuth : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<test::TempDir> m_dir;
    std::unique_ptr<test::DepotdProcess> m_depotd;
    KeyPair m_server, m_producer, m_admin, m_stranger;
    std::string m_secretFile, m_allowFile;
    void* m_context = nullptr;

    std::vector<std::string> curveArgs() const { return {"--curve-secret", m_secretFile, "--allow-keys", m_allowFile}; }

    Result<std::shared_ptr<client::Connection>> connect(const std::string& endpoint, const KeyPair& client,
                                                        const std::string& role, client::Millis timeout = kWait) {
        client::ClientOptions options;
        options.endpoint = endpoint;
        options.client = "curve-test";
        options.role = role;
        options.requestTimeout = timeout;
        options.curveServerKey = m_server.publicKey;
        options.curvePublicKey = client.publicKey;
        options.curveSecretKey = client.secretKey;
        return client::Connection::connect(options);
    }

    CurveClientKeys rawKeys(const KeyPair& client, const std::string& serverPublic = {}) const {
        return {serverPublic.empty() ? m_server.publicKey : serverPublic, client.publicKey, client.secretKey};
    }

private slots:
    void initTestCase() {
        m_context = zmq_ctx_new();
        m_dir = std::make_unique<test::TempDir>();
        m_server = makeKeyPair();
        m_producer = makeKeyPair();
        m_admin = makeKeyPair();
        m_stranger = makeKeyPair();
        m_secretFile = m_dir->file("server.key");
        m_allowFile = m_dir->file("allowed.keys");
        writeFile(m_secretFile, m_server.secretKey + "\n");
        writeFile(m_allowFile, "# clients of the CURVE test\n" + m_producer.publicKey + " producer\n" +
                                   m_admin.publicKey + " admin\n");
        QDir().mkpath(QString::fromStdString(m_dir->file("data")));
        m_depotd = std::make_unique<test::DepotdProcess>(m_dir->file("data"), curveArgs(), "tcp://127.0.0.1:0");
        QVERIFY2(m_depotd->start(), qPrintable(m_depotd->error()));
    }

    void cleanupTestCase() {
        if (m_context)
            zmq_ctx_term(m_context);
        if (m_depotd) {
            m_depotd->kill(SIGTERM);
            QCOMPARE(m_depotd->waitForExit(), std::optional<int>(0));
        }
    }

    void testProducerKeyMayPublishButNotDelete() {
        auto connection = connect(m_depotd->endpoint(), m_producer, "admin");  // claims more than its key gives
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        QCOMPARE(QString::fromStdString((*connection)->server().role), QString("producer"));
        client::Admin admin(*connection);
        broker::QueueSpec spec;
        spec.name = "curve-orders";
        QVERIFY2(admin.declareQueue(spec).isOk(), "a producer may declare a queue");
        broker::PublishRequest request;
        request.routingKey = spec.name;
        request.message.id = "curve-1";
        request.message.body = "over CURVE";
        client::SendResult sent = client::Producer(*connection).send(request);
        QVERIFY2(sent.ok(), (sent.status.toString() + " " + sent.result.error).c_str());
        const Status deleted = admin.deleteQueue(spec.name);
        QVERIFY2(deleted.message().rfind("forbidden", 0) == 0,
                 ("queue.delete as producer: " + deleted.toString()).c_str());
        const Result<uint64_t> purged = admin.purgeQueue(spec.name);
        QVERIFY2(!purged && purged.status().message().rfind("forbidden", 0) == 0,
                 "queue.purge as producer was allowed");
        QVERIFY(admin.showQueue(spec.name).isOk());
        // Weakening the broker's durability is an operator's decision too.
        const auto configured = admin.configure({broker::FlushMode::Async, broker::Millis(1000)});
        QVERIFY2(!configured && configured.status().message().rfind("forbidden", 0) == 0,
                 "broker.configure as producer was allowed");
        QVERIFY(admin.settings().value() == broker::BrokerSettings{});
    }

    void testAdminKeyMayDelete() {
        auto connection = connect(m_depotd->endpoint(), m_admin, "admin");
        QVERIFY2(connection.isOk(), connection.status().toString().c_str());
        QCOMPARE(QString::fromStdString((*connection)->server().role), QString("admin"));
        client::Admin admin(*connection);
        broker::QueueSpec spec;
        spec.name = "curve-doomed";
        QVERIFY(admin.declareQueue(spec).isOk());
        const Status deleted = admin.deleteQueue(spec.name);
        QVERIFY2(deleted.isOk(), deleted.toString().c_str());
        QCOMPARE(admin.showQueue(spec.name).status().code(), StatusCode::NotFound);
    }

    void testUnwelcomeClientGetsNoHelloReply_data() {
        QTest::addColumn<QString>("who");
        QTest::newRow("a key not on the allow-list") << "stranger";
        QTest::newRow("a client without CURVE") << "plain";
        QTest::newRow("a listed key expecting another server key") << "wrong-server";
    }

    void testUnwelcomeClientGetsNoHelloReply() {
        QFETCH(QString, who);
        const CurveClientKeys stranger = rawKeys(m_stranger), wrongServer = rawKeys(m_producer, m_stranger.publicKey);
        const CurveClientKeys* keys = who == "stranger" ? &stranger : who == "plain" ? nullptr : &wrongServer;
        RawDealer dealer(m_context, m_depotd->endpoint(), keys);
        QVERIFY(dealer.connected());
        QVERIFY2(!dealer.hello(kRefused), "HELLO was answered");
        // A welcome client on the same broker is served meanwhile.
        CurveClientKeys producer = rawKeys(m_producer);
        RawDealer listed(m_context, m_depotd->endpoint(), &producer);
        QVERIFY2(listed.hello(kWait), "a listed key got no HELLO reply");
    }

    void testLibraryWithUnlistedKeyCannotConnect() {
        auto connection = connect(m_depotd->endpoint(), m_stranger, "producer", kRefused);
        QVERIFY2(!connection.isOk(), "an unlisted key connected");
        QCOMPARE(connection.status().code(), StatusCode::Unavailable);
    }

    void testRefusedHandshakesAreLoggedWithARateLimit() {
        // Every connection with an unlisted key is refused in its handshake; a client opening many must not get a
        // log line for each.
        constexpr int kConnections = 30;
        QTest::qWait(300);
        const qsizetype from = m_depotd->output().size();
        QElapsedTimer clock;
        clock.start();
        const CurveClientKeys stranger = rawKeys(m_stranger);
        {
            std::vector<std::unique_ptr<RawDealer>> dealers;
            for (int i = 0; i < kConnections; ++i) {
                dealers.push_back(std::make_unique<RawDealer>(m_context, m_depotd->endpoint(), &stranger));
                QVERIFY(dealers.back()->send(protocol::Command::Hello, 1, "{}"));
            }
            for (auto& dealer : dealers)
                QVERIFY2(!dealer->receive(client::Millis(100)), "a refused key was answered");
        }
        QTest::qWait(1000);
        const qint64 seconds = clock.elapsed() / 1000;
        const QStringList lines = m_depotd->output().mid(from).split('\n').filter("refused a CURVE client");
        QVERIFY2(lines.size() >= 1, "a refused key was not logged");
        QVERIFY2(lines.size() <= seconds + 2, qPrintable(QString("%1 lines for %2 refused connections in %3 s:\n%4")
                                                             .arg(lines.size())
                                                             .arg(kConnections)
                                                             .arg(seconds)
                                                             .arg(lines.mid(0, 5).join('\n'))));
    }

    void testNonLoopbackAddressNeedsKeysOrInsecure_data() {
        QTest::addColumn<QString>("mode");
        QTest::newRow("no keys: refused") << "none";
        QTest::newRow("--insecure: a warning") << "insecure";
        QTest::newRow("CURVE keys: accepted") << "curve";
    }

    void testNonLoopbackAddressNeedsKeysOrInsecure() {
        QFETCH(QString, mode);
        test::TempDir data;
        std::vector<std::string> args;
        if (mode == "insecure")
            args = {"--insecure"};
        if (mode == "curve")
            args = curveArgs();
        test::DepotdProcess depotd(data.path(), args, "tcp://0.0.0.0:0");
        const bool started = depotd.start();
        if (mode == "none") {
            QVERIFY2(!started, "depotd listened on 0.0.0.0 without keys");
            QCOMPARE(depotd.waitForExit(), std::optional<int>(1));
            QVERIFY2(depotd.output().contains("refusing to listen on tcp://0.0.0.0:0 without CURVE keys"),
                     qPrintable(depotd.output()));
            return;
        }
        QVERIFY2(started, qPrintable(depotd.error()));
        QCOMPARE(depotd.output().contains("WARNING"), mode == "insecure");
        const std::string endpoint = loopbackOf(depotd.endpoint());
        if (mode == "insecure") {
            RawDealer dealer(m_context, endpoint);
            std::optional<nlohmann::json> hello = dealer.hello(kWait, "producer");
            QVERIFY2(hello, "no HELLO reply from an --insecure depotd");
        } else {
            auto connection = connect(endpoint, m_admin, "admin");
            QVERIFY2(connection.isOk(), connection.status().toString().c_str());
            RawDealer plain(m_context, endpoint);
            QVERIFY2(!plain.hello(kRefused), "a plain client was answered on a CURVE listener");
        }
        depotd.kill(SIGTERM);
        QCOMPARE(depotd.waitForExit(), std::optional<int>(0));
    }

    // Replication over CURVE (issue 7): each broker's own key pair is its identity on the link; the primary's
    // allow-list names the replica's public key as admin. A replica whose key is not on it never gets in.
    void testAReplicaFollowsOverCurveAndAStrangerDoesNot() {
        const KeyPair replicaKeys = makeKeyPair(), strangerKeys = makeKeyPair();
        test::TempDir dir;
        writeFile(dir.file("primary.pub"), m_server.publicKey + "\n");
        writeFile(dir.file("primary.allow"), m_admin.publicKey + " admin\n" + replicaKeys.publicKey + " admin\n");
        writeFile(dir.file("replica.key"), replicaKeys.secretKey + "\n");
        writeFile(dir.file("stranger.key"), strangerKeys.secretKey + "\n");
        writeFile(dir.file("replica.allow"), m_admin.publicKey + " admin\n");
        test::DepotdProcess primary(dir.file("p"), {"--curve-secret", m_secretFile, "--allow-keys", dir.file("primary.allow")});
        QVERIFY2(primary.start(), qPrintable(primary.error()));
        auto replicaArgs = [&](const std::string& secret) {
            return std::vector<std::string>{"--curve-secret", dir.file(secret),           "--allow-keys",
                                            dir.file("replica.allow"), "--replica-of", primary.endpoint(),
                                            "--primary-key", dir.file("primary.pub")};
        };
        test::DepotdProcess replica(dir.file("r"), replicaArgs("replica.key"));
        test::DepotdProcess stranger(dir.file("s"), replicaArgs("stranger.key"));
        QVERIFY2(replica.start(), qPrintable(replica.error()));
        QVERIFY2(stranger.start(), qPrintable(stranger.error()));

        auto toPrimary = connect(primary.endpoint(), m_admin, "admin");
        QVERIFY2(toPrimary.isOk(), toPrimary.status().toString().c_str());
        client::Admin primaryAdmin(*toPrimary);
        broker::QueueSpec spec;
        spec.name = "curve.replicated";
        spec.policy.replication = broker::Replication::Sync;
        QVERIFY(primaryAdmin.declareQueue(spec).isOk());
        client::Producer producer(*toPrimary);
        for (int i = 0; i < 20; ++i) {
            broker::PublishRequest request;
            request.routingKey = spec.name;
            request.message.id = "c-" + std::to_string(i);
            request.message.body = "over curve";
            const client::SendResult result = producer.send(std::move(request));
            QVERIFY2(result.ok(), client::outcomeName(result).data());  // sync: a replica acknowledged each
        }

        client::ClientOptions options;
        options.endpoint = replica.endpoint();
        options.curveServerKey = replicaKeys.publicKey;  // the replica's own server key
        options.curvePublicKey = m_admin.publicKey;
        options.curveSecretKey = m_admin.secretKey;
        auto toReplica = client::Connection::connect(options);
        QVERIFY2(toReplica.isOk(), toReplica.status().toString().c_str());
        client::Admin replicaAdmin(*toReplica);
        auto details = replicaAdmin.showQueue(spec.name);
        QVERIFY2(details.isOk(), details.status().toString().c_str());
        QCOMPARE(details->stats.ready, uint64_t(20));

        auto status = primaryAdmin.replicationStatus();
        QVERIFY(status.isOk());
        QCOMPARE(status->replicas.size(), size_t(1));  // the stranger never fetched
        QVERIFY(status->replicas[0].connected);
    }
};

QTEST_GUILESS_MAIN(TestCurveAuth)
#include "TestCurveAuth.moc"
