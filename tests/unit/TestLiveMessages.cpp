// LiveMessages, the replay's per-queue set of messages: through inserts, replacements, settles and the compaction
// of tombstones it answers exactly like a plain map, and hands the survivors over in sequence order.
#include <QtTest>

#include <map>
#include <random>

#include "broker/LiveMessages.h"

using depot::broker::LiveMessage;
using depot::broker::LiveMessages;

namespace {

LiveMessage messageAt(uint64_t offset, uint64_t sequence, uint16_t attempts = 0) {
    LiveMessage message;
    message.entry.offset = offset;
    message.entry.sequence = sequence;
    message.entry.attempts = attempts;
    message.dueAt = int64_t(offset) * 10;
    return message;
}

}  // namespace

class TestLiveMessages : public QObject {
    Q_OBJECT

private slots:
    void testSettledMessagesAreGoneAndReturnsChangeTheRest() {
        LiveMessages live;
        live.put(100, messageAt(100, 100));
        live.put(200, messageAt(200, 200));
        live.put(0, messageAt(0, 0));  // offset 0 is the first message of a log
        QCOMPARE(live.size(), size_t(3));
        QVERIFY(live.erase(100));
        QVERIFY(!live.erase(100));  // a second SETTLE of the same message finds nothing
        QVERIFY(!live.find(100));
        live.find(200)->entry.attempts = 3;
        QCOMPARE(live.find(200)->entry.attempts, uint16_t(3));
        live.put(200, messageAt(200, 200, 5));  // a transaction's commit puts the prepared message again
        QCOMPARE(live.size(), size_t(2));
        QCOMPARE(live.find(200)->entry.attempts, uint16_t(5));
        std::vector<LiveMessage> sorted = live.sortedBySequence();
        QCOMPARE(sorted.size(), size_t(2));
        QCOMPARE(sorted[0].entry.sequence, uint64_t(0));
        QCOMPARE(sorted[1].entry.sequence, uint64_t(200));
    }

    // A compacted copy keeps its original sequence at a later offset: the queue's order is the sequence's.
    void testTheQueueOrderIsTheSequenceNotTheLogOrder() {
        LiveMessages live;
        live.put(500, messageAt(500, 500));
        live.put(900, messageAt(900, 100));  // a copy of an old message, moved forward by compaction
        live.put(950, messageAt(950, 950));
        std::vector<LiveMessage> sorted = live.sortedBySequence();
        QCOMPARE(sorted.size(), size_t(3));
        QCOMPARE(sorted[0].entry.offset, uint64_t(900));
        QCOMPARE(sorted[1].entry.offset, uint64_t(500));
        QCOMPARE(sorted[2].entry.offset, uint64_t(950));
    }

    // Random puts, finds and erases against std::map, with enough erases that tombstones are compacted many times.
    void testAnswersLikeAMapThroughManyCompactions() {
        LiveMessages live;
        std::map<uint64_t, uint64_t> model;  // offset -> sequence
        std::mt19937_64 random(8);
        uint64_t nextOffset = 0;
        for (int i = 0; i < 300000; ++i) {
            const int op = int(random() % 10);
            if (op < 5 || model.empty()) {
                const uint64_t offset = nextOffset;
                nextOffset += 1 + random() % 100;
                live.put(offset, messageAt(offset, offset));
                model[offset] = offset;
            } else {
                auto it = model.lower_bound(random() % (nextOffset + 1));
                if (it == model.end()) it = model.begin();
                QVERIFY(live.erase(it->first));
                model.erase(it);
            }
            if (i % 1000 == 0) {
                const uint64_t probe = random() % (nextOffset + 1);
                QCOMPARE(live.find(probe) != nullptr, model.count(probe) == 1);
            }
        }
        QCOMPARE(live.size(), model.size());
        size_t seen = 0;
        bool allKnown = true;
        live.forEach([&](uint64_t offset, const LiveMessage& message) {
            ++seen;
            allKnown = allKnown && model.count(offset) && message.entry.offset == offset;
        });
        QCOMPARE(seen, model.size());
        QVERIFY(allKnown);
        std::vector<LiveMessage> sorted = live.sortedBySequence();
        QCOMPARE(sorted.size(), model.size());
        auto it = model.begin();
        for (const LiveMessage& message : sorted) QCOMPARE(message.entry.sequence, (it++)->second);
    }
};

QTEST_GUILESS_MAIN(TestLiveMessages)
#include "TestLiveMessages.moc"
