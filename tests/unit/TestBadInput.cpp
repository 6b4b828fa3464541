// Bad input: invalid names, unknown queues, conflicting redeclares, out-of-range policies, foreign or unknown
// delivery tags and invalid headers each get a clear error, and nothing else is affected.
#include <QtTest>

#include <algorithm>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

Q_DECLARE_METATYPE(depot::broker::QueuePolicy)
Q_DECLARE_METATYPE(depot::broker::Headers)

namespace {

QString text(const std::string& s) { return QString::fromStdString(s); }

bool queueExists(BrokerHarness& h, const std::string& name) {
    auto queues = h.broker().listQueues();
    return queues && std::any_of(queues->begin(), queues->end(), [&](const QueueInfo& q) { return q.name == name; });
}

std::optional<QueueInfo> queueInfo(BrokerHarness& h, const std::string& name) {
    auto queues = h.broker().listQueues();
    if (!queues)
        return std::nullopt;
    for (const QueueInfo& info : *queues)
        if (info.name == name)
            return info;
    return std::nullopt;
}

// After every bad request the broker must still do its ordinary work.
void checkStillServes(BrokerHarness& h, const std::string& queue) {
    if (!queueExists(h, queue))
        h.declare(queue);
    PublishResult result = h.publish(queue, "still alive");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume(queue);
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("still alive"));
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    QVERIFY(h.broker().cancel(consumer).isOk());
}

}  // namespace

class TestBadInput : public QObject {
    Q_OBJECT

private slots:
    void testInvalidQueueNameIsRejected_data();
    void testInvalidQueueNameIsRejected();
    void testLongestValidNameIsAccepted();
    void testInvalidExchangeNameIsRejected();
    void testUnknownQueueIsNotFound();
    void testConflictingRedeclareKeepsOriginalPolicy();
    void testSameRedeclareIsANoOp();
    void testPolicyOutOfRangeIsRejected_data();
    void testPolicyOutOfRangeIsRejected();
    void testPolicyOutOfRangeInUpdateKeepsPolicy();
    void testUnknownTagIsNotFoundAndHarmless();
    void testForeignTagIsNotFoundAndHarmless();
    void testUnknownConsumerIsNotFound();
    void testInvalidHeadersAreRejected_data();
    void testInvalidHeadersAreRejected();
    void testInvalidBindingPatternIsRejected();
    void testBrokerServesAfterAllOfIt();
};

void TestBadInput::testInvalidQueueNameIsRejected_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("empty") << QByteArray("") << "empty";
    QTest::newRow("256 bytes") << QByteArray(256, 'q') << "255";
    QTest::newRow("bad UTF-8") << QByteArray("orders\xff\xfe") << "UTF-8";
    QTest::newRow("truncated UTF-8") << QByteArray("caf\xc3") << "UTF-8";
    QTest::newRow("overlong UTF-8") << QByteArray("a\xc0\xafz") << "UTF-8";
    QTest::newRow("control character") << QByteArray("a\x01z") << "control";
    QTest::newRow("newline") << QByteArray("a\nz") << "control";
    QTest::newRow("NUL") << QByteArray("a\0z", 3) << "control";
    QTest::newRow("DEL") << QByteArray("a\x7fz") << "control";
    QTest::newRow("leading space") << QByteArray(" orders") << "whitespace";
}

void TestBadInput::testInvalidQueueNameIsRejected() {
    QFETCH(QByteArray, name);
    QFETCH(QString, mentions);
    BrokerHarness h;
    QVERIFY(h.ok());
    const std::string queueName(name.constData(), size_t(name.size()));
    auto declared = h.broker().declareQueue({queueName, {}});
    QVERIFY(!declared);
    QCOMPARE(declared.status().code(), StatusCode::InvalidArgument);
    const std::string& message = declared.status().message();
    QVERIFY2(message.find("queue name") != std::string::npos, message.c_str());
    QVERIFY2(text(message).contains(mentions, Qt::CaseInsensitive), message.c_str());
    auto queues = h.broker().listQueues();
    QVERIFY(queues);
    QVERIFY(queues->empty());  // neither the queue nor a dead-letter queue for it
    checkStillServes(h, "fine");
}

void TestBadInput::testLongestValidNameIsAccepted() {
    BrokerHarness h;
    const std::string name(255, 'n');
    QueuePolicy policy;
    policy.deadLetterQueue = "long.dlq";  // "<255 bytes>.dlq" would itself be too long
    auto declared = h.broker().declareQueue({name, policy});
    QVERIFY2(declared, declared.status().toString().c_str());
    QCOMPARE(int(h.publish(name, "x").outcome), int(PublishOutcome::Confirmed));
    // Chinese is fine too.
    auto chinese = h.broker().declareQueue({"订单", {}});
    QVERIFY2(chinese, chinese.status().toString().c_str());
}

void TestBadInput::testInvalidExchangeNameIsRejected() {
    BrokerHarness h;
    for (const std::string& name : {std::string(""), std::string(256, 'x'), std::string("x\x02y")}) {
        Status status = h.broker().declareExchange({name, ExchangeType::Fanout, ""});
        QCOMPARE(status.code(), StatusCode::InvalidArgument);
        QVERIFY2(status.message().find("exchange name") != std::string::npos, status.message().c_str());
    }
    QVERIFY(h.broker().listExchanges()->empty());
    QCOMPARE(h.broker().declareExchange({"x", ExchangeType::Direct, "no-such-queue"}).code(), StatusCode::NotFound);
}

void TestBadInput::testUnknownQueueIsNotFound() {
    BrokerHarness h;
    h.declare("real");
    QCOMPARE(int(h.publish("real", "keep me").outcome), int(PublishOutcome::Confirmed));
    auto handler = [](Delivery&&) {};

    auto consumed = h.broker().consume({"ghost", 10, false, "c"}, handler);
    QVERIFY(!consumed);
    QCOMPARE(consumed.status().code(), StatusCode::NotFound);
    QVERIFY2(consumed.status().message().find("ghost") != std::string::npos, consumed.status().message().c_str());

    auto purged = h.broker().purgeQueue("ghost");
    QVERIFY(!purged);
    QCOMPARE(purged.status().code(), StatusCode::NotFound);

    Status deleted = h.broker().deleteQueue("ghost");
    QCOMPARE(deleted.code(), StatusCode::NotFound);
    QVERIFY2(deleted.message().find("ghost") != std::string::npos, deleted.message().c_str());

    auto browsed = h.broker().browse("ghost");
    QVERIFY(!browsed);
    QCOMPARE(browsed.status().code(), StatusCode::NotFound);

    auto updated = h.broker().updateQueuePolicy("ghost", {});
    QVERIFY(!updated);
    QCOMPARE(updated.status().code(), StatusCode::NotFound);

    QCOMPARE(h.broker().deleteMessage("ghost", 1).code(), StatusCode::NotFound);
    QCOMPARE(h.broker().bind({"ghost-exchange", "real", ""}).code(), StatusCode::NotFound);
    QVERIFY(h.broker().declareExchange({"ex", ExchangeType::Direct, ""}).isOk());
    QCOMPARE(h.broker().bind({"ex", "ghost", "k"}).code(), StatusCode::NotFound);

    QVERIFY(!queueExists(h, "ghost"));
    QCOMPARE(h.depth("real"), uint64_t(1));
    checkStillServes(h, "other");
}

void TestBadInput::testConflictingRedeclareKeepsOriginalPolicy() {
    BrokerHarness h;
    QueuePolicy original;
    original.maxAttempts = 3;
    original.ackTimeout = Millis(5000);
    h.declare("q", original);
    QCOMPARE(int(h.publish("q", "m").outcome), int(PublishOutcome::Confirmed));

    QueuePolicy different = original;
    different.maxAttempts = 7;
    auto redeclared = h.broker().declareQueue({"q", different});
    QVERIFY(!redeclared);
    QCOMPARE(redeclared.status().code(), StatusCode::InvalidArgument);
    QVERIFY2(redeclared.status().message().find("\"q\"") != std::string::npos, redeclared.status().message().c_str());

    QueuePolicy transient = original;
    transient.durable = false;
    QCOMPARE(h.broker().declareQueue({"q", transient}).status().code(), StatusCode::InvalidArgument);
    QCOMPARE(h.broker().declareQueue({"q", original, QueueKind::DeadLetter}).status().code(),
             StatusCode::InvalidArgument);

    auto info = queueInfo(h, "q");
    QVERIFY(info);
    QVERIFY(info->policy == original);
    QCOMPARE(h.depth("q"), uint64_t(1));  // the messages are untouched
    QVERIFY(h.restart().isOk());
    info = queueInfo(h, "q");
    QVERIFY(info);
    QVERIFY(info->policy == original);
    QCOMPARE(h.depth("q"), uint64_t(1));
}

void TestBadInput::testSameRedeclareIsANoOp() {
    BrokerHarness h;
    QueueInfo first = h.declare("q");
    QCOMPARE(int(h.publish("q", "m").outcome), int(PublishOutcome::Confirmed));
    auto again = h.broker().declareQueue({"q", {}});
    QVERIFY(again);
    QCOMPARE(again->id, first.id);
    QCOMPARE(h.depth("q"), uint64_t(1));
}

void TestBadInput::testPolicyOutOfRangeIsRejected_data() {
    QTest::addColumn<QueuePolicy>("policy");
    QTest::addColumn<QString>("field");
    QueuePolicy p;
    p.maxAttempts = 20000;
    QTest::newRow("max attempts 20000") << p << "max-attempts";
    p = {};
    p.ackTimeout = Millis(10);
    QTest::newRow("ack timeout 10 ms") << p << "ack-timeout";
    p = {};
    p.backoff.clear();
    QTest::newRow("empty backoff") << p << "backoff";
    p = {};
    p.backoff = {Millis(1000), Millis(-5)};
    QTest::newRow("negative backoff step") << p << "backoff[1]";
    p = {};
    p.ttl = Millis(0);
    QTest::newRow("ttl 0") << p << "ttl";
    p = {};
    p.ttl = Millis(-1);
    QTest::newRow("negative ttl") << p << "ttl";
    p = {};
    p.maxLength = 0;
    QTest::newRow("max length 0") << p << "max-length";
    p = {};
    p.dedupWindow = Millis(25LL * 3600 * 1000);
    QTest::newRow("dedup window 25 h") << p << "dedup-window";
    p = {};
    p.deadLetterQueue = "bad\x01name";
    QTest::newRow("bad dead-letter queue name") << p << "dead-letter";
}

void TestBadInput::testPolicyOutOfRangeIsRejected() {
    QFETCH(QueuePolicy, policy);
    QFETCH(QString, field);
    BrokerHarness h;
    auto declared = h.broker().declareQueue({"q", policy});
    QVERIFY(!declared);
    QCOMPARE(declared.status().code(), StatusCode::InvalidArgument);
    QVERIFY2(text(declared.status().message()).contains(field), declared.status().message().c_str());
    QVERIFY(!queueExists(h, "q"));
    QVERIFY(!queueExists(h, "q.dlq"));
    checkStillServes(h, "q");  // the name is free: a valid declare works
}

void TestBadInput::testPolicyOutOfRangeInUpdateKeepsPolicy() {
    BrokerHarness h;
    h.declare("q");
    QueuePolicy bad;
    bad.maxAttempts = 20000;
    auto updated = h.broker().updateQueuePolicy("q", bad);
    QVERIFY(!updated);
    QCOMPARE(updated.status().code(), StatusCode::InvalidArgument);
    auto info = queueInfo(h, "q");
    QVERIFY(info);
    QVERIFY(info->policy == QueuePolicy{});
}

void TestBadInput::testUnknownTagIsNotFoundAndHarmless() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(int(h.publish("q", "real").outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    for (uint64_t tag : {delivery->tag + 1, delivery->tag + 1000, uint64_t(0), UINT64_MAX}) {
        Status acked = h.broker().ack(consumer, tag);
        QCOMPARE(acked.code(), StatusCode::NotFound);
        QVERIFY2(acked.message().find(std::to_string(tag)) != std::string::npos, acked.message().c_str());
        QCOMPARE(h.broker().nack(consumer, tag).code(), StatusCode::NotFound);
        QCOMPARE(h.broker().nack(consumer, tag, {false, "reject"}).code(), StatusCode::NotFound);
    }
    QueueStats stats = h.queueStats("q");
    QCOMPARE(stats.unacked, uint64_t(1));
    QCOMPARE(stats.deadLetterDepth, uint64_t(0));
    QCOMPARE(stats.counters.retried, uint64_t(0));
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());  // the real one is still ackable
    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.broker().ack(consumer, delivery->tag).code(), StatusCode::NotFound);  // once
}

void TestBadInput::testForeignTagIsNotFoundAndHarmless() {
    BrokerHarness h;
    h.declare("q");
    h.declare("other");
    QCOMPARE(int(h.publish("q", "mine").outcome), int(PublishOutcome::Confirmed));
    auto [owner, inbox] = h.consume("q");
    auto [stranger, strangerInbox] = h.consume("other");  // holds no deliveries, so no tag of its own
    auto delivery = inbox->next();
    QVERIFY(delivery);

    QCOMPARE(h.broker().ack(stranger, delivery->tag).code(), StatusCode::NotFound);
    QCOMPARE(h.broker().nack(stranger, delivery->tag).code(), StatusCode::NotFound);
    QCOMPARE(h.broker().nack(stranger, delivery->tag, {false, "not yours"}).code(), StatusCode::NotFound);
    QueueStats stats = h.queueStats("q");
    QCOMPARE(stats.unacked, uint64_t(1));
    QCOMPARE(stats.deadLetterDepth, uint64_t(0));

    // The owner's nack still works: the message is retried and delivered again.
    QVERIFY(h.broker().nack(owner, delivery->tag, {true, "try again"}).isOk());
    h.advance(std::chrono::seconds(1));
    auto again = inbox->next();
    QVERIFY(again);
    QCOMPARE(again->sequence, delivery->sequence);
    QCOMPARE(again->attempt, 2u);
    QVERIFY(h.broker().ack(owner, again->tag).isOk());
    QCOMPARE(h.depth("q"), uint64_t(0));
    QVERIFY(!strangerInbox->next(std::chrono::milliseconds(20)));
}

void TestBadInput::testUnknownConsumerIsNotFound() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(int(h.publish("q", "m").outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(h.broker().ack(consumer + 100, delivery->tag).code(), StatusCode::NotFound);
    QCOMPARE(h.broker().nack(consumer + 100, delivery->tag).code(), StatusCode::NotFound);
    QCOMPARE(h.broker().cancel(consumer + 100).code(), StatusCode::NotFound);
    QCOMPARE(h.queueStats("q").unacked, uint64_t(1));
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
}

void TestBadInput::testInvalidHeadersAreRejected_data() {
    QTest::addColumn<Headers>("headers");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("empty name") << Headers{{"", "v"}} << "header name";
    QTest::newRow("control character in name") << Headers{{"x\x01y", "v"}} << "header name";
    QTest::newRow("bad UTF-8 in name") << Headers{{"x\xff", "v"}} << "header name";
    QTest::newRow("name of 256 bytes") << Headers{{std::string(256, 'h'), "v"}} << "header name";
    QTest::newRow("value over 64 KiB") << Headers{{"big", std::string(64 * 1024 + 1, 'v')}} << "65537";
    Headers many;
    for (int i = 0; i < 257; ++i)
        many.push_back({"h" + std::to_string(i), "v"});
    QTest::newRow("257 headers") << many << "too many headers";
}

void TestBadInput::testInvalidHeadersAreRejected() {
    QFETCH(Headers, headers);
    QFETCH(QString, mentions);
    BrokerHarness h;
    h.declare("q");
    const uint64_t before = h.broker().stats().logWrittenOffset;
    Message message;
    message.headers = headers;
    PublishResult result = h.publish("q", "body", message);
    QCOMPARE(int(result.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(result.reason), int(NackReason::Invalid));
    QVERIFY2(text(result.error).contains(mentions), result.error.c_str());
    QCOMPARE(h.depth("q"), uint64_t(0));
    QCOMPARE(h.broker().stats().logWrittenOffset, before);
    checkStillServes(h, "q");
}

void TestBadInput::testInvalidBindingPatternIsRejected() {
    BrokerHarness h;
    h.declare("q");
    QVERIFY(h.broker().declareExchange({"t", ExchangeType::Topic, ""}).isOk());
    for (const char* pattern : {"a..b", "a.b*", "#x", "a.\x01"}) {
        Status status = h.broker().bind({"t", "q", pattern});
        QCOMPARE(status.code(), StatusCode::InvalidArgument);
        QVERIFY2(status.message().find("pattern") != std::string::npos, status.message().c_str());
    }
    QVERIFY(h.broker().listBindings()->empty());
}

void TestBadInput::testBrokerServesAfterAllOfIt() {
    BrokerHarness h;
    h.declare("q");
    QCOMPARE(int(h.publish("q", "first").outcome), int(PublishOutcome::Confirmed));
    auto [consumer, inbox] = h.consume("q", 1);
    auto delivery = inbox->next();
    QVERIFY(delivery);
    // A barrage of bad requests, one of each kind.
    QVERIFY(!h.broker().declareQueue({"", {}}));
    QVERIFY(!h.broker().declareQueue({std::string(300, 'x'), {}}));
    QVERIFY(!h.broker().declareQueue({"bad\xff", {}}));
    QueuePolicy conflicting;
    conflicting.maxAttempts = 1;
    QVERIFY(!h.broker().declareQueue({"q", conflicting}));
    QueuePolicy outOfRange;
    outOfRange.ackTimeout = Millis(10);
    QVERIFY(!h.broker().declareQueue({"new", outOfRange}));
    QVERIFY(!h.broker().purgeQueue("ghost"));
    QVERIFY(!h.broker().deleteQueue("ghost").isOk());
    QVERIFY(!h.broker().browse("ghost"));
    QVERIFY(!h.broker().ack(consumer, delivery->tag + 7).isOk());
    QVERIFY(!h.broker().nack(consumer + 1, delivery->tag).isOk());
    Message badHeaders;
    badHeaders.headers = {{"", ""}};
    QCOMPARE(int(h.publish("q", "x", badHeaders).reason), int(NackReason::Invalid));
    QCOMPARE(int(h.publish("q", std::string(kDefaultMaxMessageSize + 1, 'x')).reason), int(NackReason::TooLarge));
    QCOMPARE(int(h.publish("ghost", "x").reason), int(NackReason::NoQueue));
    Message badTtl;
    badTtl.ttl = Millis(0);
    QCOMPARE(int(h.publish("q", "x", badTtl).reason), int(NackReason::Invalid));

    // Then ordinary work, and the one real delivery is still what it was.
    QCOMPARE(h.queueStats("q").unacked, uint64_t(1));
    QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    QCOMPARE(int(h.publish("q", "second").outcome), int(PublishOutcome::Confirmed));
    auto next = inbox->next();
    QVERIFY(next);
    QCOMPARE(text(next->body), QString("second"));
    QVERIFY(h.broker().ack(consumer, next->tag).isOk());
    QCOMPARE(h.depth("q"), uint64_t(0));
    auto queues = h.broker().listQueues();
    QVERIFY(queues);
    QCOMPARE(queues->size(), size_t(2));  // q and q.dlq, nothing from the bad requests
    QVERIFY(h.restart().isOk());
    QCOMPARE(h.broker().listQueues()->size(), size_t(2));
}

QTEST_GUILESS_MAIN(TestBadInput)
#include "TestBadInput.moc"
