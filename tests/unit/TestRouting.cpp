// Routing: the default exchange, direct/fanout/topic exchanges with bindings, alternate queues, unroutable
// messages, broadcast vs competing consumers, and definitions that survive a restart.
#include <QtTest>

#include <algorithm>
#include <set>

#include "support/BrokerHarness.h"

using namespace depot;
using namespace depot::broker;
using depot::test::BrokerHarness;

namespace {

QString text(const std::string& s) { return QString::fromStdString(s); }

std::set<std::string> bodiesOf(const std::vector<Delivery>& deliveries) {
    std::set<std::string> out;
    for (const Delivery& d : deliveries)
        out.insert(d.body);
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

bool hasBinding(BrokerHarness& h, const Binding& binding) {
    auto bindings = h.broker().listBindings();
    return bindings && std::find(bindings->begin(), bindings->end(), binding) != bindings->end();
}

bool hasExchange(BrokerHarness& h, const std::string& name, ExchangeType type) {
    auto exchanges = h.broker().listExchanges();
    if (!exchanges)
        return false;
    return std::any_of(exchanges->begin(), exchanges->end(),
                       [&](const ExchangeSpec& e) { return e.name == name && e.type == type; });
}

}  // namespace

class TestRouting : public QObject {
    Q_OBJECT

private slots:
    void testDefaultExchangeRoutesByQueueName();
    void testUnknownQueueIsNackedNoQueue();
    void testUnknownExchangeIsNackedNoExchange();
    void testDirectExchangeRoutesByBindingKey();
    void testFanoutCopiesToEveryBoundQueue();
    void testBroadcastGivesEveryGroupEveryMessage();
    void testCompetingConsumersSplitMessagesEachDeliveredOnce();
    void testTopicPatterns_data();
    void testTopicPatterns();
    void testTopicOverlappingBindingsStoreOneCopyPerQueue();
    void testUnroutableIsNackedNoRoute();
    void testUnroutableGoesToAlternateQueue();
    void testUnbindStopsRouting();
    void testDeletingExchangeRemovesItsBindings();
    void testExchangesAndBindingsSurviveRestart();
};

void TestRouting::testDefaultExchangeRoutesByQueueName() {
    BrokerHarness h;
    QVERIFY(h.ok());
    h.declare("a");
    h.declare("b");
    PublishResult result = h.publish("b", "to-b");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(result.queues, std::vector<std::string>{"b"});
    QCOMPARE(h.depth("a"), uint64_t(0));
    QCOMPARE(h.depth("b"), uint64_t(1));
    auto [consumer, inbox] = h.consume("b");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("to-b"));
    QCOMPARE(text(delivery->queue), QString("b"));
}

void TestRouting::testUnknownQueueIsNackedNoQueue() {
    BrokerHarness h;
    h.declare("real");
    PublishResult result = h.publish("missing-queue", "x");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(result.reason), int(NackReason::NoQueue));
    QVERIFY2(result.error.find("missing-queue") != std::string::npos, result.error.c_str());
    QVERIFY(result.queues.empty());
    QCOMPARE(h.depth("real"), uint64_t(0));
    // Nothing was created on the way.
    auto queues = h.broker().listQueues();
    QVERIFY(queues);
    for (const QueueInfo& info : *queues)
        QVERIFY(info.name != "missing-queue");
}

void TestRouting::testUnknownExchangeIsNackedNoExchange() {
    BrokerHarness h;
    h.declare("q");
    PublishResult result = h.publishTo("no-such-exchange", "q", "x");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(result.reason), int(NackReason::NoExchange));
    QVERIFY2(result.error.find("no-such-exchange") != std::string::npos, result.error.c_str());
    QCOMPARE(h.depth("q"), uint64_t(0));
}

void TestRouting::testDirectExchangeRoutesByBindingKey() {
    BrokerHarness h;
    h.declare("red");
    h.declare("blue");
    h.declare("all");
    QVERIFY(h.broker().declareExchange({"colors", ExchangeType::Direct, ""}).isOk());
    QVERIFY(h.broker().bind({"colors", "red", "red"}).isOk());
    QVERIFY(h.broker().bind({"colors", "blue", "blue"}).isOk());
    QVERIFY(h.broker().bind({"colors", "all", "red"}).isOk());
    QVERIFY(h.broker().bind({"colors", "all", "blue"}).isOk());

    PublishResult red = h.publishTo("colors", "red", "r");
    QCOMPARE(int(red.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(sorted(red.queues), (std::vector<std::string>{"all", "red"}));
    PublishResult blue = h.publishTo("colors", "blue", "b");
    QCOMPARE(int(blue.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(sorted(blue.queues), (std::vector<std::string>{"all", "blue"}));
    // The routing key is not a queue name on a named exchange.
    PublishResult green = h.publishTo("colors", "green", "g");
    QCOMPARE(int(green.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(green.reason), int(NackReason::NoRoute));

    QCOMPARE(h.depth("red"), uint64_t(1));
    QCOMPARE(h.depth("blue"), uint64_t(1));
    QCOMPARE(h.depth("all"), uint64_t(2));
    auto [c, inbox] = h.consume("red");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("r"));
}

void TestRouting::testFanoutCopiesToEveryBoundQueue() {
    BrokerHarness h;
    const std::vector<std::string> names{"f1", "f2", "f3"};
    QVERIFY(h.broker().declareExchange({"fan", ExchangeType::Fanout, ""}).isOk());
    for (const std::string& name : names) {
        h.declare(name);
        QVERIFY(h.broker().bind({"fan", name, ""}).isOk());
    }
    h.declare("unbound");
    PublishResult result = h.publishTo("fan", "any.key.at.all", "copy");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(sorted(result.queues), names);
    QCOMPARE(h.depth("unbound"), uint64_t(0));
    for (const std::string& name : names) {
        QCOMPARE(h.depth(name), uint64_t(1));
        auto [consumer, inbox] = h.consume(name);
        auto delivery = inbox->next();
        QVERIFY(delivery);
        QCOMPARE(text(delivery->body), QString("copy"));
        QVERIFY(h.broker().ack(consumer, delivery->tag).isOk());
    }
    // Acking one copy does not settle the others: each queue held its own.
    for (const std::string& name : names)
        QCOMPARE(h.depth(name), uint64_t(0));
}

void TestRouting::testBroadcastGivesEveryGroupEveryMessage() {
    BrokerHarness h;
    QVERIFY(h.broker().declareExchange({"events", ExchangeType::Fanout, ""}).isOk());
    const std::vector<std::string> groups{"billing", "audit", "search"};
    std::vector<std::pair<uint64_t, std::shared_ptr<test::Inbox>>> consumers;
    for (const std::string& group : groups) {
        h.declare(group);
        QVERIFY(h.broker().bind({"events", group, ""}).isOk());
        consumers.push_back(h.consume(group));
    }
    const int n = 20;
    std::set<std::string> expected;
    for (int i = 0; i < n; ++i) {
        std::string body = "event-" + std::to_string(i);
        expected.insert(body);
        QCOMPARE(int(h.publishTo("events", "", body).outcome), int(PublishOutcome::Confirmed));
    }
    for (auto& [consumer, inbox] : consumers) {
        auto deliveries = inbox->take(n);
        QCOMPARE(deliveries.size(), size_t(n));
        QVERIFY(bodiesOf(deliveries) == expected);
        for (const Delivery& d : deliveries)
            QVERIFY(h.broker().ack(consumer, d.tag).isOk());
    }
    for (const std::string& group : groups)
        QCOMPARE(h.depth(group), uint64_t(0));
}

void TestRouting::testCompetingConsumersSplitMessagesEachDeliveredOnce() {
    BrokerHarness h;
    h.declare("work");
    auto [c1, inbox1] = h.consume("work");
    auto [c2, inbox2] = h.consume("work");
    const int n = 40;
    for (int i = 0; i < n; ++i)
        QCOMPARE(int(h.publish("work", "job-" + std::to_string(i)).outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.broker().sync().isOk());
    QTRY_COMPARE(inbox1->size() + inbox2->size(), size_t(n));
    auto first = inbox1->take(inbox1->size());
    auto second = inbox2->take(inbox2->size());
    QVERIFY2(!first.empty() && !second.empty(), "one consumer got every message: they did not compete");
    std::set<uint64_t> sequences;
    std::set<std::string> bodies;
    for (const auto* list : {&first, &second})
        for (const Delivery& d : *list) {
            QVERIFY2(sequences.insert(d.sequence).second, "a message was delivered to both consumers");
            bodies.insert(d.body);
            QCOMPARE(d.attempt, 1u);
        }
    QCOMPARE(bodies.size(), size_t(n));
    for (const Delivery& d : first)
        QVERIFY(h.broker().ack(c1, d.tag).isOk());
    for (const Delivery& d : second)
        QVERIFY(h.broker().ack(c2, d.tag).isOk());
    QCOMPARE(h.depth("work"), uint64_t(0));
    // Nothing more arrives once all is acked.
    QVERIFY(h.broker().sync().isOk());
    QCOMPARE(inbox1->size() + inbox2->size(), size_t(0));
}

void TestRouting::testTopicPatterns_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("key");
    QTest::addColumn<bool>("routed");
    QTest::newRow("star matches one word") << "orders.*"
                                           << "orders.created" << true;
    QTest::newRow("star does not match two words") << "orders.*"
                                                   << "orders.eu.created" << false;
    QTest::newRow("star does not match zero words") << "orders.*"
                                                    << "orders" << false;
    QTest::newRow("star in the middle") << "orders.*.created"
                                        << "orders.eu.created" << true;
    QTest::newRow("star in the middle, wrong tail") << "orders.*.created"
                                                    << "orders.eu.deleted" << false;
    QTest::newRow("hash matches zero words") << "orders.#"
                                             << "orders" << true;
    QTest::newRow("hash matches several words") << "orders.#"
                                                << "orders.eu.de.created" << true;
    QTest::newRow("hash alone matches anything") << "#"
                                                 << "a.b.c" << true;
    QTest::newRow("leading hash") << "#.created"
                                  << "orders.eu.created" << true;
    QTest::newRow("leading hash, wrong tail") << "#.created"
                                              << "orders.eu.deleted" << false;
    QTest::newRow("literal words must match") << "orders.created"
                                              << "orders.deleted" << false;
    QTest::newRow("literal exact") << "orders.created"
                                   << "orders.created" << true;
    QTest::newRow("other prefix") << "orders.#"
                                  << "invoices.created" << false;
}

void TestRouting::testTopicPatterns() {
    QFETCH(QString, pattern);
    QFETCH(QString, key);
    QFETCH(bool, routed);
    BrokerHarness h;
    h.declare("subscriber");
    QVERIFY(h.broker().declareExchange({"topics", ExchangeType::Topic, ""}).isOk());
    Status bound = h.broker().bind({"topics", "subscriber", pattern.toStdString()});
    QVERIFY2(bound.isOk(), bound.toString().c_str());
    PublishResult result = h.publishTo("topics", key.toStdString(), "payload");
    if (routed) {
        QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
        QCOMPARE(result.queues, std::vector<std::string>{"subscriber"});
        QCOMPARE(h.depth("subscriber"), uint64_t(1));
    } else {
        QCOMPARE(int(result.outcome), int(PublishOutcome::Nacked));
        QCOMPARE(int(result.reason), int(NackReason::NoRoute));
        QCOMPARE(h.depth("subscriber"), uint64_t(0));
    }
}

void TestRouting::testTopicOverlappingBindingsStoreOneCopyPerQueue() {
    BrokerHarness h;
    h.declare("eu");
    h.declare("everything");
    QVERIFY(h.broker().declareExchange({"topics", ExchangeType::Topic, ""}).isOk());
    QVERIFY(h.broker().bind({"topics", "eu", "*.eu.*"}).isOk());
    QVERIFY(h.broker().bind({"topics", "eu", "orders.#"}).isOk());
    QVERIFY(h.broker().bind({"topics", "everything", "#"}).isOk());
    PublishResult result = h.publishTo("topics", "orders.eu.created", "x");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(sorted(result.queues), (std::vector<std::string>{"eu", "everything"}));
    QCOMPARE(h.depth("eu"), uint64_t(1));  // two matching bindings, one copy
    QCOMPARE(h.depth("everything"), uint64_t(1));
}

void TestRouting::testUnroutableIsNackedNoRoute() {
    BrokerHarness h;
    h.declare("q");
    QVERIFY(h.broker().declareExchange({"lonely", ExchangeType::Fanout, ""}).isOk());
    PublishResult result = h.publishTo("lonely", "k", "x");
    QCOMPARE(int(result.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(result.reason), int(NackReason::NoRoute));
    QVERIFY2(result.error.find("lonely") != std::string::npos, result.error.c_str());
    QCOMPARE(h.depth("q"), uint64_t(0));
}

void TestRouting::testUnroutableGoesToAlternateQueue() {
    BrokerHarness h;
    h.declare("matched");
    h.declare("unrouted");
    QVERIFY(h.broker().declareExchange({"orders", ExchangeType::Direct, "unrouted"}).isOk());
    QVERIFY(h.broker().bind({"orders", "matched", "created"}).isOk());

    PublishResult routed = h.publishTo("orders", "created", "ok");
    QCOMPARE(int(routed.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(routed.queues, std::vector<std::string>{"matched"});
    QCOMPARE(h.depth("unrouted"), uint64_t(0));  // only the unroutable go to the alternate

    PublishResult fallback = h.publishTo("orders", "unknown-key", "lost?");
    QCOMPARE(int(fallback.outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(fallback.queues, std::vector<std::string>{"unrouted"});
    QCOMPARE(h.depth("unrouted"), uint64_t(1));
    QCOMPARE(h.depth("matched"), uint64_t(1));
    auto [c, inbox] = h.consume("unrouted");
    auto delivery = inbox->next();
    QVERIFY(delivery);
    QCOMPARE(text(delivery->body), QString("lost?"));
}

void TestRouting::testUnbindStopsRouting() {
    BrokerHarness h;
    h.declare("q");
    QVERIFY(h.broker().declareExchange({"x", ExchangeType::Direct, ""}).isOk());
    Binding binding{"x", "q", "k"};
    QVERIFY(h.broker().bind(binding).isOk());
    QCOMPARE(int(h.publishTo("x", "k", "before").outcome), int(PublishOutcome::Confirmed));
    QVERIFY(h.broker().unbind(binding).isOk());
    QVERIFY(!hasBinding(h, binding));
    PublishResult after = h.publishTo("x", "k", "after");
    QCOMPARE(int(after.outcome), int(PublishOutcome::Nacked));
    QCOMPARE(int(after.reason), int(NackReason::NoRoute));
    QCOMPARE(h.depth("q"), uint64_t(1));
    QCOMPARE(h.broker().unbind(binding).code(), StatusCode::NotFound);
    QVERIFY(h.restart().isOk());  // the unbind is durable too
    QVERIFY(!hasBinding(h, binding));
    QCOMPARE(int(h.publishTo("x", "k", "after restart").reason), int(NackReason::NoRoute));
}

void TestRouting::testDeletingExchangeRemovesItsBindings() {
    BrokerHarness h;
    h.declare("q");
    QVERIFY(h.broker().declareExchange({"x", ExchangeType::Fanout, ""}).isOk());
    QVERIFY(h.broker().declareExchange({"y", ExchangeType::Fanout, ""}).isOk());
    QVERIFY(h.broker().bind({"x", "q", ""}).isOk());
    QVERIFY(h.broker().bind({"y", "q", ""}).isOk());
    QVERIFY(h.broker().deleteExchange("x").isOk());
    QVERIFY(!hasBinding(h, {"x", "q", ""}));
    QVERIFY(hasBinding(h, {"y", "q", ""}));  // other exchanges keep theirs
    QCOMPARE(int(h.publishTo("x", "", "m").reason), int(NackReason::NoExchange));
    // A new exchange with the old name starts without the old bindings, also after a restart.
    QVERIFY(h.broker().declareExchange({"x", ExchangeType::Fanout, ""}).isOk());
    QCOMPARE(int(h.publishTo("x", "", "m").reason), int(NackReason::NoRoute));
    QVERIFY(h.restart().isOk());
    QVERIFY(!hasBinding(h, {"x", "q", ""}));
    QCOMPARE(int(h.publishTo("x", "", "m").reason), int(NackReason::NoRoute));
    QCOMPARE(int(h.publishTo("y", "", "m").outcome), int(PublishOutcome::Confirmed));
    QCOMPARE(h.depth("q"), uint64_t(1));
    QCOMPARE(h.broker().deleteExchange("never-declared").code(), StatusCode::NotFound);
}

void TestRouting::testExchangesAndBindingsSurviveRestart() {
    BrokerHarness h;
    h.declare("t");
    h.declare("d");
    h.declare("f");
    h.declare("alt");
    QVERIFY(h.broker().declareExchange({"topic-x", ExchangeType::Topic, ""}).isOk());
    QVERIFY(h.broker().declareExchange({"direct-x", ExchangeType::Direct, "alt"}).isOk());
    QVERIFY(h.broker().declareExchange({"fanout-x", ExchangeType::Fanout, ""}).isOk());
    QVERIFY(h.broker().bind({"topic-x", "t", "a.*"}).isOk());
    QVERIFY(h.broker().bind({"direct-x", "d", "key"}).isOk());
    QVERIFY(h.broker().bind({"fanout-x", "f", ""}).isOk());
    auto before = h.broker().listBindings();
    QVERIFY(before);

    QVERIFY(h.restart().isOk());
    QVERIFY(hasExchange(h, "topic-x", ExchangeType::Topic));
    QVERIFY(hasExchange(h, "direct-x", ExchangeType::Direct));
    QVERIFY(hasExchange(h, "fanout-x", ExchangeType::Fanout));
    auto exchanges = h.broker().listExchanges();
    QVERIFY(exchanges);
    for (const ExchangeSpec& e : *exchanges)
        if (e.name == "direct-x")
            QCOMPARE(text(e.alternateQueue), QString("alt"));
    auto after = h.broker().listBindings();
    QVERIFY(after);
    QCOMPARE(after->size(), before->size());
    for (const Binding& b : *before)
        QVERIFY(hasBinding(h, b));

    PublishResult topic = h.publishTo("topic-x", "a.b", "1");
    QCOMPARE(topic.queues, std::vector<std::string>{"t"});
    QCOMPARE(int(h.publishTo("topic-x", "b.a", "x").reason), int(NackReason::NoRoute));
    QCOMPARE(h.publishTo("direct-x", "key", "2").queues, std::vector<std::string>{"d"});
    QCOMPARE(h.publishTo("direct-x", "other", "3").queues, std::vector<std::string>{"alt"});
    QCOMPARE(h.publishTo("fanout-x", "", "4").queues, std::vector<std::string>{"f"});
    for (const char* q : {"t", "d", "alt", "f"})
        QCOMPARE(h.depth(q), uint64_t(1));
}

QTEST_GUILESS_MAIN(TestRouting)
#include "TestRouting.moc"
