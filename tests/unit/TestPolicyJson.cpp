// QueuePolicy <-> JSON as the catalog stores it: exact round trips, the documented spellings, tolerance of
// unknown and absent keys, and Corruption for values of the wrong type.
#include <QtTest>

#include <limits>
#include <string>

#include "catalog/PolicyJson.h"
#include "depot/broker/Policy.h"

using namespace depot;
using namespace depot::broker;
using namespace depot::catalog;

Q_DECLARE_METATYPE(depot::broker::QueuePolicy)

namespace {

// Every field differs from QueuePolicy's default.
QueuePolicy unusualPolicy() {
    QueuePolicy policy;
    policy.durable = false;
    policy.flush = FlushMode::Async;
    policy.maxAttempts = 9;
    policy.backoff = {Millis(250), Millis(750), Millis(86'400'000)};
    policy.ackTimeout = Millis(12'345);
    policy.ttl = Millis(60'000);
    policy.maxLength = 1000;
    policy.overflow = Overflow::DeadLetterOldest;
    policy.ordering = Ordering::PerKey;
    policy.dedupWindow = Millis(0);
    policy.deadLetterQueue = "orders.parking";
    return policy;
}

}  // namespace

class TestPolicyJson : public QObject {
    Q_OBJECT

private slots:
    void testEveryFieldRoundTrips_data() {
        QTest::addColumn<QueuePolicy>("policy");
        QueuePolicy extremes;
        extremes.maxAttempts = std::numeric_limits<uint32_t>::max();
        extremes.backoff = {};
        extremes.ttl = Millis(0);
        extremes.maxLength = std::numeric_limits<uint64_t>::max();
        extremes.ackTimeout = Millis(std::numeric_limits<int64_t>::max());
        extremes.deadLetterQueue = "dlq \"quoted\" \\ ünïcode";
        QTest::newRow("defaults") << QueuePolicy{};
        QTest::newRow("every field changed") << unusualPolicy();
        QTest::newRow("extremes") << extremes;
    }
    void testEveryFieldRoundTrips() {
        QFETCH(QueuePolicy, policy);
        Result<QueuePolicy> decoded = policyFromJson(policyToJson(policy));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QVERIFY(*decoded == policy);
    }

    void testEnumsAndDurationsAreSpelledReadably() {
        const std::string json = policyToJson(unusualPolicy());
        for (const char* part :
             {"\"flush\":\"async\"", "\"overflow\":\"dead-letter-oldest\"", "\"ordering\":\"per-key\"",
              "\"backoffMs\":[250,750,86400000]", "\"ttlMs\":60000", "\"ackTimeoutMs\":12345"})
            QVERIFY2(json.find(part) != std::string::npos, json.c_str());
        const std::string defaults = policyToJson(QueuePolicy{});
        for (const char* part : {"\"flush\":\"sync\"", "\"overflow\":\"reject-publish\"", "\"ordering\":\"none\"",
                                 "\"ttlMs\":null", "\"maxLength\":null"})
            QVERIFY2(defaults.find(part) != std::string::npos, defaults.c_str());
    }

    void testUnknownKeysAreIgnoredAndAbsentOnesDefault() {
        Result<QueuePolicy> policy = policyFromJson(R"({"flush":"async","future":{"x":[1]},"maxLength":7})");
        QVERIFY2(policy.isOk(), policy.status().toString().c_str());
        QueuePolicy expected;
        expected.flush = FlushMode::Async;
        expected.maxLength = 7;
        QVERIFY(*policy == expected);
    }

    void testWrongTypesAreCorruption_data() {
        QTest::addColumn<QString>("json");
        QTest::newRow("not json") << "{durable: true";
        QTest::newRow("not an object") << "[1, 2]";
        QTest::newRow("empty") << "";
        QTest::newRow("bool as string") << R"({"durable":"yes"})";
        QTest::newRow("enum as number") << R"({"flush":1})";
        QTest::newRow("unknown enum") << R"({"ordering":"by-key"})";
        QTest::newRow("fraction") << R"({"maxAttempts":1.5})";
        QTest::newRow("negative unsigned") << R"({"maxAttempts":-1})";
        QTest::newRow("too big for uint32") << R"({"maxAttempts":4294967296})";
        QTest::newRow("backoff not array") << R"({"backoffMs":1000})";
        QTest::newRow("backoff item string") << R"({"backoffMs":[1000,"5s"]})";
        QTest::newRow("ttl string") << R"({"ttlMs":"1m"})";
        QTest::newRow("negative max length") << R"({"maxLength":-5})";
        QTest::newRow("dlq number") << R"({"deadLetterQueue":5})";
    }
    void testWrongTypesAreCorruption() {
        QFETCH(QString, json);
        Result<QueuePolicy> policy = policyFromJson(json.toStdString());
        QVERIFY(!policy.isOk());
        QCOMPARE(policy.status().code(), StatusCode::Corruption);
    }
};

QTEST_GUILESS_MAIN(TestPolicyJson)
#include "TestPolicyJson.moc"
