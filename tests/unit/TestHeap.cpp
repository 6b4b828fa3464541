// depot/Heap.h: the malloc the process runs with is named right, and a burst's freed memory goes back to the
// system when asked (the history writer asks after a burst; RAM per queued message is a target).
#include <QtTest>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "depot/Heap.h"

namespace {

long residentKib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

}  // namespace

class TestHeap : public QObject {
    Q_OBJECT

private slots:
    void testNamesTheMallocInUse() {
        // This test links what the programs link (depot_malloc).
        QCOMPARE(depot::mallocName().rfind("gperftools", 0) == 0, bool(DEPOT_LINKS_TCMALLOC));
    }

    void testFreedBurstGoesBackToTheSystem() {
        // 64 MiB in small blocks, like a burst of events; one block in 64 KiB stays, so the heap cannot shrink
        // from its end alone.
        constexpr size_t kBlock = 256, kBlocks = 256 * 1024, kKeepEvery = 256;
        std::vector<std::unique_ptr<char[]>> blocks(kBlocks);
        const long before = residentKib();
        for (auto& block : blocks) {
            block.reset(new char[kBlock]);
            std::memset(block.get(), 1, kBlock);
        }
        const long peak = residentKib();
        QVERIFY2(peak - before > 48 * 1024, qPrintable(QString("%1 -> %2 KiB").arg(before).arg(peak)));
        for (size_t i = 0; i < kBlocks; ++i)
            if (i % kKeepEvery != 0)
                blocks[i].reset();
        depot::releaseFreeHeap();
        const long after = residentKib();
        QVERIFY2(peak - after > 32 * 1024, qPrintable(QString("%1 KiB at the peak, %2 after the release (%3)")
                                                          .arg(peak)
                                                          .arg(after)
                                                          .arg(QString::fromStdString(depot::mallocName()))));
    }
};

QTEST_GUILESS_MAIN(TestHeap)
#include "TestHeap.moc"
