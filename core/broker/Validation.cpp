#include "depot/broker/Validation.h"

#include <string>

#include "broker/JsonPath.h"
#include "depot/broker/Duration.h"

namespace depot::broker {

namespace {

struct CodePoint {
    char32_t value = 0;
    size_t length = 0;  // 0: the bytes at this position are not valid UTF-8
};

// Strict UTF-8 (RFC 3629): the second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code
// points past U+10FFFF (F4); C0, C1 and F5..FF never start a sequence.
CodePoint decodeAt(std::string_view text, size_t pos) {
    const auto b0 = static_cast<unsigned char>(text[pos]);
    if (b0 < 0x80)
        return {b0, 1};
    size_t length = 0;
    char32_t value = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2;
        value = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3;
        value = b0 & 0x0F;
        low = b0 == 0xE0 ? 0xA0 : low;
        high = b0 == 0xED ? 0x9F : high;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4;
        value = b0 & 0x07;
        low = b0 == 0xF0 ? 0x90 : low;
        high = b0 == 0xF4 ? 0x8F : high;
    } else {
        return {};
    }
    for (size_t i = 1; i < length; ++i) {
        if (pos + i >= text.size())
            return {};
        const auto b = static_cast<unsigned char>(text[pos + i]);
        if (b < (i == 1 ? low : 0x80) || b > (i == 1 ? high : 0xBF))
            return {};
        value = (value << 6) | (b & 0x3F);
    }
    return {value, length};
}

bool isControl(char32_t c) { return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F); }

// Unicode White_Space, less the control characters (refused before this matters).
bool isWhitespace(char32_t c) {
    return c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

// Characters that would break the message's single line or make it read differently from its bytes.
bool isInvisible(char32_t c) {
    return isControl(c) || (c >= 0x200B && c <= 0x200F) || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

void appendHex(std::string& out, std::string_view prefix, uint32_t value, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += prefix;
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
        out += kHex[(value >> shift) & 0xF];
}

void appendEscaped(std::string& out, std::string_view text, size_t pos, CodePoint cp) {
    if (cp.length == 0)
        appendHex(out, "\\x", static_cast<unsigned char>(text[pos]), 2);
    else if (cp.value == '"' || cp.value == '\\')
        out.append({'\\', static_cast<char>(cp.value)});
    else if (cp.value == '\t')
        out += "\\t";
    else if (cp.value == '\n')
        out += "\\n";
    else if (cp.value == '\r')
        out += "\\r";
    else if (cp.value < 0x80 && isInvisible(cp.value))
        appendHex(out, "\\x", cp.value, 2);
    else if (isInvisible(cp.value))
        appendHex(out, "\\u", cp.value, 4);
    else
        out.append(text.substr(pos, cp.length));
}

std::string outOfRange(std::string_view field, const std::string& value, std::string_view range) {
    return std::string(field) + " " + value + " is out of range (" + std::string(range) + ")";
}

Status checkDuration(std::string_view field, Millis value, Millis low, Millis high, std::string_view range) {
    if (value < low || value > high)
        return Status::invalidArgument(outOfRange(field, formatDuration(value), range));
    return Status::ok();
}

// The checks names and patterns share. `noun` is "queue name", "header name", "binding pattern", ...
Status checkText(std::string_view noun, std::string_view text, bool refuseOuterWhitespace) {
    const std::string subject = std::string(noun) + " " + quoteForMessage(text);
    if (text.size() > kMaxNameBytes) {
        return Status::invalidArgument(subject + " is " + std::to_string(text.size()) + " bytes long (at most " +
                                       std::to_string(kMaxNameBytes) + ")");
    }
    char32_t first = 0;
    char32_t last = 0;
    for (size_t pos = 0; pos < text.size();) {
        const CodePoint cp = decodeAt(text, pos);
        if (cp.length == 0)
            return Status::invalidArgument(subject + " is not valid UTF-8 at byte " + std::to_string(pos));
        if (isControl(cp.value))
            return Status::invalidArgument(subject + " contains a control character at byte " + std::to_string(pos));
        if (pos == 0)
            first = cp.value;
        last = cp.value;
        pos += cp.length;
    }
    if (refuseOuterWhitespace && !text.empty() && isWhitespace(first))
        return Status::invalidArgument(subject + " starts with whitespace");
    if (refuseOuterWhitespace && !text.empty() && isWhitespace(last))
        return Status::invalidArgument(subject + " ends with whitespace");
    return Status::ok();
}

Status checkTopicPattern(std::string_view pattern) {
    DEPOT_RETURN_IF_ERROR(checkText("binding pattern", pattern, false));
    if (pattern.empty())
        return Status::ok();
    size_t start = 0;
    while (true) {
        const size_t dot = pattern.find('.', start);
        const std::string_view word = pattern.substr(start, dot == std::string_view::npos ? dot : dot - start);
        const std::string subject = "binding pattern " + quoteForMessage(pattern);
        if (word.empty())
            return Status::invalidArgument(subject + " has an empty word at byte " + std::to_string(start));
        if (word.size() > 1 && word.find_first_of("*#") != std::string_view::npos) {
            return Status::invalidArgument(subject + " uses '*' or '#' inside the word at byte " +
                                           std::to_string(start) + " (they must be whole words: a.*.c, a.#)");
        }
        if (dot == std::string_view::npos)
            return Status::ok();
        start = dot + 1;
    }
}

}  // namespace

std::string quoteForMessage(std::string_view text, size_t maxBytes) {
    std::string out = "\"";
    size_t pos = 0;
    while (pos < text.size() && pos < maxBytes) {
        const CodePoint cp = decodeAt(text, pos);
        appendEscaped(out, text, pos, cp);
        pos += cp.length == 0 ? 1 : cp.length;
    }
    out += '"';
    if (pos < text.size())
        out += "...";
    return out;
}

Status validateName(std::string_view what, std::string_view name, bool allowEmpty) {
    if (name.empty()) {
        if (allowEmpty)
            return Status::ok();
        return Status::invalidArgument(std::string(what) + " name must not be empty");
    }
    return checkText(std::string(what) + " name", name, true);
}

Status validatePolicy(const QueuePolicy& policy) {
    if (policy.maxAttempts > kMaxMaxAttempts) {
        return Status::invalidArgument(
            outOfRange("max-attempts", std::to_string(policy.maxAttempts), "0.." + std::to_string(kMaxMaxAttempts)));
    }
    if (policy.backoff.empty() || policy.backoff.size() > kMaxBackoffSteps) {
        return Status::invalidArgument("backoff has " + std::to_string(policy.backoff.size()) + " steps (1.." +
                                       std::to_string(kMaxBackoffSteps) + " allowed)");
    }
    for (size_t i = 0; i < policy.backoff.size(); ++i) {
        const std::string field = "backoff[" + std::to_string(i) + "]";
        DEPOT_RETURN_IF_ERROR(checkDuration(field, policy.backoff[i], Millis(0), kMaxBackoffStep, "0..7d"));
    }
    if (policy.ackTimeout != Millis(0)) {
        DEPOT_RETURN_IF_ERROR(
            checkDuration("ack-timeout", policy.ackTimeout, kMinAckTimeout, kMaxAckTimeout, "0 or 100ms..24h"));
    }
    if (policy.ttl)
        DEPOT_RETURN_IF_ERROR(checkDuration("ttl", *policy.ttl, kMinTtl, kMaxTtl, "1ms..365d"));
    if (policy.maxLength && (*policy.maxLength < 1 || *policy.maxLength > kMaxMaxLength)) {
        return Status::invalidArgument(
            outOfRange("max-length", std::to_string(*policy.maxLength), "1.." + std::to_string(kMaxMaxLength)));
    }
    DEPOT_RETURN_IF_ERROR(checkDuration("dedup-window", policy.dedupWindow, Millis(0), kMaxDedupWindow, "0..24h"));
    DEPOT_RETURN_IF_ERROR(
        checkDuration("replica-timeout", policy.replicaTimeout, Millis(10), Millis(600000), "10ms..10m"));
    if (!policy.durable && policy.replication != Replication::None)
        return Status::invalidArgument("replication " + std::string(toString(policy.replication)) +
                                       " needs a durable queue: a transient queue's messages are never written");
    return validateName("dead-letter-queue", policy.deadLetterQueue, true);
}

Status validateHeaders(const Headers& headers) {
    if (headers.size() > kMaxHeaders) {
        return Status::invalidArgument("too many headers: " + std::to_string(headers.size()) + " (at most " +
                                       std::to_string(kMaxHeaders) + ")");
    }
    for (const auto& [name, value] : headers) {
        if (name.empty())
            return Status::invalidArgument("header name must not be empty");
        DEPOT_RETURN_IF_ERROR(checkText("header name", name, false));
        if (value.size() > kMaxHeaderValueBytes) {
            return Status::invalidArgument("header " + quoteForMessage(name) + " value is " +
                                           std::to_string(value.size()) + " bytes (at most " +
                                           std::to_string(kMaxHeaderValueBytes) + ")");
        }
    }
    return Status::ok();
}

Status validateBindingPattern(ExchangeType type, std::string_view pattern) {
    switch (type) {
        case ExchangeType::Direct:
            return validateName("binding key", pattern, true);
        case ExchangeType::Topic:
            return checkTopicPattern(pattern);
        case ExchangeType::Fanout:
            return Status::ok();
    }
    return Status::invalidArgument("unknown exchange type " + std::to_string(static_cast<int>(type)));
}

Status validateJsonPath(std::string_view path) {
    if (path.size() > kMaxNameBytes)
        return Status::invalidArgument("json path is " + std::to_string(path.size()) + " bytes long (at most " +
                                       std::to_string(kMaxNameBytes) + ")");
    return JsonPath::parse(path).status();
}

}  // namespace depot::broker
