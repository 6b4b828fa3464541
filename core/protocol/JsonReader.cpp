#include "protocol/JsonReader.h"

namespace depot::protocol {

namespace {

// Error messages quote untrusted values: keep them short, and cut on a UTF-8 boundary so the message itself stays
// valid UTF-8 (it travels in a JSON ERROR header).
std::string shortened(std::string_view text) {
    constexpr size_t kMax = 60;
    if (text.size() <= kMax)
        return std::string(text);
    size_t end = kMax;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return std::string(text.substr(0, end)) + "...";
}

}  // namespace

Status fieldError(const std::string& path, std::string_view problem) {
    if (path.empty())
        return Status::invalidArgument("the JSON value " + std::string(problem));
    return Status::invalidArgument("field \"" + path + "\" " + std::string(problem));
}

JsonReader::JsonReader(const nlohmann::json& value, std::string path) : m_value(value), m_path(std::move(path)) {
    if (!m_value.is_object())
        m_status = m_path.empty() ? Status::invalidArgument("expected a JSON object")
                                  : fieldError(m_path, "must be an object");
}

std::string JsonReader::pathOf(std::string_view key) const {
    return m_path.empty() ? std::string(key) : m_path + "." + std::string(key);
}

bool JsonReader::has(const char* key) const {
    if (!m_value.is_object())
        return false;
    auto it = m_value.find(key);
    return it != m_value.end() && !it->is_null();
}

void JsonReader::fail(std::string_view key, std::string_view problem) {
    adopt(fieldError(pathOf(key), problem));
}

void JsonReader::adopt(const Status& status) {
    if (m_status.isOk() && !status.isOk())
        m_status = status;
}

const nlohmann::json* JsonReader::find(const char* key, Presence presence) {
    if (!ok())
        return nullptr;
    if (!has(key)) {
        if (presence == Required)
            fail(key, "is missing");
        return nullptr;
    }
    return &*m_value.find(key);
}

const nlohmann::json* JsonReader::field(const char* key, Presence presence) { return find(key, presence); }

const nlohmann::json* JsonReader::array(const char* key, Presence presence) {
    const nlohmann::json* value = find(key, presence);
    if (value && !value->is_array()) {
        fail(key, "must be an array");
        return nullptr;
    }
    return value;
}

void JsonReader::boolean(const char* key, bool& out, Presence presence) {
    const nlohmann::json* value = find(key, presence);
    if (!value)
        return;
    if (!value->is_boolean())
        return fail(key, "must be true or false");
    out = value->get<bool>();
}

void JsonReader::string(const char* key, std::string& out, Presence presence) {
    const nlohmann::json* value = find(key, presence);
    if (!value)
        return;
    if (!value->is_string())
        return fail(key, "must be a string");
    out = value->get<std::string>();
}

void JsonReader::millis(const char* key, broker::Millis& out, Presence presence) {
    int64_t count = out.count();
    integer(key, count, presence);
    if (ok())
        out = broker::Millis(count);
}

void JsonReader::optionalMillis(const char* key, std::optional<broker::Millis>& out) {
    std::optional<int64_t> count;
    if (out)
        count = out->count();
    optionalInteger(key, count);
    if (ok())
        out = count ? std::optional<broker::Millis>(broker::Millis(*count)) : std::nullopt;
}

std::string quoteText(std::string_view text) { return "\"" + shortened(text) + "\""; }

}  // namespace depot::protocol
