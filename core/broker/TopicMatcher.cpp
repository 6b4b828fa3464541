#include "broker/TopicMatcher.h"

#include <vector>

namespace depot::broker {

namespace {

std::vector<std::string_view> splitWords(std::string_view text) {
    std::vector<std::string_view> words;
    if (text.empty())
        return words;
    size_t start = 0;
    while (true) {
        const size_t dot = text.find('.', start);
        if (dot == std::string_view::npos) {
            words.push_back(text.substr(start));
            return words;
        }
        words.push_back(text.substr(start, dot - start));
        start = dot + 1;
    }
}

}  // namespace

// Runs the pattern over the key as a set of positions: reached[j] says the pattern words read so far can match
// exactly the key's first j words. One pass per pattern word keeps a run of '#' from exploding the way naive
// backtracking does.
bool topicMatches(std::string_view pattern, std::string_view routingKey) {
    const std::vector<std::string_view> key = splitWords(routingKey);
    std::vector<char> reached(key.size() + 1, 0);
    reached[0] = 1;
    size_t start = 0;  // each word of the pattern, read in place
    bool more = !pattern.empty();
    while (more) {
        const size_t dot = pattern.find('.', start);
        const std::string_view word = pattern.substr(start, dot == std::string_view::npos ? dot : dot - start);
        more = dot != std::string_view::npos;
        start = dot + 1;
        bool any = false;
        if (word == "#") {
            // Zero or more words: every position at or after the first reached one.
            for (size_t j = 0; j < reached.size(); ++j) {
                any = any || reached[j];
                reached[j] = any;
            }
            continue;
        }
        for (size_t j = reached.size() - 1; j > 0; --j) {
            reached[j] = reached[j - 1] && (word == "*" || word == key[j - 1]);
            any = any || reached[j];
        }
        reached[0] = 0;
        if (!any)
            return false;
    }
    return reached[key.size()] != 0;
}

}  // namespace depot::broker
