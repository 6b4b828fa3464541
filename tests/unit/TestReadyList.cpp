// ReadyList's walks: in queue order, and unordered for walks that only look (the log's reclaimer, compaction).
#include <QtTest>

#include <algorithm>
#include <vector>

#include "broker/ReadyList.h"

using namespace depot::broker;

namespace {

Entry entry(uint64_t sequence, uint32_t key) {
    Entry e;
    e.sequence = sequence;
    e.offset = sequence * 100;
    if (key != 0) {
        e.flags = kEntryHasKey;
        e.keyHash = key;
    }
    return e;
}

}  // namespace

class TestReadyList : public QObject {
    Q_OBJECT

private slots:
    // Every entry once, keyed or not, whether the list is per key or FIFO; and the walk stops when told.
    void testUnorderedWalkVisitsEveryEntryOnceAndStops_data() {
        QTest::addColumn<bool>("perKey");
        QTest::newRow("per key") << true;
        QTest::newRow("fifo") << false;
    }
    void testUnorderedWalkVisitsEveryEntryOnceAndStops() {
        QFETCH(bool, perKey);
        ReadyList list(perKey);
        std::vector<uint64_t> pushed;
        for (uint64_t sequence = 1; sequence <= 200; ++sequence) {
            list.pushBack(entry(sequence, uint32_t(sequence % 7)));  // key 0: no key
            pushed.push_back(sequence);
        }
        Entry popped;
        QVERIFY(list.pop(popped));  // in flight: not in the list any more
        pushed.erase(std::find(pushed.begin(), pushed.end(), popped.sequence));
        std::vector<uint64_t> ordered, unordered;
        list.forEach([&](const Entry& e) {
            ordered.push_back(e.sequence);
            return true;
        });
        list.forEachUnordered([&](const Entry& e) {
            unordered.push_back(e.sequence);
            return true;
        });
        QCOMPARE(ordered, pushed);  // queue order: by sequence
        std::sort(unordered.begin(), unordered.end());
        QCOMPARE(unordered, pushed);
        size_t visited = 0;
        list.forEachUnordered([&](const Entry&) { return ++visited < 10; });
        QCOMPARE(visited, size_t(10));
    }
};

QTEST_GUILESS_MAIN(TestReadyList)
#include "TestReadyList.moc"
