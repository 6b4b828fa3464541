// The commit log's API on real files: append, read, iterate, rolls, reopen, truncateAfter, dropBefore, stats.

#include <QtTest>

#include "depot/storage/CommitLog.h"
#include "support/LogFiles.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::storage;

namespace {

using test::smallSegments;

std::unique_ptr<CommitLog> openLog(const std::string& dir, CommitLogOptions options = smallSegments()) {
    return test::openLogOrDie(dir, options);
}

std::string payloadFor(int i) {
    return "record-" + std::to_string(i) + std::string(size_t(i % 97), char('a' + i % 26));
}

uint64_t appendOne(CommitLog& log, const std::string& payload, uint8_t type = 1) {
    RecordView view{type, payload};
    Result<CommitLog::Appended> appended = log.append({&view, 1});
    if (!appended)
        qFatal("append failed: %s", appended.status().toString().c_str());
    return appended->offsets.front();
}

std::vector<Record> readAll(CommitLog& log) {
    return test::readAllOrDie(log);
}

}  // namespace

class TestCommitLog : public QObject {
    Q_OBJECT

private slots:
    void testAppendedRecordsReadBackByOffsetAndInOrder() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        std::vector<uint64_t> offsets;
        for (int i = 0; i < 200; ++i)
            offsets.push_back(appendOne(*log, payloadFor(i), uint8_t(1 + i % 127)));
        QVERIFY(log->flush().isOk());
        for (int i = 0; i < 200; ++i) {
            Result<Record> record = log->read(offsets[i]);
            QVERIFY2(record.isOk(), record.status().toString().c_str());
            QCOMPARE(record->payload, payloadFor(i));
            QCOMPARE(int(record->type), 1 + i % 127);
        }
        std::vector<Record> all = readAll(*log);
        QCOMPARE(all.size(), size_t(200));
        for (int i = 0; i < 200; ++i)
            QCOMPARE(all[i].offset, offsets[i]);
        QVERIFY2(log->stats().segmentCount >= 3, "13 KiB of records in 4 KiB segments must have rolled");
    }

    void testOffsetsAreBytePositionsOfTheRecordStream() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        std::vector<RecordView> batch = {{1, "abc"}, {2, ""}, {3, "hello"}};
        Result<CommitLog::Appended> appended = log->append(batch);
        QVERIFY(appended.isOk());
        QCOMPARE(appended->offsets, (std::vector<uint64_t>{0, 12, 21}));
        QCOMPARE(appended->endOffset, uint64_t(35));
        QCOMPARE(log->writtenOffset(), uint64_t(35));
    }

    void testRecordsSurviveReopenAndAppendsContinueAfterThem() {
        test::TempDir dir;
        std::vector<uint64_t> offsets;
        {
            auto log = openLog(dir.path());
            for (int i = 0; i < 100; ++i)
                offsets.push_back(appendOne(*log, payloadFor(i)));
        }
        auto log = openLog(dir.path());
        QCOMPARE(log->recoveryReport().corrupt.size(), size_t(0));
        QCOMPARE(log->recoveryReport().truncatedBytes, uint64_t(0));
        QCOMPARE(log->durableOffset(), log->writtenOffset());
        offsets.push_back(appendOne(*log, payloadFor(100)));
        QVERIFY(offsets.back() > offsets[99]);
        std::vector<Record> all = readAll(*log);
        QCOMPARE(all.size(), size_t(101));
        for (int i = 0; i <= 100; ++i)
            QCOMPARE(all[i].payload, payloadFor(i));
    }

    void testCleanCloseWritesACheckpointThatRecoverySkipsTo() {
        test::TempDir dir;
        {
            auto log = openLog(dir.path());
            for (int i = 0; i < 300; ++i)
                appendOne(*log, payloadFor(i));
        }
        auto log = openLog(dir.path());
        QVERIFY(log->recoveryReport().checkpointOffset > 0);
        QVERIFY(log->recoveryReport().scannedRecords < 300);
        QCOMPARE(readAll(*log).size(), size_t(300));
    }

    void testBadAppendsAreRejectedWithClearErrors_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("expected");
        QTest::newRow("type 0") << 0 << 10 << int(StatusCode::InvalidArgument);
        QTest::newRow("type 128") << 128 << 10 << int(StatusCode::InvalidArgument);
        QTest::newRow("larger than a segment") << 1 << 5000 << int(StatusCode::TooLarge);
    }
    void testBadAppendsAreRejectedWithClearErrors() {
        QFETCH(int, type);
        QFETCH(int, size);
        QFETCH(int, expected);
        test::TempDir dir;
        auto log = openLog(dir.path());
        std::string payload(size_t(size), 'x');
        RecordView view{uint8_t(type), payload};
        Result<CommitLog::Appended> appended = log->append({&view, 1});
        QVERIFY(!appended.isOk());
        QCOMPARE(int(appended.status().code()), expected);
        QVERIFY(!appended.status().message().empty());
        QVERIFY(log->failure().isOk());  // a refused append changes nothing
        QCOMPARE(log->writtenOffset(), uint64_t(0));
        QVERIFY(!log->append({}).isOk());
    }

    void testReadOutsideTheLogIsNotFound() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        appendOne(*log, "x");
        QCOMPARE(log->read(1000).status().code(), StatusCode::NotFound);
    }

    void testTruncateAfterRemovesTheSuffixAcrossSegments() {
        test::TempDir dir;
        std::vector<uint64_t> offsets;
        {
            auto log = openLog(dir.path());
            for (int i = 0; i < 120; ++i)
                offsets.push_back(appendOne(*log, payloadFor(i)));
            QVERIFY(log->flush().isOk());
            QVERIFY(log->truncateAfter(offsets[40]).isOk());
            QCOMPARE(log->writtenOffset(), offsets[40]);
            QVERIFY(log->durableOffset() <= offsets[40]);
            QCOMPARE(readAll(*log).size(), size_t(40));
            QCOMPARE(log->read(offsets[50]).status().code(), StatusCode::NotFound);
            QVERIFY(!log->truncateAfter(offsets[10] + 1).isOk());  // not a record boundary
            appendOne(*log, "after truncation");
        }
        auto log = openLog(dir.path());
        std::vector<Record> all = readAll(*log);
        QCOMPARE(all.size(), size_t(41));
        QCOMPARE(all.back().payload, std::string("after truncation"));
        QCOMPARE(all.back().offset, offsets[40]);
    }

    // read() keeps a read-ahead window: it must see records appended after the window was filled, and never the
    // bytes of a record that truncateAfter removed and a new append replaced at the same offset.
    void testReadsSeeLaterAppendsAndNeverATruncatedRecord() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        const uint64_t first = appendOne(*log, "first");
        QCOMPARE(log->read(first)->payload, std::string("first"));  // fills the window up to the written end
        const uint64_t second = appendOne(*log, "second, to be truncated");
        const uint64_t third = appendOne(*log, "third");
        QCOMPARE(log->read(third)->payload, std::string("third"));  // beyond the window's old limit
        QCOMPARE(log->read(first)->payload, std::string("first"));  // the window now holds all three
        QVERIFY(log->truncateAfter(second).isOk());
        QCOMPARE(appendOne(*log, "new"), second);  // shorter: the old third offset is past the end now
        Result<Record> replaced = log->read(second);
        QVERIFY2(replaced.isOk(), replaced.status().toString().c_str());
        QCOMPARE(replaced->payload, std::string("new"));
        QCOMPARE(log->read(third).status().code(), StatusCode::NotFound);
    }

    void testDropBeforeDeletesOnlyWholeOldSegments() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        std::vector<uint64_t> offsets;
        for (int i = 0; i < 150; ++i)
            offsets.push_back(appendOne(*log, payloadFor(i)));
        size_t before = log->stats().segmentCount;
        QVERIFY(log->dropBefore(offsets[100]).isOk());
        QVERIFY(log->stats().segmentCount < before);
        QVERIFY(log->startOffset() <= offsets[100]);
        QVERIFY(log->startOffset() > 0);
        QCOMPARE(log->read(offsets[0]).status().code(), StatusCode::NotFound);
        QVERIFY(log->read(offsets[100]).isOk());
        QVERIFY(log->dropBefore(UINT64_MAX).isOk());
        QCOMPARE(log->stats().segmentCount, size_t(1));  // never the active segment
        QVERIFY(log->read(offsets[149]).isOk());
    }

    void testStatsReportOffsetsSegmentsAndSyncLatency() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        for (int i = 0; i < 50; ++i)
            appendOne(*log, payloadFor(i));
        QVERIFY(log->flush().isOk());
        CommitLogStats stats = log->stats();
        QCOMPARE(stats.writtenOffset, log->writtenOffset());
        QCOMPARE(stats.durableOffset, stats.writtenOffset);
        QCOMPARE(stats.appendedRecords, uint64_t(50));
        QCOMPARE(stats.appendedBatches, uint64_t(50));
        QVERIFY(stats.syncs >= 1);
        QCOMPARE(stats.syncLatency.count(), stats.syncs);
        QVERIFY(stats.syncLatency.max() > 0);
        QCOMPARE(stats.bytesOnDisk, stats.segmentCount * 4096);
        QVERIFY(!stats.readOnly);
    }

    void testAsyncAppendsBecomeDurableByThePeriodicFlush() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        RecordView view{1, "async"};
        Result<CommitLog::Appended> appended = log->append({&view, 1}, Durability::Async);
        QVERIFY(appended.isOk());
        QVERIFY(log->waitDurable(appended->endOffset, std::chrono::seconds(30)).isOk());
    }

    void testDurableListenerSeesTheWatermarkGrow() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        std::mutex mutex;
        std::vector<uint64_t> seen;
        log->setDurableListener([&](uint64_t durable, const Status& status) {
            QVERIFY(status.isOk());
            std::lock_guard lock(mutex);
            seen.push_back(durable);
        });
        uint64_t end = 0;
        for (int i = 0; i < 20; ++i) {
            appendOne(*log, payloadFor(i));
            end = log->writtenOffset();
            QVERIFY(log->waitDurable(end).isOk());
        }
        // The listener runs on the flusher thread right after waiters are woken.
        auto last = [&] { std::lock_guard lock(mutex); return seen.empty() ? uint64_t(0) : seen.back(); };
        QTRY_COMPARE(last(), end);
        std::lock_guard lock(mutex);
        QVERIFY(std::is_sorted(seen.begin(), seen.end()));
    }
};

QTEST_GUILESS_MAIN(TestCommitLog)
#include "TestCommitLog.moc"
