// depot-crash-writer DIR SEED: the child of TestCrashRecovery. Appends SYNC batches of 1..8 records (CrashPayload)
// to the commit log in DIR from several threads, forever (paced), and reports every record once it is durable as a
// line "<offset> <seq> <len>" on stdout. The parent SIGKILLs it at a random moment and checks that every reported
// record survived. SEED varies the batch sizes.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "CrashPayload.h"
#include "depot/storage/CommitLog.h"

namespace {

using depot::test::CrashPayload;
using namespace depot::storage;

constexpr int kThreads = 3;
constexpr int kMaxBatch = 8;
// The parent re-reads the whole log after every crash, so its size over 50 cycles must not grow with the speed of
// the disk: a pace of at most this many records per second (all threads together) bounds it to a few hundred MB.
constexpr double kMaxRecordsPerSecond = 25000;

struct Sequence {
    std::atomic<uint64_t> next;
    uint64_t first;  // where this run started
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

    explicit Sequence(uint64_t firstFree) : next(firstFree), first(firstFree) {}

    // Takes `count` numbers, first waiting while the run is ahead of kMaxRecordsPerSecond.
    uint64_t take(int count) {
        const double ahead = double(next.load() - first) / kMaxRecordsPerSecond -
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (ahead > 0)
            std::this_thread::sleep_for(std::chrono::duration<double>(ahead));
        return next.fetch_add(uint64_t(count));
    }
};

[[noreturn]] void fail(const std::string& what, const depot::Status& status) {
    std::string line = "depot-crash-writer: " + what + ": " + status.toString() + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    std::_Exit(2);
}

// One write(2) per batch: at most kMaxBatch short lines, well under PIPE_BUF, so the pipe delivers it whole and
// lines of different threads never interleave. No stdio buffering: a SIGKILL cannot leave a reported line behind.
void writeAll(const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            std::_Exit(3);  // the parent is gone
        done += size_t(n);
    }
}

// Where the largest sequence number must be: the sequence counter is shared, so a batch can be appended after
// one holding a larger number only if it took its numbers earlier, i.e. by another thread (at most kThreads - 1
// batches). The largest number therefore lies in the last kThreads batches, a few KiB, which is inside the last
// two segments (1 MiB each). Segment files are named by the offset of their first record (docs/storage-format.md).
// Scanning only those keeps the start fast however long the log grows over the test's cycles.
uint64_t tailStart(const std::string& dir, const CommitLog& log) {
    std::vector<uint64_t> bases;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        const std::string name = entry.path().filename().string();
        if (name.size() == 24 && name.ends_with(".seg") &&
            std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; }))
            bases.push_back(std::strtoull(name.c_str(), nullptr, 10));
    }
    std::sort(bases.begin(), bases.end());
    const uint64_t from = bases.size() >= 2 ? bases[bases.size() - 2] : 0;
    return std::max(from, log.startOffset());
}

// The next unused sequence number: one above the largest in the recovered log. Sequence numbers of records that
// never reached the log may be reused; the parent never saw them.
uint64_t firstFreeSeq(const std::string& dir, const CommitLog& log) {
    uint64_t maxSeq = 0;
    CommitLog::Cursor cursor = log.iterate(tailStart(dir, log));
    int stuck = 0;
    for (;;) {
        uint64_t before = cursor.position();
        auto next = cursor.next();
        if (!next.isOk()) {
            // A quarantined range: the parent reports it. Stepping over ranges must make progress.
            stuck = cursor.position() == before ? stuck + 1 : 0;
            if (stuck > 2)
                fail("iterate", next.status());
            continue;
        }
        if (!next.value())
            break;
        if (auto seq = CrashPayload::seqOf(next.value()->payload))
            maxSeq = std::max(maxSeq, *seq);
    }
    return maxSeq + 1;
}

void appendForever(CommitLog& log, Sequence& sequence, uint64_t seed) {
    std::mt19937_64 random(seed);
    std::vector<std::string> payloads;
    std::vector<RecordView> views;
    for (;;) {
        int count = 1 + int(random() % kMaxBatch);
        const uint64_t first = sequence.take(count);
        payloads.clear();
        views.clear();
        for (int i = 0; i < count; ++i)
            payloads.push_back(CrashPayload::make(first + uint64_t(i)));
        for (const std::string& payload : payloads)
            views.push_back(RecordView{CrashPayload::kRecordType, payload});
        auto appended = log.append(views, Durability::Sync);
        if (!appended.isOk())
            fail("append", appended.status());
        if (depot::Status status = log.waitDurable(appended->endOffset); !status.isOk())
            fail("waitDurable", status);
        std::string lines;
        for (int i = 0; i < count; ++i) {
            lines += std::to_string(appended->offsets[size_t(i)]) + ' ' + std::to_string(first + uint64_t(i)) + ' ' +
                     std::to_string(payloads[size_t(i)].size()) + '\n';
        }
        writeAll(lines);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: depot-crash-writer DIR SEED\n");
        return 1;
    }
    const std::string dir = argv[1];
    const uint64_t seed = std::strtoull(argv[2], nullptr, 10);

    CommitLogOptions options;
    options.segmentSize = CrashPayload::kSegmentSize;
    auto opened = CommitLog::open(dir, options);
    if (!opened.isOk())
        fail("open " + dir, opened.status());
    std::unique_ptr<CommitLog> log = std::move(opened.value());

    Sequence sequence(firstFreeSeq(dir, *log));
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back(
            [&log, &sequence, seed, i] { appendForever(*log, sequence, seed * kThreads + uint64_t(i)); });
    for (std::thread& thread : threads)
        thread.join();  // never: the writer runs until it is killed
    return 0;
}
