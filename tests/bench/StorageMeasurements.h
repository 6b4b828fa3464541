#pragma once
// The measurements behind `depot-bench storage`: each one runs against a fresh directory under the scratch
// directory, on the same file system, and cleans up after itself.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "depot/LatencyHistogram.h"
#include "depot/Result.h"

namespace depot::bench {

// How long one slice of a measurement runs: until `time` has passed or `maxRecords` records are done.
struct Budget {
    std::chrono::duration<double> time{0.25};
    uint64_t maxRecords = UINT64_MAX;
};

struct StorageSetup {
    std::string scratchDir;
    uint64_t segmentSize = 0;
    size_t recordSize = 1024;
    uint64_t recoveryBytes = 256ull << 20;
};

struct Measurement {
    std::string name;
    uint64_t records = 0;
    uint64_t bytes = 0;  // payload bytes for appends and raw writes; log bytes for recovery
    double seconds = 0;
    uint64_t syncs = 0;                       // fdatasync calls during the measurement, 0 where not applicable
    std::optional<LatencyHistogram> latency;  // nanoseconds
    std::string note;

    double recordsPerSecond() const { return seconds > 0 ? double(records) / seconds : 0; }
    double megabytesPerSecond() const { return seconds > 0 ? double(bytes) / 1e6 / seconds : 0; }
    void add(const Measurement& slice);  // sums counts and times, merges latencies
};

// A throughput measurement run in slices, so that the rows of a table can take turns: on a shared machine the
// device's fsync latency drifts over seconds, and rows measured at different times would not be comparable.
// Each row owns its log or file (in its own place under the scratch directory) and removes it when destroyed.
class ThroughputRow {
public:
    virtual ~ThroughputRow() = default;
    // Runs one slice; counted slices add to result(), others are warm-up.
    virtual Status runSlice(const Budget& budget, bool counted) = 0;
    const Measurement& result() const { return m_result; }

protected:
    Measurement m_result;
};

// SYNC appends, one record per append() call, with `inFlight` records outstanding: one driver thread refills as
// the DurableListener reports completions and drains at the end of a slice. Latency: append() call → the durable
// notification covering the record.
Result<std::unique_ptr<ThroughputRow>> makeSyncAppendRow(const StorageSetup& setup, int inFlight);
// ASYNC appends, one record per append() call, default flush interval; a flush() closes each slice and is timed.
Result<std::unique_ptr<ThroughputRow>> makeAsyncAppendRow(const StorageSetup& setup);
// The raw baseline: loops of `writesPerSync` pwrite()s of one record each into a pre-zeroed, synced file, then one
// fdatasync. Latency: one loop (the writes and the fdatasync).
Result<std::unique_ptr<ThroughputRow>> makeRawWriteRow(const StorageSetup& setup, int writesPerSync);

// Writes setup.recoveryBytes of records, closes the log, removes its checkpoint so open() scans everything, then
// times open() alone and open() plus a cursor over every record: warm (page cache) and cold (pages dropped).
Result<std::vector<Measurement>> measureRecovery(const StorageSetup& setup);

// `size` bytes of a fixed non-zero pattern: the record payload of every measurement.
std::string benchPayload(size_t size);

}  // namespace depot::bench
