// Group commit: many concurrent SYNC appends are all told durable, with far fewer fdatasyncs than appends, and
// no one is told before the fdatasync that covers its bytes (checked against the fault file system's record of
// which bytes are synced, at every notification and at every waiter's wake-up).

#include <QtTest>

#include <atomic>
#include <charconv>
#include <thread>

#include "depot/storage/CommitLog.h"
#include "support/FaultyFileSystem.h"
#include "support/RecordJournal.h"
#include "support/TempDir.h"

using namespace depot;
using namespace depot::storage;
using namespace std::chrono_literals;
using depot::test::FaultyFileSystem;
using depot::test::TempDir;

namespace {

constexpr uint64_t kSegmentSize = 256 * 1024;
constexpr size_t kPayloadSize = 1024;
constexpr auto kGuard = 60s;  // a hang guard, not a timing assertion

std::optional<uint64_t> segmentBase(const std::string& name) {
    // 20 decimal digits + ".seg" (docs/storage-format.md)
    if (name.size() != 24 || !name.ends_with(".seg"))
        return std::nullopt;
    uint64_t base = 0;
    auto [end, error] = std::from_chars(name.data(), name.data() + 20, base);
    if (error != std::errc() || end != name.data() + 20)
        return std::nullopt;
    return base;
}

// "" if every byte of the logical range [begin, end), and the header of every segment holding part of it, is on
// stable storage according to the fault file system; otherwise what is not.
std::string unsyncedBytesIn(FaultyFileSystem& fs, const std::string& dir, uint64_t begin, uint64_t end) {
    Result<std::vector<std::string>> names = FileSystem::posix().list(dir);
    if (!names.isOk())
        return names.status().toString();
    std::vector<std::pair<uint64_t, std::string>> segments;
    for (const std::string& name : *names) {
        if (std::optional<uint64_t> base = segmentBase(name))
            segments.emplace_back(*base, name);
    }
    std::sort(segments.begin(), segments.end());
    uint64_t covered = begin;
    for (size_t i = 0; i < segments.size(); ++i) {
        const auto& [base, name] = segments[i];
        uint64_t next = i + 1 < segments.size() ? segments[i + 1].first : UINT64_MAX;
        uint64_t lo = std::max(begin, base);
        uint64_t hi = std::min(end, next);
        if (lo >= hi)
            continue;
        std::string path = dir + "/" + name;
        if (!fs.isSynced(path, 0, kSegmentHeaderSize))
            return "the header of " + name + " is not synced";
        if (!fs.isSynced(path, kSegmentHeaderSize + (lo - base), hi - lo))
            return "offsets [" + std::to_string(lo) + ", " + std::to_string(hi) + ") in " + name + " are not synced";
        covered = std::max(covered, hi);
    }
    if (covered < end)
        return "offsets up to " + std::to_string(end) + " lie in no segment file";
    return {};
}

// Audits every durable notification: a sync happened since the previous one and every newly durable byte is synced.
class DurableAudit {
public:
    DurableAudit(FaultyFileSystem& fs, std::string dir) : m_fs(fs), m_dir(std::move(dir)) {}

    void onDurable(uint64_t durable, const Status& status) {
        std::lock_guard lock(m_mutex);
        ++m_notifications;
        if (!status.isOk())
            return problem("the listener reported a failure: " + status.toString());
        if (durable <= m_durable)
            return problem("durable offset did not advance: " + std::to_string(durable));
        if (m_fs.syncCount() <= m_syncs)
            return problem("durable moved to " + std::to_string(durable) + " without a sync since the last notice");
        if (std::string unsynced = unsyncedBytesIn(m_fs, m_dir, m_durable, durable); !unsynced.empty())
            return problem("notified durable " + std::to_string(durable) + " but " + unsynced);
        m_durable = durable;
        m_syncs = m_fs.syncCount();
    }

    void problem(const std::string& what) {
        std::lock_guard lock(m_problemMutex);
        if (m_problem.empty())
            m_problem = what;
    }
    std::string firstProblem() const {
        std::lock_guard lock(m_problemMutex);
        return m_problem;
    }
    uint64_t notifications() const {
        std::lock_guard lock(m_mutex);
        return m_notifications;
    }

private:
    FaultyFileSystem& m_fs;
    const std::string m_dir;
    mutable std::mutex m_mutex;
    uint64_t m_durable = 0;
    uint64_t m_syncs = 0;
    uint64_t m_notifications = 0;
    mutable std::mutex m_problemMutex;
    std::string m_problem;
};

std::unique_ptr<CommitLog> openLog(const std::string& dir, FaultyFileSystem& fs, bool preallocate) {
    CommitLogOptions options;
    options.fileSystem = &fs;
    options.segmentSize = kSegmentSize;
    options.preallocateAhead = preallocate;
    options.asyncFlushInterval = 20ms;
    Result<std::unique_ptr<CommitLog>> log = CommitLog::open(dir, options);
    if (!log.isOk())
        qFatal("open failed: %s", log.status().toString().c_str());
    return std::move(*log);
}

}  // namespace

class TestGroupCommit : public QObject {
    Q_OBJECT

private slots:
    void testConcurrentSyncAppendsAreAllToldDurableAfterTheirCoveringSync_data() {
        QTest::addColumn<bool>("preallocate");
        QTest::newRow("preallocate ahead") << true;
        QTest::newRow("allocate on roll") << false;
    }

    void testConcurrentSyncAppendsAreAllToldDurableAfterTheirCoveringSync() {
        QFETCH(bool, preallocate);
        constexpr int kThreads = 16;
        constexpr int kAppendsPerThread = 200;
        TempDir dir;
        FaultyFileSystem fs;
        auto log = openLog(dir.path(), fs, preallocate);
        DurableAudit audit(fs, dir.path());
        log->setDurableListener([&](uint64_t durable, const Status& status) { audit.onDurable(durable, status); });
        const uint64_t syncsBefore = fs.syncCount();
        const uint64_t logSyncsBefore = log->stats().syncs;

        std::atomic<int> durableAppends{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kAppendsPerThread; ++i) {
                    std::string payload = test::makePayload(t, i, kPayloadSize);
                    RecordView view{1, payload};
                    Result<CommitLog::Appended> appended = log->append({&view, 1}, Durability::Sync);
                    if (!appended.isOk())
                        return audit.problem("append: " + appended.status().toString());
                    Status durable = log->waitDurable(appended->endOffset, kGuard);
                    if (!durable.isOk())
                        return audit.problem("waitDurable: " + durable.toString());
                    std::string unsynced =
                        unsyncedBytesIn(fs, dir.path(), appended->offsets.front(), appended->endOffset);
                    if (!unsynced.empty())
                        return audit.problem("a waiter was told durable but " + unsynced);
                    ++durableAppends;
                }
            });
        }
        for (std::thread& thread : threads)
            thread.join();

        QVERIFY2(audit.firstProblem().empty(), audit.firstProblem().c_str());
        const int appends = kThreads * kAppendsPerThread;
        QCOMPARE(durableAppends.load(), appends);
        QVERIFY(audit.notifications() > 0);
        const uint64_t logSyncs = log->stats().syncs - logSyncsBefore;
        const uint64_t fileSyncs = fs.syncCount() - syncsBefore;
        qInfo("%d appends, %llu sync rounds, %llu file syncs", appends, (unsigned long long)logSyncs,
              (unsigned long long)fileSyncs);
        // 16 writers each waiting for their record: every round must carry several of them.
        QVERIFY2(logSyncs * 2 <= uint64_t(appends), "group commit must batch: at most one sync round per 2 appends");
        QVERIFY2(fileSyncs * 2 <= uint64_t(appends), "group commit must batch: at most one fdatasync per 2 appends");

        CommitLog::Cursor cursor = log->iterate(log->startOffset());
        int records = 0;
        for (;;) {
            Result<std::optional<Record>> next = cursor.next();
            QVERIFY2(next.isOk(), next.status().toString().c_str());
            if (!next->has_value())
                break;
            QVERIFY(test::payloadIsIntact((*next)->payload));
            ++records;
        }
        QCOMPARE(records, appends);
    }

    // The flusher, waiting out the async interval for earlier async appends (not woken by more of them), still
    // syncs a sync append at once, and the async bytes before it with it.
    void testSyncAppendIsNotHeldByAPendingAsyncFlush() {
        TempDir dir;
        FaultyFileSystem fs;
        auto log = openLog(dir.path(), fs, false);
        log->setAsyncFlushInterval(std::chrono::minutes(10));
        auto append = [&](int i, Durability durability) {
            std::string payload = test::makePayload(0, i, kPayloadSize);
            RecordView view{2, payload};
            Result<CommitLog::Appended> appended = log->append({&view, 1}, durability);
            return appended ? appended->endOffset : 0;
        };
        QVERIFY(append(0, Durability::Async) > 0);
        std::this_thread::sleep_for(50ms);  // the flusher has seen it and waits for the interval to end
        for (int i = 1; i < 100; ++i)
            QVERIFY(append(i, Durability::Async) > 0);
        QCOMPARE(log->durableOffset(), uint64_t(0));
        const uint64_t end = append(100, Durability::Sync);
        QVERIFY(end > 0);
        Status durable = log->waitDurable(end, 20s);
        QVERIFY2(durable.isOk(), durable.toString().c_str());
        std::string unsynced = unsyncedBytesIn(fs, dir.path(), 0, end);
        QVERIFY2(unsynced.empty(), unsynced.c_str());
    }

    void testAsyncAppendsBecomeDurableByThePeriodicFlush() {
        TempDir dir;
        FaultyFileSystem fs;
        auto log = openLog(dir.path(), fs, true);
        DurableAudit audit(fs, dir.path());
        log->setDurableListener([&](uint64_t durable, const Status& status) { audit.onDurable(durable, status); });
        uint64_t end = 0;
        std::vector<uint64_t> offsets;
        for (int i = 0; i < 500; ++i) {
            std::string payload = test::makePayload(0, i, kPayloadSize);
            RecordView view{2, payload};
            Result<CommitLog::Appended> appended = log->append({&view, 1}, Durability::Async);
            QVERIFY2(appended.isOk(), appended.status().toString().c_str());
            offsets.push_back(appended->offsets.front());
            end = appended->endOffset;
        }
        // No flush(): only the periodic flush (every 20 ms) can make them durable.
        Status durable = log->waitDurable(end, kGuard);
        QVERIFY2(durable.isOk(), durable.toString().c_str());
        QVERIFY(log->durableOffset() >= end);
        QVERIFY2(audit.firstProblem().empty(), audit.firstProblem().c_str());
        std::string unsynced = unsyncedBytesIn(fs, dir.path(), 0, end);
        QVERIFY2(unsynced.empty(), unsynced.c_str());
        for (int i = 0; i < 500; ++i) {
            Result<Record> record = log->read(offsets[i]);
            QVERIFY2(record.isOk(), record.status().toString().c_str());
            QCOMPARE(record->payload, test::makePayload(0, i, kPayloadSize));
        }
    }
};

QTEST_GUILESS_MAIN(TestGroupCommit)
#include "TestGroupCommit.moc"
