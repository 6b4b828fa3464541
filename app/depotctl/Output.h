#pragma once
// Output: how depotctl prints. JSON (one object per line on stdout, key order kept as the broker sends it),
// aligned text tables, times, sizes, and the JSON spellings of deliveries and death records (docs/protocol.md).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "depot/Result.h"
#include "depot/broker/Message.h"

namespace depotctl {

using Json = nlohmann::ordered_json;

// Compact, one line; invalid UTF-8 inside strings is replaced rather than thrown about.
std::string dumpJson(const Json& value, int indent = -1);
// One line on stdout, flushed (scripts read outcomes as they arrive).
void printJsonLine(const Json& value);
// Parses without throwing.
depot::Result<Json> parseJson(const std::string& text);

// "body" when `body` is valid UTF-8, else "bodyBase64".
void putBody(Json& object, const std::string& body, const char* textKey = "body");
// [[name, value]] with {"base64": ...} for a value that is not UTF-8.
Json headersToJson(const depot::broker::Headers& headers);
Json deathToJson(const depot::broker::DeathRecord& death);
// id, body|bodyBase64, headers, attempt, redelivered, queue, sequence, key, publishedAt, death (when present).
Json deliveryToJson(const depot::broker::Delivery& delivery);

// "2024-05-01T12:00:00.123Z" (UTC), "-" for 0.
std::string formatTime(int64_t millisSinceEpoch);
// "512 B", "1.5 KiB", "3.2 MiB", ...
std::string formatBytes(uint64_t bytes);
// Text for a table cell: control characters become spaces, anything past `max` bytes becomes "...";
// "-" for empty text.
std::string cellText(const std::string& text, size_t max = 60);

// Columns separated by two spaces, each as wide as its widest cell; numeric columns right-aligned.
class Table {
public:
    explicit Table(std::vector<std::string> headers);
    void addRow(std::vector<std::string> cells);
    void setNumeric(size_t column);
    bool empty() const { return m_rows.empty(); }
    // With a header line unless `withHeader` is false.
    std::string render(bool withHeader = true) const;

private:
    std::vector<std::string> m_headers;
    std::vector<std::vector<std::string>> m_rows;
    std::vector<bool> m_numeric;
};

}  // namespace depotctl
