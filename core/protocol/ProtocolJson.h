#pragma once
// The JSON objects of the wire protocol (docs/protocol.md, "JSON objects"), both directions.
//
// toJson never fails. fromJson functions take untrusted input: a missing required key, a value of the wrong type
// or out of range, or an unknown enum spelling is InvalidArgument naming the field; unknown keys are ignored;
// absent optional keys keep the struct's defaults. No nlohmann exception escapes these functions.
#include <nlohmann/json.hpp>

#include "depot/Result.h"
#include "depot/broker/Broker.h"
#include "depot/broker/Replication.h"

namespace depot::protocol {

using Json = nlohmann::json;

// Bodies and header values: a JSON string when valid UTF-8, else {"base64": "..."} (headers) or the "bodyBase64"
// key (messages). These helpers do both directions.
bool isValidUtf8(std::string_view bytes);
std::string base64Encode(std::string_view bytes);
Result<std::string> base64Decode(std::string_view text);
void putBody(Json& object, const std::string& body);                 // sets "body" or "bodyBase64"
Result<std::string> takeBody(const Json& object);                    // "" when neither key is present
Json headersToJson(const broker::Headers& headers);                  // [[name, value], ...]
Result<broker::Headers> headersFromJson(const Json& value);

Json policyToJson(const broker::QueuePolicy& policy);
Result<broker::QueuePolicy> policyFromJson(const Json& value);       // absent keys: defaults
Json queueInfoToJson(const broker::QueueInfo& info);                 // without "stats"
Result<broker::QueueInfo> queueInfoFromJson(const Json& value);
Json queueStatsToJson(const broker::QueueStats& stats);              // includes name, kind, durable, flush, dlq
Result<broker::QueueStats> queueStatsFromJson(const Json& value);
Json countersToJson(const broker::Counters& counters);
Result<broker::Counters> countersFromJson(const Json& value);
Json exchangeToJson(const broker::ExchangeSpec& exchange);
Result<broker::ExchangeSpec> exchangeFromJson(const Json& value);
Json bindingToJson(const broker::Binding& binding);
Result<broker::Binding> bindingFromJson(const Json& value);
Json filterToJson(const broker::MessageFilter& filter);
Result<broker::MessageFilter> filterFromJson(const Json& value);
Json deathToJson(const broker::DeathRecord& death);
Result<broker::DeathRecord> deathFromJson(const Json& value);
Json messageToJson(const broker::QueuedMessage& message);
Result<broker::QueuedMessage> messageFromJson(const Json& value);
Json reportToJson(const broker::RequeueReport& report);
Result<broker::RequeueReport> reportFromJson(const Json& value);
// Latency as count/p50Us/p99Us/maxUs and the non-empty buckets; statsFromJson rebuilds the histograms from the
// buckets (exact counts per bucket, max() to the microsecond), or leaves them empty when "buckets" is absent.
Json statsToJson(const broker::BrokerStats& stats);
Result<broker::BrokerStats> statsFromJson(const Json& value);
Json traceEventToJson(const broker::TraceEvent& event);
Result<broker::TraceEvent> traceEventFromJson(const Json& value);
Json auditEntryToJson(const broker::AuditEntry& entry);
Result<broker::AuditEntry> auditEntryFromJson(const Json& value);
Json fetchRequestToJson(const broker::FetchRequest& request);
Result<broker::FetchRequest> fetchRequestFromJson(const Json& value);
Json fetchReplyToJson(const broker::FetchReply& reply);               // without the bytes (the body frame)
Result<broker::FetchReply> fetchReplyFromJson(const Json& value);
Json replicationStatusToJson(const broker::ReplicationStatus& status);
Result<broker::ReplicationStatus> replicationStatusFromJson(const Json& value);
Json sampleToJson(const broker::MetricsSample& sample);
Result<broker::MetricsSample> sampleFromJson(const Json& value);

// Parses a frame that must hold one JSON object (an empty frame is {}). Not an object: InvalidArgument.
Result<Json> parseObject(std::string_view text);
// dump() that never throws: a string that is not valid UTF-8 (a message id or key from a binary frame, in a trace
// event, say) is written with U+FFFD in place of the bad bytes. Bodies and header values never need this.
std::string toText(const Json& value);

// The ERROR code of docs/protocol.md for a failed Status: NotFound "not-found", InvalidArgument "invalid",
// ReadOnly "read-only", Closed and Unavailable "unavailable", TooLarge "too-large", anything else "failed"
// ("" for OK). Report items carry it as "code".
std::string_view errorCodeFor(const Status& status);

}  // namespace depot::protocol
