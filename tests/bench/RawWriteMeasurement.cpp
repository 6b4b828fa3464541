// The raw baseline: what the file system gives without the commit log, in the same directory.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "StorageMeasurements.h"

namespace depot::bench {

namespace {

using Clock = std::chrono::steady_clock;

class RawFile {
public:
    explicit RawFile(std::string path) : m_path(std::move(path)) {}
    ~RawFile() {
        if (m_fd >= 0)
            ::close(m_fd);
        ::unlink(m_path.c_str());
    }
    RawFile(const RawFile&) = delete;
    RawFile& operator=(const RawFile&) = delete;

    // Creates the file full of written zeros and syncs it, so later writes land in allocated, initialized blocks
    // (as in a preallocated segment) and fdatasync has no metadata to write.
    Status createZeroed(uint64_t size) {
        m_fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (m_fd < 0)
            return Status::fromErrno(errno, "open " + m_path);
        const std::string zeros(1 << 20, '\0');
        for (uint64_t done = 0; done < size; done += zeros.size())
            DEPOT_RETURN_IF_ERROR(writeAt(done, zeros.data(), size_t(std::min<uint64_t>(zeros.size(), size - done))));
        m_size = size;
        return sync();
    }

    Status writeAt(uint64_t offset, const char* data, size_t size) {
        while (size > 0) {
            ssize_t n = ::pwrite(m_fd, data, size, off_t(offset));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return Status::fromErrno(errno, "pwrite " + m_path);
            data += n;
            size -= size_t(n);
            offset += uint64_t(n);
        }
        return Status::ok();
    }

    Status sync() {
        if (::fdatasync(m_fd) != 0)
            return Status::fromErrno(errno, "fdatasync " + m_path);
        return Status::ok();
    }

    uint64_t size() const { return m_size; }

private:
    std::string m_path;
    int m_fd = -1;
    uint64_t m_size = 0;
};

// Loops of `writesPerSync` sequential record writes and one fdatasync; wraps to the start of the file at its end
// (rewriting initialized blocks costs the same as the first pass over them).
Result<Measurement> runRawPhase(RawFile& file, uint64_t& position, int writesPerSync, const Budget& budget,
                                const std::string& payload) {
    const uint64_t loopBytes = uint64_t(writesPerSync) * payload.size();
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(budget.time);
    Measurement result;
    result.latency.emplace();
    while (result.records < budget.maxRecords && Clock::now() < deadline) {
        if (position + loopBytes > file.size())
            position = 0;
        const Clock::time_point loopStart = Clock::now();
        for (int i = 0; i < writesPerSync; ++i, position += payload.size())
            DEPOT_RETURN_IF_ERROR(file.writeAt(position, payload.data(), payload.size()));
        DEPOT_RETURN_IF_ERROR(file.sync());
        result.latency->record(uint64_t(std::chrono::nanoseconds(Clock::now() - loopStart).count()));
        result.records += uint64_t(writesPerSync);
        ++result.syncs;
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.bytes = result.records * payload.size();
    return result;
}

class RawWriteRow : public ThroughputRow {
public:
    RawWriteRow(const StorageSetup& setup, int writesPerSync)
        : m_file(setup.scratchDir + "/raw-" + std::to_string(writesPerSync) + ".dat") {
        m_payload = benchPayload(setup.recordSize);
    }

    Status open(const StorageSetup& setup, int writesPerSync) {
        m_writesPerSync = writesPerSync;
        m_result.name = "raw@" + std::to_string(writesPerSync);
        m_result.note = "pwrite x" + std::to_string(writesPerSync) + " + fdatasync; latency per loop";
        return m_file.createZeroed(std::max<uint64_t>(setup.segmentSize, uint64_t(writesPerSync) * setup.recordSize));
    }

    Status runSlice(const Budget& budget, bool counted) override {
        auto slice = runRawPhase(m_file, m_position, m_writesPerSync, budget, m_payload);
        if (!slice.isOk())
            return slice.status();
        if (counted)
            m_result.add(*slice);
        return Status::ok();
    }

private:
    RawFile m_file;
    std::string m_payload;
    int m_writesPerSync = 1;
    uint64_t m_position = 0;  // where the next loop writes: slices continue where the last one stopped
};

}  // namespace

Result<std::unique_ptr<ThroughputRow>> makeRawWriteRow(const StorageSetup& setup, int writesPerSync) {
    auto row = std::make_unique<RawWriteRow>(setup, writesPerSync);
    DEPOT_RETURN_IF_ERROR(row->open(setup, writesPerSync));
    return std::unique_ptr<ThroughputRow>(std::move(row));
}

}  // namespace depot::bench
