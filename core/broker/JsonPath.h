#pragma once
// JsonPath: the small path language of message filters, for finding a value inside a JSON body:
// "$.order.items[0].sku", or without the "$." and with dotted indexes: "order.items.0.sku".
// Keys are [A-Za-z0-9_-]+ (others through ["any key"]); indexes are decimal.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "depot/Result.h"

namespace depot::broker {

class JsonPath {
public:
    using Step = std::variant<std::string, size_t>;  // a key, or an array index

    // InvalidArgument naming the position of the first mistake.
    static Result<JsonPath> parse(std::string_view path);

    // True when `body` is JSON and the path leads to a value there — equal to `equals` when given: a string
    // value compares as its text, anything else as its compact JSON ("42", "true", "null", "[1,2]").
    bool matches(std::string_view body, const std::optional<std::string>& equals) const;

    const std::vector<Step>& steps() const { return m_steps; }

private:
    std::vector<Step> m_steps;
};

}  // namespace depot::broker
