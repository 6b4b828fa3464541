// A crash mid-write leaves a torn tail: recovery must give back exactly the complete batches before it.

#include <QtTest>

#include <filesystem>
#include <fstream>

#include "depot/storage/CommitLog.h"
#include "storage/RecordFormat.h"
#include "support/LogFiles.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::storage;

namespace {

struct Batch {
    std::vector<std::string> payloads;
    uint64_t begin = 0;
    uint64_t end = 0;
};

std::unique_ptr<CommitLog> openLog(const std::string& dir) {
    CommitLogOptions options;
    options.segmentSize = 16 * 1024;
    options.preallocateAhead = false;
    return test::openLogOrDie(dir, options);
}

// Batches of 1-3 records with payloads of 0-150 bytes, spread over a few segments.
std::vector<Batch> writeBatches(const std::string& dir, int count) {
    auto log = openLog(dir);
    std::vector<Batch> batches;
    for (int i = 0; i < count; ++i) {
        Batch batch;
        for (int r = 0; r <= i % 3; ++r)
            batch.payloads.push_back(std::string(size_t((i * 37 + r * 11) % 151), char('A' + (i + r) % 26)));
        std::vector<RecordView> views;
        for (const std::string& payload : batch.payloads)
            views.push_back({1, payload});
        Result<CommitLog::Appended> appended = log->append(views);
        if (!appended)
            qFatal("append failed: %s", appended.status().toString().c_str());
        batch.begin = appended->offsets.front();
        batch.end = appended->endOffset;
        batches.push_back(std::move(batch));
    }
    return batches;
}

// What a crash leaves: the checkpoint written when the tail segment was started, not the clean-close one.
void checkpointAt(const std::string& dir, uint64_t offset) {
    char bytes[format::kCheckpointSize];
    format::encodeCheckpoint(bytes, offset);
    std::ofstream(dir + "/" + format::kCheckpointName, std::ios::binary | std::ios::trunc).write(bytes, sizeof bytes);
}

std::vector<std::string> readPayloads(CommitLog& log) {
    std::vector<std::string> payloads;
    for (Record& record : test::readAllOrDie(log))
        payloads.push_back(std::move(record.payload));
    return payloads;
}

std::vector<std::string> payloadsOfBatchesBefore(const std::vector<Batch>& batches, uint64_t cut, uint64_t* end) {
    std::vector<std::string> payloads;
    *end = 0;
    for (const Batch& batch : batches) {
        if (batch.end > cut)
            break;
        payloads.insert(payloads.end(), batch.payloads.begin(), batch.payloads.end());
        *end = batch.end;
    }
    return payloads;
}

}  // namespace

class TestTornTail : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        m_batches = writeBatches(m_original.path(), 300);
        std::vector<test::SegmentFileInfo> files = test::segmentFiles(m_original.path());
        QVERIFY2(files.size() >= 3, "the log must span several segments");
        m_tail = files.back();
        checkpointAt(m_original.path(), m_tail.baseOffset);
        QVERIFY(m_batches[m_batches.size() - 3].begin >= m_tail.baseOffset);
    }

    void testCutAtEveryByteOfTheLastRecordsKeepsExactlyTheIntactPrefix_data() {
        QTest::addColumn<bool>("shortenFile");
        QTest::newRow("file truncated") << true;
        QTest::newRow("bytes after the cut lost (zeros)") << false;
    }
    void testCutAtEveryByteOfTheLastRecordsKeepsExactlyTheIntactPrefix() {
        QFETCH(bool, shortenFile);
        const uint64_t first = m_batches[m_batches.size() - 3].begin;
        const uint64_t last = m_batches.back().end;
        for (uint64_t cut = first; cut <= last; ++cut) {
            test::TempDir copy;
            test::copyDirectory(m_original.path(), copy.path());
            std::string tail = copy.path() + "/" + format::segmentFileName(m_tail.baseOffset);
            uint64_t position = kSegmentHeaderSize + (cut - m_tail.baseOffset);
            if (shortenFile)
                test::truncateFile(tail, position);
            else
                test::zeroFrom(tail, position);

            uint64_t expectedEnd = 0;
            std::vector<std::string> expected = payloadsOfBatchesBefore(m_batches, cut, &expectedEnd);
            auto log = openLog(copy.path());
            QVERIFY2(log->recoveryReport().corrupt.empty(), qPrintable(QString("cut at %1").arg(cut)));
            QCOMPARE(log->writtenOffset(), expectedEnd);
            QCOMPARE(readPayloads(*log), expected);
            if (cut % 16 != 0)
                continue;
            // The log goes on from the intact prefix, and what follows survives the next reopen.
            RecordView view{2, "after recovery"};
            QVERIFY(log->append({&view, 1}).isOk());
            log.reset();
            log = openLog(copy.path());
            expected.push_back("after recovery");
            QCOMPARE(readPayloads(*log), expected);
        }
    }

    void testGarbageInTheLastRecordIsTruncatedAndWiped() {
        test::TempDir copy;
        test::copyDirectory(m_original.path(), copy.path());
        std::string tail = copy.path() + "/" + format::segmentFileName(m_tail.baseOffset);
        uint64_t lastRecord = m_batches.back().end - m_batches.back().payloads.back().size() - kFrameHeaderSize;
        test::flipBit(tail, kSegmentHeaderSize + (lastRecord - m_tail.baseOffset) + kFrameHeaderSize - 1, 3);

        uint64_t expectedEnd = 0;
        std::vector<std::string> expected = payloadsOfBatchesBefore(m_batches, m_batches.back().begin, &expectedEnd);
        {
            auto log = openLog(copy.path());
            QVERIFY(log->recoveryReport().corrupt.empty());
            QVERIFY(log->recoveryReport().zeroedStaleTail);
            QVERIFY(log->recoveryReport().truncatedBytes > 0);
            QCOMPARE(log->writtenOffset(), expectedEnd);
            QCOMPARE(readPayloads(*log), expected);
        }
        // The garbage was wiped on the first open: the second finds a clean tail.
        auto log = openLog(copy.path());
        QVERIFY(!log->recoveryReport().zeroedStaleTail);
        QCOMPARE(readPayloads(*log), expected);
    }

    void testDamageBeforeTheCheckpointIsCorruptionNotATornTail() {
        test::TempDir copy;
        test::copyDirectory(m_original.path(), copy.path());
        checkpointAt(copy.path(), m_batches.back().end);  // a clean close vouched for the whole tail
        std::string tail = copy.path() + "/" + format::segmentFileName(m_tail.baseOffset);
        test::zeroFrom(tail, kSegmentHeaderSize + (m_batches[m_batches.size() - 2].begin - m_tail.baseOffset));
        auto log = openLog(copy.path());
        QCOMPARE(log->recoveryReport().corrupt.size(), size_t(1));
        QCOMPARE(log->recoveryReport().corrupt[0].begin, m_batches[m_batches.size() - 2].begin);
        // New records go to a fresh segment; the damaged range stays quarantined and reported.
        RecordView view{2, "after damage"};
        Result<CommitLog::Appended> appended = log->append({&view, 1});
        QVERIFY(appended.isOk());
        QVERIFY(appended->offsets[0] >= m_batches.back().end);
        QCOMPARE(log->read(m_batches[m_batches.size() - 2].begin).status().code(), StatusCode::Corruption);
    }

private:
    test::TempDir m_original;
    std::vector<Batch> m_batches;
    test::SegmentFileInfo m_tail;
};

QTEST_GUILESS_MAIN(TestTornTail)
#include "TestTornTail.moc"
