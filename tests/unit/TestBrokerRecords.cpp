// The broker's commit-log records (core/broker/BrokerRecords.h, docs/storage-format.md "Broker records"):
// round trips, the documented byte layout, and rejection of every kind of malformed payload.

#include <QtTest>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>

#include "broker/BrokerRecords.h"
#include "support/LargestAllocation.h"

using namespace depot;
using namespace depot::broker;

namespace {

using namespace std::string_literals;

const std::string kBinary = "\0bin\xff\x00\x01"s;

MessageRecord fullMessage() {
    MessageRecord r;
    r.flags = kMessagePrepared;
    r.queues = {3, 7, 0xFFFFFFFFu};
    r.origin = 0x0123456789ABCDEFull;
    r.attempts = 4;
    r.publishedAt = 1'700'000'000'123;
    r.expiresAt = 1'700'000'060'123;
    r.dueAt = 1'700'000'005'000;
    r.messageId = "order-42";
    r.key = "customer-7";
    r.producer = "billing";
    r.transaction = "tx-9";
    r.headers = {{"content-type", "application/json"}, {"bin\0ary"s, kBinary}, {"", ""}, {"empty-value", ""}};
    DeathRecord d;
    d.reason = DeathReason::MaxAttempts;
    d.sourceQueue = "orders";
    d.attempts = 5;
    d.firstDeathAt = 1'700'000'100'000;
    d.lastDeathAt = 1'700'000'900'000;
    d.deaths = 3;
    d.lastError = "timeout talking to \0db"s;
    d.requeues = {{1'700'000'200'000, "alice", "orders.dlq", "orders"},
                  {1'700'000'300'000, "", "orders.dlq", "orders-replay"},
                  {-1, "bob\0"s, "", ""}};
    r.death = d;
    r.body = "{\"id\":42}\0\xff\x00tail"s;
    return r;
}

MessageRecord messageCase(int index) {
    MessageRecord r = fullMessage();
    switch (index) {
        case 0:  // every field set
            break;
        case 1:  // every string empty, death present with no lineage
            r.messageId = r.key = r.producer = r.transaction = r.body = "";
            r.headers.clear();
            r.death->sourceQueue = r.death->lastError = "";
            r.death->requeues.clear();
            break;
        case 2:  // no death record
            r.death.reset();
            break;
        case 3:  // extreme integers
            r.flags = 0xFF;
            r.queues = {0, 0xFFFFFFFFu};
            r.origin = std::numeric_limits<uint64_t>::max();
            r.attempts = std::numeric_limits<uint32_t>::max();
            r.publishedAt = std::numeric_limits<int64_t>::min();
            r.expiresAt = std::numeric_limits<int64_t>::max();
            r.dueAt = -1;
            r.death->attempts = r.death->deaths = std::numeric_limits<uint32_t>::max();
            r.death->firstDeathAt = std::numeric_limits<int64_t>::min();
            break;
        case 4:  // a large body
            r.body = std::string(1 << 20, '\0');
            r.body[12345] = 'x';
            break;
    }
    return r;
}

void compareMessages(const MessageRecord& actual, const MessageRecord& expected) {
    QCOMPARE(actual.flags, expected.flags);
    QCOMPARE(actual.queues, expected.queues);
    QCOMPARE(actual.origin, expected.origin);
    QCOMPARE(actual.attempts, expected.attempts);
    QCOMPARE(actual.publishedAt, expected.publishedAt);
    QCOMPARE(actual.expiresAt, expected.expiresAt);
    QCOMPARE(actual.dueAt, expected.dueAt);
    QCOMPARE(actual.messageId, expected.messageId);
    QCOMPARE(actual.key, expected.key);
    QCOMPARE(actual.producer, expected.producer);
    QCOMPARE(actual.transaction, expected.transaction);
    QVERIFY(actual.headers == expected.headers);
    QCOMPARE(actual.death.has_value(), expected.death.has_value());
    if (expected.death) {
        // Field by field: DeathRecord's defaulted operator== is deleted while RequeueEvent has none.
        const DeathRecord& a = *actual.death;
        const DeathRecord& e = *expected.death;
        QCOMPARE(int(a.reason), int(e.reason));
        QCOMPARE(a.sourceQueue, e.sourceQueue);
        QCOMPARE(a.attempts, e.attempts);
        QCOMPARE(a.firstDeathAt, e.firstDeathAt);
        QCOMPARE(a.lastDeathAt, e.lastDeathAt);
        QCOMPARE(a.deaths, e.deaths);
        QCOMPARE(a.lastError, e.lastError);
        QCOMPARE(a.requeues.size(), e.requeues.size());
        for (size_t i = 0; i < e.requeues.size(); ++i) {
            QCOMPARE(a.requeues[i].at, e.requeues[i].at);
            QCOMPARE(a.requeues[i].by, e.requeues[i].by);
            QCOMPARE(a.requeues[i].fromQueue, e.requeues[i].fromQueue);
            QCOMPARE(a.requeues[i].toQueue, e.requeues[i].toQueue);
        }
    }
    QCOMPARE(actual.body, expected.body);
}

// The valid encoding of each record type, and a decoder for it, for the tests that damage payloads.
enum class Kind { Message, Settle, Return, Purge, Tx };

std::string validPayload(Kind kind) {
    std::string out;
    switch (kind) {
        case Kind::Message:
            (void)encode(fullMessage(), out);
            break;
        case Kind::Settle:
            (void)encode(SettleRecord{9, 123456}, out);
            break;
        case Kind::Return:
            (void)encode(ReturnRecord{9, 123456, 2, 1'700'000'000'000}, out);
            break;
        case Kind::Purge:
            (void)encode(PurgeRecord{9}, out);
            break;
        case Kind::Tx:
            (void)encode(TxRecord{"tx-1"}, out);
            break;
    }
    return out;
}

Status decodeAs(Kind kind, std::string_view payload) {
    switch (kind) {
        case Kind::Message:
            return decodeMessage(payload).status();
        case Kind::Settle:
            return decodeSettle(payload).status();
        case Kind::Return:
            return decodeReturn(payload).status();
        case Kind::Purge:
            return decodePurge(payload).status();
        case Kind::Tx:
            return decodeTx(payload).status();
    }
    return Status::invalidArgument("unknown kind");
}

void addKindRows() {
    QTest::addColumn<int>("kind");
    QTest::newRow("MESSAGE") << int(Kind::Message);
    QTest::newRow("SETTLE") << int(Kind::Settle);
    QTest::newRow("RETURN") << int(Kind::Return);
    QTest::newRow("PURGE") << int(Kind::Purge);
    QTest::newRow("TX") << int(Kind::Tx);
}

std::string putU32At(std::string bytes, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        bytes[at + i] = char(v >> (8 * i));
    return bytes;
}

std::string hex(std::string_view bytes) {
    return QByteArray(bytes.data(), qsizetype(bytes.size())).toHex().toStdString();
}

// Layout of the smallest MESSAGE (one queue, no strings, no headers, no death): see docs/storage-format.md.
constexpr size_t kMinimalMessageIdLength = 44;
constexpr size_t kMinimalHeaderCount = 60;
constexpr size_t kMinimalDeathPresence = 64;
constexpr size_t kMinimalBodyLength = 65;
constexpr size_t kMinimalMessageSize = 69;

MessageRecord minimalMessage() {
    MessageRecord r;
    r.queues = {5};
    return r;
}

// minimalMessage() with a death record with empty strings and no lineage.
constexpr size_t kDeadDeathReason = 65;
constexpr size_t kDeadRequeueCount = 98;

MessageRecord deadMessage() {
    MessageRecord r = minimalMessage();
    r.death = DeathRecord{};
    return r;
}

std::string encoded(const MessageRecord& record) {
    std::string out;
    (void)encode(record, out);
    return out;
}

}  // namespace

class TestBrokerRecords : public QObject {
    Q_OBJECT

private slots:
    void testMessageRoundTripsAndSizeIsExact_data() {
        QTest::addColumn<int>("index");
        QTest::newRow("every field set") << 0;
        QTest::newRow("empty strings") << 1;
        QTest::newRow("no death record") << 2;
        QTest::newRow("extreme integers") << 3;
        QTest::newRow("large body") << 4;
    }
    void testMessageRoundTripsAndSizeIsExact() {
        QFETCH(int, index);
        MessageRecord record = messageCase(index);
        std::string out = "prefix";
        size_t appended = encode(record, out);
        QCOMPARE(out.substr(0, 6), std::string("prefix"));
        QCOMPARE(appended, out.size() - 6);
        QCOMPARE(encodedSize(record), appended);
        Result<MessageRecord> decoded = decodeMessage(std::string_view(out).substr(6));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        compareMessages(*decoded, record);
    }

    void testEveryDeathReasonRoundTrips_data() {
        QTest::addColumn<int>("reason");
        for (DeathReason reason : {DeathReason::Rejected, DeathReason::MaxAttempts, DeathReason::Expired,
                                   DeathReason::Overflow, DeathReason::TxUnresolved})
            QTest::newRow(std::string(toString(reason)).c_str()) << int(reason);
    }
    void testEveryDeathReasonRoundTrips() {
        QFETCH(int, reason);
        MessageRecord record = fullMessage();
        record.death->reason = DeathReason(reason);
        Result<MessageRecord> decoded = decodeMessage(encoded(record));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(int(decoded->death->reason), reason);
    }

    void testSmallRecordsRoundTrip() {
        std::string out;
        size_t settleSize = encode(SettleRecord{0xFFFFFFFFu, 0xFEDCBA9876543210ull}, out);
        size_t returnSize = encode(ReturnRecord{1, 2, 0xFFFFFFFFu, std::numeric_limits<int64_t>::min(), "boom\0!"s}, out);
        size_t purgeSize = encode(PurgeRecord{0x80000000u}, out);
        size_t txSize = encode(TxRecord{"tx\0with NUL"s}, out);
        size_t emptyTxSize = encode(TxRecord{""}, out);
        QCOMPARE(settleSize + returnSize + purgeSize + txSize + emptyTxSize, out.size());

        std::string_view rest = out;
        auto take = [&rest](size_t n) {
            std::string_view part = rest.substr(0, n);
            rest.remove_prefix(n);
            return part;
        };
        Result<SettleRecord> settle = decodeSettle(take(settleSize));
        QVERIFY(settle.isOk());
        QCOMPARE(settle->queue, 0xFFFFFFFFu);
        QCOMPARE(settle->offset, 0xFEDCBA9876543210ull);
        Result<ReturnRecord> ret = decodeReturn(take(returnSize));
        QVERIFY(ret.isOk());
        QCOMPARE(ret->queue, 1u);
        QCOMPARE(ret->offset, uint64_t(2));
        QCOMPARE(ret->attempts, 0xFFFFFFFFu);
        QCOMPARE(ret->dueAt, std::numeric_limits<int64_t>::min());
        QCOMPARE(ret->error, "boom\0!"s);
        Result<PurgeRecord> purge = decodePurge(take(purgeSize));
        QVERIFY(purge.isOk());
        QCOMPARE(purge->queue, 0x80000000u);
        Result<TxRecord> tx = decodeTx(take(txSize));
        QVERIFY(tx.isOk());
        QCOMPARE(tx->transaction, "tx\0with NUL"s);
        Result<TxRecord> emptyTx = decodeTx(take(emptyTxSize));
        QVERIFY(emptyTx.isOk());
        QCOMPARE(emptyTx->transaction, std::string());
    }

    void testLayoutIsAsDocumented() {
        // The byte layouts docs/storage-format.md gives, so a reader written from the page agrees with the code.
        std::string out;
        (void)encode(SettleRecord{0x01020304, 0x1112131415161718ull}, out);
        QCOMPARE(hex(out), std::string("01"
                                       "04030201"
                                       "1817161514131211"));
        out.clear();
        (void)encode(ReturnRecord{0x01020304, 0x1112131415161718ull, 0x21222324, -2, "x"}, out);
        QCOMPARE(hex(out), std::string("01"
                                       "04030201"
                                       "1817161514131211"
                                       "24232221"
                                       "feffffffffffffff"
                                       "01000000"
                                       "78"));
        out.clear();
        (void)encode(PurgeRecord{0x01020304}, out);
        QCOMPARE(hex(out), std::string("01"
                                       "04030201"));
        out.clear();
        (void)encode(TxRecord{"ab"}, out);
        QCOMPARE(hex(out), std::string("01"
                                       "02000000"
                                       "6162"));

        std::string minimal = encoded(minimalMessage());
        QCOMPARE(minimal.size(), kMinimalMessageSize);
        QCOMPARE(hex(minimal.substr(0, 8)), std::string("01"
                                                        "00"
                                                        "0100"
                                                        "05000000"));
        QCOMPARE(minimal.substr(8), std::string(kMinimalMessageSize - 8, '\0'));

        MessageRecord r = minimalMessage();
        r.messageId = "m";
        r.body = "xyz";
        r.headers = {{"h", "v"}};
        std::string bytes = encoded(r);
        QCOMPARE(hex(bytes.substr(kMinimalMessageIdLength, 5)), std::string("01000000"
                                                                            "6d"));
        QCOMPARE(hex(bytes.substr(kMinimalHeaderCount + 1, 14)), std::string("01000000"
                                                                             "01000000"
                                                                             "68"
                                                                             "01000000"
                                                                             "76"));
        QCOMPARE(hex(bytes.substr(bytes.size() - 8)), std::string("00"
                                                                  "03000000"
                                                                  "78797a"));

        std::string dead = encoded(deadMessage());
        QCOMPARE(int(dead[kMinimalDeathPresence]), 1);
        QCOMPARE(int(dead[kDeadDeathReason]), 1);  // Rejected
        QCOMPARE(dead.size(), size_t(kDeadRequeueCount + 4 + 4));
    }

    void testEveryTruncationIsCorruption_data() { addKindRows(); }
    void testEveryTruncationIsCorruption() {
        QFETCH(int, kind);
        std::string payload = validPayload(Kind(kind));
        QVERIFY(decodeAs(Kind(kind), payload).isOk());
        for (size_t length = 0; length < payload.size(); ++length) {
            // A copy of exactly `length` bytes, so a read past the end is a heap overflow under ASan.
            std::string prefix = payload.substr(0, length);
            Status status = decodeAs(Kind(kind), prefix);
            QVERIFY2(status.code() == StatusCode::Corruption, ("prefix of " + std::to_string(length)).c_str());
        }
    }

    void testTrailingBytesAreCorruption_data() { addKindRows(); }
    void testTrailingBytesAreCorruption() {
        QFETCH(int, kind);
        for (const std::string& garbage : {"\0"s, "xyz"s}) {
            Status status = decodeAs(Kind(kind), validPayload(Kind(kind)) + garbage);
            QCOMPARE(status.code(), StatusCode::Corruption);
            QVERIFY2(status.message().find("trailing") != std::string::npos, status.message().c_str());
        }
    }

    void testUnknownVersionIsCorruption_data() { addKindRows(); }
    void testUnknownVersionIsCorruption() {
        QFETCH(int, kind);
        for (int version : {0, 2, 255}) {
            std::string payload = validPayload(Kind(kind));
            payload[0] = char(version);
            Status status = decodeAs(Kind(kind), payload);
            QCOMPARE(status.code(), StatusCode::Corruption);
            QVERIFY2(status.message().find("version") != std::string::npos, status.message().c_str());
        }
    }

    void testHugeDeclaredSizeIsRejectedWithoutAllocating_data() {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<QString>("field");
        auto row = [](const char* name, const std::string& bytes, const char* field) {
            QTest::newRow(name) << QByteArray(bytes.data(), qsizetype(bytes.size())) << QString(field);
        };
        std::string minimal = encoded(minimalMessage());
        row("string length", putU32At(minimal, kMinimalMessageIdLength, 0xFFFFFFFFu), "messageId");
        row("header count", putU32At(minimal, kMinimalHeaderCount, 0xFFFFFFFFu), "headers");
        row("body length", putU32At(minimal, kMinimalBodyLength, 0xFFFFFFFFu), "body");
        row("requeue count", putU32At(encoded(deadMessage()), kDeadRequeueCount, 0xFFFFFFFFu), "death.requeues");
        std::string queues = minimal;
        queues[2] = queues[3] = char(0xFF);
        row("queue count", queues, "queues");
        std::string tx;
        (void)encode(TxRecord{"abc"}, tx);
        row("transaction length", putU32At(tx, 1, 0xFFFFFFFFu), "transaction");
    }
    void testHugeDeclaredSizeIsRejectedWithoutAllocating() {
        QFETCH(QByteArray, payload);
        QFETCH(QString, field);
        std::string_view view(payload.constData(), size_t(payload.size()));
        Status status;
        const size_t largest = depot::test::largestAllocationOf(
            [&] { status = field == "transaction" ? decodeTx(view).status() : decodeMessage(view).status(); });
        QCOMPARE(status.code(), StatusCode::Corruption);
        QVERIFY2(status.message().find(field.toStdString()) != std::string::npos, status.message().c_str());
        QVERIFY2(largest < 1024, std::to_string(largest).c_str());
    }

    void testMalformedMessageNamesRecordAndField_data() {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<QString>("field");
        auto row = [](const char* name, const std::string& bytes, const char* field) {
            QTest::newRow(name) << QByteArray(bytes.data(), qsizetype(bytes.size())) << QString(field);
        };
        std::string noQueues = encoded(minimalMessage());
        noQueues[2] = 0;
        noQueues.erase(4, 4);  // the queue id, so only the count is wrong
        row("queue count 0", noQueues, "queues");
        std::string dead = encoded(deadMessage());
        for (int reason : {0, 6, 255}) {
            std::string bad = dead;
            bad[kDeadDeathReason] = char(reason);
            row(("death reason " + std::to_string(reason)).c_str(), bad, "death.reason");
        }
        std::string presence = encoded(minimalMessage());
        presence[kMinimalDeathPresence] = 2;
        row("death presence 2", presence, "death");
        std::string truncatedKey = encoded(minimalMessage()).substr(0, kMinimalMessageIdLength + 6);
        row("truncated key length", truncatedKey, "key");
    }
    void testMalformedMessageNamesRecordAndField() {
        QFETCH(QByteArray, payload);
        QFETCH(QString, field);
        Status status = decodeMessage(std::string_view(payload.constData(), size_t(payload.size()))).status();
        QCOMPARE(status.code(), StatusCode::Corruption);
        QVERIFY2(status.message().find("MESSAGE") != std::string::npos, status.message().c_str());
        QVERIFY2(status.message().find("'" + field.toStdString()) != std::string::npos, status.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestBrokerRecords)
#include "TestBrokerRecords.moc"
