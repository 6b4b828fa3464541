#pragma once
// Topic exchange routing: does a binding pattern match a routing key?
#include <string_view>

namespace depot::broker {

// AMQP topic semantics. Both strings are words separated by '.'; "" is zero words (and "a..b" has an empty middle
// word). In the pattern, a word "*" matches exactly one word and "#" zero or more; any other word matches only
// itself. So "#" matches every key including "", "a.#" matches "a", "#.b" matches "b" and "x.y.b", "a.#.c"
// matches "a.c" and "a.b.d.c". Time is O(pattern words × key words) whatever the pattern: no backtracking.
// Patterns are not validated here (see validateBindingPattern); a word like "a*" is just a literal.
bool topicMatches(std::string_view pattern, std::string_view routingKey);

}  // namespace depot::broker
