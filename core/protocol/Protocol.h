#pragma once
// The wire protocol's envelope and hot-path frames (docs/protocol.md). Shared by the server and the client.
//
// Decoders take untrusted bytes: any malformation is InvalidArgument naming the frame and field, never a crash,
// an allocation larger than the input, or a partially filled result the caller might trust.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Message.h"

namespace depot::protocol {

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kEnvelopeSize = 12;
inline constexpr size_t kFrameCount = 3;  // envelope, header, body

enum class Command : uint8_t {
    Hello = 0x01,
    Reply = 0x02,
    Error = 0x03,
    Heartbeat = 0x04,
    Bye = 0x05,
    Publish = 0x10,
    Confirm = 0x11,
    TxEnd = 0x12,
    TxCheck = 0x13,
    Consume = 0x20,
    Cancel = 0x21,
    Deliver = 0x22,
    Ack = 0x23,
    Nack = 0x24,
    DeliverBatch = 0x25,  // several DELIVERs in one message, to a session that asked for them in HELLO
    Admin = 0x30,
    ReplFetch = 0x40,  // replica -> primary: records from an offset, and the replica's acknowledgement
    ReplData = 0x41,   // primary -> replica: the answer (body: whole commit-log batches)
};

// Envelope flags.
inline constexpr uint16_t kFlagOneway = 0x0001;      // PUBLISH: no CONFIRM
inline constexpr uint16_t kFlagCumulative = 0x0001;  // CONFIRM: every unanswered publish up to this id

bool isKnownCommand(uint8_t code);
std::string_view commandName(Command command);  // "PUBLISH"
// The envelope flags a command may carry; any other bit set is malformed.
uint16_t allowedFlags(Command command);

struct Envelope {
    uint8_t version = kVersion;
    Command command = Command::Heartbeat;
    uint16_t flags = 0;
    uint64_t requestId = 0;
};

std::string encodeEnvelope(const Envelope& envelope);
// Checks size, version (InvalidArgument "unsupported protocol version N" when only that is wrong: see
// isVersionError), known command and allowed flags.
Result<Envelope> decodeEnvelope(std::string_view bytes);
bool isVersionError(const Status& status);

// PUBLISH header. The body travels in its own frame.
std::string encodePublish(const broker::PublishRequest& request);
Result<broker::PublishRequest> decodePublish(std::string_view header, std::string body);

// CONFIRM header (not cumulative: a cumulative confirm has an empty header).
std::string encodeConfirm(const broker::PublishResult& result);
Result<broker::PublishResult> decodeConfirm(std::string_view header);

// DELIVER header. The body travels in its own frame.
std::string encodeDeliver(const broker::Delivery& delivery);
Result<broker::Delivery> decodeDeliver(std::string_view header, std::string body);

// DELIVER_BATCH: deliveries for one session, in the order they were made. The header holds, for each, its
// DELIVER header as a `str` and its body's length as a `u32`; the body frame holds the bodies one after another.
// One message instead of one per delivery: a ZeroMQ send and receive (and their system calls) per batch.
class DeliverBatch {
public:
    void add(const broker::Delivery& delivery);
    size_t size() const { return m_count; }
    bool empty() const { return m_count == 0; }
    size_t bytes() const { return m_header.size() + m_bodies.size(); }
    const std::string& header() const { return m_header; }
    const std::string& bodies() const { return m_bodies; }
    // Keeps the buffers for the next batch, unless a big one grew them past kKeptBytes: a session holds its batch
    // for its whole life, and one 4 MiB message must not cost that much for every idle consumer afterwards.
    void clear();

private:
    static constexpr size_t kKeptBytes = 64 * 1024;
    std::string m_header;
    std::string m_bodies;
    size_t m_count = 0;
};
// Every delivery of a batch, or InvalidArgument (none of them) when any part is malformed: an entry, a body
// length past the body frame, bytes left over, or no entry at all.
Result<std::vector<broker::Delivery>> decodeDeliverBatch(std::string_view header, std::string_view bodies);

struct AckFrame {
    uint64_t consumer = 0;
    std::vector<uint64_t> tags;
};
std::string encodeAck(const AckFrame& ack);
Result<AckFrame> decodeAck(std::string_view header);

struct NackFrame {
    uint64_t consumer = 0;
    uint64_t tag = 0;
    broker::NackOptions options;
};
std::string encodeNack(const NackFrame& nack);
Result<NackFrame> decodeNack(std::string_view header);

}  // namespace depot::protocol
