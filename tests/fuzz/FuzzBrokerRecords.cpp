// libFuzzer target: arbitrary bytes into every broker record decoder (core/broker/BrokerRecords.h).
// Properties: no decoder crashes, reads out of bounds (ASan) or fails with anything but Corruption; whatever
// decodes re-encodes to exactly the input (the layout has one encoding per value), and for MESSAGE,
// encodedSize() is exact and decoding the re-encoding gives the same record, field by field.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broker/BrokerRecords.h"

using namespace depot;
using namespace depot::broker;

namespace {

void check(bool condition, const char* what) {
    if (condition)
        return;
    std::fprintf(stderr, "FuzzBrokerRecords: property violated: %s\n", what);
    std::abort();
}

bool sameDeath(const DeathRecord& a, const DeathRecord& b) {
    if (a.reason != b.reason || a.sourceQueue != b.sourceQueue || a.attempts != b.attempts ||
        a.firstDeathAt != b.firstDeathAt || a.lastDeathAt != b.lastDeathAt || a.deaths != b.deaths ||
        a.lastError != b.lastError || a.requeues.size() != b.requeues.size())
        return false;
    for (size_t i = 0; i < a.requeues.size(); ++i) {
        const RequeueEvent& x = a.requeues[i];
        const RequeueEvent& y = b.requeues[i];
        if (x.at != y.at || x.by != y.by || x.fromQueue != y.fromQueue || x.toQueue != y.toQueue)
            return false;
    }
    return true;
}

bool sameMessage(const MessageRecord& a, const MessageRecord& b) {
    if (a.flags != b.flags || a.queues != b.queues || a.origin != b.origin || a.attempts != b.attempts ||
        a.publishedAt != b.publishedAt || a.expiresAt != b.expiresAt || a.dueAt != b.dueAt ||
        a.messageId != b.messageId || a.key != b.key || a.producer != b.producer || a.transaction != b.transaction ||
        a.headers != b.headers || a.body != b.body || a.death.has_value() != b.death.has_value())
        return false;
    return !a.death || sameDeath(*a.death, *b.death);
}

template <typename R>
void checkReencodes(const Result<R>& decoded, std::string_view input) {
    if (!decoded) {
        check(decoded.status().code() == StatusCode::Corruption, "a decoder failed with a code other than Corruption");
        return;
    }
    std::string out;
    size_t appended = encode(*decoded, out);
    check(appended == out.size(), "encode() returned a size other than what it appended");
    check(out == input, "a decoded record re-encoded to different bytes");
}

void fuzzMessage(std::string_view input) {
    Result<MessageRecord> decoded = decodeMessage(input);
    checkReencodes(decoded, input);
    if (!decoded)
        return;
    check(encodedSize(*decoded) == input.size(), "encodedSize() differs from the encoding's size");
    std::string out;
    (void)encode(*decoded, out);
    Result<MessageRecord> again = decodeMessage(out);
    check(again.isOk(), "a re-encoded MESSAGE failed to decode");
    check(sameMessage(*again, *decoded), "decode(encode(x)) != x for MESSAGE");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A copy of exactly `size` bytes: any read past the payload lands outside the allocation, where ASan sees it.
    std::string bytes(reinterpret_cast<const char*>(data), size);
    std::string_view input = bytes;
    fuzzMessage(input);
    checkReencodes(decodeSettle(input), input);
    checkReencodes(decodeReturn(input), input);
    checkReencodes(decodePurge(input), input);
    checkReencodes(decodeTx(input), input);
    return 0;
}
