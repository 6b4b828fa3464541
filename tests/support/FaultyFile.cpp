// FaultyFile: the File wrapper of FaultyFileSystem. Every change is recorded as an undo entry before it is made;
// a successful sync forgets the entries it covered; a failed one reverts them all (see FaultyFileSystem.h).

#include <algorithm>
#include <cerrno>

#include "support/FaultyFileSystemImpl.h"

namespace depot::test {

using storage::File;
using namespace faulty;

namespace {

constexpr size_t kZeroChunk = 64 * 1024;

class FaultyFile : public File {
public:
    FaultyFile(FaultyFileSystem::Impl& fs, std::unique_ptr<File> base, std::shared_ptr<FileState> state,
               std::string path)
        : m_fs(fs), m_base(std::move(base)), m_state(std::move(state)), m_epoch(fs.epoch), m_path(std::move(path)) {}

    Result<size_t> writeAt(uint64_t offset, const void* data, size_t size) override {
        std::lock_guard lock(m_fs.mutex);
        if (!m_fs.alive(m_epoch))
            return powerIsOff("write " + m_path);
        if (int err = FaultyFileSystem::Impl::take(m_fs.writeFaultIn, m_fs.writeFaultErr))
            return Status::fromErrno(err, "write " + m_path + " (injected)");
        if (m_fs.noSpace)
            return Status::fromErrno(ENOSPC, "write " + m_path + " (injected)");
        if (m_fs.shortWrites > 0)
            size = std::min(size, m_fs.shortWrites);
        auto undo = capture(offset, size);
        if (!undo.isOk())
            return undo.status();
        auto written = m_base->writeAt(offset, data, size);
        if (written.isOk() && *written > 0) {
            m_state->undo.push_back(std::move(*undo));
            ++m_fs.writes;
        }
        return written;
    }

    Result<size_t> readAt(uint64_t offset, void* data, size_t size) const override {
        {
            std::lock_guard lock(m_fs.mutex);
            if (!m_fs.alive(m_epoch))
                return powerIsOff("read " + m_path);
        }
        return m_base->readAt(offset, data, size);
    }

    Status sync() override {
        uint64_t covered = 0;
        {
            std::lock_guard lock(m_fs.mutex);
            if (!m_fs.alive(m_epoch))
                return powerIsOff("sync " + m_path);
            if (int err = FaultyFileSystem::Impl::take(m_fs.syncFaultIn, m_fs.syncFaultErr)) {
                m_fs.dropUnsynced(*m_state);
                return Status::fromErrno(err, "sync " + m_path + " (injected)");
            }
            covered = m_state->nextSeq;
        }
        Status status = m_base->sync();
        std::lock_guard lock(m_fs.mutex);
        if (!m_fs.alive(m_epoch))
            return powerIsOff("sync " + m_path);
        if (!status.isOk()) {
            m_fs.dropUnsynced(*m_state);
            return status;
        }
        std::erase_if(m_state->undo, [covered](const Undo& undo) { return undo.seq < covered; });
        ++m_fs.syncs;
        return Status::ok();
    }

    Status allocate(uint64_t size) override {
        std::lock_guard lock(m_fs.mutex);
        if (!m_fs.alive(m_epoch))
            return powerIsOff("allocate " + m_path);
        if (m_fs.noSpace)
            return Status::fromErrno(ENOSPC, "allocate " + m_path + " (injected)");
        auto undo = capture(0, 0);
        if (!undo.isOk())
            return undo.status();
        DEPOT_RETURN_IF_ERROR(m_base->allocate(size));
        undo->touchedBegin = undo->previousSize;
        undo->touchedEnd = std::max(undo->previousSize, size);
        m_state->undo.push_back(std::move(*undo));
        return Status::ok();
    }

    Status truncate(uint64_t size) override {
        std::lock_guard lock(m_fs.mutex);
        if (!m_fs.alive(m_epoch))
            return powerIsOff("truncate " + m_path);
        auto current = m_base->size();
        if (!current.isOk())
            return current.status();
        // Shrinking loses [size, current): keep those bytes. Growing adds zeros that the old size cuts off again.
        auto undo = capture(size, *current > size ? *current - size : 0);
        if (!undo.isOk())
            return undo.status();
        DEPOT_RETURN_IF_ERROR(m_base->truncate(size));
        undo->touchedBegin = std::min(size, *current);
        undo->touchedEnd = std::max(size, *current);
        m_state->undo.push_back(std::move(*undo));
        return Status::ok();
    }

    Result<uint64_t> size() const override {
        {
            std::lock_guard lock(m_fs.mutex);
            if (!m_fs.alive(m_epoch))
                return powerIsOff("size of " + m_path);
        }
        return m_base->size();
    }

    const std::string& path() const override { return m_path; }

private:
    // What [offset, offset + length) and the size are before a change (called with the mutex held).
    Result<Undo> capture(uint64_t offset, uint64_t length) {
        auto size = m_base->size();
        if (!size.isOk())
            return size.status();
        Undo undo;
        undo.seq = m_state->nextSeq++;
        undo.offset = offset;
        undo.previousSize = *size;
        undo.touchedBegin = offset;
        undo.touchedEnd = offset + length;
        uint64_t end = std::min(offset + length, *size);
        if (end > offset) {
            std::string old(end - offset, '\0');
            DEPOT_RETURN_IF_ERROR(storage::readFully(*m_base, offset, old.data(), old.size()));
            if (std::all_of(old.begin(), old.end(), [](char c) { return c == '\0'; }))
                undo.zeros = old.size();
            else
                undo.bytes = std::move(old);
        }
        return undo;
    }

    FaultyFileSystem::Impl& m_fs;
    std::unique_ptr<File> m_base;
    std::shared_ptr<FileState> m_state;
    const uint64_t m_epoch;
    const std::string m_path;
};

}  // namespace

Status faulty::revert(File& base, const Undo& undo) {
    if (undo.zeros > 0) {
        const std::string zeros(std::min<uint64_t>(undo.zeros, kZeroChunk), '\0');
        for (uint64_t done = 0; done < undo.zeros;) {
            size_t chunk = std::min<uint64_t>(undo.zeros - done, zeros.size());
            DEPOT_RETURN_IF_ERROR(storage::writeFully(base, undo.offset + done, zeros.data(), chunk));
            done += chunk;
        }
    } else if (!undo.bytes.empty()) {
        DEPOT_RETURN_IF_ERROR(storage::writeFully(base, undo.offset, undo.bytes.data(), undo.bytes.size()));
    }
    return base.truncate(undo.previousSize);
}

std::unique_ptr<File> makeFaultyFile(FaultyFileSystem::Impl& fs, std::unique_ptr<File> base,
                                     std::shared_ptr<FileState> state, std::string path) {
    return std::make_unique<FaultyFile>(fs, std::move(base), std::move(state), std::move(path));
}

}  // namespace depot::test
