#pragma once
// DlqSupport: finding dead-letter queues and the dead letters in them, shared by the dlq commands. Messages are
// handled as the broker's JSON Message objects (docs/protocol.md), so what depotctl prints and exports is exactly
// what the broker sent.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "Context.h"

namespace depotctl {

inline constexpr size_t kBrowsePage = 1000;  // the broker's largest page

// The dead-letter queue `name` stands for: `name` itself if it is a dead-letter queue, else its DLQ.
depot::Result<std::string> resolveDeadLetterQueue(Context& context, const std::string& name);
// Every dead-letter queue, as Queue objects.
depot::Result<std::vector<Json>> deadLetterQueues(Context& context);
// The queues to search for IDs: --from (resolved) if given, else every dead-letter queue.
depot::Result<std::vector<std::string>> searchQueues(Context& context, const Arguments& args);

// Calls `each` for every message of `queue` matching `filter` (a Filter object), page by page, in queue order.
// `each` returning false stops early.
depot::Status browseAll(Context& context, const std::string& queue, const Json& filter, bool bodies,
                        const std::function<bool(const Json& message)>& each);

struct FoundMessage {
    std::string queue;
    uint64_t sequence = 0;
    Json message;
};
// The messages in `queues` whose id is `id`; if none and `id` is a number, the message with that sequence.
depot::Result<std::vector<FoundMessage>> findMessages(Context& context, const std::vector<std::string>& queues,
                                                      const std::string& id, bool bodies);

// Typed reads of JSON fields that tolerate a missing key or a wrong type (they give the fallback).
std::string jsonText(const Json& object, const char* key, const std::string& fallback = "");
uint64_t jsonNumber(const Json& object, const char* key, uint64_t fallback = 0);
const Json& jsonObject(const Json& object, const char* key);  // an empty object when absent
const Json& jsonArray(const Json& object, const char* key);   // an empty array when absent

}  // namespace depotctl
