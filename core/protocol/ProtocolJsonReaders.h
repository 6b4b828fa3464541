#pragma once
// The readers behind ProtocolJson's fromJson functions, for code that decodes these objects nested inside its own
// (admin arguments, bigger objects), so errors name the full path ("filter.reason"). Each reads into `out`,
// leaving absent optional keys as they were; check reader.status() afterwards.
#include "protocol/JsonReader.h"
#include "protocol/ProtocolJson.h"

namespace depot::protocol {

void readPolicy(JsonReader& reader, broker::QueuePolicy& out);
void readQueueInfo(JsonReader& reader, broker::QueueInfo& out);
void readCounters(JsonReader& reader, broker::Counters& out);
void readQueueStats(JsonReader& reader, broker::QueueStats& out);
void readExchange(JsonReader& reader, broker::ExchangeSpec& out);
void readBinding(JsonReader& reader, broker::Binding& out);
void readFilter(JsonReader& reader, broker::MessageFilter& out);
void readDeath(JsonReader& reader, broker::DeathRecord& out);
void readMessage(JsonReader& reader, broker::QueuedMessage& out);
void readReport(JsonReader& reader, broker::RequeueReport& out);
void readStats(JsonReader& reader, broker::BrokerStats& out);
void readTraceEvent(JsonReader& reader, broker::TraceEvent& out);
void readAuditEntry(JsonReader& reader, broker::AuditEntry& out);
void readSample(JsonReader& reader, broker::MetricsSample& out);

// Headers ([[name, value], ...], a value either a string or {"base64": "..."}) at `key` of the reader's object.
void readHeaders(JsonReader& reader, const char* key, broker::Headers& out);
// "body" or "bodyBase64" (not both); neither leaves `out` as it was.
void readBody(JsonReader& reader, std::string& out);
// Bytes as a JSON string or {"base64": "..."}, for one value at `path`.
Status bytesFromJson(const Json& value, const std::string& path, std::string& out);

// Runs `read` on a top-level value, turning any error (or, defensively, any exception) into the Result.
template <typename T, typename Read>
Result<T> decodeTopLevel(const Json& value, Read read) {
    try {
        JsonReader reader(value);
        T out{};
        read(reader, out);
        if (!reader.ok())
            return reader.status();
        return out;
    } catch (const std::exception& e) {
        // Types are checked before every access; this only guards against a library surprise.
        return Status::invalidArgument(std::string("malformed JSON object: ") + e.what());
    }
}

}  // namespace depot::protocol
