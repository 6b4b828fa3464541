// The JSON objects of the wire protocol (docs/protocol.md, "JSON objects"): every object round-trips with every
// field, bytes that are not UTF-8 travel as base64, latency histograms are rebuilt from their buckets, and
// malformed input is InvalidArgument naming the field, never an exception.
#include <QtTest>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "protocol/ProtocolJson.h"

using namespace depot;
using namespace depot::broker;
using namespace depot::protocol;

namespace {

using Reencode = std::function<Result<Json>(const Json&)>;

// Decodes a JSON object and encodes the result again.
template <typename T>
Reencode reencoder(Result<T> (*fromJson)(const Json&), Json (*toJson)(const T&)) {
    return [fromJson, toJson](const Json& value) -> Result<Json> {
        Result<T> decoded = fromJson(value);
        if (!decoded)
            return decoded.status();
        return toJson(*decoded);
    };
}

// Every field differs from its default, so a reader that skips a field changes the re-encoded JSON.
QueuePolicy unusualPolicy() {
    QueuePolicy policy;
    policy.durable = false;
    policy.flush = FlushMode::Async;
    policy.maxAttempts = 9;
    policy.backoff = {Millis(250), Millis(86'400'000)};
    policy.ackTimeout = Millis(12'345);
    policy.ttl = Millis(60'000);
    policy.maxLength = std::numeric_limits<uint64_t>::max();
    policy.overflow = Overflow::DeadLetterOldest;
    policy.ordering = Ordering::PerKey;
    policy.dedupWindow = Millis(0);
    policy.deadLetterQueue = "orders.parking";
    policy.replication = Replication::Async;
    policy.replicaTimeout = Millis(777);
    policy.onReplicaTimeout = ReplicaTimeoutAction::Confirm;
    return policy;
}

// Both optional offsets set: a reader must keep each (a replica acts on one at a time; the codec does not choose).
FetchReply unusualFetchReply() {
    FetchReply reply;
    reply.logId = "5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e";
    reply.epoch = 2;
    reply.from = 100;
    reply.end = 100;
    reply.primaryDurable = 4096;
    reply.definitions = 1'700'000'000'999;
    reply.logStart = 64;
    reply.truncateTo = 90;
    reply.resetTo = 64;
    return reply;
}

ReplicationStatus unusualReplicationStatus() {
    ReplicationStatus s;
    s.role = Role::Fenced;
    s.logId = "5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e";
    s.epoch = 3;
    s.writtenOffset = 9000;
    s.durableOffset = 8000;
    s.logStart = 128;
    s.epochs = {{1, 100, 1'700'000'000'000}, {3, 7000, 1'700'000'000'500}};
    s.replicas = {{"r1", "10.0.0.2", 7500, 500, 12, 340, 1'700'000'000'700, true}};
    s.atRisk = 12;
    s.confirmedWithoutReplica = 4;
    s.nackedForReplica = 5;
    s.primary = "tcp://10.0.0.1:7420";
    s.primaryDurable = 8000;
    s.lagMs = 20;
    s.lastContact = 1'700'000'000'800;
    s.connected = true;
    s.lastError = "no answer";
    s.fencedBy = "epoch 3, promoted replica r1";
    return s;
}

Counters countingCounters(uint64_t base) {
    return {base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8, base + 9, base + 10};
}

QueueStats unusualQueueStats(const std::string& name) {
    return {name, QueueKind::DeadLetter, false, FlushMode::Async, "x.dlq", 1, 2, 3, 4, 5, 6, 7, 1'700'000'000'001,
            countingCounters(100)};
}

DeathRecord unusualDeath() {
    return {DeathReason::TxUnresolved, "orders", 5, 1'700'000'000'000, 1'700'000'000'500, 2, "db down \xe2\x9c\x97",
            {{1'700'000'000'100, "ops@10.0.0.1", "orders.dlq", "orders"}, {1'700'000'000'200, "b", "c", "d"}}};
}

QueuedMessage unusualMessage(std::string body) {
    QueuedMessage message;
    message.sequence = std::numeric_limits<uint64_t>::max();
    message.queue = "orders.dlq";
    message.messageId = "m-1";
    message.key = "customer-7";
    message.headers = {{"a", "1"}, {"a", "\xff\x00\xfe"}, {"\xc0\x80name", "v"}, {"", ""}};
    message.body = std::move(body);
    message.size = 42;
    message.attempts = 3;
    message.state = MessageState::Delayed;
    message.publishedAt = 1'700'000'000'000;
    message.dueAt = 1'700'000'009'000;
    message.expiresAt = 1'700'000'060'000;
    message.death = unusualDeath();
    return message;
}

LatencyHistogram histogramOf(std::initializer_list<uint64_t> nanoseconds) {
    LatencyHistogram histogram;
    for (uint64_t value : nanoseconds)
        histogram.record(value);
    return histogram;
}

BrokerStats unusualStats() {
    BrokerStats stats;
    stats.at = 1'700'000'000'000;
    stats.totals = countingCounters(1000);
    stats.queues = {unusualQueueStats("a"), unusualQueueStats("b")};
    stats.connections = 3;
    stats.consumers = 4;
    stats.unflushedMessages = 5;
    stats.logWrittenOffset = 6;
    stats.logDurableOffset = 7;
    stats.logBytesOnDisk = 8;
    stats.logSegments = 9;
    stats.logReadOnly = true;
    stats.logFailure = "fdatasync failed";
    stats.asyncFlushIntervalMs = 250;
    stats.traceDropped = 10;
    stats.confirmLatency = histogramOf({900, 250'000, 251'000, 3'000'000});
    stats.deliverLatency = histogramOf({1});
    stats.fsyncLatency = histogramOf({0, 2, 3, uint64_t(1) << 50});
    return stats;
}

struct RoundTripCase {
    Json original;
    Reencode reencode;
    QStringList documentedKeys;  // docs/protocol.md's keys for this object
};

std::map<QString, RoundTripCase> roundTripCases() {
    MessageFilter filter{{1, std::numeric_limits<uint64_t>::max()}, "m-1", "orders", DeathReason::Expired, 5, 10,
                         "needle", "timeout", "$.order.id", "42"};
    RequeueReport report{{{1, "m-1", "orders", Status::ok()}, {2, "m-2", "gone", Status::notFound("no queue")}},
                         1, 1, true};
    QueueInfo queue{7, "orders", unusualPolicy(), QueueKind::DeadLetter, "orders.dlq", 1'700'000'000'123};
    return {
        {"policy",
         {policyToJson(unusualPolicy()), reencoder(policyFromJson, policyToJson),
          {"durable", "flush", "maxAttempts", "backoffMs", "ackTimeoutMs", "ttlMs", "maxLength", "overflow",
           "ordering", "dedupWindowMs", "deadLetterQueue", "replication", "replicaTimeoutMs", "onReplicaTimeout"}}},
        {"queue",
         {queueInfoToJson(queue), reencoder(queueInfoFromJson, queueInfoToJson),
          {"id", "name", "kind", "policy", "deadLetterQueue", "createdAt"}}},
        {"queue stats",
         {queueStatsToJson(unusualQueueStats("q")), reencoder(queueStatsFromJson, queueStatsToJson),
          {"name", "kind", "durable", "flush", "deadLetterQueue", "ready", "unacked", "delayed", "prepared",
           "consumers", "bytes", "deadLetterDepth", "oldestPublishedAt", "counters"}}},
        {"counters",
         {countersToJson(countingCounters(0)), reencoder(countersFromJson, countersToJson),
          {"published", "confirmed", "nacked", "delivered", "redelivered", "acked", "retried", "deadLettered",
           "expired", "deduplicated"}}},
        {"exchange",
         {exchangeToJson({"events", ExchangeType::Topic, "unroutable"}), reencoder(exchangeFromJson, exchangeToJson),
          {"name", "type", "alternateQueue"}}},
        {"binding",
         {bindingToJson({"events", "audit", "order.#"}), reencoder(bindingFromJson, bindingToJson),
          {"exchange", "queue", "pattern"}}},
        {"filter",
         {filterToJson(filter), reencoder(filterFromJson, filterToJson),
          {"sequences", "messageId", "sourceQueue", "reason", "from", "to", "text", "error", "jsonPath",
           "jsonEquals"}}},
        {"death",
         {deathToJson(unusualDeath()), reencoder(deathFromJson, deathToJson),
          {"reason", "sourceQueue", "attempts", "firstDeathAt", "lastDeathAt", "deaths", "lastError", "requeues"}}},
        {"message with a UTF-8 body",
         {messageToJson(unusualMessage("h\xc3\xa9llo")), reencoder(messageFromJson, messageToJson),
          {"sequence", "queue", "id", "key", "headers", "body", "size", "attempts", "state", "publishedAt", "dueAt",
           "expiresAt", "death"}}},
        {"message with a binary body",
         {messageToJson(unusualMessage(std::string("\x00\xff\x80 binary", 10))),
          reencoder(messageFromJson, messageToJson),
          {"sequence", "queue", "id", "key", "headers", "bodyBase64", "size", "attempts", "state", "publishedAt",
           "dueAt", "expiresAt", "death"}}},
        {"report",
         {reportToJson(report), reencoder(reportFromJson, reportToJson),
          {"requeued", "failed", "cancelled", "items"}}},
        {"stats",
         {statsToJson(unusualStats()), reencoder(statsFromJson, statsToJson),
          {"at", "totals", "queues", "connections", "consumers", "unflushedMessages", "log", "traceDropped",
           "latency"}}},
        {"trace event",
         {traceEventToJson({1'700'000'000'000, TraceKind::RetryScheduled, "orders", 9, "m-1", "k", "due at 5"}),
          reencoder(traceEventFromJson, traceEventToJson),
          {"at", "kind", "queue", "sequence", "messageId", "key", "detail"}}},
        {"audit entry",
         {auditEntryToJson({1'700'000'000'000, "ops@host", "purge", "orders", "all", 12, false}),
          reencoder(auditEntryFromJson, auditEntryToJson),
          {"at", "actor", "action", "target", "detail", "count", "ok"}}},
        {"fetch request",
         {fetchRequestToJson({"replica-1", "", "5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e", 3, 8792, 8700, 1u << 20}),
          reencoder(fetchRequestFromJson, fetchRequestToJson),
          {"replica", "log", "lastEpoch", "from", "durable", "maxBytes"}}},
        {"fetch reply",
         {fetchReplyToJson(unusualFetchReply()), reencoder(fetchReplyFromJson, fetchReplyToJson),
          {"log", "epoch", "from", "end", "primaryDurable", "definitions", "logStart", "truncateTo", "resetTo"}}},
        {"replication status",
         {replicationStatusToJson(unusualReplicationStatus()),
          reencoder(replicationStatusFromJson, replicationStatusToJson),
          {"role", "log", "epoch", "writtenOffset", "durableOffset", "logStart", "epochs", "replicas", "atRisk",
           "confirmedWithoutReplica", "nackedForReplica", "primary", "primaryDurable", "lagMs", "lastContact",
           "connected", "lastError", "fencedBy"}}},
        {"sample",
         {sampleToJson({1'700'000'000'000, "orders", countingCounters(5), 1, 2, 3, 4, 5, 6, 7, 8, 9}),
          reencoder(sampleFromJson, sampleToJson),
          {"at", "queue", "counters", "ready", "unacked", "delayed", "deadLetterDepth", "unflushed", "confirmP50Us",
           "confirmP99Us", "fsyncP50Us", "fsyncP99Us"}}},
    };
}

using Decoder = std::function<Status(const Json&)>;

template <typename T>
Decoder decoder(Result<T> (*fromJson)(const Json&)) {
    return [fromJson](const Json& value) { return fromJson(value).status(); };
}

std::map<QString, Decoder> decoders() {
    return {
        {"policy", decoder(policyFromJson)},     {"queue", decoder(queueInfoFromJson)},
        {"queue stats", decoder(queueStatsFromJson)}, {"counters", decoder(countersFromJson)},
        {"exchange", decoder(exchangeFromJson)}, {"binding", decoder(bindingFromJson)},
        {"filter", decoder(filterFromJson)},     {"death", decoder(deathFromJson)},
        {"message", decoder(messageFromJson)},   {"report", decoder(reportFromJson)},
        {"stats", decoder(statsFromJson)},       {"trace event", decoder(traceEventFromJson)},
        {"audit entry", decoder(auditEntryFromJson)}, {"sample", decoder(sampleFromJson)},
        {"headers", decoder(headersFromJson)},   {"body", decoder(takeBody)},
        {"fetch request", decoder(fetchRequestFromJson)}, {"fetch reply", decoder(fetchReplyFromJson)},
        {"replication status", decoder(replicationStatusFromJson)},
    };
}

// Calls `visit` with every value inside `value` (objects and arrays, depth first), by reference.
void forEachNested(Json& value, const std::function<void(Json&)>& visit) {
    if (!value.is_structured())
        return;
    for (Json& item : value) {
        visit(item);
        forEachNested(item, visit);
    }
}

QByteArray bytes(const std::string& s) { return QByteArray(s.data(), qsizetype(s.size())); }

}  // namespace

class TestProtocolJson : public QObject {
    Q_OBJECT

private slots:
    void testEveryObjectRoundTripsWithEveryDocumentedKey_data() {
        QTest::addColumn<QString>("object");
        for (const auto& [name, unused] : roundTripCases())
            QTest::newRow(qPrintable(name)) << name;
    }
    void testEveryObjectRoundTripsWithEveryDocumentedKey() {
        QFETCH(QString, object);
        const RoundTripCase c = roundTripCases().at(object);
        for (const QString& key : c.documentedKeys)
            QVERIFY2(c.original.contains(key.toStdString()), qPrintable(key));
        // Through text, as on the wire.
        Result<Json> parsed = parseObject(toText(c.original));
        QVERIFY2(parsed.isOk(), parsed.status().toString().c_str());
        Result<Json> again = c.reencode(*parsed);
        QVERIFY2(again.isOk(), again.status().toString().c_str());
        QCOMPARE(QString::fromStdString(toText(*again)), QString::fromStdString(toText(c.original)));
    }

    void testMessageFieldsSurviveTheRoundTrip() {
        QueuedMessage original = unusualMessage(std::string("\x00\xff", 2));
        Result<QueuedMessage> decoded = messageFromJson(messageToJson(original));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(decoded->sequence, original.sequence);
        QCOMPARE(bytes(decoded->body), bytes(original.body));
        QVERIFY(decoded->headers == original.headers);
        QVERIFY(decoded->death == original.death);
        QVERIFY(decoded->state == MessageState::Delayed);
    }

    void testFailedReportItemsKeepTheirStatusCode() {
        RequeueReport report{{{2, "m-2", "gone", Status::notFound("no queue \"gone\"")}}, 0, 1, false};
        Result<RequeueReport> decoded = reportFromJson(reportToJson(report));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(decoded->items.at(0).status.code(), StatusCode::NotFound);
        QCOMPARE(decoded->items.at(0).status.message(), std::string("no queue \"gone\""));
    }

    void testBytesThatAreNotUtf8TravelAsBase64_data() {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<bool>("utf8");
        std::string all;
        for (int i = 0; i < 256; ++i)
            all.push_back(char(i));
        QTest::newRow("empty") << QByteArray() << true;
        QTest::newRow("ascii") << QByteArray("hello") << true;
        QTest::newRow("embedded nul") << QByteArray("a\0b", 3) << true;
        QTest::newRow("two, three and four bytes") << QByteArray("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") << true;
        QTest::newRow("largest code point") << QByteArray("\xf4\x8f\xbf\xbf") << true;
        QTest::newRow("beyond U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << false;
        QTest::newRow("lone continuation") << QByteArray("\x80") << false;
        QTest::newRow("overlong nul") << QByteArray("\xc0\x80") << false;
        QTest::newRow("overlong three bytes") << QByteArray("\xe0\x80\xaf") << false;
        QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80") << false;
        QTest::newRow("truncated sequence") << QByteArray("ok\xe2\x82") << false;
        QTest::newRow("invalid lead byte") << QByteArray("\xff") << false;
        QTest::newRow("every byte value") << bytes(all) << false;
    }
    void testBytesThatAreNotUtf8TravelAsBase64() {
        QFETCH(QByteArray, data);
        QFETCH(bool, utf8);
        const std::string value(data.constData(), size_t(data.size()));
        QCOMPARE(isValidUtf8(value), utf8);

        Json object = Json::object();
        putBody(object, value);
        QCOMPARE(object.contains("body"), utf8);
        QCOMPARE(object.contains("bodyBase64"), !utf8);
        Result<Json> parsed = parseObject(object.dump());  // dump() throws on bad UTF-8: base64 must avoid it
        QVERIFY(parsed.isOk());
        Result<std::string> body = takeBody(*parsed);
        QVERIFY2(body.isOk(), body.status().toString().c_str());
        QCOMPARE(bytes(*body), data);

        Headers headers{{value, value}, {"plain", value}};
        Json json = headersToJson(headers);
        QCOMPARE(json[1][1].is_string(), utf8);
        Result<Headers> decoded = headersFromJson(*parseObject("{\"h\":" + json.dump() + "}")->find("h"));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QVERIFY(*decoded == headers);
    }

    void testBase64MatchesTheStandardVectors_data() {
        QTest::addColumn<QByteArray>("plain");
        QTest::addColumn<QString>("encoded");
        // RFC 4648, section 10.
        QTest::newRow("empty") << QByteArray() << "";
        QTest::newRow("f") << QByteArray("f") << "Zg==";
        QTest::newRow("fo") << QByteArray("fo") << "Zm8=";
        QTest::newRow("foo") << QByteArray("foo") << "Zm9v";
        QTest::newRow("foob") << QByteArray("foob") << "Zm9vYg==";
        QTest::newRow("fooba") << QByteArray("fooba") << "Zm9vYmE=";
        QTest::newRow("foobar") << QByteArray("foobar") << "Zm9vYmFy";
        QTest::newRow("high bytes") << QByteArray("\xff\xfe\xfd") << "//79";
    }
    void testBase64MatchesTheStandardVectors() {
        QFETCH(QByteArray, plain);
        QFETCH(QString, encoded);
        const std::string bytesIn(plain.constData(), size_t(plain.size()));
        QCOMPARE(QString::fromStdString(base64Encode(bytesIn)), encoded);
        Result<std::string> decoded = base64Decode(encoded.toStdString());
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        QCOMPARE(bytes(*decoded), plain);
        // Unpadded input is accepted too.
        std::string unpadded = encoded.toStdString();
        unpadded.erase(unpadded.find_last_not_of('=') + 1);
        Result<std::string> fromUnpadded = base64Decode(unpadded);
        QVERIFY(fromUnpadded.isOk());
        QCOMPARE(bytes(*fromUnpadded), plain);
    }

    void testMalformedBase64IsRejected_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("outside the alphabet") << "Zm9v!A==";
        QTest::newRow("url-safe alphabet") << "-_8=";
        QTest::newRow("whitespace") << "Zm9v YmFy";
        QTest::newRow("padding in the middle") << "Zg==Zg==";
        QTest::newRow("non-zero bits after the last byte") << "Zm9=";
        QTest::newRow("three padding characters") << "Z===";
        QTest::newRow("dangling character") << "Zm9vY";
    }
    void testMalformedBase64IsRejected() {
        QFETCH(QString, text);
        Result<std::string> decoded = base64Decode(text.toStdString());
        QVERIFY(!decoded.isOk());
        QCOMPARE(decoded.status().code(), StatusCode::InvalidArgument);
    }

    void testLatencyHistogramsAreRebuiltFromTheirBuckets_data() {
        QTest::addColumn<QList<qulonglong>>("nanoseconds");
        QTest::newRow("empty") << QList<qulonglong>{};
        QTest::newRow("below a microsecond") << QList<qulonglong>{0, 1, 7, 999};
        QTest::newRow("spread") << QList<qulonglong>{1'500, 80'000, 80'001, 250'000, 9'999'999, 12'345'678};
        QTest::newRow("max inside a wide bucket") << QList<qulonglong>{1'000'000, 1'100'000, 1'123'456};
        QTest::newRow("overflow bucket") << QList<qulonglong>{5, qulonglong(1) << 45, ~qulonglong(0)};
    }
    void testLatencyHistogramsAreRebuiltFromTheirBuckets() {
        QFETCH(QList<qulonglong>, nanoseconds);
        BrokerStats stats;
        for (qulonglong value : nanoseconds)
            stats.fsyncLatency.record(value);
        Result<BrokerStats> decoded = statsFromJson(*parseObject(toText(statsToJson(stats))));
        QVERIFY2(decoded.isOk(), decoded.status().toString().c_str());
        const LatencyHistogram& original = stats.fsyncLatency;
        const LatencyHistogram& rebuilt = decoded->fsyncLatency;
        QCOMPARE(rebuilt.count(), original.count());
        for (int bucket = 0; bucket < LatencyHistogram::kBucketCount; ++bucket)
            QCOMPARE(rebuilt.bucketCount(bucket), original.bucketCount(bucket));
        QCOMPARE(rebuilt.max() / 1000, original.max() / 1000);
        for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0})
            QCOMPARE(rebuilt.percentile(p) / 1000, original.percentile(p) / 1000);
        QCOMPARE(decoded->confirmLatency.count(), uint64_t(0));
    }

    void testMalformedInputNamesTheField_data() {
        QTest::addColumn<QString>("object");
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("field");
        auto row = [](const char* name, const char* object, const char* json, const char* field) {
            QTest::newRow(name) << object << json << field;
        };
        row("not an object", "policy", R"([1, 2])", "JSON object");
        row("bool as string", "policy", R"({"durable":"yes"})", "\"durable\"");
        row("unknown enum", "policy", R"({"ordering":"by-key"})", "\"ordering\"");
        row("fraction", "policy", R"({"maxAttempts":1.5})", "\"maxAttempts\"");
        row("too big for uint32", "policy", R"({"maxAttempts":4294967296})", "\"maxAttempts\"");
        row("backoff item", "policy", R"({"backoffMs":[1000,"5s"]})", "\"backoffMs[1]\"");
        row("nested policy", "queue", R"({"name":"q","policy":{"maxLength":-5}})", "\"policy.maxLength\"");
        row("policy not an object", "queue", R"({"name":"q","policy":[]})", "\"policy\"");
        row("missing name", "queue", R"({"id":1})", "\"name\"");
        row("id out of range", "queue", R"({"name":"q","id":-1})", "\"id\"");
        row("negative counter", "counters", R"({"acked":-1})", "\"acked\"");
        row("counter as float", "counters", R"({"acked":1e3})", "\"acked\"");
        row("exchange type", "exchange", R"({"name":"x","type":"headers"})", "\"type\"");
        row("binding without queue", "binding", R"({"exchange":"x"})", "\"queue\"");
        row("filter reason", "filter", R"({"reason":"lost"})", "\"reason\"");
        row("filter sequence", "filter", R"({"sequences":[1,"2"]})", "\"sequences[1]\"");
        row("filter time", "filter", R"({"from":"yesterday"})", "\"from\"");
        row("filter json path", "filter", R"({"jsonPath":"order..id"})", "\"jsonPath\"");
        row("filter json value without path", "filter", R"({"jsonEquals":"42"})", "\"jsonEquals\"");
        row("death without reason", "death", R"({"attempts":1})", "\"reason\"");
        row("requeue lineage", "death", R"({"reason":"rejected","requeues":[{"at":"now"}]})", "\"requeues[0].at\"");
        row("message without sequence", "message", R"({"id":"m"})", "\"sequence\"");
        row("message state", "message", R"({"sequence":1,"state":"gone"})", "\"state\"");
        row("body and base64", "message", R"({"sequence":1,"body":"x","bodyBase64":"eA=="})", "\"bodyBase64\"");
        row("bad base64 body", "message", R"({"sequence":1,"bodyBase64":"e!=="})", "\"bodyBase64\"");
        row("body as number", "message", R"({"sequence":1,"body":5})", "\"body\"");
        row("header not a pair", "message", R"({"sequence":1,"headers":[["a"]]})", "\"headers[0]\"");
        row("header value", "message", R"({"sequence":1,"headers":[["a",{"hex":"00"}]]})", "\"headers[0].value\"");
        row("header base64", "message", R"({"sequence":1,"headers":[["a",{"base64":"%"}]]})", "\"headers[0].value\"");
        row("nested death", "message", R"({"sequence":1,"death":{"reason":"x"}})", "\"death.reason\"");
        row("report item", "report", R"({"items":[{"sequence":1}]})", "\"items[0].ok\"");
        row("stats queue", "stats", R"({"queues":[{"name":"a"},{"name":5}]})", "\"queues[1].name\"");
        row("stats log", "stats", R"({"log":{"readOnly":1}})", "\"log.readOnly\"");
        row("latency count", "stats", R"({"latency":{"fsync":{"count":3,"buckets":[[8,2]]}}})",
            "\"latency.fsync.count\"");
        row("latency bucket index", "stats", R"({"latency":{"confirm":{"count":1,"buckets":[[1,1]]}}})",
            "\"latency.confirm.buckets[0]\"");
        row("latency bucket past the end", "stats", R"({"latency":{"confirm":{"count":1,"buckets":[[100000,1]]}}})",
            "\"latency.confirm.buckets[0]\"");
        row("latency bucket order", "stats", R"({"latency":{"deliver":{"count":2,"buckets":[[16,1],[8,1]]}}})",
            "\"latency.deliver.buckets[1]\"");
        row("latency count overflow", "stats",
            R"({"latency":{"deliver":{"count":1,"buckets":[[8,18446744073709551615],[16,2]]}}})",
            "\"latency.deliver.buckets[1]\"");
        row("trace without kind", "trace event", R"({"at":1})", "\"kind\"");
        row("trace kind", "trace event", R"({"kind":"vanished"})", "\"kind\"");
        row("audit without action", "audit entry", R"({"actor":"a"})", "\"action\"");
        row("sample counters", "sample", R"({"counters":"many"})", "\"counters\"");
        row("headers not an array", "headers", R"({"a":"b"})", "\"headers\"");
        row("fetch without from", "fetch request", R"({"replica":"r","lastEpoch":0,"durable":0})", "\"from\"");
        row("fetch offset negative", "fetch request", R"({"replica":"r","lastEpoch":0,"from":-1,"durable":0})",
            "\"from\"");
        row("fetch reply without log", "fetch reply", R"({"epoch":0,"from":0,"end":0})", "\"log\"");
        row("fetch reply truncate text", "fetch reply", R"({"log":"a","epoch":0,"from":0,"end":0,"truncateTo":"x"})",
            "\"truncateTo\"");
        row("replication role", "replication status", R"({"role":"leader"})", "\"role\"");
    }
    void testMalformedInputNamesTheField() {
        QFETCH(QString, object);
        QFETCH(QString, json);
        QFETCH(QString, field);
        Result<Json> parsed = parseObject("{\"v\":" + json.toStdString() + "}");
        QVERIFY2(parsed.isOk(), parsed.status().toString().c_str());
        Status status = decoders().at(object)(parsed->at("v"));
        QVERIFY2(!status.isOk(), qPrintable(json));
        QCOMPARE(status.code(), StatusCode::InvalidArgument);
        QVERIFY2(QString::fromStdString(status.message()).contains(field), status.message().c_str());
    }

    // Every value inside every object, replaced by each JSON type in turn: the decoder accepts it or says
    // InvalidArgument, and never throws.
    void testWrongTypesAnywhereAreRefusedCleanly() {
        const std::vector<Json> replacements{Json(), Json(true), Json(-1), Json(1.5), Json("text"), Json::array(),
                                             Json::object(), Json::array({Json::array({1})})};
        std::map<QString, Decoder> byName = decoders();
        for (const auto& [name, c] : roundTripCases()) {
            QString decoderName = name.startsWith("message") ? QString("message") : name;
            const Decoder& decode = byName.at(decoderName);
            size_t values = 0;
            Json probe = c.original;
            forEachNested(probe, [&](Json&) { ++values; });
            for (size_t target = 0; target < values; ++target) {
                for (const Json& replacement : replacements) {
                    Json mutated = c.original;
                    size_t index = 0;
                    forEachNested(mutated, [&](Json& value) {
                        if (index++ == target)
                            value = replacement;
                    });
                    Status status = decode(mutated);
                    QVERIFY2(status.isOk() || status.code() == StatusCode::InvalidArgument,
                             qPrintable(name + ": " + QString::fromStdString(status.toString())));
                }
            }
        }
    }

    void testUnknownKeysAreIgnoredAndAbsentOnesDefault() {
        Result<QueuePolicy> policy = policyFromJson(*parseObject(R"({"flush":"async","future":{"x":[1]},
            "maxLength":7,"ttlMs":null})"));
        QVERIFY2(policy.isOk(), policy.status().toString().c_str());
        QueuePolicy expected;
        expected.flush = FlushMode::Async;
        expected.maxLength = 7;
        QVERIFY(*policy == expected);
        Result<MessageFilter> filter = filterFromJson(Json::object());
        QVERIFY(filter.isOk());
        QCOMPARE(filter->to, std::numeric_limits<TimeMs>::max());
        QVERIFY(!filter->reason);
        QCOMPARE(QString::fromStdString(toText(filterToJson(MessageFilter{}))), QString("{}"));
    }

    void testParseObjectAcceptsOnlyObjects_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("empty frame") << QByteArray() << true;
        QTest::newRow("object") << QByteArray(R"({"op":"stats"})") << true;
        QTest::newRow("array") << QByteArray("[]") << false;
        QTest::newRow("string") << QByteArray(R"("x")") << false;
        QTest::newRow("truncated") << QByteArray(R"({"op":)") << false;
        QTest::newRow("trailing garbage") << QByteArray(R"({} x)") << false;
        QTest::newRow("invalid UTF-8 in a string") << QByteArray("{\"op\":\"\xff\"}") << false;
        QTest::newRow("nul byte") << QByteArray("{}\0", 3) << false;
        QTest::newRow("deeply nested") << QByteArray(100'000, '[') << false;
        QByteArray deepObject;
        for (int i = 0; i < 50'000; ++i)
            deepObject += "{\"a\":";
        deepObject += "1" + QByteArray(50'000, '}');
        QTest::newRow("deeply nested object") << deepObject << true;
    }
    void testParseObjectAcceptsOnlyObjects() {
        QFETCH(QByteArray, text);
        QFETCH(bool, accepted);
        Result<Json> parsed = parseObject(std::string_view(text.constData(), size_t(text.size())));
        QCOMPARE(parsed.isOk(), accepted);
        if (!accepted)
            QCOMPARE(parsed.status().code(), StatusCode::InvalidArgument);
        else
            QVERIFY(parsed->is_object());
    }

    void testToTextReplacesInvalidUtf8InsteadOfThrowing() {
        Json event = traceEventToJson({1, TraceKind::Published, "q", 1, "id-\xff", "", ""});
        std::string text = toText(event);
        QVERIFY(isValidUtf8(text));
        QVERIFY(text.find("id-\xef\xbf\xbd") != std::string::npos);  // U+FFFD
    }

    void testErrorCodesFollowTheProtocolTable_data() {
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("expected");
        QTest::newRow("ok") << int(StatusCode::Ok) << "";
        QTest::newRow("not found") << int(StatusCode::NotFound) << "not-found";
        QTest::newRow("invalid") << int(StatusCode::InvalidArgument) << "invalid";
        QTest::newRow("read-only") << int(StatusCode::ReadOnly) << "read-only";
        QTest::newRow("closed") << int(StatusCode::Closed) << "unavailable";
        QTest::newRow("unavailable") << int(StatusCode::Unavailable) << "unavailable";
        QTest::newRow("too large") << int(StatusCode::TooLarge) << "too-large";
        QTest::newRow("io error") << int(StatusCode::IoError) << "failed";
        QTest::newRow("timed out") << int(StatusCode::TimedOut) << "failed";
    }
    void testErrorCodesFollowTheProtocolTable() {
        QFETCH(int, code);
        QFETCH(QString, expected);
        Status status = code ? Status(StatusCode(code), "why") : Status::ok();
        QCOMPARE(QString::fromUtf8(errorCodeFor(status).data(), qsizetype(errorCodeFor(status).size())), expected);
    }
};

QTEST_GUILESS_MAIN(TestProtocolJson)
#include "TestProtocolJson.moc"
