// FaultyFileSystem: directory changes, power loss, fault settings and observers. The per-file part is in
// FaultyFile.cpp; the shared state in FaultyFileSystemImpl.h.

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "support/FaultyFileSystemImpl.h"

namespace depot::test {

using storage::File;
using storage::FileSystem;
using namespace faulty;

std::string faulty::normalize(const std::string& path) {
    std::string normal = std::filesystem::path(path).lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/')
        normal.pop_back();
    return normal;
}

std::string faulty::parentOf(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

Status faulty::powerIsOff(const std::string& what) {
    return Status::fromErrno(EIO, what + " (the machine is off)");
}

std::shared_ptr<FileState> FaultyFileSystem::Impl::stateFor(const std::string& path) {
    auto& state = files[path];
    if (!state) {
        state = std::make_shared<FileState>();
        state->path = path;
    }
    return state;
}

void FaultyFileSystem::Impl::move(const std::string& from, const std::string& to) {
    std::shared_ptr<FileState> state = stateFor(from);
    files.erase(from);
    state->path = to;
    files[to] = std::move(state);
}

void FaultyFileSystem::Impl::addOp(DirOp::Kind kind, std::string from, std::string to) {
    DirOp op{kind, nextOpSeq++, std::move(from), std::move(to), {}};
    if (kind != DirOp::Kind::Create)
        op.pendingDirs.insert(parentOf(op.from));
    if (kind != DirOp::Kind::Remove)
        op.pendingDirs.insert(parentOf(op.to));
    dirOps.push_back(std::move(op));
}

void FaultyFileSystem::Impl::dropUnsynced(FileState& state) {
    if (state.undo.empty())
        return;
    auto file = base.open(state.path, OpenMode::ReadWrite);
    if (file.isOk()) {
        for (auto it = state.undo.rbegin(); it != state.undo.rend(); ++it)
            (void)revert(**file, *it);
    }
    state.undo.clear();
}

Status FaultyFileSystem::Impl::moveToTrash(const std::string& path) {
    std::string trash = parentOf(path) + "/" + std::string(kTrashPrefix) + std::to_string(trashCounter++);
    DEPOT_RETURN_IF_ERROR(base.rename(path, trash));
    move(path, trash);
    addOp(DirOp::Kind::Remove, path, trash);
    return Status::ok();
}

void FaultyFileSystem::Impl::undoOp(const DirOp& op) {
    switch (op.kind) {
    case DirOp::Kind::Create:
        (void)base.remove(op.to);
        files.erase(op.to);
        break;
    case DirOp::Kind::Rename:
    case DirOp::Kind::Remove:
        if (base.rename(op.to, op.from).isOk())
            move(op.to, op.from);
        break;
    }
}

void FaultyFileSystem::Impl::finishOp(const DirOp& op) {
    if (op.kind == DirOp::Kind::Remove) {
        (void)base.remove(op.to);
        files.erase(op.to);
    }
}

void FaultyFileSystem::Impl::restoreAll() {
    for (auto& [path, state] : files)
        dropUnsynced(*state);
    for (auto it = dirOps.rbegin(); it != dirOps.rend(); ++it)
        undoOp(*it);
    dirOps.clear();
}

bool FaultyFileSystem::Impl::entryIsDurable(const std::string& path) const {
    return std::none_of(dirOps.begin(), dirOps.end(), [&](const DirOp& op) {
        return op.to == path || (op.kind != DirOp::Kind::Create && op.from == path);
    });
}

FaultyFileSystem::FaultyFileSystem(FileSystem& base) : m_impl(std::make_unique<Impl>(base)) {}

FaultyFileSystem::~FaultyFileSystem() = default;

void FaultyFileSystem::failSyncAt(int nth, int err) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncFaultIn = nth;
    m_impl->syncFaultErr = err;
}

void FaultyFileSystem::failWriteAt(int nth, int err) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->writeFaultIn = nth;
    m_impl->writeFaultErr = err;
}

void FaultyFileSystem::setNoSpace(bool noSpace) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->noSpace = noSpace;
}

void FaultyFileSystem::setShortWrites(size_t maxBytesPerCall) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->shortWrites = maxBytesPerCall;
}

void FaultyFileSystem::clearFaults() {
    std::lock_guard lock(m_impl->mutex);
    m_impl->syncFaultIn = 0;
    m_impl->writeFaultIn = 0;
    m_impl->noSpace = false;
    m_impl->shortWrites = 0;
}

void FaultyFileSystem::powerLoss() {
    powerOff();
    powerOn();
}

void FaultyFileSystem::powerOff() {
    std::lock_guard lock(m_impl->mutex);
    ++m_impl->epoch;
    m_impl->off = true;
    m_impl->restoreAll();
}

void FaultyFileSystem::powerOn() {
    std::lock_guard lock(m_impl->mutex);
    m_impl->off = false;
}

uint64_t FaultyFileSystem::syncCount() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->syncs;
}

uint64_t FaultyFileSystem::writeCount() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->writes;
}

bool FaultyFileSystem::isSynced(const std::string& path, uint64_t fileOffset, uint64_t size) const {
    std::lock_guard lock(m_impl->mutex);
    std::string normal = normalize(path);
    if (!m_impl->entryIsDurable(normal))
        return false;
    auto file = m_impl->base.open(normal, OpenMode::ReadOnly);
    if (!file.isOk())
        return false;
    auto fileSize = (*file)->size();
    if (!fileSize.isOk() || fileOffset + size > *fileSize)
        return false;
    auto it = m_impl->files.find(normal);
    if (it == m_impl->files.end())
        return true;
    return std::none_of(it->second->undo.begin(), it->second->undo.end(), [&](const Undo& undo) {
        return undo.touchedBegin < fileOffset + size && fileOffset < undo.touchedEnd;
    });
}

Result<std::unique_ptr<File>> FaultyFileSystem::open(const std::string& path, OpenMode mode) {
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->off)
        return powerIsOff("open " + path);
    std::string normal = normalize(path);
    bool existed = m_impl->base.exists(normal);
    auto base = m_impl->base.open(normal, mode);
    if (!base.isOk())
        return base.status();
    if (!existed) {
        m_impl->files.erase(normal);  // a file of that name that vanished behind our back is a new one now
        m_impl->addOp(DirOp::Kind::Create, {}, normal);
    }
    return makeFaultyFile(*m_impl, std::move(*base), m_impl->stateFor(normal), path);
}

Status FaultyFileSystem::rename(const std::string& from, const std::string& to) {
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->off)
        return powerIsOff("rename " + from);
    std::string source = normalize(from);
    std::string target = normalize(to);
    if (source == target || !m_impl->base.exists(source))
        return m_impl->base.rename(source, target);
    // Replacing a file = removing it (recoverable from the trash) + renaming, so both can be undone.
    if (m_impl->base.exists(target))
        DEPOT_RETURN_IF_ERROR(m_impl->moveToTrash(target));
    DEPOT_RETURN_IF_ERROR(m_impl->base.rename(source, target));
    m_impl->move(source, target);
    m_impl->addOp(DirOp::Kind::Rename, source, target);
    return Status::ok();
}

Status FaultyFileSystem::remove(const std::string& path) {
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->off)
        return powerIsOff("remove " + path);
    std::string normal = normalize(path);
    if (!m_impl->base.exists(normal) || std::filesystem::is_directory(normal))
        return m_impl->base.remove(normal);
    return m_impl->moveToTrash(normal);
}

Status FaultyFileSystem::createDirectories(const std::string& path) {
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->off)
        return powerIsOff("create directories " + path);
    return m_impl->base.createDirectories(path);
}

Status FaultyFileSystem::syncDirectory(const std::string& dir) {
    uint64_t covered = 0;
    uint64_t epoch = 0;
    {
        std::lock_guard lock(m_impl->mutex);
        if (m_impl->off)
            return powerIsOff("sync directory " + dir);
        covered = m_impl->nextOpSeq;
        epoch = m_impl->epoch;
    }
    Status status = m_impl->base.syncDirectory(dir);
    std::lock_guard lock(m_impl->mutex);
    if (!m_impl->alive(epoch))
        return powerIsOff("sync directory " + dir);
    if (!status.isOk())
        return status;
    std::string normal = normalize(dir);
    for (DirOp& op : m_impl->dirOps) {
        if (op.seq < covered)
            op.pendingDirs.erase(normal);
    }
    std::erase_if(m_impl->dirOps, [&](const DirOp& op) {
        if (!op.pendingDirs.empty())
            return false;
        m_impl->finishOp(op);
        return true;
    });
    return Status::ok();
}

Result<std::vector<std::string>> FaultyFileSystem::list(const std::string& dir) {
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->off)
        return powerIsOff("list " + dir);
    auto names = m_impl->base.list(dir);
    if (names.isOk())
        std::erase_if(*names, [](const std::string& name) { return name.starts_with(kTrashPrefix); });
    return names;
}

bool FaultyFileSystem::exists(const std::string& path) {
    std::lock_guard lock(m_impl->mutex);
    return !m_impl->off && m_impl->base.exists(normalize(path));
}

}  // namespace depot::test
