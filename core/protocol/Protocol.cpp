#include "protocol/Protocol.h"

#include "broker/ByteCodec.h"
#include "protocol/ProtocolJson.h"

namespace depot::protocol {

using broker::ByteReader;
using broker::ByteWriter;

namespace {

constexpr uint8_t kPersistent = 0x01, kHasTtl = 0x02, kHasDelay = 0x04;
constexpr uint8_t kRedelivered = 0x01, kHasDeath = 0x02;
constexpr size_t kMinHeaderPair = 8;  // two empty strs

// The wire reports malformed input as InvalidArgument (an ERROR bad-frame), never as storage Corruption.
Status malformed(ByteReader& reader) {
    Status status = reader.finish();
    return status ? status : Status::invalidArgument(status.message());
}

void putHeaders(ByteWriter& out, const broker::Headers& headers) {
    out.u32(static_cast<uint32_t>(headers.size()));
    for (const auto& [name, value] : headers) {
        out.string(name);
        out.string(value);
    }
}

broker::Headers takeHeaders(ByteReader& in) {
    broker::Headers headers;
    // No reserve(count): a pair takes 64 bytes in memory but 8 on the wire, so reserving for a count the frame
    // only claims would allocate 8 times the input before a single pair is read.
    uint32_t count = in.count("headers", kMinHeaderPair);
    for (uint32_t i = 0; i < count && in.ok(); ++i) {
        std::string name = in.string("header name");
        headers.emplace_back(std::move(name), in.string("header value"));
    }
    return headers;
}

}  // namespace

bool isKnownCommand(uint8_t code) {
    switch (static_cast<Command>(code)) {
        case Command::Hello:
        case Command::Reply:
        case Command::Error:
        case Command::Heartbeat:
        case Command::Bye:
        case Command::Publish:
        case Command::Confirm:
        case Command::TxEnd:
        case Command::TxCheck:
        case Command::Consume:
        case Command::Cancel:
        case Command::Deliver:
        case Command::DeliverBatch:
        case Command::Ack:
        case Command::Nack:
        case Command::Admin:
        case Command::ReplFetch:
        case Command::ReplData:
            return true;
    }
    return false;
}

std::string_view commandName(Command command) {
    switch (command) {
        case Command::Hello:
            return "HELLO";
        case Command::Reply:
            return "REPLY";
        case Command::Error:
            return "ERROR";
        case Command::Heartbeat:
            return "HEARTBEAT";
        case Command::Bye:
            return "BYE";
        case Command::Publish:
            return "PUBLISH";
        case Command::Confirm:
            return "CONFIRM";
        case Command::TxEnd:
            return "TX_END";
        case Command::TxCheck:
            return "TX_CHECK";
        case Command::Consume:
            return "CONSUME";
        case Command::Cancel:
            return "CANCEL";
        case Command::Deliver:
            return "DELIVER";
        case Command::DeliverBatch:
            return "DELIVER_BATCH";
        case Command::Ack:
            return "ACK";
        case Command::Nack:
            return "NACK";
        case Command::Admin:
            return "ADMIN";
        case Command::ReplFetch:
            return "REPL_FETCH";
        case Command::ReplData:
            return "REPL_DATA";
    }
    return "UNKNOWN";
}

uint16_t allowedFlags(Command command) {
    if (command == Command::Publish)
        return kFlagOneway;
    if (command == Command::Confirm)
        return kFlagCumulative;
    return 0;
}

std::string encodeEnvelope(const Envelope& envelope) {
    std::string out;
    out.reserve(kEnvelopeSize);
    ByteWriter writer(out);
    writer.u8(envelope.version);
    writer.u8(static_cast<uint8_t>(envelope.command));
    writer.u16(envelope.flags);
    writer.u64(envelope.requestId);
    return out;
}

Result<Envelope> decodeEnvelope(std::string_view bytes) {
    if (bytes.size() != kEnvelopeSize)
        return Status::invalidArgument("envelope is " + std::to_string(bytes.size()) + " bytes, expected 12");
    ByteReader reader(bytes, "envelope");
    Envelope envelope;
    envelope.version = reader.u8("version");
    uint8_t command = reader.u8("command");
    envelope.flags = reader.u16("flags");
    envelope.requestId = reader.u64("request id");
    if (envelope.version != kVersion)
        return Status::invalidArgument("unsupported protocol version " + std::to_string(envelope.version));
    if (!isKnownCommand(command))
        return Status::invalidArgument("unknown command " + std::to_string(command));
    envelope.command = static_cast<Command>(command);
    if (envelope.flags & ~allowedFlags(envelope.command))
        return Status::invalidArgument(std::string(commandName(envelope.command)) + " with undefined flags " +
                                       std::to_string(envelope.flags));
    return envelope;
}

bool isVersionError(const Status& status) {
    return !status && status.message().rfind("unsupported protocol version", 0) == 0;
}

std::string encodePublish(const broker::PublishRequest& request) {
    const broker::Message& m = request.message;
    std::string out;
    ByteWriter w(out);
    w.u8((m.persistent ? kPersistent : 0) | (m.ttl ? kHasTtl : 0) | (m.delay ? kHasDelay : 0));
    w.string(request.exchange);
    w.string(request.routingKey);
    w.string(m.id);
    w.string(m.key);
    w.string(request.producer);
    w.string(request.transaction);
    w.u64(m.ttl ? static_cast<uint64_t>(m.ttl->count()) : 0);
    w.u64(m.delay ? static_cast<uint64_t>(m.delay->count()) : 0);
    putHeaders(w, m.headers);
    return out;
}

Result<broker::PublishRequest> decodePublish(std::string_view header, std::string body) {
    ByteReader r(header, "PUBLISH header");
    broker::PublishRequest request;
    broker::Message& m = request.message;
    uint8_t flags = r.u8("flags");
    if (flags & ~(kPersistent | kHasTtl | kHasDelay))
        r.fail("flags", "undefined bits set");
    request.exchange = r.string("exchange");
    request.routingKey = r.string("routingKey");
    m.id = r.string("messageId");
    m.key = r.string("key");
    request.producer = r.string("producer");
    request.transaction = r.string("transaction");
    uint64_t ttl = r.u64("ttlMs"), delay = r.u64("delayMs");
    if (ttl > INT64_MAX || delay > INT64_MAX)
        r.fail("ttlMs/delayMs", "out of range");
    m.headers = takeHeaders(r);
    if (Status status = malformed(r); !status)
        return status;
    m.persistent = flags & kPersistent;
    if (flags & kHasTtl)
        m.ttl = broker::Millis(static_cast<int64_t>(ttl));
    if (flags & kHasDelay)
        m.delay = broker::Millis(static_cast<int64_t>(delay));
    m.body = std::move(body);
    return request;
}

std::string encodeConfirm(const broker::PublishResult& result) {
    std::string out;
    ByteWriter w(out);
    w.u8(static_cast<uint8_t>(result.outcome));
    // A confirm (or duplicate) carries one reason only: replica-unavailable, "stored here, on no replica".
    const bool says = result.outcome == broker::PublishOutcome::Nacked ||
                      result.reason == broker::NackReason::ReplicaUnavailable;
    w.string(says ? broker::toString(result.reason) : "");
    w.string(result.error);
    w.string(result.messageId);
    w.u32(static_cast<uint32_t>(result.queues.size()));
    for (const auto& queue : result.queues)
        w.string(queue);
    return out;
}

Result<broker::PublishResult> decodeConfirm(std::string_view header) {
    ByteReader r(header, "CONFIRM header");
    broker::PublishResult result;
    uint8_t outcome = r.u8("outcome");
    if (outcome > static_cast<uint8_t>(broker::PublishOutcome::Nacked))
        r.fail("outcome", "unknown value");
    std::string reason = r.string("reason");
    result.error = r.string("error");
    result.messageId = r.string("messageId");
    uint32_t count = r.count("queues", 4);
    for (uint32_t i = 0; i < count && r.ok(); ++i)
        result.queues.push_back(r.string("queue"));
    result.outcome = static_cast<broker::PublishOutcome>(outcome);
    if (result.outcome == broker::PublishOutcome::Nacked) {
        auto parsed = broker::nackReasonFromString(reason);
        if (!parsed)
            r.fail("reason", "unknown nack reason '" + reason + "'");
        else
            result.reason = *parsed;
    } else if (reason == broker::toString(broker::NackReason::ReplicaUnavailable)) {
        result.reason = broker::NackReason::ReplicaUnavailable;  // confirmed, but on no replica
    } else if (!reason.empty()) {
        r.fail("reason", "a confirm's reason is empty or replica-unavailable, not '" + reason + "'");
    }
    if (Status status = malformed(r); !status)
        return status;
    return result;
}

namespace {

void putDeliver(ByteWriter& w, const broker::Delivery& d) {
    w.u64(d.consumer);
    w.u64(d.tag);
    w.u64(d.sequence);
    w.u32(d.attempt);
    w.u8((d.redelivered ? kRedelivered : 0) | (d.death ? kHasDeath : 0));
    w.i64(d.publishedAt);
    w.string(d.queue);
    w.string(d.messageId);
    w.string(d.key);
    putHeaders(w, d.headers);
    // toText: a lastError is whatever bytes a NACK carried; dump() would throw on ones that are not UTF-8.
    w.string(d.death ? toText(deathToJson(*d.death)) : std::string());
}

}  // namespace

std::string encodeDeliver(const broker::Delivery& d) {
    std::string out;
    ByteWriter w(out);
    putDeliver(w, d);
    return out;
}

void DeliverBatch::add(const broker::Delivery& d) {
    const size_t lengthAt = m_header.size();
    m_header.append(4, '\0');  // the entry's length, known once it is written
    {
        ByteWriter w(m_header);
        putDeliver(w, d);
    }
    const auto length = static_cast<uint32_t>(m_header.size() - lengthAt - 4);
    for (int i = 0; i < 4; ++i)
        m_header[lengthAt + i] = static_cast<char>(length >> (8 * i));
    ByteWriter(m_header).u32(static_cast<uint32_t>(d.body.size()));
    m_bodies.append(d.body);
    ++m_count;
}

void DeliverBatch::clear() {
    for (std::string* buffer : {&m_header, &m_bodies}) {
        if (buffer->capacity() > kKeptBytes)
            std::string().swap(*buffer);
        else
            buffer->clear();
    }
    m_count = 0;
}

Result<broker::Delivery> decodeDeliver(std::string_view header, std::string body) {
    ByteReader r(header, "DELIVER header");
    broker::Delivery d;
    d.consumer = r.u64("consumer");
    d.tag = r.u64("tag");
    d.sequence = r.u64("sequence");
    d.attempt = r.u32("attempt");
    uint8_t flags = r.u8("flags");
    if (flags & ~(kRedelivered | kHasDeath))
        r.fail("flags", "undefined bits set");
    d.publishedAt = r.i64("publishedAt");
    d.queue = r.string("queue");
    d.messageId = r.string("messageId");
    d.key = r.string("key");
    d.headers = takeHeaders(r);
    std::string death = r.string("death");
    if (Status status = malformed(r); !status)
        return status;
    d.redelivered = flags & kRedelivered;
    if (flags & kHasDeath) {
        auto json = parseObject(death);
        if (!json)
            return Status::invalidArgument("DELIVER death record: " + json.status().message());
        auto record = deathFromJson(*json);
        if (!record)
            return Status::invalidArgument("DELIVER death record: " + record.status().message());
        d.death = std::move(*record);
    }
    d.body = std::move(body);
    return d;
}

Result<std::vector<broker::Delivery>> decodeDeliverBatch(std::string_view header, std::string_view bodies) {
    ByteReader r(header, "DELIVER_BATCH header");
    std::vector<broker::Delivery> deliveries;
    size_t bodyAt = 0;
    while (r.ok() && r.remaining() > 0) {
        std::string_view entry = r.stringView("delivery");
        uint32_t bodySize = r.u32("body length");
        if (!r.ok())
            break;
        if (bodySize > bodies.size() - bodyAt) {
            r.fail("body length", std::to_string(bodySize) + " runs past the body frame (" +
                                      std::to_string(bodies.size() - bodyAt) + " bytes left)");
            break;
        }
        Result<broker::Delivery> delivery = decodeDeliver(entry, std::string(bodies.substr(bodyAt, bodySize)));
        if (!delivery)
            return Status::invalidArgument("DELIVER_BATCH delivery " + std::to_string(deliveries.size() + 1) + ": " +
                                           delivery.status().message());
        bodyAt += bodySize;
        deliveries.push_back(std::move(*delivery));
    }
    if (Status status = malformed(r); !status)
        return status;
    if (deliveries.empty())
        return Status::invalidArgument("DELIVER_BATCH holds no delivery");
    if (bodyAt != bodies.size())
        return Status::invalidArgument("DELIVER_BATCH body frame has " + std::to_string(bodies.size() - bodyAt) +
                                       " bytes beyond its deliveries' bodies");
    return deliveries;
}

std::string encodeAck(const AckFrame& ack) {
    std::string out;
    ByteWriter w(out);
    w.u64(ack.consumer);
    w.u32(static_cast<uint32_t>(ack.tags.size()));
    for (uint64_t tag : ack.tags)
        w.u64(tag);
    return out;
}

Result<AckFrame> decodeAck(std::string_view header) {
    ByteReader r(header, "ACK header");
    AckFrame ack;
    ack.consumer = r.u64("consumer");
    uint32_t count = r.count("tags", 8);
    ack.tags.reserve(count);
    for (uint32_t i = 0; i < count && r.ok(); ++i)
        ack.tags.push_back(r.u64("tag"));
    if (r.ok() && count == 0)
        r.fail("tags", "no tag given");
    if (Status status = malformed(r); !status)
        return status;
    return ack;
}

std::string encodeNack(const NackFrame& nack) {
    std::string out;
    ByteWriter w(out);
    w.u64(nack.consumer);
    w.u64(nack.tag);
    w.u8(nack.options.requeue ? 1 : 0);
    w.string(nack.options.error);
    return out;
}

Result<NackFrame> decodeNack(std::string_view header) {
    ByteReader r(header, "NACK header");
    NackFrame nack;
    nack.consumer = r.u64("consumer");
    nack.tag = r.u64("tag");
    uint8_t requeue = r.u8("requeue");
    if (requeue > 1)
        r.fail("requeue", "must be 0 or 1");
    nack.options.error = r.string("error");
    if (Status status = malformed(r); !status)
        return status;
    nack.options.requeue = requeue == 1;
    return nack;
}

}  // namespace depot::protocol
