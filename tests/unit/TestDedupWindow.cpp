// DedupWindow over FlatHashMap64: the open-addressing table answers exactly like a plain map through inserts, overwrites, erases
// and expiry (including the probe runs that backward-shift deletion rearranges), and gives memory back.
#include <QtTest>

#include <deque>
#include <random>
#include <unordered_map>

#include "broker/DedupWindow.h"

using depot::broker::DedupWindow;
using depot::broker::TimeMs;

class TestDedupWindow : public QObject {
    Q_OBJECT

private slots:
    void testFindsWhatWasInsertedAndForgetsWhatExpired() {
        DedupWindow window;
        QVERIFY(!window.find(42));
        window.insert(42, 1000, 10);
        window.insert(43, 2000, 20);
        QCOMPARE(*window.find(42), uint64_t(1000));
        window.insert(42, 3000, 30);  // the same id again (a republish after a restart): the later one wins
        QCOMPARE(*window.find(42), uint64_t(3000));
        QCOMPARE(window.size(), size_t(2));
        window.expire(25);  // the first insert of 42 is out of the window, but 42 now maps to the newer one
        QCOMPARE(*window.find(42), uint64_t(3000));
        QVERIFY(!window.find(43));
        window.erase(42, 1000);  // names an older sequence: nothing happens
        QCOMPARE(*window.find(42), uint64_t(3000));
        window.erase(42, 3000);
        QVERIFY(!window.find(42));
        QCOMPARE(window.size(), size_t(0));
    }

    void testHashZeroIsAKeyLikeAnyOther() {
        DedupWindow window;
        window.insert(0, 7, 1);
        QCOMPARE(*window.find(0), uint64_t(7));
        window.erase(0, 7);
        QVERIFY(!window.find(0));
    }

    // Random operations on few distinct hashes (long probe runs, many deletions inside them) against a map.
    void testAgreesWithAMapUnderRandomOperations() {
        std::mt19937_64 random(20261205);
        DedupWindow window;
        std::unordered_map<uint64_t, uint64_t> model;
        std::vector<std::tuple<uint64_t, uint64_t, int64_t>> order;  // what expire() walks, as the window keeps it
        int64_t now = 0;
        size_t expiredUpTo = 0;
        for (int step = 0; step < 200'000; ++step) {
            uint64_t hash = random() % 5000;
            if (hash % 7 == 0) hash <<= 40;  // hashes that share their low bits
            switch (random() % 10) {
            case 0: {
                auto it = model.find(hash);
                if (it != model.end() && random() % 2) {
                    window.erase(hash, it->second);
                    model.erase(it);
                } else {
                    window.erase(hash, 12345);  // a sequence it does not map to
                }
                break;
            }
            case 1: {
                now += 3;
                int64_t before = now - 400;
                window.expire(before);
                for (; expiredUpTo < order.size() && std::get<2>(order[expiredUpTo]) < before; ++expiredUpTo) {
                    auto [h, s, at] = order[expiredUpTo];
                    auto it = model.find(h);
                    if (it != model.end() && it->second == s) model.erase(it);
                }
                break;
            }
            default: {
                uint64_t sequence = uint64_t(step) * 10;
                window.insert(hash, sequence, now);
                model[hash] = sequence;
                order.emplace_back(hash, sequence, now);
            }
            }
            if (step % 97 == 0) {
                QCOMPARE(window.size(), model.size());
                for (uint64_t probe = 0; probe < 5000; probe += 13) {
                    for (uint64_t h : {probe, probe << 40}) {
                        auto expected = model.find(h);
                        auto found = window.find(h);
                        QCOMPARE(found.has_value(), expected != model.end());
                        if (found) QCOMPARE(*found, expected->second);
                    }
                }
            }
        }
    }

    // The broker counts the publishes of an id staged for the log: operator[] starts at 0, erase forgets.
    void testFlatMapCountsAndForgets() {
        depot::broker::FlatHashMap64 map;
        for (uint64_t key : {uint64_t(0), uint64_t(5), uint64_t(5) << 60}) {
            QVERIFY(!map.find(key));
            ++map[key];
            ++map[key];
            QCOMPARE(*map.find(key), uint64_t(2));
        }
        QCOMPARE(map.size(), size_t(3));
        QVERIFY(map.erase(0));
        QVERIFY(!map.erase(0));
        QVERIFY(!map.find(0));
        QCOMPARE(map[0], uint64_t(0));  // a key inserted again starts from 0
        // 200,000 keys take the table past 2 MiB, into a mapping of its own (LargeTableAllocator), and the
        // shrink below brings it back to operator new.
        for (uint64_t key = 1; key < 200'000; ++key) map[key << 20] = key;
        for (uint64_t key = 1; key < 200'000; key += 7) QCOMPARE(*map.find(key << 20), key);
        for (uint64_t key = 1; key < 200'000; ++key) QVERIFY(map.erase(key << 20));
        map.shrinkToFit();
        QCOMPARE(*map.find(5), uint64_t(2));
        QCOMPARE(map.size(), size_t(3));
    }

    void testKeepsAPersistentSequenceAndSkipsTransientOnes() {
        DedupWindow window;
        QVERIFY(!window.minPersistentSequence());
        window.insert(1, (uint64_t(1) << 63) | 5, 1);  // a transient message's sequence
        QVERIFY(!window.minPersistentSequence());
        window.insert(2, 900, 2);
        window.insert(3, 400, 3);
        QCOMPARE(*window.minPersistentSequence(), uint64_t(400));
    }

    // The least persistent sequence, asked after random inserts (mostly in order, some older, some transient)
    // and expiries, always equals what a walk over the ids still in the window finds.
    void testLeastPersistentSequenceFollowsInsertsAndExpiry() {
        DedupWindow window;
        std::deque<std::pair<TimeMs, uint64_t>> inWindow;  // (inserted at, sequence), oldest first
        std::mt19937_64 random(8);
        uint64_t next = 1000;
        TimeMs now = 0;
        for (int step = 0; step < 20'000; ++step) {
            now += random() % 3;
            uint64_t sequence = next += 1 + random() % 50;
            if (random() % 50 == 0) sequence -= 1 + random() % 900;  // a committed transaction's older offset
            if (random() % 10 == 0) sequence = (uint64_t(1) << 63) | step;  // transient
            window.insert(random(), sequence, now);
            inWindow.emplace_back(now, sequence);
            if (step % 97 == 0) {
                const TimeMs before = now - TimeMs(random() % 400);
                window.expire(before);
                while (!inWindow.empty() && inWindow.front().first < before) inWindow.pop_front();
            }
            if (step % 13 == 0) {
                std::optional<uint64_t> least;
                for (const auto& [at, seen] : inWindow)
                    if (!(seen >> 63)) least = least ? std::min(*least, seen) : seen;
                QCOMPARE(window.minPersistentSequence(), least);
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestDedupWindow)
#include "TestDedupWindow.moc"
