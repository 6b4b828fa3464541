#include "broker/JsonPath.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace depot::broker {
namespace {

bool isKeyChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

Status mistake(std::string_view path, size_t at, const std::string& what) {
    return Status::invalidArgument("json path \"" + std::string(path) + "\": " + what + " at character " +
                                   std::to_string(at + 1));
}

// `["key"]` or `[12]` starting at path[pos] == '['; moves pos past the ']'.
Result<JsonPath::Step> bracket(std::string_view path, size_t& pos) {
    const size_t open = pos++;
    if (pos < path.size() && path[pos] == '"') {
        const size_t close = path.find('"', pos + 1);
        if (close == std::string_view::npos || close + 1 >= path.size() || path[close + 1] != ']')
            return mistake(path, open, "unterminated [\"key\"]");
        std::string key(path.substr(pos + 1, close - pos - 1));
        pos = close + 2;
        return JsonPath::Step(std::move(key));
    }
    size_t index = 0, digits = 0;
    for (; pos < path.size() && std::isdigit(static_cast<unsigned char>(path[pos])) && digits < 9; ++pos, ++digits)
        index = index * 10 + size_t(path[pos] - '0');
    if (digits == 0 || pos >= path.size() || path[pos] != ']')
        return mistake(path, open, "expected [index] or [\"key\"]");
    ++pos;
    return JsonPath::Step(index);
}

}  // namespace

Result<JsonPath> JsonPath::parse(std::string_view path) {
    JsonPath out;
    size_t pos = 0;
    if (path.starts_with("$")) {
        pos = 1;
        if (pos < path.size() && path[pos] == '.') ++pos;
    }
    if (pos >= path.size()) return mistake(path, pos, "empty path");
    bool wantName = true;  // at the start and after a '.'
    while (pos < path.size()) {
        if (path[pos] == '[') {
            auto step = bracket(path, pos);
            if (!step) return step.status();
            out.m_steps.push_back(std::move(*step));
            wantName = false;
        } else if (!wantName && path[pos] == '.') {
            ++pos;
            wantName = true;
        } else if (wantName && isKeyChar(path[pos])) {
            const size_t start = pos;
            while (pos < path.size() && isKeyChar(path[pos])) ++pos;
            std::string_view name = path.substr(start, pos - start);
            const bool numeric = name.size() <= 9 && std::all_of(name.begin(), name.end(), [](char c) {
                                     return std::isdigit(static_cast<unsigned char>(c));
                                 });
            out.m_steps.push_back(numeric ? Step(size_t(std::stoul(std::string(name)))) : Step(std::string(name)));
            wantName = false;
        } else {
            return mistake(path, pos, wantName ? "expected a key" : "expected '.' or '['");
        }
    }
    if (wantName) return mistake(path, pos - 1, "a path cannot end with '.'");
    return out;
}

bool JsonPath::matches(std::string_view body, const std::optional<std::string>& equals) const {
    nlohmann::json document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) return false;
    const nlohmann::json* at = &document;
    for (const Step& step : m_steps) {
        if (const std::string* key = std::get_if<std::string>(&step)) {
            if (!at->is_object()) return false;
            auto it = at->find(*key);
            if (it == at->end()) return false;
            at = &*it;
        } else {
            // A numeric step also reads an object's key of that name ("items.0" on {"0": ...}).
            const size_t index = std::get<size_t>(step);
            if (at->is_array()) {
                if (index >= at->size()) return false;
                at = &(*at)[index];
            } else if (at->is_object()) {
                auto it = at->find(std::to_string(index));
                if (it == at->end()) return false;
                at = &*it;
            } else {
                return false;
            }
        }
    }
    if (!equals) return true;
    return at->is_string() ? at->get_ref<const std::string&>() == *equals : at->dump() == *equals;
}

}  // namespace depot::broker
