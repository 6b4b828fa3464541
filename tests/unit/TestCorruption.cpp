// Bit rot in a sealed segment: detected, reported with segment and offset, never served; the rest still is.

#include <QtTest>

#include <filesystem>

#include "depot/storage/CommitLog.h"
#include "storage/RecordFormat.h"
#include "support/LogFiles.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::storage;

namespace {

struct Written {
    uint64_t offset;
    uint64_t batchBegin;
    uint64_t batchEnd;
    std::string payload;
};

std::unique_ptr<CommitLog> openLog(const std::string& dir) {
    CommitLogOptions options;
    options.segmentSize = 4 * 1024;
    options.preallocateAhead = false;
    return test::openLogOrDie(dir, options);
}

// Single records, with a three-record batch every tenth append, over several 4 KiB segments.
std::vector<Written> writeLog(const std::string& dir) {
    auto log = openLog(dir);
    std::vector<Written> written;
    for (int i = 0; i < 400; ++i) {
        std::vector<std::string> payloads;
        for (int r = 0; r < (i % 10 == 5 ? 3 : 1); ++r)
            payloads.push_back("payload " + std::to_string(i) + "." + std::to_string(r) +
                               std::string(size_t(i % 50), '#'));
        std::vector<RecordView> views;
        for (const std::string& p : payloads)
            views.push_back({7, p});
        Result<CommitLog::Appended> appended = log->append(views);
        if (!appended)
            qFatal("append failed");
        for (size_t r = 0; r < payloads.size(); ++r)
            written.push_back({appended->offsets[r], appended->offsets.front(), appended->endOffset, payloads[r]});
    }
    return written;
}

struct Scan {
    std::vector<Record> records;
    std::vector<CorruptRange> skipped;
};

Scan scanAll(CommitLog& log) {
    Scan scan;
    CommitLog::Cursor cursor = log.iterate(log.startOffset());
    for (;;) {
        Result<std::optional<Record>> next = cursor.next();
        if (!next) {
            if (next.status().code() != StatusCode::Corruption)
                qFatal("cursor failed: %s", next.status().toString().c_str());
            scan.skipped.push_back(cursor.corruptRange());
            continue;
        }
        if (!*next)
            return scan;
        scan.records.push_back(std::move(**next));
    }
}

}  // namespace

class TestCorruption : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        m_written = writeLog(m_original.path());
        QVERIFY(test::segmentFiles(m_original.path()).size() >= 5);
    }

    // Where in the record the bit flips: the payload, the length, the type, or the CRC itself.
    void testFlippedBitIsQuarantinedAndEverythingElseServed_data() {
        QTest::addColumn<int>("victim");        // the nth single-record batch of the second segment; -1: inside a batch
        QTest::addColumn<int>("byteInRecord");  // position inside the frame
        QTest::addColumn<bool>("fullScan");     // no checkpoint: found at open, not only when read
        QTest::addColumn<bool>("restOfSegmentLost");
        QTest::newRow("payload, found by a reader") << 3 << 12 << false << false;
        QTest::newRow("payload, found at open") << 3 << 12 << true << false;
        QTest::newRow("crc") << 4 << 1 << true << false;
        QTest::newRow("type") << 5 << 8 << false << false;
        QTest::newRow("length") << 6 << 6 << true << true;
        QTest::newRow("inside a batch") << -1 << 20 << false << false;
    }
    void testFlippedBitIsQuarantinedAndEverythingElseServed() {
        QFETCH(int, victim);
        QFETCH(int, byteInRecord);
        QFETCH(bool, fullScan);
        QFETCH(bool, restOfSegmentLost);
        test::TempDir copy;
        test::copyDirectory(m_original.path(), copy.path());
        if (fullScan)
            std::filesystem::remove(copy.file(format::kCheckpointName));
        const Written& target = pickVictim(copy.path(), victim);
        uint64_t position = 0;
        test::SegmentFileInfo segment = test::segmentHolding(copy.path(), target.offset, &position);
        QVERIFY2(segment.baseOffset > 0, "the victim must be in a sealed segment, not the first");
        test::flipBit(segment.path, position + uint64_t(byteInRecord), 4);

        auto log = openLog(copy.path());
        const RecoveryReport& report = log->recoveryReport();
        QCOMPARE(report.corrupt.size(), size_t(fullScan ? 1 : 0));
        if (fullScan) {
            QCOMPARE(report.corrupt[0].begin, target.batchBegin);
            QCOMPARE(report.corrupt[0].segment, std::filesystem::path(segment.path).filename().string());
            QVERIFY(report.corrupt[0].reason.find(std::to_string(target.offset)) != std::string::npos);
        }
        QCOMPARE(log->read(target.offset).status().code(), StatusCode::Corruption);

        Scan scan = scanAll(*log);
        QCOMPARE(scan.skipped.size(), size_t(1));
        const CorruptRange& range = scan.skipped[0];
        QCOMPARE(range.begin, target.batchBegin);
        uint64_t segmentEnd = 0;
        for (const auto& file : test::segmentFiles(copy.path())) {
            if (file.baseOffset > segment.baseOffset) {
                segmentEnd = file.baseOffset;
                break;
            }
        }
        QCOMPARE(range.end, restOfSegmentLost ? segmentEnd : target.batchEnd);
        // Every record outside the range is served intact and in order; none inside it is.
        size_t next = 0;
        for (const Written& w : m_written) {
            if (w.offset >= range.begin && w.offset < range.end)
                continue;
            QVERIFY(next < scan.records.size());
            QCOMPARE(scan.records[next].offset, w.offset);
            QCOMPARE(scan.records[next].payload, w.payload);
            ++next;
        }
        QCOMPARE(next, scan.records.size());
        QCOMPARE(log->stats().quarantined.size(), size_t(1));
        QVERIFY(log->read(m_written.back().offset).isOk());

        // Once found, the damage is reported by every later open too, not only when something reads it.
        log.reset();
        log = openLog(copy.path());
        QCOMPARE(log->recoveryReport().corrupt.size(), size_t(1));
        QCOMPARE(log->recoveryReport().corrupt[0].begin, range.begin);
        QCOMPARE(log->stats().quarantined.size(), size_t(1));
    }

    void testUnreadableSegmentHeaderSetsTheFileAsideAndServesTheRest() {
        test::TempDir copy;
        test::copyDirectory(m_original.path(), copy.path());
        std::vector<test::SegmentFileInfo> files = test::segmentFiles(copy.path());
        test::flipBit(files[1].path, 20, 0);  // the base offset field
        auto log = openLog(copy.path());
        QCOMPARE(log->recoveryReport().corrupt.size(), size_t(1));
        QCOMPARE(log->recoveryReport().corrupt[0].begin, files[1].baseOffset);
        QCOMPARE(log->recoveryReport().corrupt[0].end, files[2].baseOffset);
        QVERIFY(std::filesystem::exists(files[1].path + ".corrupt"));
        Scan scan = scanAll(*log);
        QCOMPARE(scan.skipped.size(), size_t(1));
        size_t expected = 0;
        for (const Written& w : m_written)
            expected += (w.offset < files[1].baseOffset || w.offset >= files[2].baseOffset) ? 1 : 0;
        QCOMPARE(scan.records.size(), expected);
        QCOMPARE(scan.records.back().payload, m_written.back().payload);
    }

private:
    const Written& pickVictim(const std::string& dir, int nth) const {
        uint64_t secondSegment = test::segmentFiles(dir)[1].baseOffset;
        for (const Written& w : m_written) {
            if (w.batchBegin < secondSegment)
                continue;
            bool single = w.batchEnd == w.offset + kFrameHeaderSize + w.payload.size() && w.offset == w.batchBegin;
            if (nth < 0 && w.offset > w.batchBegin)
                return w;
            if (nth >= 0 && single && nth-- == 0)
                return w;
        }
        qFatal("no victim");
    }

    test::TempDir m_original;
    std::vector<Written> m_written;
};

QTEST_GUILESS_MAIN(TestCorruption)
#include "TestCorruption.moc"
