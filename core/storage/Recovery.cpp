// Opening the log: find the segments, scan from the checkpoint, cut the torn tail, quarantine corruption.
// The rules are in docs/storage-format.md ("Recovery").

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "storage/CommitLogImpl.h"
#include "storage/RecordFormat.h"
#include "storage/SegmentReader.h"

namespace depot::storage {
namespace {

struct SegmentFile {
    uint64_t base = 0;
    std::string name;
};

Result<std::vector<SegmentFile>> listSegments(FileSystem& fs, const std::string& dir) {
    Result<std::vector<std::string>> names = fs.list(dir);
    if (!names)
        return names.status();
    std::vector<SegmentFile> files;
    for (const std::string& name : *names) {
        if (std::optional<uint64_t> base = format::parseSegmentFileName(name))
            files.push_back({*base, name});
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.base < b.base; });
    return files;
}

uint64_t readCheckpoint(FileSystem& fs, const std::string& dir) {
    Result<std::unique_ptr<File>> file = fs.open(dir + "/" + format::kCheckpointName, FileSystem::OpenMode::ReadOnly);
    if (!file)
        return 0;
    char buffer[format::kCheckpointSize + 1];
    Result<size_t> n = (*file)->readAt(0, buffer, sizeof buffer);
    if (!n)
        return 0;
    return format::decodeCheckpoint(buffer, *n).value_or(0);
}

bool allZero(const char* data, size_t size) {
    return std::all_of(data, data + size, [](char c) { return c == 0; });
}

// Scans records from `from`. Returns where the log's valid data ends in this segment: for the tail segment the
// end of its last complete batch; for a sealed one its limit. Corruption is added to `report`.
// In the tail, the end of the data (a zero header, the end of the file, an invalid record nothing valid follows)
// is a torn write only at or after the checkpoint: the checkpoint vouches that everything before it was synced,
// so damage there is corruption, quarantined to the end of the segment (appends go on in a new one).
Result<uint64_t> scanSegment(SegmentReader& reader, uint64_t from, bool tail, uint64_t checkpoint,
                             RecoveryReport& report) {
    const Segment& segment = reader.segment();
    uint64_t position = from;
    uint64_t batchStart = from;
    for (;;) {
        Result<SegmentReader::Frame> frame = reader.frameAt(position);
        if (!frame)
            return frame.status();
        if (frame->kind == SegmentReader::Kind::Record) {
            ++report.scannedRecords;
            report.scannedBytes += frame->endOffset() - position;
            position = frame->endOffset();
            if (!frame->header.continues())
                batchStart = position;
            continue;
        }
        bool endOfData =
            frame->kind == SegmentReader::Kind::Limit || (tail && frame->kind == SegmentReader::Kind::Zero);
        if (endOfData && (tail ? position >= checkpoint : batchStart == position))
            return batchStart;  // in the tail, an unfinished batch is a torn write: dropped
        Result<SegmentReader::BadRange> bad = reader.badRange(batchStart, *frame);
        if (!bad)
            return bad.status();
        if (tail && !bad->resynced && frame->offset >= checkpoint)
            return batchStart;  // torn write: nothing valid follows it
        if (tail && !bad->resynced)
            bad->end = segment.limitOffset();
        std::string problem = frame->kind == SegmentReader::Kind::Zero    ? "zeroed record header"
                              : frame->kind == SegmentReader::Kind::Limit ? "records cut short by the end of the file"
                                                                          : frame->problem;
        report.corrupt.push_back(
            {bad->begin, bad->end, segment.name(), problem + " at offset " + std::to_string(frame->offset)});
        if (bad->end >= reader.limit())
            return tail ? bad->end : reader.limit();
        position = batchStart = bad->end;
    }
}

}  // namespace

namespace {

// Overwrites with zeros every non-zero byte after `validEnd` in the tail segment (bytes written but never synced
// before a crash), so they can never be read as records after later appends. Returns the extent wiped.
Result<uint64_t> wipeStaleTail(Segment& segment, uint64_t validEnd, uint64_t fileLength) {
    const size_t kChunk = 1 << 20;
    std::vector<char> buffer(kChunk);
    uint64_t start = segment.filePosition(validEnd);
    uint64_t lastDirty = start;
    for (uint64_t position = start; position < fileLength; position += kChunk) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, fileLength - position));
        DEPOT_RETURN_IF_ERROR(readFully(segment.file(), position, buffer.data(), n));
        if (allZero(buffer.data(), n))
            continue;
        DEPOT_RETURN_IF_ERROR(writeZeros(segment.file(), position, position + n));
        size_t last = n;
        while (last > 0 && buffer[last - 1] == 0)
            --last;
        lastDirty = position + last;
    }
    return lastDirty - start;
}

// A crash can leave several segments rolled into after the last sync: a directory fsync made their names durable
// (it covers every rename so far) but none of their records. Such a trailing segment holds no valid first record
// (zeros, or a torn record nothing valid follows); it is removed so the torn tail is cut where it really is.
Result<size_t> removeCrashedRolls(FileSystem& fs, const std::string& dir,
                                  std::vector<std::shared_ptr<Segment>>& segments, uint32_t maxPayload) {
    size_t removed = 0;
    while (segments.size() > 1) {
        std::shared_ptr<Segment> last = segments.back();
        Result<uint64_t> length = last->file().size();
        if (!length)
            return length.status();
        uint64_t physicalEnd =
            last->baseOffset() + (std::max(*length, uint64_t(kSegmentHeaderSize)) - kSegmentHeaderSize);
        SegmentReader reader(last, std::min(last->limitOffset(), physicalEnd), maxPayload);
        Result<SegmentReader::Frame> first = reader.frameAt(last->baseOffset());
        if (!first)
            return first.status();
        if (first->kind == SegmentReader::Kind::Record)
            return removed;
        if (first->kind == SegmentReader::Kind::Invalid) {
            Result<SegmentReader::BadRange> bad = reader.badRange(last->baseOffset(), *first);
            if (!bad)
                return bad.status();
            if (bad->resynced)
                return removed;  // valid records follow: damage, not a crashed roll; the tail scan reports it
        }
        segments.pop_back();
        DEPOT_RETURN_IF_ERROR(fs.remove(dir + "/" + last->name()));
        ++removed;
    }
    return removed;
}

}  // namespace

Status CommitLog::Impl::recover() {
    auto started = std::chrono::steady_clock::now();
    DEPOT_RETURN_IF_ERROR(fs->createDirectories(dir));
    DEPOT_RETURN_IF_ERROR(fs->remove(sparePath()));
    DEPOT_RETURN_IF_ERROR(fs->remove(dir + "/" + format::kCheckpointName + ".tmp"));
    Result<std::vector<SegmentFile>> files = listSegments(*fs, dir);
    if (!files)
        return files.status();
    uint64_t nextBase = 0;  // where a new active segment would start
    for (size_t i = 0; i < files->size(); ++i) {
        const SegmentFile& entry = (*files)[i];
        bool last = i + 1 == files->size();
        std::string path = dir + "/" + entry.name;
        Result<std::unique_ptr<File>> file = fs->open(path, FileSystem::OpenMode::ReadWrite);
        if (!file)
            return file.status();
        char header[kSegmentHeaderSize] = {};
        Result<size_t> n = (*file)->readAt(0, header, sizeof header);
        if (!n)
            return n.status();
        Result<format::SegmentHeader> decoded = *n == sizeof header
                                                    ? format::decodeSegmentHeader(header)
                                                    : Result<format::SegmentHeader>(Status::corruption("short header"));
        if (decoded && decoded->baseOffset != entry.base)
            decoded = Status::corruption("header names base offset " + std::to_string(decoded->baseOffset));
        if (!decoded && last && allZero(header, *n)) {
            // A roll that crashed before its header was synced: nothing in it was ever durable.
            file->reset();
            DEPOT_RETURN_IF_ERROR(fs->remove(path));
            directoryDirty = true;
            nextBase = std::max(nextBase, entry.base);
            continue;
        }
        if (!decoded) {
            uint64_t end = last ? entry.base : (*files)[i + 1].base;
            recovery.corrupt.push_back({entry.base, end, entry.name,
                                        "unreadable segment header (" + decoded.status().message() +
                                            "); file set aside as " + entry.name + ".corrupt"});
            file->reset();
            DEPOT_RETURN_IF_ERROR(fs->rename(path, path + ".corrupt"));
            directoryDirty = true;
            nextBase = std::max(nextBase, end);
            continue;
        }
        segments.push_back(std::make_shared<Segment>(entry.base, decoded->fileSize, entry.name,
                                                     std::shared_ptr<File>(std::move(*file))));
        if (!last)
            segments.back()->seal((*files)[i + 1].base);
    }
    Result<size_t> crashedRolls = removeCrashedRolls(*fs, dir, segments, options.maxPayload);
    if (!crashedRolls)
        return crashedRolls.status();
    recovery.removedEmptySegments = *crashedRolls;
    directoryDirty = directoryDirty || *crashedRolls > 0;
    if (!segments.empty() && segments.back()->sealed())
        segments.back()->unseal();  // the files after it were set aside or removed

    uint64_t checkpointOffset = readCheckpoint(*fs, dir);
    if (segments.empty() || checkpointOffset < segments.front()->baseOffset() ||
        checkpointOffset > segments.back()->limitOffset())
        checkpointOffset = segments.empty() ? 0 : segments.front()->baseOffset();
    recovery.checkpointOffset = checkpointOffset;
    checkpoint = checkpointOffset;

    for (size_t i = 0; i < segments.size(); ++i) {
        Segment& segment = *segments[i];
        bool tail = i + 1 == segments.size();
        Result<uint64_t> fileLength = segment.file().size();
        if (!fileLength)
            return fileLength.status();
        uint64_t physicalEnd =
            segment.baseOffset() + (std::max(*fileLength, uint64_t(kSegmentHeaderSize)) - kSegmentHeaderSize);
        uint64_t limit = tail ? std::min(segment.limitOffset(), physicalEnd) : segment.sealedEnd();
        // The tail is always scanned whole: it is where torn writes are, and at most one segment long.
        uint64_t from = tail ? segment.baseOffset() : std::max(checkpointOffset, segment.baseOffset());
        if (!tail && limit <= checkpointOffset)
            continue;
        if (!tail && limit > std::min(segment.limitOffset(), physicalEnd)) {
            recovery.corrupt.push_back({std::min(segment.limitOffset(), physicalEnd), limit, segment.name(),
                                        "segment file is shorter than its records"});
            limit = std::min(segment.limitOffset(), physicalEnd);
        }
        SegmentReader reader(segments[i], limit, options.maxPayload);
        Result<uint64_t> validEnd = scanSegment(reader, std::min(from, limit), tail, checkpointOffset, recovery);
        if (!validEnd)
            return validEnd.status();
        if (tail) {
            written = *validEnd;
            Result<uint64_t> wiped = wipeStaleTail(segment, written, std::min(*fileLength, segment.fileSize()));
            if (!wiped)
                return wiped.status();
            recovery.truncatedBytes = *wiped;
            recovery.zeroedStaleTail = *wiped > 0;
            if (*fileLength < segment.fileSize()) {
                DEPOT_RETURN_IF_ERROR(segment.file().truncate(segment.fileSize()));
                DEPOT_RETURN_IF_ERROR(segment.file().allocate(segment.fileSize()));
            }
        }
        // After a kill -9 the page cache may hold bytes no fdatasync covered yet: sync before calling them durable.
        DEPOT_RETURN_IF_ERROR(segment.file().sync());
    }
    if (segments.empty()) {
        Status prepared = prepareSpareFile(*fs, sparePath(), options.segmentSize);
        DEPOT_RETURN_IF_ERROR(prepared);
        Result<std::shared_ptr<Segment>> first = activateSpare(*fs, dir, sparePath(), nextBase, options.segmentSize);
        if (!first)
            return first.status();
        DEPOT_RETURN_IF_ERROR((*first)->file().sync());
        segments.push_back(*first);
        written = nextBase;
        directoryDirty = true;
    }
    // A range past the recovered end (a trailing segment set aside) held nothing that can be served: it stays
    // in the report, but its offsets are free for new records.
    for (const CorruptRange& range : recovery.corrupt) {
        if (range.begin < written)
            quarantine.push_back(range);
    }

    if (directoryDirty)
        DEPOT_RETURN_IF_ERROR(fs->syncDirectory(dir));
    directoryDirty = false;
    durable = written;
    recovery.elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    return Status::ok();
}

}  // namespace depot::storage
