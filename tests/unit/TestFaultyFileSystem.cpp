// The fault-injection file system must itself be right, or every durability test built on it proves nothing.

#include <QtTest>

#include <atomic>
#include <cerrno>
#include <thread>

#include "support/FaultyFileSystem.h"
#include "support/HookedFileSystem.h"
#include "support/TempDir.h"

using depot::Status;
using depot::StatusCode;
using depot::storage::File;
using depot::storage::FileSystem;
using depot::test::FaultyFileSystem;
using depot::test::HookedFileSystem;
using depot::test::TempDir;

namespace {

std::unique_ptr<File> openFile(FileSystem& fs, const std::string& path,
                               FileSystem::OpenMode mode = FileSystem::OpenMode::CreateReadWrite) {
    auto file = fs.open(path, mode);
    if (!file.isOk())
        qFatal("open %s: %s", path.c_str(), file.status().toString().c_str());
    return std::move(*file);
}

void put(File& file, uint64_t offset, const std::string& bytes) {
    Status status = depot::storage::writeFully(file, offset, bytes.data(), bytes.size());
    if (!status.isOk())
        qFatal("write: %s", status.toString().c_str());
}

// The whole content of `path` as the real file system sees it.
std::string contentOf(const std::string& path) {
    auto file = FileSystem::posix().open(path, FileSystem::OpenMode::ReadOnly);
    if (!file.isOk())
        return "<missing>";
    std::string bytes((*file)->size().value(), '\0');
    if (!depot::storage::readFully(**file, 0, bytes.data(), bytes.size()).isOk())
        return "<unreadable>";
    return bytes;
}

// A file whose name and content "durable" are on stable storage.
std::unique_ptr<File> durableFile(FaultyFileSystem& fs, const TempDir& dir, const std::string& name) {
    auto file = openFile(fs, dir.file(name));
    put(*file, 0, "durable");
    if (!file->sync().isOk() || !fs.syncDirectory(dir.path()).isOk())
        qFatal("cannot make %s durable", name.c_str());
    return file;
}

}  // namespace

class TestFaultyFileSystem : public QObject {
    Q_OBJECT

private slots:
    void testPowerLossDropsUnsyncedBytesAndKeepsSyncedOnes() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        put(*file, 7, " and lost");
        QCOMPARE(contentOf(dir.file("a")), std::string("durable and lost"));
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("a")), std::string("durable"));
    }

    void testOverwriteInPlaceRestoresOldBytes() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        put(*file, 1, "XY");
        put(*file, 2, "ZZZZZZZZZZ");  // overlaps the first overwrite and grows the file
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("a")), std::string("durable"));
    }

    void testTruncateAndAllocateAreUndone() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        QVERIFY(file->truncate(3).isOk());
        QVERIFY(file->allocate(4096).isOk());
        QCOMPARE(file->size().value(), uint64_t(4096));
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("a")), std::string("durable"));
    }

    void testOnlyChangesBeforeASyncAreCoveredByIt() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        put(*file, 7, "+one");
        QVERIFY(file->sync().isOk());
        put(*file, 11, "+two");
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("a")), std::string("durable+one"));
    }

    void testWritesDuringASyncAreNotCoveredByIt() {
        TempDir dir;
        HookedFileSystem hooked;
        FaultyFileSystem fs(hooked);
        auto file = durableFile(fs, dir, "a");
        put(*file, 7, "+before");
        bool once = true;
        hooked.duringSync = [&](const std::string&) {
            if (std::exchange(once, false))
                put(*file, 14, "+during");  // written while the sync runs: not covered by it
        };
        QVERIFY(file->sync().isOk());
        QVERIFY(!fs.isSynced(dir.file("a"), 14, 7));
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("a")), std::string("durable+before"));
    }

    void testAnyHandleSyncsTheFile() {
        TempDir dir;
        FaultyFileSystem fs;
        auto writer = durableFile(fs, dir, "a");
        auto other = openFile(fs, dir.file("a"), FileSystem::OpenMode::ReadOnly);
        put(*writer, 7, "!");
        QVERIFY(other->sync().isOk());
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("a")), std::string("durable!"));
    }

    void testFailSyncAtFailsTheNthSyncAndDropsUnsyncedBytes_data() {
        QTest::addColumn<int>("err");
        QTest::addColumn<int>("code");
        QTest::newRow("EIO") << EIO << int(StatusCode::IoError);
        QTest::newRow("ENOSPC") << ENOSPC << int(StatusCode::NoSpace);
    }

    void testFailSyncAtFailsTheNthSyncAndDropsUnsyncedBytes() {
        QFETCH(int, err);
        QFETCH(int, code);
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        uint64_t syncsBefore = fs.syncCount();
        fs.failSyncAt(3, err);
        QVERIFY(file->sync().isOk());
        QVERIFY(file->sync().isOk());
        put(*file, 7, " maybe");
        Status failed = file->sync();
        QCOMPARE(int(failed.code()), code);
        QCOMPARE(contentOf(dir.file("a")), std::string("durable"));  // dropped at once, like Linux
        QVERIFY(file->sync().isOk());                                // the fsyncgate trap: a retry succeeds
        QCOMPARE(fs.syncCount(), syncsBefore + 3);
    }

    void testFailWriteAtFailsTheNthWriteWritingNothing() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        fs.failWriteAt(2, EIO);
        put(*file, 7, "1");
        auto second = file->writeAt(8, "2", 1);
        QVERIFY(!second.isOk());
        QCOMPARE(second.status().code(), StatusCode::IoError);
        put(*file, 8, "3");
        QCOMPARE(contentOf(dir.file("a")), std::string("durable13"));
        QCOMPARE(fs.writeCount(), uint64_t(3));  // "durable", "1", "3"
    }

    void testShortWritesWriteAtMostTheLimitPerCall() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = openFile(fs, dir.file("a"));
        fs.setShortWrites(7);
        const std::string text = "a sentence much longer than seven bytes";
        auto written = file->writeAt(0, text.data(), text.size());
        QVERIFY(written.isOk());
        QCOMPARE(*written, size_t(7));
        put(*file, 0, text);
        QCOMPARE(contentOf(dir.file("a")), text);
        fs.clearFaults();
        QCOMPARE(file->writeAt(0, text.data(), text.size()).value(), text.size());
    }

    void testNoSpaceFailsWritesAndAllocationsUntilCleared() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        fs.setNoSpace(true);
        auto write = file->writeAt(7, "x", 1);
        QVERIFY(!write.isOk());
        QCOMPARE(write.status().code(), StatusCode::NoSpace);
        QCOMPARE(file->allocate(1 << 20).code(), StatusCode::NoSpace);
        QCOMPARE(contentOf(dir.file("a")), std::string("durable"));
        fs.setNoSpace(false);
        put(*file, 7, "x");
        QCOMPARE(contentOf(dir.file("a")), std::string("durablex"));
    }

    void testCreatedFileVanishesWithoutDirectorySync() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = openFile(fs, dir.file("new"));
        put(*file, 0, "synced data, unsynced name");
        QVERIFY(file->sync().isOk());
        QVERIFY(!fs.isSynced(dir.file("new"), 0, 4));
        fs.powerLoss();
        QVERIFY(!FileSystem::posix().exists(dir.file("new")));
    }

    void testCreatedFileSurvivesAfterDirectorySync() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = openFile(fs, dir.file("new"));
        put(*file, 0, "kept");
        QVERIFY(file->sync().isOk());
        QVERIFY(fs.syncDirectory(dir.path() + "/").isOk());  // path spelling does not matter
        QVERIFY(fs.isSynced(dir.file("new"), 0, 4));
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("new")), std::string("kept"));
    }

    void testRenameIsUndoneWithoutDirectorySync() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        QVERIFY(fs.rename(dir.file("a"), dir.file("b")).isOk());
        put(*file, 7, "+");  // through the old handle: the same inode, now named b
        QCOMPARE(contentOf(dir.file("b")), std::string("durable+"));
        fs.powerLoss();
        QVERIFY(!FileSystem::posix().exists(dir.file("b")));
        QCOMPARE(contentOf(dir.file("a")), std::string("durable"));
    }

    void testRenameOverAFileRestoresThatFile() {
        TempDir dir;
        FaultyFileSystem fs;
        auto old = durableFile(fs, dir, "target");
        auto replacement = openFile(fs, dir.file("target.tmp"));
        put(*replacement, 0, "replacement");
        QVERIFY(replacement->sync().isOk());
        QVERIFY(fs.rename(dir.file("target.tmp"), dir.file("target")).isOk());
        QCOMPARE(contentOf(dir.file("target")), std::string("replacement"));
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("target")), std::string("durable"));
        QVERIFY(!FileSystem::posix().exists(dir.file("target.tmp")));  // its creation was not durable either
    }

    void testRenameIsKeptAfterDirectorySync() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        QVERIFY(fs.rename(dir.file("a"), dir.file("b")).isOk());
        QVERIFY(fs.syncDirectory(dir.path()).isOk());
        fs.powerLoss();
        QVERIFY(!FileSystem::posix().exists(dir.file("a")));
        QCOMPARE(contentOf(dir.file("b")), std::string("durable"));
    }

    void testRemoveIsUndoneWithoutDirectorySync() {
        TempDir dir;
        FaultyFileSystem fs;
        durableFile(fs, dir, "a");
        QVERIFY(fs.remove(dir.file("a")).isOk());
        QVERIFY(!fs.exists(dir.file("a")));
        QVERIFY(fs.list(dir.path()).value().empty());  // the trash is hidden
        fs.powerLoss();
        QCOMPARE(contentOf(dir.file("a")), std::string("durable"));
    }

    void testRemoveIsFinalAfterDirectorySync() {
        TempDir dir;
        FaultyFileSystem fs;
        durableFile(fs, dir, "a");
        QVERIFY(fs.remove(dir.file("a")).isOk());
        QVERIFY(fs.syncDirectory(dir.path()).isOk());
        fs.powerLoss();
        QVERIFY(!FileSystem::posix().exists(dir.file("a")));
        QVERIFY(FileSystem::posix().list(dir.path()).value().empty());  // the trash is gone for real
    }

    void testOldHandlesFailAfterPowerLossAndNewOnesWork() {
        TempDir dir;
        FaultyFileSystem fs;
        auto old = durableFile(fs, dir, "a");
        fs.powerLoss();
        char byte = 0;
        QCOMPARE(old->writeAt(0, "x", 1).status().code(), StatusCode::IoError);
        QCOMPARE(old->readAt(0, &byte, 1).status().code(), StatusCode::IoError);
        QCOMPARE(old->sync().code(), StatusCode::IoError);
        QCOMPARE(old->truncate(0).code(), StatusCode::IoError);
        QCOMPARE(old->allocate(100).code(), StatusCode::IoError);
        QCOMPARE(old->size().status().code(), StatusCode::IoError);
        auto fresh = openFile(fs, dir.file("a"), FileSystem::OpenMode::ReadWrite);
        put(*fresh, 0, "D");
        QVERIFY(fresh->sync().isOk());
        QCOMPARE(contentOf(dir.file("a")), std::string("Durable"));
    }

    void testPowerOffRefusesEverythingUntilPowerOn() {
        TempDir dir;
        FaultyFileSystem fs;
        auto old = durableFile(fs, dir, "a");
        fs.powerOff();
        QCOMPARE(fs.open(dir.file("b"), FileSystem::OpenMode::CreateReadWrite).status().code(), StatusCode::IoError);
        QCOMPARE(fs.rename(dir.file("a"), dir.file("b")).code(), StatusCode::IoError);
        QCOMPARE(fs.remove(dir.file("a")).code(), StatusCode::IoError);
        QCOMPARE(fs.syncDirectory(dir.path()).code(), StatusCode::IoError);
        QVERIFY(!FileSystem::posix().exists(dir.file("b")));
        fs.powerOn();
        QCOMPARE(old->sync().code(), StatusCode::IoError);  // handles from before the crash stay dead
        QVERIFY(fs.open(dir.file("b"), FileSystem::OpenMode::CreateReadWrite).isOk());
    }

    void testIsSyncedReportsUnsyncedRanges() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = durableFile(fs, dir, "a");
        put(*file, 100, "late");
        QVERIFY(fs.isSynced(dir.file("a"), 0, 7));
        QVERIFY(!fs.isSynced(dir.file("a"), 100, 4));
        QVERIFY(!fs.isSynced(dir.file("a"), 103, 10));  // also beyond the end of the file
        QVERIFY(!fs.isSynced(dir.file("missing"), 0, 1));
        QVERIFY(file->sync().isOk());
        QVERIFY(fs.isSynced(dir.file("a"), 0, 104));
    }

    // A writer appends numbered blocks while another thread syncs: whatever a sync covered when it returned OK
    // must survive the power loss, and what comes back is a prefix of what was written.
    void testConcurrentWritesAndSyncsKeepEverySyncedPrefix() {
        TempDir dir;
        FaultyFileSystem fs;
        auto file = openFile(fs, dir.file("log"));
        QVERIFY(fs.syncDirectory(dir.path()).isOk());
        constexpr uint64_t kBlock = 512;
        std::atomic<uint64_t> written{0};
        std::atomic<uint64_t> durable{0};
        std::atomic<bool> stop{false};
        std::thread syncer([&] {
            while (!stop) {
                uint64_t before = written.load();
                if (file->sync().isOk())
                    durable = before;
            }
        });
        for (uint64_t block = 0; block < 2000; ++block) {
            std::string bytes(kBlock, char('a' + block % 26));
            put(*file, block * kBlock, bytes);
            written = (block + 1) * kBlock;
        }
        fs.powerLoss();
        uint64_t reported = durable.load();
        stop = true;
        syncer.join();
        std::string content = contentOf(dir.file("log"));
        QVERIFY2(content.size() >= reported, qPrintable(QString("%1 < %2").arg(content.size()).arg(reported)));
        QCOMPARE(content.size() % kBlock, uint64_t(0));
        for (uint64_t block = 0; block < content.size() / kBlock; ++block)
            QCOMPARE(content[block * kBlock], char('a' + block % 26));
    }
};

QTEST_GUILESS_MAIN(TestFaultyFileSystem)
#include "TestFaultyFileSystem.moc"
