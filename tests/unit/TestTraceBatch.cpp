// A broker round's trace events packed in one buffer: every field comes back as recorded, in order, whatever its
// length; a cut keeps the first events whole.
#include <QtTest>

#include <string>
#include <vector>

#include "broker/TraceBatch.h"

using namespace depot::broker;

namespace {

TraceEvent recordedEvent(TimeMs at, TraceKind kind, std::string queue, uint64_t sequence, std::string id,
                         std::string key, std::string detail) {
    return TraceEvent{at, kind, std::move(queue), sequence, std::move(id), std::move(key), std::move(detail)};
}

void compare(const TraceEvent& actual, const TraceEvent& expected) {
    QCOMPARE(actual.at, expected.at);
    QCOMPARE(toString(actual.kind), toString(expected.kind));
    QCOMPARE(actual.queue, expected.queue);
    QCOMPARE(actual.sequence, expected.sequence);
    QCOMPARE(actual.messageId, expected.messageId);
    QCOMPARE(actual.key, expected.key);
    QCOMPARE(actual.detail, expected.detail);
}

}  // namespace

class TestTraceBatch : public QObject {
    Q_OBJECT

private slots:
    void testEventsComeBackAsRecordedInOrder() {
        const std::vector<TraceEvent> recorded{
            recordedEvent(-5, TraceKind::Published, "orders", 0, "m-1", "blue", ""),
            recordedEvent(1'700'000'000'123, TraceKind::Delivered, "orders", UINT64_MAX, "m-1", "",
                          "attempt 1 to consumer 7 (billing)"),
            recordedEvent(0, TraceKind::Replicated, "", 1ull << 63, "", "", ""),  // every text field empty
            recordedEvent(42, TraceKind::Acked, std::string(255, 'q'), 9, std::string(255, 'i'), std::string(255, 'k'),
                          std::string(10'000, 'd')),
        };
        TraceBatch batch;
        QVERIFY(batch.empty());
        for (const TraceEvent& e : recorded)
            batch.add(e);
        QCOMPARE(batch.size(), recorded.size());
        std::vector<TraceEvent> read = batch.events();
        QCOMPARE(read.size(), recorded.size());
        for (size_t i = 0; i < read.size(); ++i)
            compare(read[i], recorded[i]);
        size_t walked = 0;
        for (const TraceEventView& view : batch)
            QCOMPARE(std::string(view.messageId), recorded[walked++].messageId);
        QCOMPARE(walked, recorded.size());
    }

    void testADetailBeyondSixtyFourKibibytesIsCut() {
        TraceBatch batch;
        batch.add(recordedEvent(1, TraceKind::Nacked, "q", 1, "m", "", std::string(70'000, 'x') + "end"));
        batch.add(recordedEvent(2, TraceKind::Confirmed, "q", 2, "n", "", "after"));
        std::vector<TraceEvent> read = batch.events();
        QCOMPARE(read.size(), size_t(2));
        QCOMPARE(read[0].detail, std::string(65'535, 'x'));
        QCOMPARE(read[1].messageId, std::string("n"));  // the next event is intact
        QCOMPARE(read[1].detail, std::string("after"));
    }

    void testTruncateKeepsTheFirstEventsWhole() {
        TraceBatch batch = TraceBatch::of({recordedEvent(1, TraceKind::Published, "q", 1, "a", "", "one"),
                                           recordedEvent(2, TraceKind::Published, "q", 2, "b", "", "two"),
                                           recordedEvent(3, TraceKind::Published, "q", 3, "c", "", "three")});
        const size_t bytesOfThree = batch.bytes();
        batch.truncate(5);  // more than it holds: unchanged
        QCOMPARE(batch.size(), size_t(3));
        batch.truncate(2);
        QCOMPARE(batch.size(), size_t(2));
        QVERIFY(batch.bytes() < bytesOfThree);
        std::vector<TraceEvent> read = batch.events();
        QCOMPARE(read.size(), size_t(2));
        QCOMPARE(read[1].detail, std::string("two"));
        batch.add(recordedEvent(4, TraceKind::Acked, "q", 4, "d", "", "four"));  // appends after the cut
        read = batch.events();
        QCOMPARE(read.size(), size_t(3));
        QCOMPARE(read[2].detail, std::string("four"));
        batch.truncate(0);
        QVERIFY(batch.empty());
        QCOMPARE(batch.bytes(), size_t(0));
        QVERIFY(batch.begin() == batch.end());
    }
};

QTEST_APPLESS_MAIN(TestTraceBatch)
#include "TestTraceBatch.moc"
