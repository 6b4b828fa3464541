#pragma once
// The broker's records in the commit log (docs/storage-format.md, "Broker records"). The commit log frames and
// checksums them; these are the payloads. All integers little-endian; strings are u32 length + bytes.
// Decoders reject anything malformed with Corruption and never read past the payload.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Message.h"

namespace depot::broker {

enum class RecordType : uint8_t {
    Message = 1,     // a message stored for one or more queues (also: dead letters, requeued copies, half messages)
    Settle = 2,      // a queue is done with a message: acked, dead-lettered, requeued elsewhere, deleted, expired
    Return = 3,      // a delivery failed (nack or ack timeout): new attempt count and when to retry
    Purge = 4,       // every message of a queue stored before this record is settled
    TxCommit = 5,    // the half messages of a transaction become visible
    TxRollback = 6,  // the half messages of a transaction are discarded
    Epoch = 7,       // a primary's term starts here (promotion): replicas find where their log diverged by it
};

inline constexpr uint8_t kMessagePrepared = 0x01;     // half message: invisible until TxCommit
inline constexpr uint8_t kMessageGeneratedId = 0x02;  // the broker made up the id: unique, never deduplicated


struct MessageRecord {
    uint8_t flags = 0;
    std::vector<uint32_t> queues;  // target queue ids (one record serves a fanout)
    uint64_t origin = 0;           // 0: the record's own offset is the message's sequence; else the sequence kept
    uint32_t attempts = 0;         // deliveries already made (carried by a moved copy)
    TimeMs publishedAt = 0;
    TimeMs expiresAt = 0;          // 0 = never
    TimeMs dueAt = 0;              // 0 = ready at once (delayed delivery otherwise)
    std::string messageId;
    std::string key;
    std::string producer;
    std::string transaction;
    Headers headers;
    std::optional<DeathRecord> death;
    std::string body;
};

// Whether a queue's dedup window remembers this message's id: only ids a producer chose can repeat.
inline bool remembersId(const MessageRecord& record) {
    return !record.messageId.empty() && !(record.flags & kMessageGeneratedId);
}

struct SettleRecord {
    uint32_t queue = 0;
    uint64_t offset = 0;  // of the MESSAGE record
};

struct ReturnRecord {
    uint32_t queue = 0;
    uint64_t offset = 0;
    uint32_t attempts = 0;  // deliveries made so far
    TimeMs dueAt = 0;       // when the retry may be delivered
    std::string error;      // the text the consumer gave with its nack (kept for the death record)
};

struct EpochRecord {
    uint64_t epoch = 0;  // terms before the first EPOCH record are epoch 0
    int64_t at = 0;      // when the term started
};

struct PurgeRecord {
    uint32_t queue = 0;
};

struct TxRecord {
    std::string transaction;
};

// Encoders append to `out` (so a batch can be built in one buffer) and return the bytes they appended.
size_t encode(const MessageRecord& record, std::string& out);
size_t encode(const SettleRecord& record, std::string& out);
size_t encode(const ReturnRecord& record, std::string& out);
size_t encode(const PurgeRecord& record, std::string& out);
size_t encode(const TxRecord& record, std::string& out);

Result<MessageRecord> decodeMessage(std::string_view payload);
Result<SettleRecord> decodeSettle(std::string_view payload);
size_t encode(const EpochRecord& record, std::string& out);
Result<EpochRecord> decodeEpoch(std::string_view payload);
Result<ReturnRecord> decodeReturn(std::string_view payload);
Result<PurgeRecord> decodePurge(std::string_view payload);
Result<TxRecord> decodeTx(std::string_view payload);

// The size MESSAGE record would have, without encoding it (for the message size limit).
size_t encodedSize(const MessageRecord& record);

}  // namespace depot::broker
