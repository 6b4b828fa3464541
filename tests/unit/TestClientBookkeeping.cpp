// The client library's bookkeeping, without a broker: which requests an answer settles (one, cumulative up to an
// id, from an id on after no-session), client delivery tags that never alias across sessions, timers, the
// ERROR → Status mapping, and when a publish is worth retrying.
#include <QtTest>

#include <set>
#include <string>
#include <vector>

#include "client/DeliveryTags.h"
#include "client/MessageIds.h"
#include "client/PublishPipeline.h"
#include "client/RequestTable.h"
#include "client/TimerQueue.h"
#include "client/WireError.h"

using namespace depot;
using namespace depot::client;

namespace {

std::vector<uint64_t> ids(const std::vector<std::pair<uint64_t, std::string>>& entries) {
    std::vector<uint64_t> out;
    for (const auto& entry : entries)
        out.push_back(entry.first);
    return out;
}

RequestTable<std::string> tableWith(std::initializer_list<uint64_t> requestIds) {
    RequestTable<std::string> table;
    for (uint64_t id : requestIds)
        table.add(id, "request " + std::to_string(id));
    return table;
}

SendResult nackedWith(broker::NackReason reason) {
    SendResult result;
    result.result.outcome = broker::PublishOutcome::Nacked;
    result.result.reason = reason;
    return result;
}

}  // namespace

class TestClientBookkeeping : public QObject {
    Q_OBJECT

private slots:
    void testCumulativeConfirmTakesEveryUnansweredIdUpToIt() {
        RequestTable<std::string> table = tableWith({2, 3, 5, 8, 9});
        QCOMPARE(ids(table.takeUpTo(5)), (std::vector<uint64_t>{2, 3, 5}));
        QCOMPARE(table.size(), size_t(2));
        // Already answered ids are not answered twice; a later cumulative confirm takes only what is left.
        QVERIFY(table.takeUpTo(5).empty());
        QCOMPARE(ids(table.takeUpTo(100)), (std::vector<uint64_t>{8, 9}));
        QVERIFY(table.empty());
    }

    void testCumulativeConfirmBetweenIdsStopsAtTheGap() {
        RequestTable<std::string> table = tableWith({4, 6});
        QCOMPARE(ids(table.takeUpTo(5)), (std::vector<uint64_t>{4}));
        QVERIFY(table.contains(6));
    }

    void testSingleAnswerTakesOnlyItsRequestOnce() {
        RequestTable<std::string> table = tableWith({1, 2, 3});
        std::optional<std::string> taken = table.take(2);
        QVERIFY(taken.has_value());
        QCOMPARE(*taken, std::string("request 2"));
        QVERIFY(!table.take(2).has_value());
        QVERIFY(!table.take(7).has_value());
        QCOMPARE(table.size(), size_t(2));
    }

    void testNoSessionSplitsRunFromUnknownRequests() {
        // The broker answered no-session to request 5: 5 and everything after it were not run; 1 and 3 may have.
        RequestTable<std::string> table = tableWith({1, 3, 5, 6, 9});
        QCOMPARE(ids(table.takeFrom(5)), (std::vector<uint64_t>{5, 6, 9}));
        QCOMPARE(ids(table.takeAll()), (std::vector<uint64_t>{1, 3}));
    }

    void testDuplicateRequestIdIsRefused() {
        RequestTable<std::string> table;
        QVERIFY(table.add(1, "first"));
        QVERIFY(!table.add(1, "second"));
        QCOMPARE(*table.take(1), std::string("first"));
    }

    void testClientTagsStayUniqueWhenTheBrokerReusesItsNumbers() {
        DeliveryTags tags;
        const uint64_t before = tags.add({1, 1, 5});
        tags.clear();  // session lost; the restarted broker hands out consumer 1, tag 5 again
        const uint64_t after = tags.add({1, 1, 5});
        QVERIFY(before != after);
        QVERIFY(!tags.take(before).has_value());  // the old delivery cannot settle the new one
        std::optional<BrokerTag> current = tags.take(after);
        QVERIFY(current.has_value());
        QCOMPARE(current->consumer, uint64_t(1));
        QCOMPARE(current->tag, uint64_t(5));
    }

    void testADeliveryIsSettledOnce() {
        DeliveryTags tags;
        const uint64_t tag = tags.add({3, 10, 42});
        QVERIFY(tag != 0);
        QVERIFY(tags.take(tag).has_value());
        QVERIFY(!tags.take(tag).has_value());
    }

    void testCancellingASubscriptionForgetsOnlyItsTags() {
        DeliveryTags tags;
        const uint64_t a = tags.add({1, 10, 1});
        const uint64_t b = tags.add({2, 20, 1});
        tags.eraseSubscription(1);
        QVERIFY(!tags.take(a).has_value());
        QVERIFY(tags.take(b).has_value());
    }

    void testTimersRunInTimeOrderAndOnlyWhenDue() {
        TimerQueue timers;
        const SteadyTime start = SteadyClock::now();
        std::vector<int> ran;
        timers.schedule(start + Millis(30), [&] { ran.push_back(3); });
        timers.schedule(start + Millis(10), [&] { ran.push_back(1); });
        timers.schedule(start + Millis(20), [&] { ran.push_back(2); });
        QCOMPARE(timers.runDue(start), size_t(0));
        QVERIFY(*timers.next() == start + Millis(10));
        QCOMPARE(timers.runDue(start + Millis(20)), size_t(2));
        QCOMPARE(ran, (std::vector<int>{1, 2}));
        QCOMPARE(timers.runDue(start + Millis(30)), size_t(1));
        QVERIFY(!timers.next().has_value());
    }

    void testCancelledTimerNeverRuns() {
        TimerQueue timers;
        const SteadyTime start = SteadyClock::now();
        bool ran = false;
        TimerQueue::Handle handle = timers.schedule(start, [&] { ran = true; });
        timers.cancel(handle);
        QVERIFY(!handle);
        timers.cancel(handle);  // twice is harmless
        timers.runDue(start + Millis(1));
        QVERIFY(!ran);
    }

    void testTimerScheduledByATimerForNowRunsInTheSameRound() {
        TimerQueue timers;
        const SteadyTime start = SteadyClock::now();
        int ran = 0;
        timers.schedule(start, [&] {
            ++ran;
            timers.schedule(start, [&] { ++ran; });
        });
        QCOMPARE(timers.runDue(start), size_t(2));
        QCOMPARE(ran, 2);
    }

    void testErrorCodesMapToStatusCodes_data() {
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("status");
        QTest::newRow("not-found") << "not-found" << int(StatusCode::NotFound);
        QTest::newRow("invalid") << "invalid" << int(StatusCode::InvalidArgument);
        QTest::newRow("exists") << "exists" << int(StatusCode::InvalidArgument);
        QTest::newRow("forbidden") << "forbidden" << int(StatusCode::InvalidArgument);
        QTest::newRow("bad-frame") << "bad-frame" << int(StatusCode::InvalidArgument);
        QTest::newRow("unknown-command") << "unknown-command" << int(StatusCode::InvalidArgument);
        QTest::newRow("too-large") << "too-large" << int(StatusCode::TooLarge);
        QTest::newRow("read-only") << "read-only" << int(StatusCode::ReadOnly);
        QTest::newRow("busy") << "busy" << int(StatusCode::Unavailable);
        QTest::newRow("unavailable") << "unavailable" << int(StatusCode::Unavailable);
        QTest::newRow("failed") << "failed" << int(StatusCode::IoError);
        QTest::newRow("unknown code") << "something-new" << int(StatusCode::IoError);
    }
    void testErrorCodesMapToStatusCodes() {
        QFETCH(QString, code);
        QFETCH(int, status);
        const std::string header =
            "{\"code\": \"" + code.toStdString() + "\", \"message\": \"queue 'orders' does not exist\"}";
        WireError error = WireError::parse(header);
        QCOMPARE(int(error.toStatus().code()), status);
        // The broker's words survive, after the code.
        QCOMPARE(error.toStatus().message(), code.toStdString() + ": queue 'orders' does not exist");
    }

    void testUnreadableErrorHeaderIsAFailureNotACrash() {
        WireError error = WireError::parse("{not json");
        QCOMPARE(error.code, std::string("failed"));
        QVERIFY(error.toStatus().code() == StatusCode::IoError);
        QVERIFY(!WireError::parse("[1,2]").isNoSession());
    }

    void testRefusedPublishNamesTheMatchingNackReason() {
        QVERIFY(WireError::parse("{\"code\":\"too-large\"}").nackReason() == broker::NackReason::TooLarge);
        QVERIFY(WireError::parse("{\"code\":\"read-only\"}").nackReason() == broker::NackReason::ReadOnly);
        QVERIFY(WireError::parse("{\"code\":\"unavailable\"}").nackReason() == broker::NackReason::ShuttingDown);
        QVERIFY(WireError::parse("{\"code\":\"invalid\"}").nackReason() == broker::NackReason::Invalid);
    }

    void testOnlyUnconfirmedAndTransientNacksAreRetried() {
        QVERIFY(isRetryable(SendResult{Status::timedOut("no confirm"), {}}));
        QVERIFY(isRetryable(SendResult{Status::unavailable("no session"), {}}));
        QVERIFY(!isRetryable(SendResult{Status::closed("closed"), {}}));
        QVERIFY(!isRetryable(SendResult{Status::invalidArgument("io thread"), {}}));
        QVERIFY(isRetryable(nackedWith(broker::NackReason::ShuttingDown)));
        QVERIFY(isRetryable(nackedWith(broker::NackReason::Overflow)));
        QVERIFY(!isRetryable(nackedWith(broker::NackReason::NoQueue)));
        QVERIFY(!isRetryable(nackedWith(broker::NackReason::TooLarge)));
        QVERIFY(!isRetryable(nackedWith(broker::NackReason::StorageFailed)));
        SendResult confirmed;
        confirmed.result.outcome = broker::PublishOutcome::Confirmed;
        QVERIFY(!isRetryable(confirmed));
    }

    void testSendResultTellsUnconfirmedFromNacked() {
        SendResult timedOut{Status::timedOut("no confirm"), {}};
        QVERIFY(timedOut.unconfirmed());
        QVERIFY(!timedOut.nacked());
        QVERIFY(!timedOut.ok());
        QCOMPARE(outcomeName(timedOut), std::string_view("unconfirmed"));
        SendResult nacked = nackedWith(broker::NackReason::NoQueue);
        QVERIFY(nacked.nacked());
        QVERIFY(!nacked.unconfirmed());
        QCOMPARE(outcomeName(nacked), std::string_view("nacked"));
        SendResult duplicate;
        duplicate.result.outcome = broker::PublishOutcome::Duplicate;
        QVERIFY(duplicate.ok());
        QCOMPARE(outcomeName(duplicate), std::string_view("duplicate"));
    }

    void testRetryDelayDoublesUpToThirtySeconds() {
        QVERIFY(retryDelay(Millis(100), 1) == Millis(100));
        QVERIFY(retryDelay(Millis(100), 2) == Millis(200));
        QVERIFY(retryDelay(Millis(100), 4) == Millis(800));
        QVERIFY(retryDelay(Millis(100), 40) == Millis(30000));
        QVERIFY(retryDelay(Millis(0), 3) == Millis(0));
    }

    void testGeneratedMessageIdsAreUnique() {
        std::set<std::string> seen;
        for (int i = 0; i < 10000; ++i)
            QVERIFY(seen.insert(MessageIds::next()).second);
        QVERIFY(!seen.begin()->empty());
    }
};

QTEST_GUILESS_MAIN(TestClientBookkeeping)
#include "TestClientBookkeeping.moc"
