// Log shipping on real files: readFramed on one log, appendFramed on another, resetTo; the copy must hold the same
// records at the same offsets in the same batches, also after reopening.

#include <QtTest>

#include <cerrno>

#include "depot/storage/CommitLog.h"
#include "storage/RecordFormat.h"
#include "support/FaultyFileSystem.h"
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
    if (i % 23 == 11)
        return std::string(700, char('A' + i % 26));  // a few large records: four of them nearly fill a segment
    return "record-" + std::to_string(i) + std::string(size_t(i % 97), char('a' + i % 26));
}

CommitLog::Appended appendBatch(CommitLog& log, const std::vector<std::pair<uint8_t, std::string>>& records) {
    std::vector<RecordView> views;
    for (const auto& [type, payload] : records)
        views.push_back({type, payload});
    Result<CommitLog::Appended> appended = log.append(views);
    if (!appended)
        qFatal("append failed: %s", appended.status().toString().c_str());
    return *appended;
}

// Batches of 1 to 4 records, over several 4 KiB segments. Returns the end of every batch.
std::vector<uint64_t> appendBatches(CommitLog& log, int count, int seed = 0) {
    std::vector<uint64_t> ends;
    for (int i = 0; i < count; ++i) {
        std::vector<std::pair<uint8_t, std::string>> records;
        for (int r = 0; r < 1 + i % 4; ++r)
            records.emplace_back(uint8_t(1 + (seed + i * 7 + r) % 127), payloadFor(seed + i * 4 + r));
        ends.push_back(appendBatch(log, records).endOffset);
    }
    if (!log.flush().isOk())
        qFatal("flush failed");
    return ends;
}

std::string describe(const Status& status) { return status.toString(); }

// Ships everything durable in `source` to `target`, from target's end, in answers of at most `maxBytes` (but at
// least one batch). Returns what went wrong, empty when nothing did.
std::string copyLog(CommitLog& source, CommitLog& target, size_t maxBytes, Durability durability = Durability::Sync) {
    const uint64_t limit = source.durableOffset();
    uint64_t from = target.writtenOffset();
    while (from < limit) {
        Result<FramedRange> range = source.readFramed(from, limit, maxBytes);
        if (!range)
            return "readFramed(" + std::to_string(from) + "): " + describe(range.status());
        if (range->from != from || range->end <= from || range->end > limit ||
            range->bytes.size() != range->end - range->from)
            return "bad answer from " + std::to_string(from) + ": " + std::to_string(range->from) + ".." +
                   std::to_string(range->end) + " with " + std::to_string(range->bytes.size()) + " bytes";
        Result<uint64_t> end = target.appendFramed(range->from, range->bytes, durability);
        if (!end)
            return "appendFramed(" + std::to_string(from) + "): " + describe(end.status());
        if (*end != range->end)
            return "appendFramed returned " + std::to_string(*end) + ", expected " + std::to_string(range->end);
        from = *end;
    }
    return {};
}

// The end of every batch of the log, found one batch at a time (maxBytes 0).
std::vector<uint64_t> batchEnds(CommitLog& log) {
    std::vector<uint64_t> ends;
    for (uint64_t from = log.startOffset(); from < log.writtenOffset();) {
        Result<FramedRange> range = log.readFramed(from, log.writtenOffset(), 0);
        if (!range || range->end <= from)
            qFatal("readFramed(%llu) failed", static_cast<unsigned long long>(from));
        ends.push_back(range->end);
        from = range->end;
    }
    return ends;
}

// Every frame of the log as stored (continues bits included), segment by segment.
std::string allFrames(CommitLog& log) {
    std::string bytes;
    for (uint64_t from = log.startOffset(); from < log.writtenOffset();) {
        Result<FramedRange> range = log.readFramed(from, log.writtenOffset(), 1 << 20);
        if (!range || range->end <= from)
            qFatal("readFramed(%llu) failed", static_cast<unsigned long long>(from));
        bytes += range->bytes;
        from = range->end;
    }
    return bytes;
}

std::string compareLogs(CommitLog& expected, CommitLog& actual) {
    if (expected.startOffset() != actual.startOffset() || expected.writtenOffset() != actual.writtenOffset())
        return "logs hold " + std::to_string(expected.startOffset()) + ".." + std::to_string(expected.writtenOffset()) +
               " and " + std::to_string(actual.startOffset()) + ".." + std::to_string(actual.writtenOffset());
    std::vector<Record> a = test::readAllOrDie(expected);
    std::vector<Record> b = test::readAllOrDie(actual);
    if (a.size() != b.size())
        return std::to_string(a.size()) + " records against " + std::to_string(b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].offset != b[i].offset || a[i].type != b[i].type || a[i].payload != b[i].payload)
            return "record " + std::to_string(i) + " differs (offsets " + std::to_string(a[i].offset) + ", " +
                   std::to_string(b[i].offset) + ")";
    }
    if (batchEnds(expected) != batchEnds(actual))
        return "batch ends differ";
    if (allFrames(expected) != allFrames(actual))
        return "framed bytes differ";
    return {};
}

std::vector<uint64_t> segmentBases(const std::string& dir) {
    std::vector<uint64_t> bases;
    for (const test::SegmentFileInfo& file : test::segmentFiles(dir))
        bases.push_back(file.baseOffset);
    return bases;
}

// Three batches at fixed offsets: [alpha] 0..14, [bravo charlie delta] 14..58, [echo foxtrot] 58..87.
struct SmallLog {
    static constexpr uint64_t kCharlie = 28;
    static constexpr uint64_t kDelta = 44;
    static constexpr uint64_t kSecondBatch = 14;
    static constexpr uint64_t kThirdBatch = 58;
    static constexpr uint64_t kFoxtrot = 71;
    static constexpr uint64_t kEnd = 87;
};

void appendSmallLog(CommitLog& log) {
    appendBatch(log, {{1, "alpha"}});
    appendBatch(log, {{2, "bravo"}, {3, "charlie"}, {4, "delta"}});
    appendBatch(log, {{5, "echo"}, {6, "foxtrot"}});
    if (log.writtenOffset() != SmallLog::kEnd || !log.flush().isOk())
        qFatal("small log not as expected");
}

std::string readAllFramed(CommitLog& log) {
    Result<FramedRange> range = log.readFramed(log.startOffset(), log.durableOffset(), 1 << 20);
    if (!range)
        qFatal("readFramed failed: %s", range.status().toString().c_str());
    return range->bytes;
}

// True when the log directory has no checkpoint, or one at `offset` or later (never one naming the old log).
bool checkpointAtOrAfter(const std::string& dir, uint64_t offset) {
    QFile file(QString::fromStdString(dir + "/" + format::kCheckpointName));
    if (!file.exists())
        return true;
    if (!file.open(QIODevice::ReadOnly))
        return false;
    QByteArray bytes = file.readAll();
    std::optional<uint64_t> at = format::decodeCheckpoint(bytes.constData(), size_t(bytes.size()));
    return at && *at >= offset;
}

}  // namespace

class TestCommitLogReplication : public QObject {
    Q_OBJECT

private slots:
    void testCopyHoldsTheSameRecordsAtTheSameOffsetsInTheSameBatches_data() {
        QTest::addColumn<int>("maxBytes");
        QTest::newRow("one batch per answer") << 0;
        QTest::newRow("100 bytes") << 100;
        QTest::newRow("700 bytes") << 700;
        QTest::newRow("a whole segment") << (1 << 20);
    }
    void testCopyHoldsTheSameRecordsAtTheSameOffsetsInTheSameBatches() {
        QFETCH(int, maxBytes);
        test::TempDir sourceDir, copyDir;
        auto source = openLog(sourceDir.path());
        std::vector<uint64_t> ends = appendBatches(*source, 80);
        QVERIFY2(source->stats().segmentCount >= 4, "the source must have rolled several times");
        {
            auto copy = openLog(copyDir.path());
            std::string copied = copyLog(*source, *copy, size_t(maxBytes));
            QVERIFY2(copied.empty(), copied.c_str());
            std::string compared = compareLogs(*source, *copy);
            QVERIFY2(compared.empty(), compared.c_str());
            QCOMPARE(batchEnds(*copy), ends);
            QVERIFY(copy->waitDurable(copy->writtenOffset(), std::chrono::seconds(30)).isOk());
            QCOMPARE(copy->stats().appendedBatches, uint64_t(ends.size()));
        }
        QCOMPARE(segmentBases(copyDir.path()), segmentBases(sourceDir.path()));  // rolled at the same batches
        auto reopened = openLog(copyDir.path());
        QVERIFY(reopened->recoveryReport().corrupt.empty());
        QCOMPARE(reopened->recoveryReport().truncatedBytes, uint64_t(0));
        std::string compared = compareLogs(*source, *reopened);
        QVERIFY2(compared.empty(), compared.c_str());
    }

    void testReadFramedShipsWholeBatchesAndNeverPassesTheLimit() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        std::vector<uint64_t> ends = appendBatches(*log, 40);
        std::vector<uint64_t> starts = {0};
        starts.insert(starts.end(), ends.begin(), ends.end() - 1);
        const uint64_t written = log->writtenOffset();
        for (size_t b = 0; b < starts.size(); ++b) {
            const uint64_t from = starts[b];
            const uint64_t nextEnd = ends[b];
            for (uint64_t limit : {from, nextEnd - 1, nextEnd, nextEnd + 5, written, written + 1000}) {
                for (size_t maxBytes : {size_t(0), size_t(50), size_t(300), size_t(2000)}) {
                    Result<FramedRange> range = log->readFramed(from, limit, maxBytes);
                    QVERIFY2(range.isOk(), describe(range.status()).c_str());
                    QCOMPARE(range->from, from);
                    QCOMPARE(uint64_t(range->bytes.size()), range->end - range->from);
                    QVERIFY(range->end <= std::min(limit, written));
                    QVERIFY2(range->end == from || std::binary_search(ends.begin(), ends.end(), range->end),
                             "an answer always ends at a batch end");
                    if (nextEnd <= limit)
                        QVERIFY2(range->end >= nextEnd, "a batch available before the limit is returned");
                    if (range->bytes.size() > maxBytes)
                        QCOMPARE(range->end, nextEnd);  // larger than maxBytes only as a single batch
                }
            }
        }
    }

    void testOneAppendFramedRollsBetweenBatchesIntoNewSegments() {
        test::TempDir sourceDir, copyDir;
        auto source = openLog(sourceDir.path(), smallSegments(64 * 1024));  // everything in one segment
        std::vector<uint64_t> ends = appendBatches(*source, 60);
        QCOMPARE(source->stats().segmentCount, size_t(1));
        Result<FramedRange> all = source->readFramed(0, source->durableOffset(), 1 << 20);
        QVERIFY2(all.isOk(), describe(all.status()).c_str());
        QCOMPARE(all->end, source->writtenOffset());
        {
            auto copy = openLog(copyDir.path());  // 4 KiB segments: the one call must roll several times
            Result<uint64_t> appended = copy->appendFramed(0, all->bytes);
            QVERIFY2(appended.isOk(), describe(appended.status()).c_str());
            QCOMPARE(*appended, all->end);
            QVERIFY(copy->stats().segmentCount >= 4);
            std::string compared = compareLogs(*source, *copy);
            QVERIFY2(compared.empty(), compared.c_str());
        }
        for (uint64_t base : segmentBases(copyDir.path()))
            QVERIFY2(base == 0 || std::binary_search(ends.begin(), ends.end(), base), "segments start at batch ends");
        auto reopened = openLog(copyDir.path());
        QVERIFY(reopened->recoveryReport().corrupt.empty());
        std::string compared = compareLogs(*source, *reopened);
        QVERIFY2(compared.empty(), compared.c_str());
    }

    void testAnOversizeBatchIsReturnedAlone() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        appendBatch(*log, {{1, "small"}});
        const uint64_t start = log->writtenOffset();
        CommitLog::Appended big = appendBatch(*log, {{2, std::string(400, 'x')}, {3, std::string(400, 'y')}});
        appendBatch(*log, {{4, "after"}});
        QVERIFY(log->flush().isOk());
        Result<FramedRange> range = log->readFramed(start, log->durableOffset(), 10);
        QVERIFY2(range.isOk(), describe(range.status()).c_str());
        QCOMPARE(range->end, big.endOffset);
        QCOMPARE(range->bytes.size(), size_t(2 * (kFrameHeaderSize + 400)));
    }

    void testReadFramedReturnsTheBytesAsStoredOnDisk() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        appendSmallLog(*log);
        std::string bytes = readAllFramed(*log);
        QCOMPARE(bytes.size(), size_t(SmallLog::kEnd));
        uint64_t position = 0;
        test::SegmentFileInfo segment = test::segmentHolding(dir.path(), 0, &position);
        QFile file(QString::fromStdString(segment.path));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.seek(qint64(position)));
        QCOMPARE(file.read(qint64(bytes.size())), QByteArray(bytes.data(), qsizetype(bytes.size())));
        // The continues bits are there: bravo and charlie continue, delta ends its batch.
        QVERIFY(uint8_t(bytes[SmallLog::kSecondBatch + 8]) & format::kContinuesBit);
        QVERIFY(uint8_t(bytes[SmallLog::kCharlie + 8]) & format::kContinuesBit);
        QVERIFY(!(uint8_t(bytes[SmallLog::kDelta + 8]) & format::kContinuesBit));
    }

    void testNothingAvailableIsAnEmptyAnswer() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        appendSmallLog(*log);
        for (uint64_t from : {uint64_t(0), SmallLog::kThirdBatch, SmallLog::kEnd}) {
            Result<FramedRange> range = log->readFramed(from, from, 1000);
            QVERIFY2(range.isOk(), describe(range.status()).c_str());
            QCOMPARE(range->from, from);
            QCOMPARE(range->end, from);
            QVERIFY(range->bytes.empty());
        }
    }

    void testReadFramedFromADroppedOrFutureOffsetIsNotFound() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        appendBatches(*log, 60);
        QVERIFY(log->dropBefore(log->writtenOffset() / 2).isOk());
        QVERIFY(log->startOffset() > 0);
        QCOMPARE(log->readFramed(0, log->durableOffset(), 1000).status().code(), StatusCode::NotFound);
        QCOMPARE(log->readFramed(log->startOffset() - 1, log->durableOffset(), 1000).status().code(),
                 StatusCode::NotFound);
        QCOMPARE(log->readFramed(log->writtenOffset() + 1, UINT64_MAX, 1000).status().code(), StatusCode::NotFound);
        Result<FramedRange> fromStart = log->readFramed(log->startOffset(), log->durableOffset(), 1000);
        QVERIFY2(fromStart.isOk(), describe(fromStart.status()).c_str());
        QVERIFY(fromStart->end > fromStart->from);
    }

    void testReadFramedFromInsideABatchOrRecordIsInvalidArgument() {
        test::TempDir dir;
        {
            auto log = openLog(dir.path());
            appendSmallLog(*log);
        }
        auto log = openLog(dir.path());  // reopened: nothing shipped yet, so batch starts are found by a scan
        QCOMPARE(log->readFramed(SmallLog::kCharlie, SmallLog::kEnd, 1000).status().code(),
                 StatusCode::InvalidArgument);
        QCOMPARE(log->readFramed(SmallLog::kFoxtrot, SmallLog::kEnd, 1000).status().code(),
                 StatusCode::InvalidArgument);
        QCOMPARE(log->readFramed(SmallLog::kSecondBatch + 1, SmallLog::kEnd, 1000).status().code(),
                 StatusCode::InvalidArgument);
        QCOMPARE(log->readFramed(SmallLog::kThirdBatch, SmallLog::kSecondBatch, 1000).status().code(),
                 StatusCode::InvalidArgument);  // limit before from
        Result<FramedRange> third = log->readFramed(SmallLog::kThirdBatch, SmallLog::kEnd, 1000);
        QVERIFY2(third.isOk(), describe(third.status()).c_str());
        QCOMPARE(third->end, SmallLog::kEnd);
    }

    // Batch ends that readFramed handed out are remembered; a truncation or reset must make it forget them.
    void testBatchEndsShippedBeforeATruncationOrResetAreNotTrustedAfter() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        appendSmallLog(*log);
        for (uint64_t from = 0; from < SmallLog::kEnd;) {
            Result<FramedRange> range = log->readFramed(from, SmallLog::kEnd, 0);  // ships 14, 58, 87
            QVERIFY(range.isOk());
            from = range->end;
        }
        QVERIFY(log->truncateAfter(SmallLog::kSecondBatch).isOk());
        // One batch over 14..58..: 58, a batch end before, is now the boundary between its two records.
        appendBatch(*log, {{1, std::string(SmallLog::kThirdBatch - SmallLog::kSecondBatch - kFrameHeaderSize, 't')},
                           {2, "tail"}});
        QCOMPARE(log->readFramed(SmallLog::kThirdBatch, log->writtenOffset(), 0).status().code(),
                 StatusCode::InvalidArgument);

        Result<FramedRange> first = log->readFramed(0, log->writtenOffset(), 0);  // ships 14 again
        QVERIFY(first.isOk());
        QCOMPARE(first->end, SmallLog::kSecondBatch);
        QVERIFY(log->readFramed(SmallLog::kSecondBatch, log->writtenOffset(), 0).isOk());
        QVERIFY(log->resetTo(0).isOk());
        appendBatch(*log, {{1, "alpha"}, {2, "bravo"}, {3, "charlie"}});  // 14 is now inside this batch
        QCOMPARE(log->readFramed(SmallLog::kSecondBatch, log->writtenOffset(), 0).status().code(),
                 StatusCode::InvalidArgument);
        QVERIFY(log->stats().quarantined.empty());
    }

    void testReadFramedRefusesADamagedBatchAndQuarantinesIt() {
        test::TempDir dir;
        std::vector<uint64_t> ends;
        {
            auto log = openLog(dir.path());
            ends = appendBatches(*log, 60);
        }
        // The second record of batch 5 (a batch of two records, in the first, sealed segment).
        const uint64_t badBatch = ends[4];
        uint64_t badRecord = 0;
        {
            auto log = openLog(dir.path());
            Result<Record> first = log->read(badBatch);
            QVERIFY(first.isOk());
            badRecord = first->endOffset();
        }
        uint64_t position = 0;
        test::SegmentFileInfo segment = test::segmentHolding(dir.path(), badRecord + kFrameHeaderSize, &position);
        test::flipBit(segment.path, position + 1, 3);
        auto log = openLog(dir.path());
        uint64_t from = log->startOffset();
        int corruptions = 0;
        for (int attempts = 0; attempts < 20 && corruptions < 3; ++attempts) {
            Result<FramedRange> range = log->readFramed(from, log->durableOffset(), 1 << 20);
            if (!range) {
                QCOMPARE(range.status().code(), StatusCode::Corruption);
                ++corruptions;
                continue;
            }
            QVERIFY2(range->end <= badBatch, "the damaged batch is never shipped");
            from = range->end;
        }
        QCOMPARE(corruptions, 3);
        QCOMPARE(from, badBatch);  // everything before it was shipped
        bool quarantined = false;
        for (const CorruptRange& range : log->stats().quarantined)
            quarantined = quarantined || (range.begin <= badRecord && badRecord < range.end);
        QVERIFY(quarantined);
    }

    void testAppendFramedRefusesAWrongFrom() {
        test::TempDir sourceDir, copyDir;
        auto source = openLog(sourceDir.path());
        appendSmallLog(*source);
        auto copy = openLog(copyDir.path());
        appendBatch(*copy, {{1, "already here"}});
        const uint64_t written = copy->writtenOffset();
        Result<uint64_t> appended = copy->appendFramed(0, readAllFramed(*source));
        QCOMPARE(appended.status().code(), StatusCode::InvalidArgument);
        QVERIFY2(appended.status().message().find(" 0 ") != std::string::npos &&
                     appended.status().message().find(std::to_string(written)) != std::string::npos,
                 appended.status().message().c_str());
        QCOMPARE(copy->writtenOffset(), written);
        QVERIFY(copy->failure().isOk());
    }

    void testAppendFramedRefusesDamagedBytesAndWritesNothing_data() {
        QTest::addColumn<QString>("damage");
        QTest::newRow("payload bit") << "payload bit";
        QTest::newRow("checksum bit") << "checksum bit";
        QTest::newRow("type 0") << "type 0";
        QTest::newRow("length past the maximum") << "length";
        QTest::newRow("ends inside a header") << "cut header";
        QTest::newRow("ends inside a payload") << "cut payload";
        QTest::newRow("ends inside a batch") << "cut batch";
    }
    void testAppendFramedRefusesDamagedBytesAndWritesNothing() {
        QFETCH(QString, damage);
        test::TempDir sourceDir, copyDir;
        auto source = openLog(sourceDir.path());
        appendSmallLog(*source);
        const std::string good = readAllFramed(*source);
        std::string bad = good;
        if (damage == "payload bit")
            bad[SmallLog::kCharlie + kFrameHeaderSize + 1] ^= 0x04;
        else if (damage == "checksum bit")
            bad[SmallLog::kDelta] ^= 0x01;
        else if (damage == "type 0")
            bad[SmallLog::kThirdBatch + 8] = 0;
        else if (damage == "length")
            format::putU32(bad.data() + SmallLog::kSecondBatch + 4, 0xffffffffu);
        else if (damage == "cut header")
            bad.resize(SmallLog::kThirdBatch + 4);
        else if (damage == "cut payload")
            bad.resize(SmallLog::kEnd - 3);
        else if (damage == "cut batch")
            bad.resize(SmallLog::kFoxtrot);  // after echo, whose continues bit is set
        auto copy = openLog(copyDir.path());
        Result<uint64_t> appended = copy->appendFramed(0, bad);
        QCOMPARE(appended.status().code(), StatusCode::Corruption);
        QCOMPARE(copy->writtenOffset(), uint64_t(0));
        QVERIFY(copy->failure().isOk());
        QVERIFY(test::readAllOrDie(*copy).empty());
        appended = copy->appendFramed(0, good);  // still writable
        QVERIFY2(appended.isOk(), describe(appended.status()).c_str());
        QCOMPARE(*appended, SmallLog::kEnd);
        std::string compared = compareLogs(*source, *copy);
        QVERIFY2(compared.empty(), compared.c_str());
    }

    void testABatchThatCannotFitInASegmentIsTooLarge() {
        test::TempDir sourceDir, copyDir;
        auto source = openLog(sourceDir.path(), smallSegments(64 * 1024));
        appendBatch(*source, {{1, "fits"}});
        appendBatch(*source, {{2, std::string(2000, 'a')}, {3, std::string(2000, 'b')}, {4, std::string(2000, 'c')}});
        QVERIFY(source->flush().isOk());
        auto copy = openLog(copyDir.path());  // 4 KiB segments
        Result<uint64_t> appended = copy->appendFramed(0, readAllFramed(*source));
        QCOMPARE(appended.status().code(), StatusCode::TooLarge);
        QCOMPARE(copy->writtenOffset(), uint64_t(0));  // not even the batch that fits
        QVERIFY(copy->failure().isOk());
    }

    void testEmptyBytesAppendNothing() {
        test::TempDir dir;
        auto log = openLog(dir.path());
        appendSmallLog(*log);
        Result<uint64_t> appended = log->appendFramed(SmallLog::kEnd, {});
        QVERIFY2(appended.isOk(), describe(appended.status()).c_str());
        QCOMPARE(*appended, SmallLog::kEnd);
        QCOMPARE(log->writtenOffset(), SmallLog::kEnd);
    }

    void testResetToRestartsTheLogEmptyAtTheOffset_data() {
        QTest::addColumn<quint64>("offset");
        QTest::newRow("far ahead") << quint64(1'000'000);
        QTest::newRow("inside the old log") << quint64(5000);
        QTest::newRow("the old start") << quint64(0);
    }
    void testResetToRestartsTheLogEmptyAtTheOffset() {
        QFETCH(quint64, offset);
        test::TempDir dir;
        {
            auto log = openLog(dir.path());
            appendBatches(*log, 60);
            QVERIFY(log->stats().segmentCount > 2);
            QVERIFY(log->resetTo(offset).isOk());
            QCOMPARE(log->startOffset(), uint64_t(offset));
            QCOMPARE(log->writtenOffset(), uint64_t(offset));
            QCOMPARE(log->durableOffset(), uint64_t(offset));
            QCOMPARE(log->stats().segmentCount, size_t(1));
            QCOMPARE(segmentBases(dir.path()), std::vector<uint64_t>{uint64_t(offset)});
            QVERIFY2(checkpointAtOrAfter(dir.path(), offset), "no checkpoint of the old log is left");
            QVERIFY(test::readAllOrDie(*log).empty());
            QCOMPARE(log->read(offset + 100).status().code(), StatusCode::NotFound);
            Result<FramedRange> nothing = log->readFramed(offset, log->durableOffset(), 1000);
            QVERIFY(nothing.isOk() && nothing->bytes.empty());
        }
        {
            auto log = openLog(dir.path());  // the reset alone is durable
            QVERIFY(log->recoveryReport().corrupt.empty());
            QCOMPARE(log->startOffset(), uint64_t(offset));
            QCOMPARE(log->writtenOffset(), uint64_t(offset));
            CommitLog::Appended appended = appendBatch(*log, {{9, "first"}, {10, "second"}});
            QCOMPARE(appended.offsets.front(), uint64_t(offset));
            appendBatches(*log, 10, 500);
        }
        auto log = openLog(dir.path());
        QVERIFY(log->recoveryReport().corrupt.empty());
        QCOMPARE(log->startOffset(), uint64_t(offset));
        std::vector<Record> records = test::readAllOrDie(*log);
        QVERIFY(records.size() > 2);
        QCOMPARE(records[0].offset, uint64_t(offset));
        QCOMPARE(records[0].payload, std::string("first"));
        QCOMPARE(records[1].payload, std::string("second"));
    }

    void testCopyOfALogWithADroppedStartBeginsWithResetTo() {
        test::TempDir sourceDir, copyDir;
        auto source = openLog(sourceDir.path());
        appendBatches(*source, 80);
        QVERIFY(source->dropBefore(source->writtenOffset() / 2).isOk());
        {
            auto copy = openLog(copyDir.path());
            appendBatch(*copy, {{1, "stale"}});  // a replica that fell behind what the primary still holds
            Result<FramedRange> behind = source->readFramed(copy->writtenOffset(), source->durableOffset(), 1000);
            QCOMPARE(behind.status().code(), StatusCode::NotFound);
            QVERIFY(copy->resetTo(source->startOffset()).isOk());
            std::string copied = copyLog(*source, *copy, 500, Durability::Async);
            QVERIFY2(copied.empty(), copied.c_str());
            QVERIFY(copy->flush().isOk());
            std::string compared = compareLogs(*source, *copy);
            QVERIFY2(compared.empty(), compared.c_str());
        }
        auto reopened = openLog(copyDir.path());
        QVERIFY(reopened->recoveryReport().corrupt.empty());
        std::string compared = compareLogs(*source, *reopened);
        QVERIFY2(compared.empty(), compared.c_str());
    }

    void testAFailedWriteMakesTheLogReadOnlyAndResetToIsRefused() {
        test::TempDir sourceDir, copyDir;
        auto source = openLog(sourceDir.path());
        appendSmallLog(*source);
        test::FaultyFileSystem fs;
        CommitLogOptions options = smallSegments();
        options.fileSystem = &fs;
        options.preallocateAhead = false;  // no background writes: the next write is appendFramed's
        auto copy = openLog(copyDir.path(), options);
        fs.failWriteAt(1, EIO);
        Result<uint64_t> appended = copy->appendFramed(0, readAllFramed(*source));
        QCOMPARE(appended.status().code(), StatusCode::IoError);
        QCOMPARE(copy->failure().code(), StatusCode::IoError);
        QCOMPARE(copy->appendFramed(0, readAllFramed(*source)).status().code(), StatusCode::ReadOnly);
        QCOMPARE(copy->resetTo(0).code(), StatusCode::ReadOnly);
    }
};

QTEST_GUILESS_MAIN(TestCommitLogReplication)
#include "TestCommitLogReplication.moc"
