// The real file system: thin wrappers over POSIX calls, errno turned into Status.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "depot/storage/FileSystem.h"

namespace depot::storage {
namespace {

class PosixFile final : public File {
public:
    PosixFile(int fd, std::string path) : m_fd(fd), m_path(std::move(path)) {}
    ~PosixFile() override { ::close(m_fd); }

    Result<size_t> writeAt(uint64_t offset, const void* data, size_t size) override {
        for (;;) {
            ssize_t n = ::pwrite(m_fd, data, size, static_cast<off_t>(offset));
            if (n >= 0)
                return static_cast<size_t>(n);
            if (errno != EINTR)
                return Status::fromErrno(errno, "write " + m_path);
        }
    }

    Result<size_t> readAt(uint64_t offset, void* data, size_t size) const override {
        for (;;) {
            ssize_t n = ::pread(m_fd, data, size, static_cast<off_t>(offset));
            if (n >= 0)
                return static_cast<size_t>(n);
            if (errno != EINTR)
                return Status::fromErrno(errno, "read " + m_path);
        }
    }

    Status sync() override {
        // Never retried: after a failed fdatasync Linux may have dropped the dirty pages and a second call
        // can succeed without writing them (fsyncgate). The caller must treat the failure as final.
        if (::fdatasync(m_fd) != 0)
            return Status::fromErrno(errno, "fdatasync " + m_path);
        return Status::ok();
    }

    Status allocate(uint64_t size) override {
        int err = ::posix_fallocate(m_fd, 0, static_cast<off_t>(size));
        if (err != 0)
            return Status::fromErrno(err, "allocate " + m_path);
        return Status::ok();
    }

    Status truncate(uint64_t size) override {
        if (::ftruncate(m_fd, static_cast<off_t>(size)) != 0)
            return Status::fromErrno(errno, "truncate " + m_path);
        return Status::ok();
    }

    Result<uint64_t> size() const override {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0)
            return Status::fromErrno(errno, "stat " + m_path);
        return static_cast<uint64_t>(st.st_size);
    }

    const std::string& path() const override { return m_path; }

private:
    int m_fd;
    std::string m_path;
};

class PosixFileSystem final : public FileSystem {
public:
    Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
        int flags = O_CLOEXEC;
        switch (mode) {
        case OpenMode::ReadWrite: flags |= O_RDWR; break;
        case OpenMode::CreateReadWrite: flags |= O_RDWR | O_CREAT; break;
        case OpenMode::ReadOnly: flags |= O_RDONLY; break;
        }
        int fd = ::open(path.c_str(), flags, 0644);
        if (fd < 0) {
            if (errno == ENOENT)
                return Status::notFound("open " + path + ": no such file");
            return Status::fromErrno(errno, "open " + path);
        }
        return std::unique_ptr<File>(new PosixFile(fd, path));
    }

    Status rename(const std::string& from, const std::string& to) override {
        if (::rename(from.c_str(), to.c_str()) != 0)
            return Status::fromErrno(errno, "rename " + from + " to " + to);
        return Status::ok();
    }

    Status remove(const std::string& path) override {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return Status::fromErrno(errno, "remove " + path);
        return Status::ok();
    }

    Status createDirectories(const std::string& path) override {
        std::error_code ec;
        std::filesystem::create_directories(path, ec);
        if (ec)
            return Status::fromErrno(ec.value(), "create directory " + path);
        return Status::ok();
    }

    Status syncDirectory(const std::string& dir) override {
        int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return Status::fromErrno(errno, "open directory " + dir);
        int rc = ::fsync(fd);
        int err = errno;
        ::close(fd);
        if (rc != 0)
            return Status::fromErrno(err, "fsync directory " + dir);
        return Status::ok();
    }

    Result<std::vector<std::string>> list(const std::string& dir) override {
        DIR* d = ::opendir(dir.c_str());
        if (!d)
            return Status::fromErrno(errno, "list " + dir);
        std::vector<std::string> names;
        while (struct dirent* entry = ::readdir(d)) {
            std::string name = entry->d_name;
            if (name != "." && name != "..")
                names.push_back(std::move(name));
        }
        ::closedir(d);
        return names;
    }

    bool exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
};

}  // namespace

FileSystem& FileSystem::posix() {
    static PosixFileSystem instance;
    return instance;
}

Status writeFully(File& file, uint64_t offset, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        Result<size_t> n = file.writeAt(offset, p, size);
        if (!n)
            return n.status();
        if (*n == 0)
            return Status::ioError("write " + file.path() + ": no progress");
        p += *n;
        offset += *n;
        size -= *n;
    }
    return Status::ok();
}

Status readFully(const File& file, uint64_t offset, void* data, size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        Result<size_t> n = file.readAt(offset, p, size);
        if (!n)
            return n.status();
        if (*n == 0)
            return Status::corruption("read " + file.path() + ": unexpected end of file at " + std::to_string(offset));
        p += *n;
        offset += *n;
        size -= *n;
    }
    return Status::ok();
}

}  // namespace depot::storage
