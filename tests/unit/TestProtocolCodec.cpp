// The wire protocol's envelope and hot-path frames (core/protocol/Protocol.h, docs/protocol.md): round trips, the
// byte layout of the document's example session (read from the document itself), and rejection of every kind of
// malformed frame as InvalidArgument, without allocating for a declared length the frame cannot hold.

#include <QtTest>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <new>
#include <sstream>

#include "protocol/Protocol.h"
#include "support/LargestAllocation.h"

using namespace depot;
using namespace depot::broker;
using namespace depot::protocol;

namespace {

using namespace std::string_literals;

const std::string kBinary = "\0bin\xff\x00\x01"s;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string hex(std::string_view bytes) {
    return QByteArray(bytes.data(), qsizetype(bytes.size())).toHex().toStdString();
}
QByteArray bytesOf(std::string_view s) { return QByteArray(s.data(), qsizetype(s.size())); }
std::string_view viewOf(const QByteArray& a) { return {a.constData(), size_t(a.size())}; }

std::string putU32At(std::string bytes, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i)
        bytes[at + i] = char(v >> (8 * i));
    return bytes;
}

PublishRequest publishCase(int index) {
    PublishRequest r;
    r.exchange = "orders.topic";
    r.routingKey = "eu.orders.created";
    r.producer = "billing";
    r.transaction = "tx-9";
    Message& m = r.message;
    m.id = "order-42";
    m.key = "customer-7";
    // Order and repeated names are kept; values may be empty or any bytes.
    m.headers = {{"content-type", "application/json"}, {"bin", kBinary}, {"empty", ""}, {"content-type", "again"}};
    m.body = "{\"id\":42}\0\xff"s;
    m.ttl = Millis(60000);
    m.delay = Millis(1500);
    switch (index) {
        case 1:  // every string empty, nothing optional
            r = PublishRequest{};
            r.message.persistent = false;
            break;
        case 2:
            m.delay.reset();
            break;
        case 3:
            m.ttl.reset();
            break;
        case 4:  // flags set with zero values stay set
            m.ttl = m.delay = Millis(0);
            break;
        case 5:
            m.ttl = m.delay = Millis(kInt64Max);
            break;
        case 6:
            m.body = std::string(1 << 20, 'b');
            m.headers = {{"", ""}};
            break;
    }
    return r;
}

void comparePublish(const PublishRequest& a, const PublishRequest& e) {
    QCOMPARE(a.exchange, e.exchange);
    QCOMPARE(a.routingKey, e.routingKey);
    QCOMPARE(a.producer, e.producer);
    QCOMPARE(a.transaction, e.transaction);
    QCOMPARE(a.message.id, e.message.id);
    QCOMPARE(a.message.key, e.message.key);
    QVERIFY(a.message.headers == e.message.headers);
    QCOMPARE(a.message.body, e.message.body);
    QCOMPARE(a.message.persistent, e.message.persistent);
    QVERIFY(a.message.ttl == e.message.ttl);
    QVERIFY(a.message.delay == e.message.delay);
}

DeathRecord deathRecord() {
    DeathRecord d;
    d.reason = DeathReason::MaxAttempts;
    d.sourceQueue = "orders";
    d.attempts = 5;
    d.firstDeathAt = 1'700'000'100'000;
    d.lastDeathAt = 1'700'000'900'000;
    d.deaths = 2;
    d.lastError = "timeout talking to the database";
    d.requeues = {{1'700'000'200'000, "alice@127.0.0.1", "orders.dlq", "orders"}, {1'700'000'300'000, "", "", ""}};
    return d;
}

Delivery deliveryCase(int index) {
    Delivery d;
    d.consumer = 12;
    d.tag = 345;
    d.sequence = 6789;
    d.attempt = 1;
    d.publishedAt = 1'700'000'000'123;
    d.queue = "orders";
    d.messageId = "order-42";
    d.key = "customer-7";
    d.headers = {{"bin", kBinary}, {"empty", ""}, {"bin", "twice"}};
    d.body = "\0payload\xff"s;
    switch (index) {
        case 1:  // redelivered dead letter
            d.attempt = 6;
            d.redelivered = true;
            d.death = deathRecord();
            break;
        case 2:  // extremes, empty strings, death record with defaults
            d = Delivery{};
            d.consumer = d.tag = d.sequence = std::numeric_limits<uint64_t>::max();
            d.attempt = std::numeric_limits<uint32_t>::max();
            d.publishedAt = std::numeric_limits<int64_t>::min();
            d.death = DeathRecord{};
            break;
    }
    return d;
}

void compareDelivery(const Delivery& a, const Delivery& e) {
    QCOMPARE(a.consumer, e.consumer);
    QCOMPARE(a.tag, e.tag);
    QCOMPARE(a.sequence, e.sequence);
    QCOMPARE(a.attempt, e.attempt);
    QCOMPARE(a.redelivered, e.redelivered);
    QCOMPARE(a.publishedAt, e.publishedAt);
    QCOMPARE(a.queue, e.queue);
    QCOMPARE(a.messageId, e.messageId);
    QCOMPARE(a.key, e.key);
    QVERIFY(a.headers == e.headers);
    QCOMPARE(a.body, e.body);
    QCOMPARE(a.death.has_value(), e.death.has_value());
    if (e.death)
        QVERIFY(*a.death == *e.death);
}

PublishResult confirmCase() {
    PublishResult r;
    r.outcome = PublishOutcome::Confirmed;
    r.messageId = "order-42";
    r.queues = {"orders", "audit"};
    return r;
}

// One valid frame per decoder, for the tests that damage frames.
enum class Kind { Envelope, Publish, Confirm, Deliver, DeadDeliver, Ack, Nack };

std::string validFrame(Kind kind) {
    switch (kind) {
        case Kind::Envelope:
            return encodeEnvelope({kVersion, Command::Publish, kFlagOneway, 77});
        case Kind::Publish:
            return encodePublish(publishCase(0));
        case Kind::Confirm:
            return encodeConfirm(confirmCase());
        case Kind::Deliver:
            return encodeDeliver(deliveryCase(0));
        case Kind::DeadDeliver:
            return encodeDeliver(deliveryCase(1));
        case Kind::Ack:
            return encodeAck({7, {1, 2, 3}});
        case Kind::Nack:
            return encodeNack({7, 2, {false, "bad input"}});
    }
    return {};
}

Status decodeAs(Kind kind, std::string_view bytes) {
    switch (kind) {
        case Kind::Envelope:
            return decodeEnvelope(bytes).status();
        case Kind::Publish:
            return decodePublish(bytes, "body").status();
        case Kind::Confirm:
            return decodeConfirm(bytes).status();
        case Kind::Deliver:
        case Kind::DeadDeliver:
            return decodeDeliver(bytes, "body").status();
        case Kind::Ack:
            return decodeAck(bytes).status();
        case Kind::Nack:
            return decodeNack(bytes).status();
    }
    return Status::ok();
}

void addKindRows() {
    QTest::addColumn<int>("kind");
    QTest::newRow("envelope") << int(Kind::Envelope);
    QTest::newRow("PUBLISH") << int(Kind::Publish);
    QTest::newRow("CONFIRM") << int(Kind::Confirm);
    QTest::newRow("DELIVER") << int(Kind::Deliver);
    QTest::newRow("DELIVER with death") << int(Kind::DeadDeliver);
    QTest::newRow("ACK") << int(Kind::Ack);
    QTest::newRow("NACK") << int(Kind::Nack);
}

void verifyMalformed(const Status& status, const char* mentions) {
    QCOMPARE(status.code(), StatusCode::InvalidArgument);
    QVERIFY(!isVersionError(status));
    QVERIFY2(status.message().find(mentions) != std::string::npos, status.message().c_str());
}

// Offsets in the frames of publishCase(1) (every string empty) and of encodeDeliver(deliveryCase(0)).
constexpr size_t kEmptyPublishHeaderCount = 1 + 6 * 4 + 8 + 8;
constexpr size_t kDeliverQueueLength = 8 + 8 + 8 + 4 + 1 + 8;
constexpr size_t kDeliverFlags = 8 + 8 + 8 + 4;

// The frames of one message of the "A session, byte by byte" block: bracketed groups, each a run of hex digits
// and "quoted text", with spaces and '|' as separators.
std::vector<std::string> docFrames(const std::string& message) {
    std::vector<std::string> frames;
    for (size_t open = message.find('['); open != std::string::npos; open = message.find('[', open + 1)) {
        size_t close = message.find(']', open);
        std::string group = message.substr(open + 1, close - open - 1);
        open = close;
        if (group.empty() || group[0] == '{') {  // a JSON header, as is
            frames.push_back(group);
            continue;
        }
        std::string bytes;
        bool text = false;
        for (size_t i = 0; i < group.size(); ++i) {
            char c = group[i];
            if (c == '"')
                text = !text;
            else if (text)
                bytes += c;
            else if (std::isxdigit(static_cast<unsigned char>(c)) && i + 1 < group.size())
                bytes += char(std::stoi(group.substr(i++, 2), nullptr, 16));
        }
        frames.push_back(bytes);
    }
    return frames;
}

// Each message of the document's example session, its frames as docFrames() reads them.
std::vector<std::vector<std::string>> docSession() {
    std::ifstream in(DEPOT_PROTOCOL_DOC);
    std::stringstream text;
    text << in.rdbuf();
    std::string doc = text.str();
    size_t section = doc.find("## A session, byte by byte");
    size_t begin = doc.find("```\n", section) + 4;
    std::istringstream block(doc.substr(begin, doc.find("```", begin) - begin));
    std::vector<std::string> messages;
    for (std::string line; std::getline(block, line);) {
        if (line.rfind("C→B", 0) == 0 || line.rfind("B→C", 0) == 0)
            messages.push_back(line);
        else if (!messages.empty())
            messages.back() += line;
    }
    std::vector<std::vector<std::string>> session;
    for (const std::string& message : messages)
        session.push_back(docFrames(message));
    return session;
}

}  // namespace

class TestProtocolCodec : public QObject {
    Q_OBJECT

private slots:
    void testEnvelopeRoundTrips_data() {
        QTest::addColumn<int>("command");
        QTest::addColumn<int>("flags");
        QTest::addColumn<quint64>("requestId");
        QTest::newRow("HEARTBEAT id 0") << int(Command::Heartbeat) << 0 << quint64(0);
        QTest::newRow("HELLO id 1") << int(Command::Hello) << 0 << quint64(1);
        QTest::newRow("PUBLISH oneway") << int(Command::Publish) << int(kFlagOneway) << quint64(1);
        QTest::newRow("CONFIRM cumulative, max id")
            << int(Command::Confirm) << int(kFlagCumulative) << std::numeric_limits<quint64>::max();
        QTest::newRow("ADMIN") << int(Command::Admin) << 0 << quint64(0x0102030405060708ull);
    }
    void testEnvelopeRoundTrips() {
        QFETCH(int, command);
        QFETCH(int, flags);
        QFETCH(quint64, requestId);
        std::string bytes = encodeEnvelope({kVersion, Command(command), uint16_t(flags), requestId});
        QCOMPARE(bytes.size(), kEnvelopeSize);
        Result<Envelope> decoded = decodeEnvelope(bytes);
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(decoded->version, kVersion);
        QCOMPARE(int(decoded->command), command);
        QCOMPARE(int(decoded->flags), flags);
        QCOMPARE(decoded->requestId, requestId);
    }

    void testKnownCommandsAreExactlyTheDocumentedOnes() {
        const std::vector<int> documented{0x01, 0x02, 0x03, 0x04, 0x05, 0x10, 0x11, 0x12,
                                          0x13, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x30, 0x40, 0x41};
        for (int code = 0; code < 256; ++code) {
            bool known = std::find(documented.begin(), documented.end(), code) != documented.end();
            QVERIFY2(isKnownCommand(uint8_t(code)) == known, std::to_string(code).c_str());
            if (known)
                QVERIFY(commandName(Command(code)) != "UNKNOWN");
        }
        QCOMPARE(commandName(Command::TxEnd), std::string_view("TX_END"));
        QCOMPARE(allowedFlags(Command::Publish), kFlagOneway);
        QCOMPARE(allowedFlags(Command::Confirm), kFlagCumulative);
        QCOMPARE(allowedFlags(Command::Deliver), uint16_t(0));
    }

    void testPublishRoundTrips_data() {
        QTest::addColumn<int>("index");
        QTest::newRow("every field set, binary and empty header values") << 0;
        QTest::newRow("everything empty") << 1;
        QTest::newRow("ttl only") << 2;
        QTest::newRow("delay only") << 3;
        QTest::newRow("zero ttl and delay") << 4;
        QTest::newRow("largest ttl and delay") << 5;
        QTest::newRow("large body, empty header") << 6;
    }
    void testPublishRoundTrips() {
        QFETCH(int, index);
        PublishRequest request = publishCase(index);
        Result<PublishRequest> decoded = decodePublish(encodePublish(request), request.message.body);
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        comparePublish(*decoded, request);
    }

    void testPublishFlagsSayWhichOptionalsAreSet() {
        std::string bytes = encodePublish(publishCase(1));
        QCOMPARE(int(bytes[0]), 0);
        PublishRequest request = publishCase(1);
        request.message.persistent = true;
        request.message.ttl = Millis(5);
        QCOMPARE(int(encodePublish(request)[0]), 0x03);
        request.message.ttl.reset();
        request.message.delay = Millis(5);
        QCOMPARE(int(encodePublish(request)[0]), 0x05);
        // A value without its flag is ignored.
        bytes = putU32At(bytes, kEmptyPublishHeaderCount - 16, 1234);
        Result<PublishRequest> decoded = decodePublish(bytes, "");
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QVERIFY(!decoded->message.ttl && !decoded->message.delay && !decoded->message.persistent);
    }

    void testConfirmRoundTrips_data() {
        QTest::addColumn<int>("outcome");
        QTest::addColumn<int>("reason");
        QTest::newRow("confirmed") << int(PublishOutcome::Confirmed) << int(NackReason::None);
        QTest::newRow("duplicate") << int(PublishOutcome::Duplicate) << int(NackReason::None);
        for (int reason = int(NackReason::NoExchange); reason <= int(NackReason::ShuttingDown); ++reason)
            QTest::newRow(("nacked " + std::string(toString(NackReason(reason)))).c_str())
                << int(PublishOutcome::Nacked) << reason;
    }
    void testConfirmRoundTrips() {
        QFETCH(int, outcome);
        QFETCH(int, reason);
        PublishResult result = confirmCase();
        result.outcome = PublishOutcome(outcome);
        result.reason = NackReason(reason);
        if (result.outcome == PublishOutcome::Nacked) {
            result.error = "why, with \0 and \xff"s;
            result.queues.clear();
        }
        Result<PublishResult> decoded = decodeConfirm(encodeConfirm(result));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(int(decoded->outcome), outcome);
        QCOMPARE(int(decoded->reason), reason);
        QCOMPARE(decoded->error, result.error);
        QCOMPARE(decoded->messageId, result.messageId);
        QCOMPARE(decoded->queues, result.queues);
    }

    void testConfirmCarriesAReasonOnlyWhenNacked() {
        PublishResult result = confirmCase();
        result.reason = NackReason::Overflow;  // stale: the outcome says confirmed
        std::string bytes = encodeConfirm(result);
        QCOMPARE(hex(bytes.substr(0, 5)), std::string("0000000000"));
        Result<PublishResult> decoded = decodeConfirm(bytes);
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(int(decoded->reason), int(NackReason::None));
    }

    // The SLAVE_NOT_AVAILABLE case: confirmed, and the producer learns it is on no replica.
    void testConfirmWithoutAReplicaSaysSo() {
        PublishResult result = confirmCase();
        result.reason = NackReason::ReplicaUnavailable;
        Result<PublishResult> decoded = decodeConfirm(encodeConfirm(result));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(int(decoded->outcome), int(PublishOutcome::Confirmed));
        QCOMPARE(int(decoded->reason), int(NackReason::ReplicaUnavailable));
        std::string other = encodeConfirm(confirmCase());
        other.replace(1, 4, std::string("\x08\0\0\0overflow", 12));
        QVERIFY(!decodeConfirm(other).isOk());  // a confirm cannot say "overflow"
    }

    void testDeliverRoundTrips_data() {
        QTest::addColumn<int>("index");
        QTest::newRow("first delivery, binary headers") << 0;
        QTest::newRow("redelivered dead letter with lineage") << 1;
        QTest::newRow("extreme integers, empty death record") << 2;
    }
    void testDeliverRoundTrips() {
        QFETCH(int, index);
        Delivery delivery = deliveryCase(index);
        std::string bytes = encodeDeliver(delivery);
        QCOMPARE(int(bytes[kDeliverFlags]), (delivery.redelivered ? 1 : 0) | (delivery.death ? 2 : 0));
        Result<Delivery> decoded = decodeDeliver(bytes, delivery.body);
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        compareDelivery(*decoded, delivery);
    }

    void testDeathRecordThatIsNotUtf8IsStillDelivered() {
        // A NACK's error text is any bytes a client sent; it becomes the dead letter's lastError, which DELIVER
        // carries as JSON. Encoding must not throw on the broker thread: bad bytes arrive as U+FFFD.
        Delivery delivery = deliveryCase(1);
        delivery.death->lastError = "bad \xff\xfe text";
        std::string bytes;
        try {
            bytes = encodeDeliver(delivery);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        Result<Delivery> decoded = decodeDeliver(bytes, delivery.body);
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(decoded->death->lastError, std::string("bad \xEF\xBF\xBD\xEF\xBF\xBD text"));
    }

    // DELIVER_BATCH carries each delivery as DELIVER would, its body in the shared body frame, in order; a batch
    // emptied with clear() is reused without leftovers.
    void testDeliverBatchRoundTrips() {
        DeliverBatch batch;
        for (int round = 0; round < 2; ++round) {
            batch.clear();
            std::vector<Delivery> sent;
            for (int index : {2, 0, 1, 0}) {
                sent.push_back(deliveryCase(index));
                sent.back().tag += uint64_t(sent.size());
                batch.add(sent.back());
            }
            QCOMPARE(batch.size(), sent.size());
            uint32_t firstLength = 0;  // little-endian, as every u32 on the wire
            for (int i = 3; i >= 0; --i)
                firstLength = firstLength << 8 | uint8_t(batch.header()[size_t(i)]);
            QCOMPARE(size_t(firstLength), encodeDeliver(sent[0]).size());
            Result<std::vector<Delivery>> decoded = decodeDeliverBatch(batch.header(), batch.bodies());
            QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
            QCOMPARE(decoded->size(), sent.size());
            for (size_t i = 0; i < sent.size(); ++i)
                compareDelivery((*decoded)[i], sent[i]);
        }
    }

    // A batch that held a big message does not keep its buffers once cleared (a session keeps its batch for
    // life); a small one keeps them for the next round.
    void testClearedDeliverBatchKeepsOnlySmallBuffers() {
        DeliverBatch batch;
        Delivery big = deliveryCase(0);
        big.body.assign(1 << 20, 'b');
        batch.add(big);
        QVERIFY(batch.bodies().capacity() >= big.body.size());
        batch.clear();
        QVERIFY(batch.empty());
        QVERIFY2(batch.bodies().capacity() < big.body.size(), std::to_string(batch.bodies().capacity()).c_str());
        batch.add(deliveryCase(0));
        const size_t kept = batch.header().capacity();
        batch.clear();
        QCOMPARE(batch.header().capacity(), kept);
        QVERIFY(batch.header().empty());
    }

    // A malformed batch delivers nothing: a client must not hand out half of it and drop the rest unannounced.
    void testMalformedDeliverBatchIsRejectedWhole() {
        DeliverBatch batch;
        batch.add(deliveryCase(0));
        batch.add(deliveryCase(1));
        const std::string header = batch.header(), bodies = batch.bodies();
        QVERIFY(decodeDeliverBatch(header, bodies).isOk());
        auto rejected = [](std::string_view h, std::string_view b, const char* mentions) {
            Result<std::vector<Delivery>> decoded = decodeDeliverBatch(h, b);
            if (decoded.isOk())
                return std::string("accepted");
            if (decoded.status().code() != StatusCode::InvalidArgument ||
                decoded.status().message().find(mentions) == std::string::npos)
                return decoded.status().toString();
            return std::string();
        };
        QCOMPARE(rejected("", "", "no delivery"), std::string());
        for (size_t size = 1; size < header.size(); ++size)
            QVERIFY2(rejected(header.substr(0, size), bodies, "DELIVER").empty(), std::to_string(size).c_str());
        QCOMPARE(rejected(header, bodies.substr(0, bodies.size() - 1), "runs past the body frame"), std::string());
        QCOMPARE(rejected(header, bodies + "x", "beyond its deliveries' bodies"), std::string());
        // The second entry's DELIVER header with a byte too many: that entry is malformed, so is the batch.
        std::string longer = header;
        const size_t second = 4 + encodeDeliver(deliveryCase(0)).size() + 4;
        longer[second] = char(uint8_t(longer[second]) + 1);
        longer.insert(second + 4 + encodeDeliver(deliveryCase(1)).size(), 1, '\0');
        QCOMPARE(rejected(longer, bodies, "delivery 2"), std::string());
    }

    void testAckAndNackRoundTrip() {
        std::vector<uint64_t> many(1000);
        for (size_t i = 0; i < many.size(); ++i)
            many[i] = i * 0x9E3779B97F4A7C15ull;
        for (const AckFrame& ack : {AckFrame{1, {42}}, AckFrame{std::numeric_limits<uint64_t>::max(), many}}) {
            Result<AckFrame> decoded = decodeAck(encodeAck(ack));
            QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
            QCOMPARE(decoded->consumer, ack.consumer);
            QCOMPARE(decoded->tags, ack.tags);
        }
        for (const NackFrame& nack : {NackFrame{1, 2, {true, ""}}, NackFrame{3, 4, {false, "no \0 good \xff"s}}}) {
            Result<NackFrame> decoded = decodeNack(encodeNack(nack));
            QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
            QCOMPARE(decoded->consumer, nack.consumer);
            QCOMPARE(decoded->tag, nack.tag);
            QCOMPARE(decoded->options.requeue, nack.options.requeue);
            QCOMPARE(decoded->options.error, nack.options.error);
        }
        QCOMPARE(hex(encodeAck({0x0102, {0x0A, 0x0B}})), std::string("0201000000000000"
                                                                     "02000000"
                                                                     "0a00000000000000"
                                                                     "0b00000000000000"));
        QCOMPARE(hex(encodeNack({1, 2, {true, "e"}})), std::string("0100000000000000"
                                                                   "0200000000000000"
                                                                   "01"
                                                                   "01000000"
                                                                   "65"));
    }

    void testDocumentedSessionMatchesTheCodec() {
        // docs/protocol.md's "A session, byte by byte": HELLO, REPLY, PUBLISH, cumulative CONFIRM.
        std::vector<std::vector<std::string>> session = docSession();
        QCOMPARE(session.size(), size_t(4));
        const Envelope expected[] = {{kVersion, Command::Hello, 0, 1},
                                     {kVersion, Command::Reply, 0, 1},
                                     {kVersion, Command::Publish, 0, 2},
                                     {kVersion, Command::Confirm, kFlagCumulative, 2}};
        for (size_t i = 0; i < session.size(); ++i) {
            QCOMPARE(session[i].size(), kFrameCount);
            QCOMPARE(hex(session[i][0]), hex(encodeEnvelope(expected[i])));
            QVERIFY(decodeEnvelope(session[i][0]).isOk());
        }
        QCOMPARE(session[0][1], std::string(R"({"client":"demo","role":"producer"})"));

        PublishRequest request;
        request.routingKey = "orders";
        request.message.id = "m1";
        request.message.body = "hello";
        const std::vector<std::string>& publish = session[2];
        QCOMPARE(hex(publish[1]), hex(encodePublish(request)));
        QCOMPARE(publish[2], std::string("hello"));
        Result<PublishRequest> decoded = decodePublish(publish[1], publish[2]);
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        comparePublish(*decoded, request);
        QVERIFY(session[3][1].empty() && session[3][2].empty());
    }

    void testEveryTruncationIsRejected_data() { addKindRows(); }
    void testEveryTruncationIsRejected() {
        QFETCH(int, kind);
        std::string frame = validFrame(Kind(kind));
        QVERIFY(decodeAs(Kind(kind), frame).isOk());
        for (size_t length = 0; length < frame.size(); ++length) {
            // A copy of exactly `length` bytes, so a read past the end is a heap overflow under ASan.
            std::string prefix = frame.substr(0, length);
            Status status = decodeAs(Kind(kind), prefix);
            QVERIFY2(status.code() == StatusCode::InvalidArgument && !isVersionError(status),
                     ("prefix of " + std::to_string(length) + ": " + status.toString()).c_str());
        }
    }

    void testTrailingBytesAreRejected_data() { addKindRows(); }
    void testTrailingBytesAreRejected() {
        QFETCH(int, kind);
        for (const std::string& garbage : {"\0"s, "xyz"s, std::string(12, '\0')}) {
            Status status = decodeAs(Kind(kind), validFrame(Kind(kind)) + garbage);
            verifyMalformed(status, Kind(kind) == Kind::Envelope ? "bytes, expected 12" : "trailing");
        }
    }

    void testUnsupportedVersionIsAVersionError_data() {
        QTest::addColumn<int>("version");
        QTest::addColumn<int>("command");
        QTest::newRow("0") << 0 << int(Command::Hello);
        QTest::newRow("2") << 2 << int(Command::Publish);
        QTest::newRow("255") << 255 << int(Command::Ack);
        // A later version may define commands this one does not know.
        QTest::newRow("2, unknown command") << 2 << 0x7F;
    }
    void testUnsupportedVersionIsAVersionError() {
        QFETCH(int, version);
        QFETCH(int, command);
        std::string bytes = encodeEnvelope({uint8_t(version), Command(command), 0, 5});
        Status status = decodeEnvelope(bytes).status();
        QCOMPARE(status.code(), StatusCode::InvalidArgument);
        QVERIFY2(isVersionError(status), status.message().c_str());
        QVERIFY(!isVersionError(Status::ok()));
    }

    void testMalformedEnvelopeIsRejected_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("mentions");
        auto row = [](const char* name, const std::string& bytes, const char* mentions) {
            QTest::newRow(name) << bytesOf(bytes) << QString(mentions);
        };
        for (size_t size : {0, 1, 11, 13, 24})
            row(("size " + std::to_string(size)).c_str(), std::string(size, '\x01'), "expected 12");
        for (int code : {0x00, 0x06, 0x0F, 0x14, 0x26, 0x31, 0xFF})
            row(("unknown command " + std::to_string(code)).c_str(), encodeEnvelope({kVersion, Command(code), 0, 1}),
                "unknown command");
        const std::pair<Command, uint16_t> undefined[] = {{Command::Publish, 0x0002},  {Command::Publish, 0x8001},
                                                          {Command::Confirm, 0x0100},  {Command::Hello, 0x0001},
                                                          {Command::Deliver, 0x0001},  {Command::Ack, 0x8000},
                                                          {Command::Heartbeat, 0xFFFF}};
        for (auto [command, flags] : undefined)
            row((std::string(commandName(command)) + " flags " + std::to_string(flags)).c_str(),
                encodeEnvelope({kVersion, command, flags, 1}), "undefined flags");
    }
    void testMalformedEnvelopeIsRejected() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, mentions);
        verifyMalformed(decodeEnvelope(viewOf(bytes)).status(), mentions.toStdString().c_str());
    }

    void testMalformedHeaderIsRejected_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("mentions");
        auto row = [](const char* name, Kind kind, const std::string& bytes, const char* mentions) {
            QTest::newRow(name) << int(kind) << bytesOf(bytes) << QString(mentions);
        };
        for (int flags : {0x08, 0x80, 0xFF}) {
            std::string publish = encodePublish(publishCase(1));
            publish[0] = char(flags);
            row(("PUBLISH flags " + std::to_string(flags)).c_str(), Kind::Publish, publish, "'flags'");
        }
        std::string ttl = encodePublish(publishCase(1));
        ttl[kEmptyPublishHeaderCount - 9] = char(0x80);  // ttlMs = 2^63
        row("PUBLISH ttl past int64", Kind::Publish, ttl, "ttlMs");
        for (int flags : {0x04, 0x80}) {
            std::string deliver = encodeDeliver(deliveryCase(0));
            deliver[kDeliverFlags] = char(flags);
            row(("DELIVER flags " + std::to_string(flags)).c_str(), Kind::Deliver, deliver, "'flags'");
        }
        for (const char* death : {"not json", "[1]", R"({"reason":"asleep"})"}) {
            Delivery d = deliveryCase(0);
            std::string deliver = encodeDeliver(d);  // no death: an empty str ends the header
            deliver.resize(deliver.size() - 4);
            deliver[kDeliverFlags] = 2;
            deliver += putU32At("0000", 0, uint32_t(strlen(death))) + death;
            row(("DELIVER death " + std::string(death)).c_str(), Kind::Deliver, deliver, "death record");
        }
        for (int outcome : {3, 255}) {
            std::string confirm = encodeConfirm(confirmCase());
            confirm[0] = char(outcome);
            row(("CONFIRM outcome " + std::to_string(outcome)).c_str(), Kind::Confirm, confirm, "'outcome'");
        }
        PublishResult nacked;
        std::string noReason = encodeConfirm(nacked);  // reason None is spelled "none"
        row("CONFIRM nacked, reason unknown", Kind::Confirm, "\x02\x05\0\0\0bogus"s + noReason.substr(9), "reason");
        row("CONFIRM nacked, reason empty", Kind::Confirm, "\x02"s + std::string(4, '\0') + noReason.substr(9),
            "reason");
        for (int requeue : {2, 0x80, 0xFF}) {
            std::string nack = encodeNack({1, 2, {true, ""}});
            nack[16] = char(requeue);
            row(("NACK requeue " + std::to_string(requeue)).c_str(), Kind::Nack, nack, "'requeue'");
        }
        row("ACK with zero tags", Kind::Ack, encodeAck({5, {}}), "'tags'");
    }
    void testMalformedHeaderIsRejected() {
        QFETCH(int, kind);
        QFETCH(QByteArray, bytes);
        QFETCH(QString, mentions);
        verifyMalformed(decodeAs(Kind(kind), viewOf(bytes)), mentions.toStdString().c_str());
    }

    void testHugeDeclaredSizeIsRejectedWithoutAllocating_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("field");
        auto row = [](const char* name, Kind kind, const std::string& bytes, const char* field) {
            QTest::newRow(name) << int(kind) << bytesOf(bytes) << QString(field);
        };
        std::string publish = encodePublish(publishCase(1));
        row("PUBLISH exchange length", Kind::Publish, putU32At(publish, 1, 0xFFFFFFFFu), "'exchange'");
        row("PUBLISH header count", Kind::Publish, putU32At(publish, kEmptyPublishHeaderCount, 0xFFFFFFFFu),
            "'headers'");
        // A count the frame could just hold, of pairs that are garbage: nothing is reserved for them up front.
        std::string garbagePairs = putU32At(publish, kEmptyPublishHeaderCount, 4096) + std::string(8 * 4096, '\xff');
        row("PUBLISH header count of garbage pairs", Kind::Publish, garbagePairs, "'header name'");
        row("CONFIRM queue count", Kind::Confirm,
            putU32At(encodeConfirm(PublishResult{PublishOutcome::Confirmed}), 13, 0xFFFFFFFFu), "'queues'");
        std::string deliver = encodeDeliver(deliveryCase(2));
        row("DELIVER queue length", Kind::Deliver, putU32At(deliver, kDeliverQueueLength, 0x7FFFFFFFu), "'queue'");
        row("DELIVER header count", Kind::Deliver, putU32At(deliver, kDeliverQueueLength + 12, 0xFFFFFFFFu),
            "'headers'");
        row("DELIVER death length", Kind::Deliver, putU32At(deliver, kDeliverQueueLength + 16, 0xFFFFFFF0u), "'death'");
        row("ACK tag count", Kind::Ack, putU32At(encodeAck({1, {2}}), 8, 0xFFFFFFFFu), "'tags'");
        row("NACK error length", Kind::Nack, putU32At(encodeNack({1, 2, {true, "x"}}), 17, 0xFFFFFFFFu), "'error'");
    }
    void testHugeDeclaredSizeIsRejectedWithoutAllocating() {
        QFETCH(int, kind);
        QFETCH(QByteArray, bytes);
        QFETCH(QString, field);
        std::string_view view = viewOf(bytes);
        Status status;
        const size_t largest = depot::test::largestAllocationOf([&] { status = decodeAs(Kind(kind), view); });
        verifyMalformed(status, field.toStdString().c_str());
        QVERIFY2(largest < 1024, std::to_string(largest).c_str());
    }

    void testErrorsNameTheFrame_data() { addKindRows(); }
    void testErrorsNameTheFrame() {
        QFETCH(int, kind);
        const char* names[] = {"envelope", "PUBLISH", "CONFIRM", "DELIVER", "DELIVER", "ACK", "NACK"};
        verifyMalformed(decodeAs(Kind(kind), ""), names[kind]);
    }
};

QTEST_GUILESS_MAIN(TestProtocolCodec)
#include "TestProtocolCodec.moc"
