#include "Output.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "Encoding.h"

namespace depotctl {

using depot::broker::DeathRecord;
using depot::broker::Delivery;
using depot::broker::Headers;

std::string dumpJson(const Json& value, int indent) {
    return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

void printJsonLine(const Json& value) {
    const std::string line = dumpJson(value) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

depot::Result<Json> parseJson(const std::string& text) {
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded())
        return depot::Status::invalidArgument("not valid JSON");
    return parsed;
}

void putBody(Json& object, const std::string& body, const char* textKey) {
    if (isUtf8(body))
        object[textKey] = body;
    else
        object[std::string(textKey) + "Base64"] = base64Encode(body);
}

Json headersToJson(const Headers& headers) {
    Json out = Json::array();
    for (const auto& [name, value] : headers) {
        if (isUtf8(value))
            out.push_back(Json::array({name, value}));
        else
            out.push_back(Json::array({name, Json{{"base64", base64Encode(value)}}}));
    }
    return out;
}

Json deathToJson(const DeathRecord& death) {
    Json requeues = Json::array();
    for (const auto& event : death.requeues)
        requeues.push_back(
            {{"at", event.at}, {"by", event.by}, {"fromQueue", event.fromQueue}, {"toQueue", event.toQueue}});
    return {{"reason", std::string(toString(death.reason))},
            {"sourceQueue", death.sourceQueue},
            {"attempts", death.attempts},
            {"firstDeathAt", death.firstDeathAt},
            {"lastDeathAt", death.lastDeathAt},
            {"deaths", death.deaths},
            {"lastError", death.lastError},
            {"requeues", requeues}};
}

Json deliveryToJson(const Delivery& delivery) {
    Json out = {{"id", delivery.messageId}};
    putBody(out, delivery.body);
    out["headers"] = headersToJson(delivery.headers);
    out["attempt"] = delivery.attempt;
    out["redelivered"] = delivery.redelivered;
    out["queue"] = delivery.queue;
    out["sequence"] = delivery.sequence;
    out["key"] = delivery.key;
    out["publishedAt"] = delivery.publishedAt;
    if (delivery.death)
        out["death"] = deathToJson(*delivery.death);
    return out;
}

std::string formatTime(int64_t millisSinceEpoch) {
    if (millisSinceEpoch == 0)
        return "-";
    const std::time_t seconds = static_cast<std::time_t>(millisSinceEpoch / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[48];
    const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millisSinceEpoch % 1000));
    return text;
}

std::string formatBytes(uint64_t bytes) {
    static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return std::to_string(bytes) + " B";
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
    return text;
}

std::string cellText(const std::string& text, size_t max) {
    if (text.empty())
        return "-";
    while (max > 0 && max < text.size() && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80)
        --max;  // not inside a UTF-8 sequence
    std::string out = text.size() > max ? text.substr(0, max) + "..." : text;
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = ' ';
    return out;
}

Table::Table(std::vector<std::string> headers) : m_headers(std::move(headers)), m_numeric(m_headers.size(), false) {}

void Table::addRow(std::vector<std::string> cells) {
    cells.resize(m_headers.size());
    m_rows.push_back(std::move(cells));
}

void Table::setNumeric(size_t column) {
    if (column < m_numeric.size())
        m_numeric[column] = true;
}

std::string Table::render(bool withHeader) const {
    std::vector<size_t> widths(m_headers.size(), 0);
    for (size_t c = 0; c < m_headers.size(); ++c) {
        widths[c] = withHeader ? m_headers[c].size() : 0;
        for (const auto& row : m_rows)
            widths[c] = std::max(widths[c], row[c].size());
    }
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (size_t c = 0; c < cells.size(); ++c) {
            const std::string padding(widths[c] - cells[c].size(), ' ');
            const bool last = c + 1 == cells.size();
            out += m_numeric[c] ? padding + cells[c] : cells[c] + (last ? "" : padding);
            if (!last)
                out += "  ";
        }
        return out + "\n";
    };
    std::string out = withHeader ? line(m_headers) : "";
    for (const auto& row : m_rows)
        out += line(row);
    return out;
}

}  // namespace depotctl
