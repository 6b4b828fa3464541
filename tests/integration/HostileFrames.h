#pragma once
// Hand-made protocol frames for TestHostileWire: the well-formed ones a test starts from and the broken ones it
// sends. Little-endian, as docs/protocol.md says; built here byte by byte so a codec bug cannot hide in both ends.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/Protocol.h"

namespace depot::test::hostile {

inline std::string le(uint64_t value, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i)
        out.push_back(static_cast<char>(value >> (8 * i)));
    return out;
}
inline std::string str(const std::string& bytes) { return le(bytes.size(), 4) + bytes; }

// A PUBLISH header to the default exchange: flags (persistent), exchange "", routing key, message id, key,
// producer, transaction, ttl, delay, no headers.
inline std::string publishHeader(const std::string& queue, const std::string& messageId) {
    return le(0x01, 1) + str("") + str(queue) + str(messageId) + str("") + str("") + str("") + le(0, 8) + le(0, 8) +
           le(0, 4);
}
inline std::string ackHeader(uint64_t consumer, const std::vector<uint64_t>& tags) {
    std::string out = le(consumer, 8) + le(tags.size(), 4);
    for (uint64_t tag : tags)
        out += le(tag, 8);
    return out;
}
inline std::string nackHeader(uint64_t consumer, uint64_t tag, bool requeue, const std::string& error) {
    return le(consumer, 8) + le(tag, 8) + le(requeue ? 1 : 0, 1) + str(error);
}
inline std::string envelope(protocol::Command command, uint64_t requestId, uint16_t flags = 0, uint8_t version = 1) {
    return le(version, 1) + le(static_cast<uint8_t>(command), 1) + le(flags, 2) + le(requestId, 8);
}
inline std::string envelopeWithCode(uint8_t command, uint64_t requestId) {
    return le(1, 1) + le(command, 1) + le(0, 2) + le(requestId, 8);
}
inline std::string queueList() { return R"({"op":"queue.list"})"; }

// JSON nested `depth` levels deep: arrays ("[[[...]]]") or objects ({"a":{"a":...}}).
inline std::string nestedArrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
inline std::string nestedObjects(size_t depth) {
    std::string out;
    out.reserve(depth * 6 + 1);
    for (size_t i = 0; i < depth; ++i)
        out += R"({"a":)";
    out += "1";
    out.append(depth, '}');
    return out;
}

// A PUBLISH header whose first string (the exchange) claims 4 GiB.
inline std::string publishHugeExchange() { return le(0x01, 1) + le(0xffffffffu, 4) + "orders"; }
// A well-formed PUBLISH header except for a headers count of 4 billion.
inline std::string publishHugeHeaderCount(const std::string& queue) {
    std::string header = publishHeader(queue, "huge-count");
    return header.substr(0, header.size() - 4) + le(0xffffffffu, 4);
}
// ttl flag set with a ttl beyond int64.
inline std::string publishTtlOutOfRange(const std::string& queue) {
    return le(0x03, 1) + str("") + str(queue) + str("ttl") + str("") + str("") + str("") + le(UINT64_MAX, 8) +
           le(0, 8) + le(0, 4);
}

}  // namespace depot::test::hostile
