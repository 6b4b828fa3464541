// The real-process crash test: depot-crash-writer appends SYNC records and reports each one once it is durable;
// this test SIGKILLs it at a random moment, reopens the log and checks that every record ever reported is still
// there, intact, and that the log holds nothing else than intact records. 50 cycles on one directory.

#include <signal.h>
#include <sys/types.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QRandomGenerator>
#include <QtTest>

#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "CrashPayload.h"
#include "depot/storage/CommitLog.h"
#include "support/TempDir.h"

using depot::storage::CommitLog;
using depot::storage::CommitLogOptions;
using depot::test::CrashPayload;

namespace {

constexpr int kCycles = 50;
constexpr int kMinKillDelayMs = 20;
constexpr int kMaxKillDelayMs = 300;

struct ReportedRecord {
    uint64_t seq = 0;
    uint64_t length = 0;
};

QString describe(const depot::Status& status) { return QString::fromStdString(status.toString()); }

// QVERIFY2 formats its message even when the check passes; the per-record checks format theirs only on failure.
#define DEPOT_CHECK(condition, message) \
    do {                                \
        if (!(condition))               \
            QFAIL(qPrintable(message)); \
    } while (0)

}  // namespace

class TestCrashRecovery : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void testEveryReportedRecordSurvivesSigkill();

private:
    QByteArray runWriterUntilKilled(const QString& dir, quint64 writerSeed, int killDelayMs);
    void parseReports(const QByteArray& output, std::map<uint64_t, ReportedRecord>& fresh);
    void verifyRecoveredLog(const CommitLog& log, const std::map<uint64_t, ReportedRecord>& fresh);
    void verifyReportedRecords(const CommitLog& log, const std::map<uint64_t, ReportedRecord>& fresh);
    void verifyWholeLog(const CommitLog& log);

    quint32 m_seed = 0;
    std::map<uint64_t, ReportedRecord> m_reported;  // every record any writer reported durable, by offset
    uint64_t m_partialLines = 0;
    uint64_t m_logRecords = 0;
};

void TestCrashRecovery::initTestCase() {
    QVERIFY2(QFileInfo(QStringLiteral(DEPOT_CRASH_WRITER)).isExecutable(), DEPOT_CRASH_WRITER);
    bool fromEnv = false;
    m_seed = qEnvironmentVariable("DEPOT_CRASH_SEED").toUInt(&fromEnv);
    if (!fromEnv)
        m_seed = QRandomGenerator::global()->generate();
    qInfo("seed %u (rerun with DEPOT_CRASH_SEED=%u)", m_seed, m_seed);
}

void TestCrashRecovery::testEveryReportedRecordSurvivesSigkill() {
    depot::test::TempDir dir;
    QRandomGenerator random(m_seed);
    CommitLogOptions options;
    options.segmentSize = CrashPayload::kSegmentSize;
    uint64_t truncatedBytes = 0;
    int silentCycles = 0;

    for (int cycle = 0; cycle < kCycles; ++cycle) {
        const quint64 writerSeed = random.generate64() >> 1;
        const int killDelayMs = random.bounded(kMinKillDelayMs, kMaxKillDelayMs + 1);
        QByteArray output = runWriterUntilKilled(QString::fromStdString(dir.path()), writerSeed, killDelayMs);
        if (QTest::currentTestFailed())
            return;
        std::map<uint64_t, ReportedRecord> fresh;
        parseReports(output, fresh);
        if (QTest::currentTestFailed())
            return;

        auto opened = CommitLog::open(dir.path(), options);
        QVERIFY2(opened.isOk(), qPrintable(describe(opened.status())));
        std::unique_ptr<CommitLog> log = std::move(opened.value());
        truncatedBytes += log->recoveryReport().truncatedBytes;
        verifyRecoveredLog(*log, fresh);
        if (QTest::currentTestFailed()) {
            qWarning("failed in cycle %d (kill after %d ms, writer seed %llu)", cycle, killDelayMs, writerSeed);
            return;
        }
        silentCycles += fresh.empty() ? 1 : 0;
    }

    qInfo(
        "%d cycles: %zu records reported durable, each read back by offset after its crash and found again "
        "after every later one; %d cycles killed before the first report; %llu records in the log at the end; "
        "%llu torn bytes truncated in total; %llu cut-off lines",
        kCycles, m_reported.size(), silentCycles, qulonglong(m_logRecords), qulonglong(truncatedBytes),
        qulonglong(m_partialLines));
    // Otherwise every cycle could have been killed before its first durable record and nothing was tested.
    QVERIFY2(!m_reported.empty(), "no writer ever reported a durable record");
}

// Starts the writer, lets it run for killDelayMs (counted from start, so some kills land during its recovery),
// SIGKILLs it and returns everything it printed.
QByteArray TestCrashRecovery::runWriterUntilKilled(const QString& dir, quint64 writerSeed, int killDelayMs) {
    QProcess writer;
    QElapsedTimer clock;
    clock.start();
    writer.start(QStringLiteral(DEPOT_CRASH_WRITER), {dir, QString::number(writerSeed)});
    if (!writer.waitForStarted(10000)) {
        QTest::qFail(qPrintable(QStringLiteral("cannot start the writer: %1").arg(writer.errorString())), __FILE__,
                     __LINE__);
        return {};
    }
    QByteArray output;
    // Draining stdout as it comes keeps the writer from blocking on a full pipe.
    while (clock.elapsed() < killDelayMs && writer.state() == QProcess::Running) {
        writer.waitForReadyRead(int(std::max<qint64>(1, killDelayMs - clock.elapsed())));
        output += writer.readAllStandardOutput();
    }
    const bool stillRunning = writer.state() == QProcess::Running;
    if (stillRunning)
        ::kill(pid_t(writer.processId()), SIGKILL);
    writer.waitForFinished(30000);
    output += writer.readAllStandardOutput();
    if (!stillRunning || writer.exitStatus() != QProcess::CrashExit) {
        QTest::qFail(qPrintable(QStringLiteral("the writer ended on its own (exit code %1): %2")
                                    .arg(writer.exitCode())
                                    .arg(QString::fromLocal8Bit(writer.readAllStandardError()))),
                     __FILE__, __LINE__);
    }
    return output;
}

// Complete lines only: a line without its newline was cut by the kill and proves nothing.
void TestCrashRecovery::parseReports(const QByteArray& output, std::map<uint64_t, ReportedRecord>& fresh) {
    QList<QByteArray> lines = output.split('\n');
    if (!lines.last().isEmpty())
        ++m_partialLines;
    lines.removeLast();
    for (const QByteArray& line : lines) {
        const QList<QByteArray> fields = line.split(' ');
        DEPOT_CHECK(fields.size() == 3, line);
        bool ok[3] = {};
        const uint64_t offset = fields[0].toULongLong(&ok[0]);
        const ReportedRecord record{fields[1].toULongLong(&ok[1]), fields[2].toULongLong(&ok[2])};
        DEPOT_CHECK(ok[0] && ok[1] && ok[2], line);
        DEPOT_CHECK(!m_reported.count(offset) && !fresh.count(offset),
                    QStringLiteral("offset %1 reported twice").arg(offset));
        fresh[offset] = record;
    }
}

// Recovery found no corruption, the records reported since the last crash read back intact, and so does the log.
void TestCrashRecovery::verifyRecoveredLog(const CommitLog& log, const std::map<uint64_t, ReportedRecord>& fresh) {
    for (const depot::storage::CorruptRange& range : log.recoveryReport().corrupt)
        qWarning("corrupt [%llu, %llu) in %s: %s", qulonglong(range.begin), qulonglong(range.end),
                 range.segment.c_str(), range.reason.c_str());
    QVERIFY2(log.recoveryReport().corrupt.empty(), "recovery found corruption after a SIGKILL");
    verifyReportedRecords(log, fresh);
    if (QTest::currentTestFailed())
        return;
    verifyWholeLog(log);
}

void TestCrashRecovery::verifyReportedRecords(const CommitLog& log, const std::map<uint64_t, ReportedRecord>& fresh) {
    for (const auto& [offset, reported] : fresh) {
        auto record = log.read(offset);
        DEPOT_CHECK(record.isOk(), QStringLiteral("reported record at %1 (seq %2): %3")
                                       .arg(offset)
                                       .arg(reported.seq)
                                       .arg(describe(record.status())));
        DEPOT_CHECK(record->type == CrashPayload::kRecordType && record->payload.size() == reported.length &&
                        CrashPayload::seqOf(record->payload) == reported.seq && CrashPayload::isValid(record->payload),
                    QStringLiteral("reported record at %1 (seq %2, %3 bytes) reads back as type %4, %5 bytes, seq %6")
                        .arg(offset)
                        .arg(reported.seq)
                        .arg(reported.length)
                        .arg(int(record->type))
                        .arg(record->payload.size())
                        .arg(CrashPayload::seqOf(record->payload).value_or(0)));
        m_reported[offset] = reported;
    }
}

// Every record in the log is intact and unique, and every record reported in any earlier cycle is still there.
void TestCrashRecovery::verifyWholeLog(const CommitLog& log) {
    std::unordered_map<uint64_t, uint64_t> seqAt;  // offset -> seq
    std::unordered_set<uint64_t> seqs;
    seqAt.reserve(m_logRecords);
    seqs.reserve(m_logRecords);
    CommitLog::Cursor cursor = log.iterate(log.startOffset());
    for (;;) {
        const uint64_t position = cursor.position();
        auto next = cursor.next();
        DEPOT_CHECK(next.isOk(), QStringLiteral("cursor at %1: %2").arg(position).arg(describe(next.status())));
        if (!next.value())
            break;
        const depot::storage::Record& record = *next.value();
        DEPOT_CHECK(record.type == CrashPayload::kRecordType && CrashPayload::isValid(record.payload),
                    QStringLiteral("record at %1 is not a writer's record").arg(record.offset));
        const uint64_t seq = *CrashPayload::seqOf(record.payload);
        DEPOT_CHECK(seqs.insert(seq).second, QStringLiteral("seq %1 stored twice").arg(seq));
        seqAt[record.offset] = seq;
    }
    for (const auto& [offset, reported] : m_reported) {
        auto found = seqAt.find(offset);
        DEPOT_CHECK(found != seqAt.end() && found->second == reported.seq,
                    QStringLiteral("reported record at %1 (seq %2) is missing").arg(offset).arg(reported.seq));
    }
    m_logRecords = seqAt.size();
}

QTEST_GUILESS_MAIN(TestCrashRecovery)
#include "TestCrashRecovery.moc"
