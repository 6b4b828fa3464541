// Recovery speed: how fast CommitLog::open scans a log with no checkpoint, and how fast a cursor reads it all.

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "StorageMeasurements.h"
#include "depot/storage/CommitLog.h"

namespace depot::bench {

namespace {

using Clock = std::chrono::steady_clock;
using namespace depot::storage;

struct WrittenLog {
    uint64_t records = 0;
    uint64_t bytes = 0;  // record bytes (frames included) between the start and the written offset
};

Result<WrittenLog> writeLog(const std::string& dir, const CommitLogOptions& options, const StorageSetup& setup) {
    auto opened = CommitLog::open(dir, options);
    if (!opened.isOk())
        return opened.status();
    std::unique_ptr<CommitLog> log = std::move(opened.value());
    const std::string payload = benchPayload(setup.recordSize);
    const std::vector<RecordView> batch(64, RecordView{1, payload});
    WrittenLog written;
    while (log->writtenOffset() - log->startOffset() < setup.recoveryBytes) {
        auto appended = log->append(batch, Durability::Async);
        if (!appended.isOk())
            return appended.status();
        written.records += batch.size();
    }
    DEPOT_RETURN_IF_ERROR(log->flush());
    written.bytes = log->writtenOffset() - log->startOffset();
    return written;
}

// Without the checkpoint, open() has to scan and verify every segment (docs/storage-format.md, "Checkpoint").
bool removeCheckpoint(const std::string& dir) {
    bool removed = false;
    std::error_code ignored;
    for (const char* name : {"checkpoint", "checkpoint.tmp"})
        removed = std::filesystem::remove(dir + "/" + name, ignored) || removed;
    return removed;
}

// Drops the (clean, synced) pages of every file in `dir` from the page cache, so the next read goes to the device.
void dropFromPageCache(const std::string& dir) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ::fdatasync(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        ::close(fd);
    }
}

struct Timings {
    double openSeconds = 0;
    double totalSeconds = 0;
    uint64_t scannedBytes = 0;
};

Result<Timings> timeOpenAndIterate(const std::string& dir, const CommitLogOptions& options, const WrittenLog& written) {
    Timings timings;
    const Clock::time_point start = Clock::now();
    auto opened = CommitLog::open(dir, options);
    if (!opened.isOk())
        return opened.status();
    timings.openSeconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::unique_ptr<CommitLog> log = std::move(opened.value());
    timings.scannedBytes = log->recoveryReport().scannedBytes;
    uint64_t records = 0;
    CommitLog::Cursor cursor = log->iterate(log->startOffset());
    for (;;) {
        auto next = cursor.next();
        if (!next.isOk())
            return next.status();
        if (!next.value())
            break;
        ++records;
    }
    timings.totalSeconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (records != written.records)
        return Status::corruption("recovered " + std::to_string(records) + " records, wrote " +
                                  std::to_string(written.records));
    return timings;  // closing the log (and its checkpoint write) is not timed
}

Measurement recoveryRow(std::string name, const WrittenLog& written, double seconds, std::string note) {
    Measurement row;
    row.name = std::move(name);
    row.records = written.records;
    row.bytes = written.bytes;
    row.seconds = seconds;
    row.note = std::move(note);
    return row;
}

Result<std::vector<Measurement>> runRecovery(const std::string& dir, const StorageSetup& setup) {
    CommitLogOptions options;
    options.segmentSize = setup.segmentSize;
    auto written = writeLog(dir, options, setup);
    if (!written.isOk())
        return written.status();
    const bool hadCheckpoint = removeCheckpoint(dir);
    auto warm = timeOpenAndIterate(dir, options, *written);
    if (!warm.isOk())
        return warm.status();
    removeCheckpoint(dir);
    dropFromPageCache(dir);
    auto cold = timeOpenAndIterate(dir, options, *written);
    if (!cold.isOk())
        return cold.status();

    const std::string scanned = "scanned " + std::to_string(warm->scannedBytes >> 20) + " of " +
                                std::to_string(written->bytes >> 20) + " MiB" +
                                (hadCheckpoint ? ", checkpoint removed" : ", no checkpoint found");
    return std::vector<Measurement>{
        recoveryRow("recovery open", *written, warm->openSeconds, scanned),
        recoveryRow("recovery open+iterate", *written, warm->totalSeconds, "cursor reads every record"),
        recoveryRow("recovery open cold", *written, cold->openSeconds, "page cache dropped first"),
        recoveryRow("recovery open+iterate cold", *written, cold->totalSeconds, "page cache dropped first"),
    };
}

}  // namespace

Result<std::vector<Measurement>> measureRecovery(const StorageSetup& setup) {
    const std::string dir = setup.scratchDir + "/recovery";
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    auto rows = runRecovery(dir, setup);
    std::filesystem::remove_all(dir, ignored);
    return rows;
}

}  // namespace depot::bench
