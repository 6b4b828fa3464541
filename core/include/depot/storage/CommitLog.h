#pragma once
// CommitLog: Depot's one append-only log per broker (docs/storage-format.md describes the bytes).
//
// Offsets are logical byte positions in the stream of records: a record at offset O with payload length L
// occupies [O, O + kFrameHeaderSize + L); the next record starts where it ends. Segment files are named by the
// offset of their first record. Offsets only grow (truncateAfter() and resetTo() are the exceptions, for
// replication).
//
// Threads: every method may be called from any thread. Appends are serialized internally; a flusher thread
// owns fdatasync. Durability is a watermark: durableOffset() is the end of the longest prefix of the log
// that a successful fdatasync covers. A record is durable when its end offset <= durableOffset().
//
// The promise: durableOffset() never passes a byte that a failed write or sync may have lost. After any
// write or sync failure the log is read-only (failure() says why) until it is closed and reopened.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "depot/LatencyHistogram.h"
#include "depot/Result.h"
#include "depot/storage/FileSystem.h"

namespace depot::storage {

inline constexpr uint32_t kFrameHeaderSize = 9;             // masked crc32c (4) | length (4) | type (1)
inline constexpr uint32_t kSegmentHeaderSize = 64;
inline constexpr uint8_t kMaxRecordType = 0x7f;             // types are 1..127; 0 and the high bit are reserved
inline constexpr uint32_t kDefaultMaxPayload = 16u << 20;   // 16 MiB
inline constexpr uint64_t kDefaultSegmentSize = 64ull << 20;  // 64 MiB per segment file, header included

enum class Durability {
    Sync,   // the flusher syncs as soon as it can; group commit: every append before a sync starts rides on it
    Async,  // synced by the periodic flush (CommitLogOptions::asyncFlushInterval)
};

struct RecordView {
    uint8_t type = 0;  // 1..kMaxRecordType, meaning chosen by the caller (the broker's record types)
    std::string_view payload;
};

struct Record {
    uint64_t offset = 0;
    uint8_t type = 0;
    std::string payload;
    uint64_t endOffset() const { return offset + kFrameHeaderSize + payload.size(); }
};

// A run of whole batches copied out of the log byte for byte (frames as on disk), for a replica: readFramed()
// on the primary, appendFramed() on the replica.
struct FramedRange {
    uint64_t from = 0;  // offset of the first byte
    uint64_t end = 0;   // offset after the last byte: always a batch end
    std::string bytes;  // exactly end - from bytes
};

// A range of offsets that failed verification: never served, always reported.
struct CorruptRange {
    uint64_t begin = 0;
    uint64_t end = 0;  // exclusive
    std::string segment;  // file name
    std::string reason;
};

struct RecoveryReport {
    // Sealed segments wholly before it were not scanned (verified on an earlier open, and still verified on every
    // read); the last segment is always scanned whole. A log that found corruption keeps its checkpoint before
    // the damage, so every open reports it again.
    uint64_t checkpointOffset = 0;
    uint64_t scannedBytes = 0;
    uint64_t scannedRecords = 0;
    uint64_t truncatedBytes = 0;  // torn tail removed from the last segment (incomplete records and batches)
    bool zeroedStaleTail = false;  // unsynced bytes beyond the tail were wiped so they can never resurface
    size_t removedEmptySegments = 0;  // segments rolled into just before a crash, none of whose records survived
    std::vector<CorruptRange> corrupt;  // found while scanning
    std::chrono::microseconds elapsed{0};
};

struct CommitLogStats {
    uint64_t startOffset = 0;    // first offset still stored
    uint64_t writtenOffset = 0;  // end of everything appended (in the page cache at least)
    uint64_t durableOffset = 0;  // end of everything a successful fdatasync covers
    size_t segmentCount = 0;
    uint64_t bytesOnDisk = 0;  // segment files, preallocated space included
    uint64_t appendedRecords = 0;
    uint64_t appendedBatches = 0;
    uint64_t writeCalls = 0;
    uint64_t syncs = 0;
    LatencyHistogram syncLatency;  // nanoseconds per fdatasync round (data files and, after a roll, the directory)
    std::vector<CorruptRange> quarantined;
    bool readOnly = false;
    std::string failure;  // why the log is read-only
};

struct CommitLogOptions {
    FileSystem* fileSystem = nullptr;  // null = FileSystem::posix()
    uint64_t segmentSize = kDefaultSegmentSize;
    uint32_t maxPayload = kDefaultMaxPayload;  // also bounded by the segment's capacity
    std::chrono::milliseconds asyncFlushInterval{100};
    bool preallocateAhead = true;  // prepare (zero-fill) the next segment on a background thread
};

class CommitLog {
public:
    // Opens or creates the log in `dir`, recovering: torn tails are truncated, corruption is quarantined and
    // reported in recoveryReport(). Fails only when the directory cannot be used at all.
    static Result<std::unique_ptr<CommitLog>> open(const std::string& dir, CommitLogOptions options = {});
    // Closes cleanly: syncs what was written, writes a checkpoint, stops the threads.
    ~CommitLog();
    CommitLog(const CommitLog&) = delete;
    CommitLog& operator=(const CommitLog&) = delete;

    struct Appended {
        std::vector<uint64_t> offsets;  // one per record, in order
        uint64_t endOffset = 0;         // the batch is durable when durableOffset() >= endOffset
    };
    // Appends the records as one atomic batch (one write call; recovery keeps all of it or none of it) and
    // returns their offsets. A batch never spans two segments, so it must fit in one.
    // Errors: InvalidArgument (bad type, empty batch), TooLarge, ReadOnly (an earlier failure); NoSpace or
    // IoError while preparing the next segment (nothing was written: only this append fails, the log stays
    // writable); IoError or NoSpace from the write itself (the log turns read-only).
    Result<Appended> append(std::span<const RecordView> records, Durability durability = Durability::Sync);

    uint64_t writtenOffset() const;
    uint64_t durableOffset() const;
    // Blocks until durableOffset() >= end (OK), the log fails (its failure), or the timeout passes (TimedOut).
    Status waitDurable(uint64_t end, std::chrono::milliseconds timeout = std::chrono::hours(24));
    // Asks for a sync of everything written so far and waits for it.
    Status flush();
    // The periodic flush's interval from now on (the flusher wakes to pick it up).
    void setAsyncFlushInterval(std::chrono::milliseconds interval);
    // Called on the flusher thread after every sync round: with the new durable offset and OK, or once with the
    // failure that made the log read-only. Must be quick and must not call setDurableListener(). Once
    // setDurableListener() returns, the previous listener is not running and is never called again.
    using DurableListener = std::function<void(uint64_t durableOffset, const Status& status)>;
    void setDurableListener(DurableListener listener);

    // Reads the record at `offset` (an offset returned by append() or a cursor). Corruption for a record that
    // fails verification or lies in a quarantined range; NotFound outside [startOffset, writtenOffset).
    Result<Record> read(uint64_t offset) const;
    // The same into `into`, whose payload's buffer is reused: no allocation once it is large enough.
    Status read(uint64_t offset, Record& into) const;

    // Reads records in order. next() returns the next record, std::nullopt at the written end, or Corruption
    // once per quarantined range it steps over (the range is in the message and corruptRange()); calling
    // next() again continues after it. Never returns bytes that failed verification.
    class Cursor {
    public:
        ~Cursor();
        Cursor(Cursor&&) noexcept;
        Cursor& operator=(Cursor&&) noexcept;
        Result<std::optional<Record>> next();
        uint64_t position() const;  // offset of the next record to be returned
        const CorruptRange& corruptRange() const;  // the range the last Corruption result stepped over

        struct State;

    private:
        friend class CommitLog;
        explicit Cursor(std::unique_ptr<State> state);
        std::unique_ptr<State> m_state;
    };
    Cursor iterate(uint64_t from) const;

    // Removes every record at or after `offset` (a record boundary) for a replica that must follow its primary.
    Status truncateAfter(uint64_t offset);

    // Log shipping (CommitLogReplication.cpp): a replica's log holds the primary's bytes at the primary's offsets.
    //
    // Reads whole batches from `from` up to `limit` (exclusive; callers pass durableOffset() so only synced data
    // is shipped; a limit past writtenOffset() counts as writtenOffset()). `from` must be a batch start: the end
    // of an earlier batch, or startOffset(). Returns at most `maxBytes` bytes, but always at least one whole batch
    // when one ends at or before `limit` (a batch larger than maxBytes comes alone). Stops at the end of a segment
    // and before a quarantined range (the caller asks again from `end`). Nothing available: from == end, no bytes.
    // Every frame's CRC is checked, as reads do.
    // Errors: NotFound when `from` < startOffset() (dropped: start over from startOffset()) or > writtenOffset();
    // InvalidArgument when `from` is not a batch start or `limit` < `from`; Corruption when the range at `from` is
    // quarantined, or when bytes read fail verification (they are quarantined then); Unavailable when
    // truncateAfter() or resetTo() ran meanwhile (ask again).
    Result<FramedRange> readFramed(uint64_t from, uint64_t limit, size_t maxBytes) const;

    // Appends bytes that readFramed() returned on another log, so every record gets the same offset as there.
    // `from` must equal writtenOffset() (else InvalidArgument). Every frame is verified before anything is written
    // (type 1..127, length at most the maximum payload, CRC, and the bytes end exactly at a batch end: the last
    // frame has the continues bit clear): a bad frame is Corruption; a batch that cannot fit in an empty segment
    // is TooLarge. Each batch lands whole in one segment, rolling between batches as append() does. Durability
    // and failures as for append(), except that when a later segment cannot be prepared, the batches before that
    // roll stay appended (writtenOffset() says how far; the log stays writable). Empty `bytes` append nothing.
    // Returns the new written end.
    Result<uint64_t> appendFramed(uint64_t from, std::string_view bytes, Durability durability = Durability::Sync);

    // Removes every segment and restarts the log empty at `offset`: startOffset() == writtenOffset() ==
    // durableOffset() == offset afterwards, durably, so a reopen finds the empty log at `offset`. Any offset is
    // allowed (it is a reset): for a replica whose primary no longer holds the records between the replica's end
    // and the primary's start. Errors: ReadOnly (an earlier failure); InvalidArgument when a segment starting at
    // `offset` would pass 2^64; a failure while removing or creating segments makes the log read-only. A crash
    // during it leaves the old log, a prefix of it (an empty log at 0 if nothing is left), or the new one.
    Status resetTo(uint64_t offset);

    // Deletes whole segments whose records all lie before `offset`. The active segment is never deleted.
    Status dropBefore(uint64_t offset);

    uint64_t startOffset() const;
    CommitLogStats stats() const;
    const RecoveryReport& recoveryReport() const;
    Status failure() const;  // OK while writable
    const std::string& directory() const;

    struct Impl;

private:
    explicit CommitLog(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace depot::storage
