#pragma once
// Encoding: bytes as JSON carries them (docs/protocol.md): valid UTF-8 as a JSON string, anything else base64.
#include <optional>
#include <string>
#include <string_view>

namespace depotctl {

// Standard alphabet with '=' padding (RFC 4648 §4).
std::string base64Encode(std::string_view bytes);
// nullopt unless `text` is padded base64: a length that is a multiple of 4, '=' only as the last one or two characters.
std::optional<std::string> base64Decode(std::string_view text);

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool isUtf8(std::string_view bytes);

}  // namespace depotctl
