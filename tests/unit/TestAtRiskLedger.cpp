// AtRiskLedger: the "at risk" counts (confirmed before fdatasync; confirmed and on no replica) are exact as the
// watermark moves, never drop a message early, and stay bounded in memory under a flood of confirms.
#include <QtTest>

#include "broker/AtRiskLedger.h"

using depot::broker::AtRiskLedger;

class TestAtRiskLedger : public QObject {
    Q_OBJECT

private slots:
    void testReleasesWhatTheWatermarkPassed() {
        AtRiskLedger ledger;
        ledger.add(100, 1000);
        ledger.add(200, 1001);
        ledger.add(300, 1002);
        QCOMPARE(ledger.count(), uint64_t(3));
        ledger.release(99);
        QCOMPARE(ledger.count(), uint64_t(3));
        ledger.release(200);  // an end offset equal to the watermark is safe
        QCOMPARE(ledger.count(), uint64_t(1));
        ledger.release(150);  // a watermark never moves back in effect
        QCOMPARE(ledger.count(), uint64_t(1));
        ledger.release(10'000);
        QCOMPARE(ledger.count(), uint64_t(0));
    }

    void testBeyondSaysWhatACopyAtAnOffsetLacks() {
        AtRiskLedger ledger;
        ledger.add(100, 1000);
        ledger.add(200, 1005);
        ledger.add(300, 1005);  // same millisecond: shares the entry
        AtRiskLedger::Beyond none = ledger.beyond(300);
        QCOMPARE(none.messages, uint64_t(0));
        QCOMPARE(none.oldest, depot::broker::TimeMs(0));
        AtRiskLedger::Beyond behind = ledger.beyond(100);
        QCOMPARE(behind.messages, uint64_t(2));
        QCOMPARE(behind.oldest, depot::broker::TimeMs(1005));
        QCOMPARE(ledger.beyond(0).messages, uint64_t(3));
        QCOMPARE(ledger.beyond(0).oldest, depot::broker::TimeMs(1000));
    }

    // A merged entry ends where its last message ends: none of its messages is released before all are safe.
    void testMergedEntriesWaitForTheirLastMessage() {
        AtRiskLedger ledger(2);
        ledger.add(100, 1);
        ledger.add(200, 2);
        for (uint64_t i = 0; i < 1000; ++i) ledger.add(300 + i, 3 + i);  // past the cap: all into the last entry
        QCOMPARE(ledger.count(), uint64_t(1002));
        ledger.release(1298);
        QCOMPARE(ledger.count(), uint64_t(1001));  // only the first entry's message: the merged one ends at 1299
        QCOMPARE(ledger.beyond(1298).oldest, depot::broker::TimeMs(2));
        ledger.release(1299);
        QCOMPARE(ledger.count(), uint64_t(0));
    }

    // Out of offset order (a duplicate's confirm names an older record): the later one waits, never released early.
    void testAnEntryBehindALaterOneIsKeptUntilBothAreSafe() {
        AtRiskLedger ledger;
        ledger.add(500, 1);
        ledger.add(100, 2);
        ledger.release(100);
        QCOMPARE(ledger.count(), uint64_t(2));
        ledger.release(500);
        QCOMPARE(ledger.count(), uint64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestAtRiskLedger)
#include "TestAtRiskLedger.moc"
