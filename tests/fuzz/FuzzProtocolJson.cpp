// libFuzzer target: arbitrary text into parseObject and every fromJson function of core/protocol/ProtocolJson.h,
// on the parsed object and on each of its members. Properties: nothing crashes or throws (an exception escaping is
// a finding); every failure is InvalidArgument; whatever a fromJson accepts, its toJson writes an object that the
// same fromJson accepts again and that is then a fixed point (toJson(fromJson(j)) == j), and that dumps without
// throwing; isValidUtf8 agrees with what nlohmann::json can serialize; base64 decodes what it encodes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/ProtocolJson.h"

using namespace depot;
using namespace depot::broker;
using namespace depot::protocol;

namespace {

void check(bool condition, const char* what) {
    if (condition)
        return;
    std::fprintf(stderr, "FuzzProtocolJson: property violated: %s\n", what);
    std::abort();
}

template <typename T>
void roundTrip(const char* name, Result<T> (*fromJson)(const Json&), Json (*toJson)(const T&), const Json& input) {
    Result<T> first = fromJson(input);
    if (!first) {
        check(first.status().code() == StatusCode::InvalidArgument,
              "fromJson failed with a code other than InvalidArgument");
        return;
    }
    Json written = toJson(*first);
    Result<T> second = fromJson(written);
    if (!second)
        std::fprintf(stderr, "%s: %s\n%s\n", name, second.status().toString().c_str(), toText(written).c_str());
    check(second.isOk(), "fromJson refused what toJson wrote");
    check(toJson(*second) == written, "toJson(fromJson(toJson(x))) != toJson(x)");
    (void)written.dump();  // throws (a finding) if toJson put bytes that are not UTF-8 in a JSON string
}

void fromEveryDecoder(const Json& value) {
    roundTrip("policy", policyFromJson, policyToJson, value);
    roundTrip("queue", queueInfoFromJson, queueInfoToJson, value);
    roundTrip("queue stats", queueStatsFromJson, queueStatsToJson, value);
    roundTrip("counters", countersFromJson, countersToJson, value);
    roundTrip("exchange", exchangeFromJson, exchangeToJson, value);
    roundTrip("binding", bindingFromJson, bindingToJson, value);
    roundTrip("filter", filterFromJson, filterToJson, value);
    roundTrip("death", deathFromJson, deathToJson, value);
    roundTrip("message", messageFromJson, messageToJson, value);
    roundTrip("report", reportFromJson, reportToJson, value);
    roundTrip("stats", statsFromJson, statsToJson, value);
    roundTrip("trace event", traceEventFromJson, traceEventToJson, value);
    roundTrip("audit entry", auditEntryFromJson, auditEntryToJson, value);
    roundTrip("sample", sampleFromJson, sampleToJson, value);
    roundTrip("headers", headersFromJson, headersToJson, value);
    roundTrip("fetch request", fetchRequestFromJson, fetchRequestToJson, value);
    roundTrip("fetch reply", fetchReplyFromJson, fetchReplyToJson, value);
    roundTrip("replication status", replicationStatusFromJson, replicationStatusToJson, value);
    if (Result<std::string> body = takeBody(value); body.isOk()) {
        Json object = Json::object();
        putBody(object, *body);
        Result<std::string> again = takeBody(object);
        check(again.isOk() && *again == *body, "takeBody(putBody(x)) != x");
        (void)object.dump();
    }
}

bool dumpable(const std::string& text) {
    try {
        (void)Json(text).dump();
        return true;
    } catch (const Json::exception&) {
        return false;
    }
}

void fuzzBytes(const std::string& text) {
    check(isValidUtf8(text) == dumpable(text), "isValidUtf8 disagrees with nlohmann::json");
    Result<std::string> decoded = base64Decode(base64Encode(text));
    check(decoded.isOk() && *decoded == text, "base64Decode(base64Encode(x)) != x");
    if (Result<std::string> raw = base64Decode(text); raw.isOk()) {
        Result<std::string> again = base64Decode(base64Encode(*raw));
        check(again.isOk() && *again == *raw, "base64 of decoded text does not round-trip");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A copy of exactly `size` bytes: any read past the input lands outside the allocation, where ASan sees it.
    std::string text(reinterpret_cast<const char*>(data), size);
    fuzzBytes(text);
    Result<Json> object = parseObject(text);
    if (!object) {
        check(object.status().code() == StatusCode::InvalidArgument,
              "parseObject failed with a code other than InvalidArgument");
        return 0;
    }
    check(object->is_object(), "parseObject returned something other than an object");
    fromEveryDecoder(*object);
    // Members too: an admin request nests these objects ({"op": "queue.declare", "policy": {...}}).
    for (const auto& [key, member] : object->items())
        fromEveryDecoder(member);
    return 0;
}
