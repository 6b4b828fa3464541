// The JSON objects of docs/protocol.md: bytes (UTF-8 or base64), definitions, filters and frames. Messages,
// reports and observability objects are in ProtocolJsonMessages.cpp and ProtocolJsonStats.cpp.
#include "protocol/ProtocolJson.h"

#include <array>

#include "depot/broker/Validation.h"
#include "protocol/ProtocolJsonReaders.h"

namespace depot::protocol {

using broker::Millis;

namespace {

constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> base64Values() {
    std::array<int8_t, 256> values{};
    values.fill(-1);
    for (size_t i = 0; i < kBase64Alphabet.size(); ++i)
        values[static_cast<unsigned char>(kBase64Alphabet[i])] = int8_t(i);
    return values;
}

constexpr std::array<int8_t, 256> kBase64Values = base64Values();

Json bytesToJson(const std::string& bytes) {
    if (isValidUtf8(bytes))
        return bytes;
    return Json{{"base64", base64Encode(bytes)}};
}

}  // namespace

// Strict (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF, the same rules nlohmann::json
// applies when it dumps a string, so a string that passes here can always be serialized.
bool isValidUtf8(std::string_view bytes) {
    size_t i = 0;
    while (i < bytes.size()) {
        auto lead = static_cast<unsigned char>(bytes[i]);
        if (lead < 0x80) {
            ++i;
            continue;
        }
        size_t length;
        uint32_t codePoint, smallest;
        if ((lead & 0xE0) == 0xC0)
            length = 2, codePoint = lead & 0x1F, smallest = 0x80;
        else if ((lead & 0xF0) == 0xE0)
            length = 3, codePoint = lead & 0x0F, smallest = 0x800;
        else if ((lead & 0xF8) == 0xF0)
            length = 4, codePoint = lead & 0x07, smallest = 0x10000;
        else
            return false;
        if (bytes.size() - i < length)
            return false;
        for (size_t k = 1; k < length; ++k) {
            auto next = static_cast<unsigned char>(bytes[i + k]);
            if ((next & 0xC0) != 0x80)
                return false;
            codePoint = (codePoint << 6) | (next & 0x3F);
        }
        if (codePoint < smallest || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            return false;
        i += length;
    }
    return true;
}

std::string base64Encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        size_t n = std::min<size_t>(3, bytes.size() - i);
        uint32_t group = 0;
        for (size_t k = 0; k < 3; ++k)
            group = (group << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
        for (size_t k = 0; k < 4; ++k)
            out.push_back(k <= n ? kBase64Alphabet[(group >> (18 - 6 * k)) & 0x3F] : '=');
    }
    return out;
}

// Accepts the standard alphabet with or without '=' padding; anything else (whitespace, the URL-safe alphabet,
// padding in the middle, a dangling 6 bits) is refused rather than guessed at.
Result<std::string> base64Decode(std::string_view text) {
    size_t padding = 0;
    while (padding < 2 && text.size() > padding && text[text.size() - 1 - padding] == '=')
        ++padding;
    if (padding && text.size() % 4 != 0)
        return Status::invalidArgument("not valid base64: padding is misplaced");
    std::string_view digits = text.substr(0, text.size() - padding);
    if (digits.size() % 4 == 1)
        return Status::invalidArgument("not valid base64: a character is left over");
    std::string out;
    out.reserve(digits.size() / 4 * 3 + 2);
    uint32_t group = 0;
    int bits = 0;
    for (char c : digits) {
        int8_t value = kBase64Values[static_cast<unsigned char>(c)];
        if (value < 0)
            return Status::invalidArgument("not valid base64: a character is outside the alphabet");
        group = (group << 6) | uint32_t(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((group >> bits) & 0xFF));
        }
    }
    // Bits after the last byte must be zero, so every byte string has exactly one encoding.
    if (group & ((uint32_t(1) << bits) - 1))
        return Status::invalidArgument("not valid base64: bits after the last byte are not zero");
    return out;
}

void putBody(Json& object, const std::string& body) {
    if (isValidUtf8(body))
        object["body"] = body;
    else
        object["bodyBase64"] = base64Encode(body);
}

void readBody(JsonReader& r, std::string& out) {
    if (r.has("body") && r.has("bodyBase64"))
        return r.fail("bodyBase64", "must not be given with \"body\"");
    if (const Json* encoded = r.field("bodyBase64")) {
        if (!encoded->is_string())
            return r.fail("bodyBase64", "must be a string");
        Result<std::string> decoded = base64Decode(encoded->get<std::string>());
        if (!decoded)
            return r.fail("bodyBase64", "is " + decoded.status().message());
        out = std::move(*decoded);
        return;
    }
    r.string("body", out);
}

Result<std::string> takeBody(const Json& object) { return decodeTopLevel<std::string>(object, readBody); }

Status bytesFromJson(const Json& value, const std::string& path, std::string& out) {
    if (value.is_string()) {
        out = value.get<std::string>();
        return Status::ok();
    }
    auto encoded = value.is_object() ? value.find("base64") : value.end();
    if (!value.is_object() || value.size() != 1 || encoded == value.end() || !encoded->is_string())
        return fieldError(path, "must be a string or {\"base64\": \"...\"}");
    Result<std::string> decoded = base64Decode(encoded->get<std::string>());
    if (!decoded)
        return fieldError(path, "is " + decoded.status().message());
    out = std::move(*decoded);
    return Status::ok();
}

// Header names are UTF-8 by the protocol; a name that is not still travels (as base64) rather than breaking dump().
Json headersToJson(const broker::Headers& headers) {
    Json out = Json::array();
    for (const auto& [name, value] : headers)
        out.push_back(Json::array({bytesToJson(name), bytesToJson(value)}));
    return out;
}

void readHeaders(JsonReader& reader, const char* key, broker::Headers& out) {
    const Json* value = reader.array(key);
    if (!value)
        return;
    broker::Headers headers;
    for (const Json& pair : *value) {
        std::string path = reader.pathOf(key) + "[" + std::to_string(headers.size()) + "]";
        if (!pair.is_array() || pair.size() != 2)
            return reader.adopt(fieldError(path, "must be a [name, value] pair"));
        std::string name, text;
        reader.adopt(bytesFromJson(pair[0], path + ".name", name));
        reader.adopt(bytesFromJson(pair[1], path + ".value", text));
        if (!reader.ok())
            return;
        headers.emplace_back(std::move(name), std::move(text));
    }
    out = std::move(headers);
}

Result<broker::Headers> headersFromJson(const Json& value) {
    // Wrapped so the reader's paths read "headers[1].value".
    Json holder = Json::object();
    holder["headers"] = value;
    return decodeTopLevel<broker::Headers>(holder, [](JsonReader& r, broker::Headers& out) {
        readHeaders(r, "headers", out);
        if (r.ok() && !r.has("headers"))
            r.fail("headers", "must be an array");
    });
}

Json policyToJson(const broker::QueuePolicy& policy) {
    Json backoff = Json::array();
    for (Millis step : policy.backoff)
        backoff.push_back(step.count());
    return {
        {"durable", policy.durable},
        {"flush", broker::toString(policy.flush)},
        {"maxAttempts", policy.maxAttempts},
        {"backoffMs", std::move(backoff)},
        {"ackTimeoutMs", policy.ackTimeout.count()},
        {"ttlMs", policy.ttl ? Json(policy.ttl->count()) : Json(nullptr)},
        {"maxLength", policy.maxLength ? Json(*policy.maxLength) : Json(nullptr)},
        {"overflow", broker::toString(policy.overflow)},
        {"ordering", broker::toString(policy.ordering)},
        {"dedupWindowMs", policy.dedupWindow.count()},
        {"deadLetterQueue", policy.deadLetterQueue},
        {"replication", broker::toString(policy.replication)},
        {"replicaTimeoutMs", policy.replicaTimeout.count()},
        {"onReplicaTimeout", broker::toString(policy.onReplicaTimeout)},
    };
}

void readPolicy(JsonReader& r, broker::QueuePolicy& out) {
    r.boolean("durable", out.durable);
    r.enumeration("flush", broker::flushModeFromString, out.flush);
    r.integer("maxAttempts", out.maxAttempts);
    if (const Json* backoff = r.array("backoffMs")) {
        std::vector<Millis> steps;
        for (const Json& item : *backoff) {
            int64_t ms = 0;
            r.adopt(JsonReader::integerValue(item, r.pathOf("backoffMs") + "[" + std::to_string(steps.size()) + "]",
                                             ms));
            if (!r.ok())
                return;
            steps.emplace_back(ms);
        }
        out.backoff = std::move(steps);
    }
    r.millis("ackTimeoutMs", out.ackTimeout);
    r.optionalMillis("ttlMs", out.ttl);
    r.optionalInteger("maxLength", out.maxLength);
    r.enumeration("overflow", broker::overflowFromString, out.overflow);
    r.enumeration("ordering", broker::orderingFromString, out.ordering);
    r.millis("dedupWindowMs", out.dedupWindow);
    r.string("deadLetterQueue", out.deadLetterQueue);
    r.enumeration("replication", broker::replicationFromString, out.replication);
    r.millis("replicaTimeoutMs", out.replicaTimeout);
    r.enumeration("onReplicaTimeout", broker::replicaTimeoutActionFromString, out.onReplicaTimeout);
}

Result<broker::QueuePolicy> policyFromJson(const Json& value) {
    return decodeTopLevel<broker::QueuePolicy>(value, readPolicy);
}

Json queueInfoToJson(const broker::QueueInfo& info) {
    return {{"id", info.id},
            {"name", info.name},
            {"kind", broker::toString(info.kind)},
            {"policy", policyToJson(info.policy)},
            {"deadLetterQueue", info.deadLetterQueue},
            {"createdAt", info.createdAt}};
}

void readQueueInfo(JsonReader& r, broker::QueueInfo& out) {
    r.integer("id", out.id);
    r.string("name", out.name, JsonReader::Required);
    r.enumeration("kind", broker::queueKindFromString, out.kind);
    readObject(r, "policy", out.policy, readPolicy);
    r.string("deadLetterQueue", out.deadLetterQueue);
    r.integer("createdAt", out.createdAt);
}

Result<broker::QueueInfo> queueInfoFromJson(const Json& value) {
    return decodeTopLevel<broker::QueueInfo>(value, readQueueInfo);
}

Json exchangeToJson(const broker::ExchangeSpec& exchange) {
    return {{"name", exchange.name},
            {"type", broker::toString(exchange.type)},
            {"alternateQueue", exchange.alternateQueue}};
}

void readExchange(JsonReader& r, broker::ExchangeSpec& out) {
    r.string("name", out.name, JsonReader::Required);
    r.enumeration("type", broker::exchangeTypeFromString, out.type);
    r.string("alternateQueue", out.alternateQueue);
}

Result<broker::ExchangeSpec> exchangeFromJson(const Json& value) {
    return decodeTopLevel<broker::ExchangeSpec>(value, readExchange);
}

Json bindingToJson(const broker::Binding& binding) {
    return {{"exchange", binding.exchange}, {"queue", binding.queue}, {"pattern", binding.pattern}};
}

void readBinding(JsonReader& r, broker::Binding& out) {
    r.string("exchange", out.exchange, JsonReader::Required);
    r.string("queue", out.queue, JsonReader::Required);
    r.string("pattern", out.pattern);
}

Result<broker::Binding> bindingFromJson(const Json& value) {
    return decodeTopLevel<broker::Binding>(value, readBinding);
}

// Only what narrows the selection: {} matches everything, and no INT64_MAX reaches clients whose numbers are
// doubles.
Json filterToJson(const broker::MessageFilter& filter) {
    broker::MessageFilter all;
    Json out = Json::object();
    if (!filter.sequences.empty())
        out["sequences"] = filter.sequences;
    if (!filter.messageId.empty())
        out["messageId"] = filter.messageId;
    if (!filter.sourceQueue.empty())
        out["sourceQueue"] = filter.sourceQueue;
    if (filter.reason)
        out["reason"] = broker::toString(*filter.reason);
    if (filter.from != all.from)
        out["from"] = filter.from;
    if (filter.to != all.to)
        out["to"] = filter.to;
    if (!filter.text.empty())
        out["text"] = filter.text;
    if (!filter.error.empty())
        out["error"] = filter.error;
    if (!filter.jsonPath.empty())
        out["jsonPath"] = filter.jsonPath;
    if (filter.jsonEquals)
        out["jsonEquals"] = *filter.jsonEquals;
    return out;
}

void readFilter(JsonReader& r, broker::MessageFilter& out) {
    if (const Json* sequences = r.array("sequences")) {
        std::vector<uint64_t> values;
        for (const Json& item : *sequences) {
            uint64_t sequence = 0;
            std::string path = r.pathOf("sequences") + "[" + std::to_string(values.size()) + "]";
            r.adopt(JsonReader::integerValue(item, path, sequence));
            if (!r.ok())
                return;
            values.push_back(sequence);
        }
        out.sequences = std::move(values);
    }
    r.string("messageId", out.messageId);
    r.string("sourceQueue", out.sourceQueue);
    if (r.has("reason")) {
        broker::DeathReason reason{};
        r.enumeration("reason", broker::deathReasonFromString, reason);
        if (r.ok())
            out.reason = reason;
    }
    r.integer("from", out.from);
    r.integer("to", out.to);
    r.string("text", out.text);
    r.string("error", out.error);
    r.string("jsonPath", out.jsonPath);
    if (r.has("jsonEquals")) {
        std::string equals;
        r.string("jsonEquals", equals);
        out.jsonEquals = std::move(equals);
    }
    if (r.ok() && !out.jsonPath.empty())
        if (Status valid = broker::validateJsonPath(out.jsonPath); !valid)
            r.fail("jsonPath", valid.message());
    if (r.ok() && out.jsonEquals && out.jsonPath.empty())
        r.fail("jsonEquals", "needs a jsonPath");
}

Result<broker::MessageFilter> filterFromJson(const Json& value) {
    return decodeTopLevel<broker::MessageFilter>(value, readFilter);
}

Result<Json> parseObject(std::string_view text) {
    if (text.empty())
        return Json::object();
    // JSON allows no raw NUL anywhere, but the parser stops at one and accepts what came before.
    if (text.find('\0') != std::string_view::npos)
        return Status::invalidArgument("the header is not valid JSON: it contains a NUL byte");
    try {
        Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (value.is_discarded())
            return Status::invalidArgument("the header is not valid JSON");
        if (!value.is_object())
            return Status::invalidArgument("the header is not a JSON object");
        return value;
    } catch (const std::exception& e) {
        return Status::invalidArgument(std::string("the header is not valid JSON: ") + e.what());
    }
}

std::string toText(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string_view errorCodeFor(const Status& status) {
    switch (status.code()) {
    case StatusCode::Ok: return "";
    case StatusCode::NotFound: return "not-found";
    case StatusCode::InvalidArgument: return "invalid";
    case StatusCode::ReadOnly: return "read-only";
    case StatusCode::Closed:
    case StatusCode::Unavailable: return "unavailable";
    case StatusCode::TooLarge: return "too-large";
    default: return "failed";
    }
}

}  // namespace depot::protocol
