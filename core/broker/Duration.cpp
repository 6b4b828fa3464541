#include "depot/broker/Duration.h"

#include <array>
#include <cstdint>
#include <limits>

#include "depot/broker/Validation.h"

namespace depot::broker {

namespace {

struct Unit {
    std::string_view suffix;
    int64_t ms;
};

// Largest first: a compound duration must list its units in this order.
constexpr std::array<Unit, 5> kUnits{{{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};

constexpr uint64_t kMaxTotal = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// Once trailing zeros are gone, a fraction of k digits is a whole number of ms only if 10^k divides it times the
// unit. The largest unit, a day, is 2^10 * 3^3 * 5^5 ms and the fraction cannot bring both a 2 and a 5 (it would
// end in 0), so k <= 10; then the fraction times the unit stays below 10^10 * 86400000, well inside uint64.
constexpr size_t kMaxFractionDigits = 10;

Status invalid(std::string_view text, std::string_view why) {
    return Status::invalidArgument("duration " + quoteForMessage(text) + " " + std::string(why));
}

std::string_view trim(std::string_view text) {
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Reads the digits at `pos` into `value`, saturating at UINT64_MAX; false if there are none.
bool readDigits(std::string_view text, size_t& pos, uint64_t& value, size_t& count) {
    constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();
    count = 0;
    value = 0;
    for (; pos < text.size() && isDigit(text[pos]); ++pos, ++count)
        value = value > (kSaturated - 9) / 10 ? kSaturated : value * 10 + static_cast<unsigned>(text[pos] - '0');
    return count > 0;
}

// The unit at `pos`, longest suffix first so "ms" is not read as minutes; kUnits.size() if none.
size_t readUnit(std::string_view text, size_t& pos) {
    std::string_view rest = text.substr(pos);
    if (rest.starts_with("ms")) {
        pos += 2;
        return kUnits.size() - 1;
    }
    for (size_t i = 0; i + 1 < kUnits.size(); ++i) {
        if (rest.starts_with(kUnits[i].suffix)) {
            pos += 1;
            return i;
        }
    }
    return kUnits.size();
}

// The digits after the '.' at `pos`, without trailing zeros: their value and how many there are.
Status readFraction(std::string_view text, size_t& pos, uint64_t& fraction, size_t& digits) {
    const size_t dot = pos++;
    uint64_t ignored = 0;
    if (!readDigits(text, pos, ignored, digits))
        return invalid(text, "expects digits after the '.' at byte " + std::to_string(dot));
    std::string_view fractionText = text.substr(dot + 1, digits);
    while (!fractionText.empty() && fractionText.back() == '0')
        fractionText.remove_suffix(1);
    if (fractionText.size() > kMaxFractionDigits)
        return invalid(text, "is not a whole number of milliseconds");
    digits = fractionText.size();
    fraction = 0;
    for (char c : fractionText)
        fraction = fraction * 10 + static_cast<unsigned>(c - '0');
    return Status::ok();
}

// One <number>[.<fraction>]<unit> part at `pos`, in ms; `previousUnit` enforces largest-first order.
Result<uint64_t> readPart(std::string_view text, size_t& pos, size_t& previousUnit) {
    uint64_t whole = 0;
    size_t digits = 0;
    if (!readDigits(text, pos, whole, digits))
        return invalid(text, "expects a number at byte " + std::to_string(pos));
    uint64_t fraction = 0;
    size_t fractionDigits = 0;
    if (pos < text.size() && text[pos] == '.')
        DEPOT_RETURN_IF_ERROR(readFraction(text, pos, fraction, fractionDigits));
    if (pos == text.size())
        return invalid(text, "needs a unit after its number (ms, s, m, h or d)");
    const size_t unitAt = pos;
    const size_t unit = readUnit(text, pos);
    if (unit == kUnits.size())
        return invalid(text, "has an unknown unit at byte " + std::to_string(unitAt) + " (use ms, s, m, h or d)");
    if (previousUnit != kUnits.size() && unit <= previousUnit)
        return invalid(text, "repeats a unit or puts a smaller one first (write 1h30m, not 30m1h)");
    previousUnit = unit;
    const auto unitMs = static_cast<uint64_t>(kUnits[unit].ms);
    if (whole > kMaxTotal / unitMs)
        return invalid(text, "is too large");
    uint64_t scale = 1;
    for (size_t i = 0; i < fractionDigits; ++i)
        scale *= 10;
    if ((fraction * unitMs) % scale != 0)
        return invalid(text, "is not a whole number of milliseconds");
    const uint64_t part = whole * unitMs + fraction * unitMs / scale;
    if (part > kMaxTotal)
        return invalid(text, "is too large");
    return part;
}

std::string formatPositive(uint64_t ms) {
    if (ms == 0)
        return "0s";
    std::string single;
    for (const Unit& unit : kUnits) {
        if (ms % static_cast<uint64_t>(unit.ms) == 0) {
            single = std::to_string(ms / static_cast<uint64_t>(unit.ms)) + std::string(unit.suffix);
            break;
        }
    }
    std::string compound;
    uint64_t rest = ms;
    for (const Unit& unit : kUnits) {
        const uint64_t count = rest / static_cast<uint64_t>(unit.ms);
        rest %= static_cast<uint64_t>(unit.ms);
        if (count > 0)
            compound += std::to_string(count) + std::string(unit.suffix);
    }
    return compound.size() < single.size() ? compound : single;
}

}  // namespace

Result<Millis> parseDuration(std::string_view text) {
    const std::string_view body = trim(text);
    if (body.empty())
        return invalid(text, "is empty");
    if (body.front() == '-')
        return invalid(text, "is negative");
    uint64_t total = 0;  // <= kMaxTotal, so adding a part (<= kMaxTotal) cannot wrap
    size_t previousUnit = kUnits.size();
    for (size_t pos = 0; pos < body.size();) {
        Result<uint64_t> part = readPart(body, pos, previousUnit);
        if (!part)
            return part.status();
        total += *part;
        if (total > kMaxTotal)
            return invalid(text, "is too large");
    }
    return Millis(static_cast<int64_t>(total));
}

Result<std::vector<Millis>> parseDurationList(std::string_view text) {
    if (trim(text).empty())
        return Status::invalidArgument("duration list " + quoteForMessage(text) + " is empty");
    std::vector<Millis> out;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        const std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
        Result<Millis> parsed = parseDuration(item);
        if (!parsed) {
            return Status::invalidArgument(parsed.status().message() + " (item " + std::to_string(out.size() + 1) +
                                           " of " + quoteForMessage(text) + ")");
        }
        out.push_back(*parsed);
        if (comma == std::string_view::npos)
            return out;
        start = comma + 1;
    }
}

std::string formatDuration(Millis duration) {
    const int64_t ms = duration.count();
    if (ms >= 0)
        return formatPositive(static_cast<uint64_t>(ms));
    return "-" + formatPositive(static_cast<uint64_t>(-(ms + 1)) + 1);
}

std::string formatDurationList(const std::vector<Millis>& durations) {
    std::string out;
    for (const Millis& d : durations) {
        if (!out.empty())
            out += ',';
        out += formatDuration(d);
    }
    return out;
}

}  // namespace depot::broker
