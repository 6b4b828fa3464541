#pragma once
// Checks on what people and clients hand the broker: names, policies, headers and binding patterns. Public, so
// the console validates as the operator types with the broker's own rules. Each check returns OK or an
// InvalidArgument Status whose message is one readable line naming the field, the offending
// value (quoted, non-printables escaped) and what is allowed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "depot/Status.h"
#include "depot/broker/Message.h"
#include "depot/broker/Policy.h"

namespace depot::broker {

inline constexpr size_t kMaxNameBytes = 255;  // queue, exchange and header names; binding patterns
inline constexpr size_t kMaxHeaders = 256;
inline constexpr size_t kMaxHeaderValueBytes = 64 * 1024;
inline constexpr uint32_t kMaxMaxAttempts = 10000;
inline constexpr size_t kMaxBackoffSteps = 32;
inline constexpr Millis kMaxBackoffStep{7LL * 24 * 3600 * 1000};
inline constexpr Millis kMinAckTimeout{100};
inline constexpr Millis kMaxAckTimeout{24LL * 3600 * 1000};
inline constexpr Millis kMinTtl{1};
inline constexpr Millis kMaxTtl{365LL * 24 * 3600 * 1000};
inline constexpr uint64_t kMaxMaxLength = 1'000'000'000;
inline constexpr Millis kMaxDedupWindow{24LL * 3600 * 1000};

// `text` in double quotes for an error message: '"' and '\' are backslash-escaped, control characters and
// invisible format characters (line separators, bidi overrides, BOM) become \t, \n, \r, \xNN or \uNNNN, and bytes
// that are not valid UTF-8 become \xNN. Other UTF-8 (e.g. Chinese names) is kept as is. Text longer than
// `maxBytes` is cut at a character boundary and followed by "..." after the closing quote.
std::string quoteForMessage(std::string_view text, size_t maxBytes = 64);

// A queue or exchange name: non-empty (unless allowEmpty: the default exchange is ""), at most 255 bytes, valid
// UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no control characters (C0, DEL, C1), no
// leading or trailing whitespace (Unicode White_Space). `what` names the thing in the message:
// validateName("queue", "a\x01b") → `queue name "a\x01b" contains a control character at byte 1`.
Status validateName(std::string_view what, std::string_view name, bool allowEmpty = false);

// Every field in range: max-attempts 0..10000; backoff 1..32 steps of 0..7d; ack-timeout 0 (never) or
// 100ms..24h; ttl (when set) 1ms..365d; max-length (when set) 1..1e9; dedup-window 0..24h; dead-letter-queue empty
// or a valid queue name. The message names the field as the catalog spells it and the allowed range:
// `max-attempts 20000 is out of range (0..10000)`.
Status validatePolicy(const QueuePolicy& policy);

// A filter's JSON path: "$.order.items[0].sku", "order.items.0.sku", ["odd key"]; at most 255 bytes.
Status validateJsonPath(std::string_view path);

// At most 256 headers; each name non-empty, at most 255 bytes, valid UTF-8 without control characters (spaces
// allowed); each value any bytes, at most 64 KiB.
Status validateHeaders(const Headers& headers);

// Topic: words separated by '.', each non-empty, '*' and '#' only as whole words, at most 255 bytes of valid UTF-8
// without control characters; "" is allowed (it matches only the empty routing key). Direct: a valid name or "".
// Fanout: anything (the pattern is ignored).
Status validateBindingPattern(ExchangeType type, std::string_view pattern);

}  // namespace depot::broker
