#pragma once
// JsonReader: reads the fields of one untrusted JSON object into a struct (ProtocolJson, admin arguments).
//
// Errors are sticky, like broker::ByteReader: the first one is kept and every later read leaves its output
// untouched, so a decoder reads all its fields straight through and checks status() once. Every error is
// InvalidArgument naming the field by its path from the top object: `field "policy.flush" has an unknown value
// "x"`, `field "queues[2].counters.acked" must be an unsigned integer`. An absent optional key leaves the output
// as it was (the struct's default); an absent required key is an error. Nothing here throws.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "depot/Status.h"
#include "depot/broker/Policy.h"

namespace depot::protocol {

class JsonReader {
public:
    enum Presence { Optional, Required };

    // `path` names `value` in error messages ("" for the top object, "policy", "queues[2]").
    explicit JsonReader(const nlohmann::json& value, std::string path = {});

    bool ok() const { return m_status.isOk(); }
    const Status& status() const { return m_status; }
    const std::string& path() const { return m_path; }
    std::string pathOf(std::string_view key) const;  // "policy.flush"
    bool has(const char* key) const;                 // present and not null

    void boolean(const char* key, bool& out, Presence presence = Optional);
    void string(const char* key, std::string& out, Presence presence = Optional);
    void millis(const char* key, broker::Millis& out, Presence presence = Optional);
    template <typename T>
    void integer(const char* key, T& out, Presence presence = Optional);
    // Null or absent: nullopt.
    template <typename T>
    void optionalInteger(const char* key, std::optional<T>& out);
    void optionalMillis(const char* key, std::optional<broker::Millis>& out);
    template <typename E>
    void enumeration(const char* key, std::optional<E> (*fromString)(std::string_view), E& out,
                     Presence presence = Optional);

    // The raw value of a key for nested readers: null when absent (an error if required) or after an error.
    const nlohmann::json* field(const char* key, Presence presence = Optional);
    // Like field(), but the value must be an array.
    const nlohmann::json* array(const char* key, Presence presence = Optional);

    // Records an error about `key` (kept only if it is the first).
    void fail(std::string_view key, std::string_view problem);
    // Keeps `status` as the error if it is the first one.
    void adopt(const Status& status);

    // Checks that `value` is an integer that fits in T; the error names `path`. Exposed for array items.
    template <typename T>
    static Status integerValue(const nlohmann::json& value, const std::string& path, T& out);

private:
    const nlohmann::json* find(const char* key, Presence presence);

    const nlohmann::json& m_value;
    std::string m_path;
    Status m_status;
};

// InvalidArgument `field "path" problem`.
Status fieldError(const std::string& path, std::string_view problem);
// `"text"` for an error message: long untrusted text is cut (on a UTF-8 boundary) and marked with "...".
std::string quoteText(std::string_view text);

// Reads the object at `key` with `read(JsonReader&, T&)`; its errors carry the nested path ("policy.flush").
template <typename T, typename Read>
void readObject(JsonReader& parent, const char* key, T& out, Read read,
                JsonReader::Presence presence = JsonReader::Optional) {
    const nlohmann::json* value = parent.field(key, presence);
    if (!value)
        return;
    JsonReader child(*value, parent.pathOf(key));
    read(child, out);
    parent.adopt(child.status());
}

// Reads the array at `key`, each item an object read with `read(JsonReader&, T&)` ("queues[2].name").
template <typename T, typename Read>
void readObjects(JsonReader& parent, const char* key, std::vector<T>& out, Read read,
                 JsonReader::Presence presence = JsonReader::Optional) {
    const nlohmann::json* value = parent.array(key, presence);
    if (!value)
        return;
    std::vector<T> items;
    items.reserve(value->size());
    for (const nlohmann::json& item : *value) {
        JsonReader child(item, parent.pathOf(key) + "[" + std::to_string(items.size()) + "]");
        T decoded{};
        read(child, decoded);
        if (!child.ok())
            return parent.adopt(child.status());
        items.push_back(std::move(decoded));
    }
    out = std::move(items);
}

template <typename T>
Status JsonReader::integerValue(const nlohmann::json& value, const std::string& path, T& out) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    constexpr bool kSigned = std::is_signed_v<T>;
    if (!value.is_number_integer())
        return fieldError(path, kSigned ? "must be an integer" : "must be an unsigned integer");
    // Non-negative numbers parse as unsigned; negative ones as signed.
    if (value.is_number_unsigned()) {
        auto number = value.get<uint64_t>();
        if (number > uint64_t(std::numeric_limits<T>::max()))
            return fieldError(path, "is out of range");
        out = T(number);
        return Status::ok();
    }
    auto number = value.get<int64_t>();
    if (number < 0 && !kSigned)
        return fieldError(path, "must be an unsigned integer");
    if (number < int64_t(std::numeric_limits<T>::min()) ||
        (number > 0 && uint64_t(number) > uint64_t(std::numeric_limits<T>::max())))
        return fieldError(path, "is out of range");
    out = T(number);
    return Status::ok();
}

template <typename T>
void JsonReader::integer(const char* key, T& out, Presence presence) {
    const nlohmann::json* value = find(key, presence);
    if (value)
        adopt(integerValue(*value, pathOf(key), out));
}

template <typename T>
void JsonReader::optionalInteger(const char* key, std::optional<T>& out) {
    if (!ok())
        return;
    if (!has(key)) {
        out.reset();
        return;
    }
    T number{};
    adopt(integerValue(m_value[key], pathOf(key), number));
    if (ok())
        out = number;
}

template <typename E>
void JsonReader::enumeration(const char* key, std::optional<E> (*fromString)(std::string_view), E& out,
                             Presence presence) {
    std::string text;
    bool present = has(key);
    string(key, text, presence);
    if (!ok() || !present)
        return;
    std::optional<E> value = fromString(text);
    if (!value)
        return fail(key, "has an unknown value " + protocol::quoteText(text));
    out = *value;
}

}  // namespace depot::protocol
