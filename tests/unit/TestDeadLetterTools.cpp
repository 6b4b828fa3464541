// The operator's dead-letter tools beyond browse and requeue: filters on the last error and on a JSON path in the
// body, failure groups (by reason, error text, source queue) and bulk deletion as a job with a per-message report.
#include <QtTest>

#include <thread>

#include "depot/broker/Validation.h"
#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

namespace {

QString text(const std::string& s) { return QString::fromStdString(s); }

// Publishes each body to `queue` and rejects it with the matching error: each dies at once (reason rejected).
void deadLetter(BrokerHarness& h, const std::string& queue, const std::vector<std::pair<std::string, std::string>>& items,
                std::string dlq = {}) {
    if (dlq.empty())
        dlq = queue + ".dlq";
    const uint64_t before = h.queueStats(dlq).ready;
    for (const auto& [body, error] : items) {
        Message message;
        message.id = "id-" + body;
        QVERIFY(h.publish(queue, body, message).outcome == PublishOutcome::Confirmed);
    }
    auto [consumer, inbox] = h.consume(queue, 1);
    for (size_t i = 0; i < items.size(); ++i) {
        auto delivery = inbox->next();
        QVERIFY(delivery);
        const std::string& error = items[size_t(std::find_if(items.begin(), items.end(), [&](const auto& item) {
                                                     return item.first == delivery->body;
                                                 }) - items.begin())].second;
        QVERIFY(h.broker().nack(consumer, delivery->tag, {false, error}).isOk());
    }
    QVERIFY(h.broker().cancel(consumer).isOk());
    QTRY_COMPARE(h.queueStats(dlq).ready, before + items.size());
}

QStringList bodiesMatching(BrokerHarness& h, const std::string& queue, const MessageFilter& filter) {
    BrowseOptions options;
    options.filter = filter;
    options.limit = 1000;
    auto page = h.broker().browse(queue, options);
    QStringList out;
    if (page)
        for (const QueuedMessage& m : page->messages) out << text(m.body);
    out.sort();
    return out;
}

MessageFilter jsonFilter(const std::string& path, std::optional<std::string> equals = std::nullopt) {
    MessageFilter filter;
    filter.jsonPath = path;
    filter.jsonEquals = std::move(equals);
    return filter;
}

const std::vector<std::pair<std::string, std::string>> kOrders = {
    {R"({"order": {"id": 42, "items": [{"sku": "A-1"}]}, "vip": true})", "timeout calling payments"},
    {R"({"order": {"id": 7, "items": [{"sku": "B-2"}, {"sku": "A-1"}]}})", "timeout calling payments"},
    {R"({"order": {"id": "42"}})", "schema: order.items missing"},
    {"not json at all, order.id 42", "parse error"},
};

}  // namespace

class TestDeadLetterTools : public QObject {
    Q_OBJECT

private slots:
    void testFilterByLastError() {
        BrokerHarness h;
        h.declare("orders");
        deadLetter(h, "orders", kOrders);
        MessageFilter filter;
        filter.error = "timeout";
        QCOMPARE(bodiesMatching(h, "orders.dlq", filter).size(), 2);
        filter.error = "order.id";  // in a body, not in an error: the error filter does not look there
        QCOMPARE(bodiesMatching(h, "orders.dlq", filter).size(), 0);
    }

    void testFilterByJsonPath_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("equals");  // "-": no value asked for, the path only has to exist
        QTest::addColumn<int>("matches");
        QTest::newRow("exists") << "$.order.id" << "-" << 3;
        QTest::newRow("number equals") << "$.order.id" << "7" << 1;
        QTest::newRow("string equals its text") << "order.id" << "42" << 2;  // the number 42 and the string "42"
        QTest::newRow("array index") << "$.order.items[1].sku" << "A-1" << 1;
        QTest::newRow("dotted index") << "order.items.0.sku" << "A-1" << 1;
        QTest::newRow("boolean") << "$.vip" << "true" << 1;
        QTest::newRow("absent") << "$.customer" << "-" << 0;
        QTest::newRow("index past the end") << "$.order.items[5]" << "-" << 0;
        QTest::newRow("bracketed key") << "$[\"order\"][\"id\"]" << "7" << 1;
    }

    void testFilterByJsonPath() {
        QFETCH(QString, path);
        QFETCH(QString, equals);
        QFETCH(int, matches);
        BrokerHarness h;
        h.declare("orders");
        deadLetter(h, "orders", kOrders);
        const auto filter = jsonFilter(path.toStdString(), equals == "-" ? std::nullopt
                                                                         : std::optional(equals.toStdString()));
        QCOMPARE(bodiesMatching(h, "orders.dlq", filter).size(), matches);
    }

    void testBadJsonPathsAreRefusedWithTheirPosition_data() {
        QTest::addColumn<QString>("path");
        QTest::newRow("empty") << "";
        QTest::newRow("only a dollar") << "$";
        QTest::newRow("trailing dot") << "order.";
        QTest::newRow("double dot") << "order..id";
        QTest::newRow("unclosed bracket") << "items[0";
        QTest::newRow("bad index") << "items[x]";
        QTest::newRow("space") << "order id";
    }

    void testBadJsonPathsAreRefusedWithTheirPosition() {
        QFETCH(QString, path);
        const Status status = validateJsonPath(path.toStdString());
        QCOMPARE(status.code(), StatusCode::InvalidArgument);
        QVERIFY2(status.message().find("json path") != std::string::npos, status.message().c_str());
    }

    void testGroupsCountByReasonErrorAndSource() {
        BrokerHarness h;
        h.declare("orders", QueuePolicy{.dedupWindow = Millis(0), .deadLetterQueue = "all.dlq"});
        h.declare("billing", QueuePolicy{.deadLetterQueue = "all.dlq"});
        deadLetter(h, "orders", kOrders, "all.dlq");
        deadLetter(h, "billing", {{"bill", "timeout calling payments"}}, "all.dlq");

        auto errorGroups = h.broker().groupMessages("all.dlq", GroupBy::Error);
        QVERIFY(errorGroups);
        QCOMPARE(errorGroups->scanned, uint64_t(5));
        QVERIFY(!errorGroups->partial);
        auto* byError = &errorGroups->groups;
        QCOMPARE(byError->size(), size_t(3));
        QCOMPARE(text((*byError)[0].key), QString("timeout calling payments"));
        QCOMPARE((*byError)[0].count, uint64_t(3));
        QVERIFY((*byError)[0].lastAt > 0);
        auto sourceGroups = h.broker().groupMessages("all.dlq", GroupBy::Source);
        auto* bySource = &sourceGroups->groups;
        QCOMPARE(text((*bySource)[0].key), QString("orders"));
        QCOMPARE((*bySource)[0].count, uint64_t(4));
        QCOMPARE(text((*bySource)[1].key), QString("billing"));
        auto reasonGroups = h.broker().groupMessages("all.dlq", GroupBy::Reason);
        auto* byReason = &reasonGroups->groups;
        QCOMPARE(byReason->size(), size_t(1));
        QCOMPARE(text((*byReason)[0].key), QString("rejected"));
        // Groups of a filtered view, and at most `limit` of them.
        MessageFilter fromOrders;
        fromOrders.sourceQueue = "orders";
        auto filteredGroups = h.broker().groupMessages("all.dlq", GroupBy::Error, fromOrders, 1);
        auto* filtered = &filteredGroups->groups;
        QCOMPARE(filtered->size(), size_t(1));
        QCOMPARE((*filtered)[0].count, uint64_t(2));
        QVERIFY(!h.broker().groupMessages("no-such-queue", GroupBy::Error));
    }

    // Counting changes nothing: no attempt, no delivery, the same messages in the same order.
    void testGroupingHasNoSideEffects() {
        BrokerHarness h;
        h.declare("orders");
        deadLetter(h, "orders", kOrders);
        const QueueStats before = h.queueStats("orders.dlq");
        for (GroupBy by : {GroupBy::Reason, GroupBy::Error, GroupBy::Source})
            QVERIFY(h.broker().groupMessages("orders.dlq", by));
        const QueueStats after = h.queueStats("orders.dlq");
        QCOMPARE(after.ready, before.ready);
        QCOMPARE(after.counters.delivered, before.counters.delivered);
    }

    void testBulkDeleteRemovesExactlyTheFilteredAndReportsEach() {
        BrokerHarness h;
        h.declare("orders");
        deadLetter(h, "orders", kOrders);
        RequeueRequest request;
        request.queue = "orders.dlq";
        request.remove = true;
        request.filter.error = "timeout";
        request.actor.name = "carol";
        auto job = h.broker().requeue(request);
        QVERIFY(job);
        QCOMPARE((*job)->total(), uint64_t(2));
        const RequeueReport report = (*job)->wait();
        QCOMPARE(report.requeued, uint64_t(2));
        QCOMPARE(report.failed, uint64_t(0));
        QStringList ids;
        for (const RequeueItem& item : report.items) {
            QVERIFY(item.status.isOk());
            ids << text(item.messageId);
        }
        ids.sort();
        QCOMPARE(ids.size(), 2);
        QVERIFY(ids[0].startsWith("id-{"));
        QCOMPARE(h.queueStats("orders.dlq").ready, uint64_t(2));
        QCOMPARE(bodiesMatching(h, "orders.dlq", MessageFilter{.error = "timeout"}).size(), 0);
        auto audit = h.broker().audit({0, INT64_MAX, "orders.dlq", 10});
        QVERIFY(audit && !audit->empty());
        QCOMPARE(text(audit->back().action), QString("delete-messages"));
        QCOMPARE(text(audit->back().actor), QString("carol"));
        QCOMPARE(audit->back().count, uint64_t(2));
        // Gone for good: not back after a restart.
        QVERIFY(h.restart().isOk());
        QCOMPARE(h.queueStats("orders.dlq").ready, uint64_t(2));
    }
};

QTEST_GUILESS_MAIN(TestDeadLetterTools)
#include "TestDeadLetterTools.moc"
