#include "broker/BrokerRecords.h"

#include <cassert>
#include <iterator>

#include "broker/ByteCodec.h"

namespace depot::broker {
namespace {

// Every payload starts with this byte, so a later layout can be told apart from this one.
constexpr uint8_t kRecordVersion = 1;

// Smallest encodings of repeated elements: what a declared count is checked against before reserving.
constexpr size_t kMinQueueIdSize = 4;
constexpr size_t kMinHeaderSize = 4 + 4;                // two empty strings
constexpr size_t kMinRequeueEventSize = 8 + 4 + 4 + 4;  // at + three empty strings

constexpr size_t kFixedMessageSize = 1 + 1 + 2 + 8 + 4 + 3 * 8 + 4 * 4 + 4 + 1 + 4;
constexpr size_t kFixedDeathSize = 1 + 4 + 4 + 8 + 8 + 4 + 4 + 4;

// On-disk values of DeathReason, fixed here rather than taken from the enum's order so that reordering the
// public enum cannot silently change what old logs mean. 0 is never written.
constexpr DeathReason kDeathReasons[] = {DeathReason::Rejected, DeathReason::MaxAttempts, DeathReason::Expired,
                                         DeathReason::Overflow, DeathReason::TxUnresolved};

uint8_t deathReasonCode(DeathReason reason) {
    for (size_t i = 0; i < std::size(kDeathReasons); ++i) {
        if (kDeathReasons[i] == reason)
            return static_cast<uint8_t>(i + 1);
    }
    assert(false && "DeathReason missing from kDeathReasons");
    return 0;
}

size_t stringSize(const std::string& s) { return 4 + s.size(); }

bool readVersion(ByteReader& in) {
    uint8_t version = in.u8("version");
    if (in.ok() && version != kRecordVersion)
        in.fail("version", "unsupported format version " + std::to_string(version));
    return in.ok();
}

void encodeDeath(const DeathRecord& death, ByteWriter& out) {
    out.u8(deathReasonCode(death.reason));
    out.string(death.sourceQueue);
    out.u32(death.attempts);
    out.i64(death.firstDeathAt);
    out.i64(death.lastDeathAt);
    out.u32(death.deaths);
    out.string(death.lastError);
    out.u32(static_cast<uint32_t>(death.requeues.size()));
    for (const RequeueEvent& event : death.requeues) {
        out.i64(event.at);
        out.string(event.by);
        out.string(event.fromQueue);
        out.string(event.toQueue);
    }
}

std::optional<DeathRecord> decodeDeath(ByteReader& in) {
    uint8_t present = in.u8("death (presence)");
    if (present > 1)
        in.fail("death (presence)", "must be 0 or 1, is " + std::to_string(present));
    if (!in.ok() || present == 0)
        return std::nullopt;
    DeathRecord death;
    uint8_t reason = in.u8("death.reason");
    if (in.ok() && (reason == 0 || reason > std::size(kDeathReasons)))
        in.fail("death.reason", "unknown value " + std::to_string(reason));
    else if (in.ok())
        death.reason = kDeathReasons[reason - 1];
    death.sourceQueue = in.string("death.sourceQueue");
    death.attempts = in.u32("death.attempts");
    death.firstDeathAt = in.i64("death.firstDeathAt");
    death.lastDeathAt = in.i64("death.lastDeathAt");
    death.deaths = in.u32("death.deaths");
    death.lastError = in.string("death.lastError");
    uint32_t requeues = in.count("death.requeues (count)", kMinRequeueEventSize);
    death.requeues.reserve(requeues);
    for (uint32_t i = 0; i < requeues && in.ok(); ++i) {
        RequeueEvent& event = death.requeues.emplace_back();
        event.at = in.i64("death.requeues[].at");
        event.by = in.string("death.requeues[].by");
        event.fromQueue = in.string("death.requeues[].fromQueue");
        event.toQueue = in.string("death.requeues[].toQueue");
    }
    return death;
}

}  // namespace

size_t encodedSize(const MessageRecord& record) {
    size_t size = kFixedMessageSize + kMinQueueIdSize * record.queues.size() + record.messageId.size() +
                  record.key.size() + record.producer.size() + record.transaction.size() + record.body.size();
    for (const auto& [name, value] : record.headers)
        size += stringSize(name) + stringSize(value);
    if (const std::optional<DeathRecord>& death = record.death) {
        size += kFixedDeathSize + death->sourceQueue.size() + death->lastError.size();
        for (const RequeueEvent& event : death->requeues)
            size += 8 + stringSize(event.by) + stringSize(event.fromQueue) + stringSize(event.toQueue);
    }
    return size;
}

size_t encode(const MessageRecord& record, std::string& out) {
    // A MESSAGE record targets 1..65535 queues (u16 count; a decoder rejects 0).
    assert(!record.queues.empty() && record.queues.size() <= UINT16_MAX);
    out.reserve(out.size() + encodedSize(record));
    ByteWriter w(out);
    w.u8(kRecordVersion);
    w.u8(record.flags);
    w.u16(static_cast<uint16_t>(record.queues.size()));
    for (uint32_t queue : record.queues)
        w.u32(queue);
    w.u64(record.origin);
    w.u32(record.attempts);
    w.i64(record.publishedAt);
    w.i64(record.expiresAt);
    w.i64(record.dueAt);
    w.string(record.messageId);
    w.string(record.key);
    w.string(record.producer);
    w.string(record.transaction);
    w.u32(static_cast<uint32_t>(record.headers.size()));
    for (const auto& [name, value] : record.headers) {
        w.string(name);
        w.string(value);
    }
    w.u8(record.death ? 1 : 0);
    if (record.death)
        encodeDeath(*record.death, w);
    // Last, so a reader that only wants the metadata can stop before it.
    w.string(record.body);
    return w.written();
}

Result<MessageRecord> decodeMessage(std::string_view payload) {
    ByteReader in(payload, "MESSAGE");
    MessageRecord record;
    if (readVersion(in)) {
        record.flags = in.u8("flags");
        uint16_t queues = in.u16("queues (count)");
        if (in.ok() && queues == 0)
            in.fail("queues (count)", "is 0: a message must target at least one queue");
        record.queues.resize(in.checkCount(queues, kMinQueueIdSize, "queues (count)"));
        for (uint32_t& queue : record.queues)
            queue = in.u32("queues[]");
        record.origin = in.u64("origin");
        record.attempts = in.u32("attempts");
        record.publishedAt = in.i64("publishedAt");
        record.expiresAt = in.i64("expiresAt");
        record.dueAt = in.i64("dueAt");
        record.messageId = in.string("messageId");
        record.key = in.string("key");
        record.producer = in.string("producer");
        record.transaction = in.string("transaction");
        uint32_t headers = in.count("headers (count)", kMinHeaderSize);
        record.headers.reserve(headers);
        for (uint32_t i = 0; i < headers && in.ok(); ++i) {
            std::string name = in.string("headers[].name");
            std::string value = in.string("headers[].value");
            record.headers.emplace_back(std::move(name), std::move(value));
        }
        record.death = decodeDeath(in);
        record.body = in.string("body");
    }
    DEPOT_RETURN_IF_ERROR(in.finish());
    return record;
}

size_t encode(const SettleRecord& record, std::string& out) {
    ByteWriter w(out);
    w.u8(kRecordVersion);
    w.u32(record.queue);
    w.u64(record.offset);
    return w.written();
}

Result<SettleRecord> decodeSettle(std::string_view payload) {
    ByteReader in(payload, "SETTLE");
    SettleRecord record;
    if (readVersion(in)) {
        record.queue = in.u32("queue");
        record.offset = in.u64("offset");
    }
    DEPOT_RETURN_IF_ERROR(in.finish());
    return record;
}

size_t encode(const ReturnRecord& record, std::string& out) {
    ByteWriter w(out);
    w.u8(kRecordVersion);
    w.u32(record.queue);
    w.u64(record.offset);
    w.u32(record.attempts);
    w.i64(record.dueAt);
    w.string(record.error);
    return w.written();
}

Result<ReturnRecord> decodeReturn(std::string_view payload) {
    ByteReader in(payload, "RETURN");
    ReturnRecord record;
    if (readVersion(in)) {
        record.queue = in.u32("queue");
        record.offset = in.u64("offset");
        record.attempts = in.u32("attempts");
        record.dueAt = in.i64("dueAt");
        record.error = in.string("error");
    }
    DEPOT_RETURN_IF_ERROR(in.finish());
    return record;
}

size_t encode(const PurgeRecord& record, std::string& out) {
    ByteWriter w(out);
    w.u8(kRecordVersion);
    w.u32(record.queue);
    return w.written();
}

size_t encode(const EpochRecord& record, std::string& out) {
    ByteWriter w(out);
    w.u8(kRecordVersion);
    w.u64(record.epoch);
    w.i64(record.at);
    return w.written();
}

Result<EpochRecord> decodeEpoch(std::string_view payload) {
    ByteReader in(payload, "EPOCH");
    EpochRecord record;
    if (readVersion(in)) {
        record.epoch = in.u64("epoch");
        record.at = in.i64("at");
    }
    DEPOT_RETURN_IF_ERROR(in.finish());
    return record;
}

Result<PurgeRecord> decodePurge(std::string_view payload) {
    ByteReader in(payload, "PURGE");
    PurgeRecord record;
    if (readVersion(in))
        record.queue = in.u32("queue");
    DEPOT_RETURN_IF_ERROR(in.finish());
    return record;
}

size_t encode(const TxRecord& record, std::string& out) {
    ByteWriter w(out);
    w.u8(kRecordVersion);
    w.string(record.transaction);
    return w.written();
}

Result<TxRecord> decodeTx(std::string_view payload) {
    ByteReader in(payload, "TX");
    TxRecord record;
    if (readVersion(in))
        record.transaction = in.string("transaction");
    DEPOT_RETURN_IF_ERROR(in.finish());
    return record;
}

}  // namespace depot::broker
