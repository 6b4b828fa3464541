// client::Connection without a broker: a missing broker, a malformed endpoint and bad CURVE keys are reported as
// a Status naming the problem, promptly and without hanging.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "depot/client/Connection.h"

using namespace depot;
using namespace depot::client;

namespace {

// A loopback port nobody listens on (bound, read, released).
int unusedPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        return 1;  // port 1 needs root to listen on: as good as unused
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

ClientOptions quickOptions(const std::string& endpoint) {
    ClientOptions options;
    options.endpoint = endpoint;
    options.requestTimeout = Millis(300);
    options.heartbeat = Millis(100);
    return options;
}

}  // namespace

class TestClientConnection : public QObject {
    Q_OBJECT

private slots:
    void testMissingBrokerIsUnavailableNamingTheEndpoint() {
        const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(unusedPort());
        Result<std::shared_ptr<Connection>> connection = Connection::connect(quickOptions(endpoint));
        QVERIFY(!connection.isOk());
        QCOMPARE(int(connection.status().code()), int(StatusCode::Unavailable));
        QVERIFY2(connection.status().message().find(endpoint) != std::string::npos,
                 connection.status().message().c_str());
    }

    void testMalformedEndpointIsInvalid_data() {
        QTest::addColumn<QString>("endpoint");
        QTest::newRow("no transport") << "127.0.0.1:7420";
        QTest::newRow("unknown transport") << "carrier-pigeon://home";
        QTest::newRow("empty") << "";
    }
    void testMalformedEndpointIsInvalid() {
        QFETCH(QString, endpoint);
        Result<std::shared_ptr<Connection>> connection = Connection::connect(quickOptions(endpoint.toStdString()));
        QVERIFY(!connection.isOk());
        QCOMPARE(int(connection.status().code()), int(StatusCode::InvalidArgument));
    }

    void testBadCurveKeysAreInvalid_data() {
        QTest::addColumn<QString>("serverKey");
        QTest::addColumn<QString>("publicKey");
        QTest::addColumn<QString>("secretKey");
        const QString key(40, 'A');
        QTest::newRow("short server key") << "abc"
                                          << ""
                                          << "";
        QTest::newRow("client keys without a server key") << "" << key << key;
        QTest::newRow("public key without a secret key") << key << key << "";
        QTest::newRow("short client key") << key << key << "short";
    }
    void testBadCurveKeysAreInvalid() {
        QFETCH(QString, serverKey);
        QFETCH(QString, publicKey);
        QFETCH(QString, secretKey);
        ClientOptions options = quickOptions("tcp://127.0.0.1:" + std::to_string(unusedPort()));
        options.curveServerKey = serverKey.toStdString();
        options.curvePublicKey = publicKey.toStdString();
        options.curveSecretKey = secretKey.toStdString();
        Result<std::shared_ptr<Connection>> connection = Connection::connect(options);
        QVERIFY(!connection.isOk());
        QCOMPARE(int(connection.status().code()), int(StatusCode::InvalidArgument));
    }
};

QTEST_GUILESS_MAIN(TestClientConnection)
#include "TestClientConnection.moc"
