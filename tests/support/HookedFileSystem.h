#pragma once
// HookedFileSystem: forwards everything to the real file system and calls a hook inside every File::sync(),
// before the real fdatasync. Lets a test act while a sync is in flight (write more, block the syncing thread
// until something else happened). Usually the base of a FaultyFileSystem. Header-only.
//
// Set the hook before any thread can sync; it is called on the syncing thread, with the File's path.

#include <functional>
#include <memory>
#include <string>

#include "depot/storage/FileSystem.h"

namespace depot::test {

class HookedFileSystem : public storage::FileSystem {
public:
    std::function<void(const std::string& path)> duringSync;

    Result<std::unique_ptr<storage::File>> open(const std::string& path, OpenMode mode) override {
        auto file = posix().open(path, mode);
        if (!file.isOk())
            return file.status();
        return std::unique_ptr<storage::File>(new HookedFile(*this, std::move(*file)));
    }
    Status rename(const std::string& from, const std::string& to) override { return posix().rename(from, to); }
    Status remove(const std::string& path) override { return posix().remove(path); }
    Status createDirectories(const std::string& path) override { return posix().createDirectories(path); }
    Status syncDirectory(const std::string& dir) override { return posix().syncDirectory(dir); }
    Result<std::vector<std::string>> list(const std::string& dir) override { return posix().list(dir); }
    bool exists(const std::string& path) override { return posix().exists(path); }

private:
    class HookedFile : public storage::File {
    public:
        HookedFile(HookedFileSystem& fs, std::unique_ptr<storage::File> base) : m_fs(fs), m_base(std::move(base)) {}
        Result<size_t> writeAt(uint64_t offset, const void* data, size_t size) override {
            return m_base->writeAt(offset, data, size);
        }
        Result<size_t> readAt(uint64_t offset, void* data, size_t size) const override {
            return m_base->readAt(offset, data, size);
        }
        Status sync() override {
            if (m_fs.duringSync)
                m_fs.duringSync(m_base->path());
            return m_base->sync();
        }
        Status allocate(uint64_t size) override { return m_base->allocate(size); }
        Status truncate(uint64_t size) override { return m_base->truncate(size); }
        Result<uint64_t> size() const override { return m_base->size(); }
        const std::string& path() const override { return m_base->path(); }

    private:
        HookedFileSystem& m_fs;
        std::unique_ptr<storage::File> m_base;
    };
};

}  // namespace depot::test
