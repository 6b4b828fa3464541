#include "storage/Segment.h"

#include <vector>

#include "storage/RecordFormat.h"

namespace depot::storage {

Status writeZeros(File& file, uint64_t from, uint64_t to) {
    const std::vector<char> zeros(1 << 20, 0);
    for (uint64_t position = from; position < to; position += zeros.size()) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), to - position));
        DEPOT_RETURN_IF_ERROR(writeFully(file, position, zeros.data(), n));
    }
    return Status::ok();
}

Segment::Segment(uint64_t baseOffset, uint64_t fileSize, std::string name, std::shared_ptr<File> file)
    : m_baseOffset(baseOffset), m_fileSize(fileSize), m_name(std::move(name)), m_file(std::move(file)) {}

namespace {

Status fillSpare(File& file, uint64_t fileSize) {
    DEPOT_RETURN_IF_ERROR(file.truncate(0));
    DEPOT_RETURN_IF_ERROR(file.allocate(fileSize));
    DEPOT_RETURN_IF_ERROR(writeZeros(file, 0, fileSize));
    return file.sync();
}

}  // namespace

Status prepareSpareFile(FileSystem& fs, const std::string& path, uint64_t fileSize) {
    Result<std::unique_ptr<File>> file = fs.open(path, FileSystem::OpenMode::CreateReadWrite);
    if (!file)
        return file.status();
    Status status = fillSpare(**file, fileSize);
    if (!status.isOk()) {
        file->reset();
        (void)fs.remove(path);  // best effort: a half-filled spare is never used, and is removed on open
    }
    return status;
}

Result<std::shared_ptr<Segment>> activateSpare(FileSystem& fs, const std::string& dir, const std::string& sparePath,
                                               uint64_t baseOffset, uint64_t fileSize) {
    // Header first, synced, then the rename: a segment name that is durable always has a durable header, so
    // recovery never has to guess whether a headerless segment is a crashed roll or damage.
    {
        Result<std::unique_ptr<File>> spare = fs.open(sparePath, FileSystem::OpenMode::ReadWrite);
        if (!spare)
            return spare.status();
        char header[kSegmentHeaderSize];
        format::encodeSegmentHeader(header, {baseOffset, fileSize});
        DEPOT_RETURN_IF_ERROR(writeFully(**spare, 0, header, sizeof header));
        DEPOT_RETURN_IF_ERROR((*spare)->sync());
    }
    std::string name = format::segmentFileName(baseOffset);
    std::string path = dir + "/" + name;
    DEPOT_RETURN_IF_ERROR(fs.rename(sparePath, path));
    Result<std::unique_ptr<File>> file = fs.open(path, FileSystem::OpenMode::ReadWrite);
    if (!file)
        return file.status();
    return std::make_shared<Segment>(baseOffset, fileSize, name, std::shared_ptr<File>(std::move(*file)));
}

}  // namespace depot::storage
