// libFuzzer target: arbitrary bytes into the wire decoders of core/protocol/Protocol.h, the first byte choosing
// which (FuzzProtocolFrames.h). Properties: no decoder crashes, reads out of bounds (ASan) or fails with anything
// but InvalidArgument; only a 12-byte envelope whose version is not 1 is a version error; whatever decodes
// re-encodes (exactly the input for the envelope, ACK and NACK, which have one encoding per value) to bytes that
// decode to the same value and re-encode to themselves.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "FuzzProtocolFrames.h"
#include "protocol/Protocol.h"

using namespace depot;
using namespace depot::broker;
using namespace depot::protocol;
using depot::test::FrameKind;

namespace {

void check(bool condition, const char* what) {
    if (condition)
        return;
    std::fprintf(stderr, "FuzzProtocolFrames: property violated: %s\n", what);
    std::abort();
}

void checkRejected(const Status& status) {
    check(status.code() == StatusCode::InvalidArgument, "a decoder failed with a code other than InvalidArgument");
    check(!isVersionError(status), "a header decoder reported a version error");
}

bool samePublish(const PublishRequest& a, const PublishRequest& b) {
    const Message& x = a.message;
    const Message& y = b.message;
    return a.exchange == b.exchange && a.routingKey == b.routingKey && a.producer == b.producer &&
           a.transaction == b.transaction && x.id == y.id && x.key == y.key && x.headers == y.headers &&
           x.body == y.body && x.persistent == y.persistent && x.ttl == y.ttl && x.delay == y.delay;
}

bool sameConfirm(const PublishResult& a, const PublishResult& b) {
    return a.outcome == b.outcome && a.reason == b.reason && a.error == b.error && a.messageId == b.messageId &&
           a.queues == b.queues;
}

bool sameDelivery(const Delivery& a, const Delivery& b) {
    return a.consumer == b.consumer && a.tag == b.tag && a.queue == b.queue && a.sequence == b.sequence &&
           a.messageId == b.messageId && a.key == b.key && a.headers == b.headers && a.body == b.body &&
           a.attempt == b.attempt && a.redelivered == b.redelivered && a.publishedAt == b.publishedAt &&
           a.death == b.death;
}

// decode → encode → decode gives the same value, and the encoding is a fixed point. (A header may have more than
// one encoding: a ttl value without its flag, a reason on a confirmed outcome, a death record's JSON spelling.)
template <typename T, typename Decode, typename Encode, typename Same>
void checkRoundTrip(const Result<T>& decoded, Decode decode, Encode encode, Same same) {
    if (!decoded) {
        checkRejected(decoded.status());
        return;
    }
    std::string canonical = encode(*decoded);
    Result<T> again = decode(canonical);
    check(again.isOk(), "a re-encoded frame failed to decode");
    check(same(*again, *decoded), "decode(encode(x)) != x");
    check(encode(*again) == canonical, "encode(decode(encode(x))) != encode(x)");
}

void fuzzEnvelope(std::string_view input) {
    Result<Envelope> decoded = decodeEnvelope(input);
    bool wrongVersion = input.size() == kEnvelopeSize && uint8_t(input[0]) != kVersion;
    if (!decoded) {
        check(decoded.status().code() == StatusCode::InvalidArgument,
              "envelope failed with a code other than InvalidArgument");
        check(isVersionError(decoded.status()) == wrongVersion, "version error for anything but a wrong version");
        return;
    }
    check(encodeEnvelope(*decoded) == input, "a decoded envelope re-encoded to different bytes");
}

template <typename T, typename Encode>
void checkExact(const Result<T>& decoded, std::string_view input, Encode encode) {
    if (!decoded) {
        checkRejected(decoded.status());
        return;
    }
    check(encode(*decoded) == input, "a decoded frame re-encoded to different bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0)
        return 0;
    // A copy of exactly the frame, so any read past it lands outside the allocation, where ASan sees it.
    std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string_view input = bytes;
    const std::string body = depot::test::kFuzzBody;
    switch (FrameKind(data[0] % depot::test::kFrameKinds)) {
        case FrameKind::Envelope:
            fuzzEnvelope(input);
            break;
        case FrameKind::Publish:
            checkRoundTrip(
                decodePublish(input, body), [&](std::string_view h) { return decodePublish(h, body); }, encodePublish,
                samePublish);
            break;
        case FrameKind::Confirm:
            checkRoundTrip(decodeConfirm(input), decodeConfirm, encodeConfirm, sameConfirm);
            break;
        case FrameKind::Deliver:
            checkRoundTrip(
                decodeDeliver(input, body), [&](std::string_view h) { return decodeDeliver(h, body); }, encodeDeliver,
                sameDelivery);
            break;
        case FrameKind::Ack:
            checkExact(decodeAck(input), input, encodeAck);
            break;
        case FrameKind::Nack:
            checkExact(decodeNack(input), input, encodeNack);
            break;
    }
    return 0;
}
