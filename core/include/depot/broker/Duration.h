#pragma once
// Durations as people write them in policies, on the command line and in the console: "250ms", "5s", "10m",
// "2h", "1d", decimals ("1.5s") and compounds ("1h30m").
#include <string>
#include <string_view>
#include <vector>

#include "depot/Result.h"
#include "depot/broker/Policy.h"

namespace depot::broker {

// Parses one duration: one or more <number><unit> parts with units ms, s, m, h, d (lowercase), each unit at most
// once and from largest to smallest ("1h30m", not "30m1h"). A number is digits with an optional fraction
// ("1.5s"); the total must be a whole number of milliseconds ("1.5ms" is refused) and fit in int64. Surrounding
// spaces are ignored. A bare number is refused (is "5" seconds or milliseconds?), and so is a negative one.
// Errors are InvalidArgument with a message that quotes the text.
Result<Millis> parseDuration(std::string_view text);

// Parses a comma-separated list, "1s,5s,15s" (spaces around items allowed). Empty text or an empty item is an
// error.
Result<std::vector<Millis>> parseDurationList(std::string_view text);

// The shortest exact spelling: "0s", "1s", "1500ms", "10m", "90m", "1d1ms". For every d >= 0,
// parseDuration(formatDuration(d)) == d. A negative d is written with a leading '-' (for messages only: parsing
// refuses it).
std::string formatDuration(Millis duration);

// formatDuration of each item, joined with ','. parseDurationList reads it back.
std::string formatDurationList(const std::vector<Millis>& durations);

}  // namespace depot::broker
