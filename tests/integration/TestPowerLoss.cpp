// Power loss while appends are in flight: the fault file system drops every byte no fdatasync covered (and every
// directory change no directory fsync covered). SYNC must lose nothing it reported durable; ASYNC may lose only
// a suffix that was never reported durable. Cut points are random; the seed is printed (DEPOT_TEST_SEED replays).

#include <QtTest>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "depot/storage/CommitLog.h"
#include "support/FaultyFileSystem.h"
#include "support/HookedFileSystem.h"
#include "support/RecordJournal.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::storage;
using namespace std::chrono_literals;
using depot::test::FaultyFileSystem;
using depot::test::HookedFileSystem;
using depot::test::RecordJournal;
using depot::test::TempDir;

namespace {

constexpr uint64_t kSegmentSize = 64 * 1024;
constexpr int kCycles = 20;
constexpr int kWriters = 4;
constexpr auto kGuard = 60s;  // a hang guard, not a timing assertion

quint32 testSeed() {
    bool ok = false;
    quint32 seed = qEnvironmentVariable("DEPOT_TEST_SEED").toUInt(&ok);
    if (!ok)
        seed = QRandomGenerator::global()->generate();
    qInfo("seed %u (set DEPOT_TEST_SEED=%u to replay)", seed, seed);
    return seed;
}

CommitLogOptions optionsFor(FaultyFileSystem& fs, bool preallocate) {
    CommitLogOptions options;
    options.fileSystem = &fs;
    options.segmentSize = kSegmentSize;
    options.preallocateAhead = preallocate;
    options.asyncFlushInterval = 50ms;
    return options;
}

// Writers appending batches (1-3 records, 20 B to 2 KiB) until stopped or the log fails. SYNC writers wait for
// each batch to be durable. Errors before crash() are problems; after it they are the expected end.
class Workload {
public:
    Workload(CommitLog& log, RecordJournal& journal, Durability durability, quint32 seed, uint32_t writerBase)
        : m_log(log), m_journal(journal), m_durability(durability) {
        for (int t = 0; t < kWriters; ++t)
            m_threads.emplace_back([this, seed, t, writerBase] { run(seed + t, writerBase + t); });
    }
    ~Workload() { stop(); }

    uint64_t appendedRecords() const { return m_appended; }
    void crash() { m_crashed = true; }
    void stop() {
        m_stop = true;
        for (std::thread& thread : m_threads) {
            if (thread.joinable())
                thread.join();
        }
    }
    QString problem() const {
        std::lock_guard lock(m_mutex);
        return m_problem;
    }

private:
    void run(quint32 seed, uint32_t writer) {
        QRandomGenerator rng(seed);
        for (uint64_t seq = 0; !m_stop; seq += 3) {
            std::string payloads[3];
            RecordView views[3];
            int count = rng.bounded(1, 4);
            for (int i = 0; i < count; ++i) {
                payloads[i] = test::makePayload(writer, seq + i, rng.bounded(20, 2048));
                views[i] = {uint8_t(rng.bounded(1, 128)), payloads[i]};
            }
            Result<CommitLog::Appended> appended = m_log.append({views, size_t(count)}, m_durability);
            if (!appended.isOk())
                return unexpected("append", appended.status());
            m_journal.appended(*appended, {views, size_t(count)});
            m_appended += count;
            if (m_durability == Durability::Async) {
                std::this_thread::sleep_for(200us);  // lets periodic flushes happen between cut points
                continue;
            }
            Status durable = m_log.waitDurable(appended->endOffset, kGuard);
            if (!durable.isOk())
                return unexpected("waitDurable", durable);
            m_journal.claimDurable(appended->endOffset);
        }
    }

    void unexpected(const char* what, const Status& status) {
        if (m_crashed && status.code() != StatusCode::TimedOut)
            return;
        std::lock_guard lock(m_mutex);
        if (m_problem.isEmpty())
            m_problem = QString("%1 failed before the crash: %2").arg(what, QString::fromStdString(status.toString()));
    }

    CommitLog& m_log;
    RecordJournal& m_journal;
    const Durability m_durability;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_crashed{false};
    std::atomic<uint64_t> m_appended{0};
    mutable std::mutex m_mutex;
    QString m_problem;
    std::vector<std::thread> m_threads;
};

std::unique_ptr<CommitLog> openLog(const std::string& dir, const CommitLogOptions& options) {
    Result<std::unique_ptr<CommitLog>> log = CommitLog::open(dir, options);
    if (!log.isOk()) {
        qWarning("open failed: %s", log.status().toString().c_str());
        return nullptr;
    }
    return std::move(*log);
}

// Holds the first segment-file sync after arm() until open(): a sync round that takes as long as we like.
class SyncGate {
public:
    void arm() {
        std::lock_guard lock(m_mutex);
        m_armed = true;
    }
    void pass(const std::string& path) {
        std::unique_lock lock(m_mutex);
        if (!m_armed || !path.ends_with(".seg"))
            return;
        m_armed = false;
        m_held = true;
        m_changed.notify_all();
        m_changed.wait(lock, [this] { return m_open; });
    }
    bool waitHeld() {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, kGuard, [this] { return m_held; });
    }
    void open() {
        std::lock_guard lock(m_mutex);
        m_open = true;
        m_changed.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_armed = false;
    bool m_held = false;
    bool m_open = false;
};

// Appends `count` records of `size` bytes; returns the end offset, 0 on failure (with a warning).
uint64_t appendRecords(CommitLog& log, RecordJournal& journal, uint32_t writer, int count, size_t size,
                       Durability durability) {
    uint64_t end = 0;
    for (int i = 0; i < count; ++i) {
        std::string payload = test::makePayload(writer, i, size);
        RecordView view{5, payload};
        Result<CommitLog::Appended> appended = log.append({&view, 1}, durability);
        if (!appended.isOk()) {
            qWarning("append: %s", appended.status().toString().c_str());
            return 0;
        }
        journal.appended(*appended, {&view, 1});
        end = appended->endOffset;
    }
    return end;
}

// Waits (bounded by kGuard) until `done` holds.
template <typename Predicate>
bool waitFor(Predicate done) {
    auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

class TestPowerLoss : public QObject {
    Q_OBJECT

private slots:
    void testSyncPowerLossKeepsEveryRecordReportedDurable_data() { preallocationRows(); }
    void testSyncPowerLossKeepsEveryRecordReportedDurable() {
        QFETCH(bool, preallocate);
        crashCycles(Durability::Sync, preallocate);
    }

    void testAsyncPowerLossLosesOnlyASuffixNeverReportedDurable_data() { preallocationRows(); }
    void testAsyncPowerLossLosesOnlyASuffixNeverReportedDurable() {
        QFETCH(bool, preallocate);
        crashCycles(Durability::Async, preallocate);
    }

    void testRecoveredLogAcceptsDurableAppendsThatSurviveTheNextPowerLoss() {
        TempDir dir;
        FaultyFileSystem fs;
        RecordJournal journal;
        const quint32 seed = testSeed();
        auto log = openLog(dir.path(), optionsFor(fs, true));
        QVERIFY(log);
        {
            Workload workload(*log, journal, Durability::Sync, seed, 0);
            QVERIFY(waitFor([&] { return workload.appendedRecords() >= 200; }));
            workload.crash();
            fs.powerOff();
        }
        log.reset();
        fs.powerOn();
        log = openLog(dir.path(), optionsFor(fs, true));
        QVERIFY(log);
        std::string problem = journal.verifyRecovered(*log);
        QVERIFY2(problem.empty(), problem.c_str());

        std::vector<uint64_t> offsets;
        for (uint64_t seq = 0; seq < 150; ++seq) {  // 150 KiB: rolls into new segments
            std::string payload = test::makePayload(99, seq, 1024);
            RecordView view{7, payload};
            Result<CommitLog::Appended> appended = log->append({&view, 1}, Durability::Sync);
            QVERIFY2(appended.isOk(), appended.status().toString().c_str());
            journal.appended(*appended, {&view, 1});
            offsets.push_back(appended->offsets.front());
        }
        QVERIFY(log->flush().isOk());
        journal.claimDurable(log->durableOffset());
        for (uint64_t seq = 0; seq < offsets.size(); ++seq) {
            Result<Record> record = log->read(offsets[seq]);
            QVERIFY2(record.isOk(), record.status().toString().c_str());
            QCOMPARE(record->payload, test::makePayload(99, seq, 1024));
        }
        fs.powerOff();
        log.reset();
        fs.powerOn();
        log = openLog(dir.path(), optionsFor(fs, true));
        QVERIFY(log);
        problem = journal.verifyRecovered(*log);
        QVERIFY2(problem.empty(), problem.c_str());
        QCOMPARE(log->writtenOffset(), offsets.back() + kFrameHeaderSize + 1024);
    }

    // Segments rolled while a sync round runs get their names made durable by that round's directory fsync
    // (or the checkpoint's), but their headers are synced only by a later data sync. A power loss in between
    // leaves named segments with zero headers: that is a crashed roll, not corruption, and the log must go on
    // serving every record it appends afterwards.
    void testSegmentsRolledDuringASyncRoundAreNotCorruptionAfterPowerLoss() {
        constexpr size_t kSize = 4000;  // 16 records per 64 KiB segment
        TempDir dir;
        SyncGate gate;
        HookedFileSystem hooked;
        hooked.duringSync = [&gate](const std::string& path) { gate.pass(path); };
        FaultyFileSystem fs(hooked);
        RecordJournal journal;
        CommitLogOptions options = optionsFor(fs, false);
        options.asyncFlushInterval = std::chrono::hours(1);  // only the Sync append below asks for a sync
        auto log = openLog(dir.path(), options);
        QVERIFY(log);
        QVERIFY(appendRecords(*log, journal, 1, 16, kSize, Durability::Async));  // fills segment 0
        gate.arm();
        uint64_t syncEnd = appendRecords(*log, journal, 2, 1, kSize, Durability::Sync);  // rolls to segment 1
        QVERIFY(syncEnd);
        QVERIFY2(gate.waitHeld(), "the flusher never synced a segment");
        QVERIFY(appendRecords(*log, journal, 3, 40, kSize, Durability::Async));  // rolls to segments 2 and 3
        gate.open();
        QVERIFY(log->waitDurable(syncEnd, kGuard).isOk());
        journal.claimDurable(syncEnd);
        QVERIFY(log->stats().segmentCount >= 4);
        fs.powerOff();
        log.reset();
        fs.powerOn();

        log = openLog(dir.path(), optionsFor(fs, false));
        QVERIFY(log);
        std::string problem = journal.verifyRecovered(*log);
        QVERIFY2(problem.empty(), problem.c_str());
        QVERIFY(appendRecords(*log, journal, 4, 40, kSize, Durability::Sync));
        QVERIFY(log->flush().isOk());
        journal.claimDurable(log->durableOffset());
        problem = journal.verifyRecovered(*log);  // in the same open: new records are served
        QVERIFY2(problem.empty(), problem.c_str());
    }

private:
    void preallocationRows() {
        QTest::addColumn<bool>("preallocate");
        QTest::newRow("preallocate ahead") << true;
        QTest::newRow("allocate on roll") << false;
    }

    // kCycles times: open (checking the recovery), append from several threads, pull the plug at a random
    // number of appended records, destroy the log with the machine off, power on.
    void crashCycles(Durability durability, bool preallocate) {
        TempDir dir;
        FaultyFileSystem fs;
        RecordJournal journal;
        const quint32 seed = testSeed();
        QRandomGenerator rng(seed);
        for (int cycle = 0; cycle < kCycles; ++cycle) {
            auto log = openLog(dir.path(), optionsFor(fs, preallocate));
            QVERIFY2(log, qPrintable(QString("cycle %1: reopen failed").arg(cycle)));
            std::string problem = journal.verifyRecovered(*log);
            QVERIFY2(problem.empty(), qPrintable(QString("cycle %1, seed %2: %3").arg(cycle).arg(seed).arg(
                                          QString::fromStdString(problem))));
            const uint64_t claimAtStart = journal.durableClaim();
            log->setDurableListener([&journal](uint64_t durable, const Status& status) {
                if (status.isOk())
                    journal.claimDurable(durable);
            });
            const uint64_t cut = rng.bounded(10, 300);
            Workload workload(*log, journal, durability, seed + cycle * kWriters, cycle * kWriters);
            QVERIFY(waitFor([&] { return workload.appendedRecords() >= cut; }));
            if (durability == Durability::Async)  // so that something was reported durable in this cycle
                QVERIFY2(waitFor([&] { return journal.durableClaim() > claimAtStart; }), "no periodic flush");
            workload.crash();
            fs.powerOff();
            workload.stop();
            QVERIFY2(workload.problem().isEmpty(), qPrintable(workload.problem()));
            log.reset();
            fs.powerOn();
        }
        auto log = openLog(dir.path(), optionsFor(fs, preallocate));
        QVERIFY(log);
        std::string problem = journal.verifyRecovered(*log);
        QVERIFY2(problem.empty(), qPrintable(QString("final open, seed %1: %2").arg(seed).arg(
                                      QString::fromStdString(problem))));
        QVERIFY2(journal.size() > 0, "the cycles must leave some records behind");
        qInfo("%zu records survived %d power losses (%llu bytes)", journal.size(), kCycles,
              static_cast<unsigned long long>(log->writtenOffset()));
    }
};

QTEST_GUILESS_MAIN(TestPowerLoss)
#include "TestPowerLoss.moc"
