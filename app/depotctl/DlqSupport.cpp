#include "DlqSupport.h"

#include <charconv>

namespace depotctl {

using depot::Result;
using depot::Status;

namespace {

std::optional<uint64_t> asSequence(const std::string& id) {
    uint64_t value = 0;
    auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), value);
    if (id.empty() || error != std::errc() || end != id.data() + id.size())
        return std::nullopt;
    return value;
}

Result<std::vector<FoundMessage>> findByFilter(Context& context, const std::vector<std::string>& queues,
                                               const Json& filter, bool bodies) {
    std::vector<FoundMessage> found;
    for (const std::string& queue : queues) {
        Status status = browseAll(context, queue, filter, bodies, [&](const Json& message) {
            found.push_back({queue, jsonNumber(message, "sequence"), message});
            return true;
        });
        if (!status)
            return status;
    }
    return found;
}

}  // namespace

std::string jsonText(const Json& object, const char* key, const std::string& fallback) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

uint64_t jsonNumber(const Json& object, const char* key, uint64_t fallback) {
    auto it = object.find(key);
    return it != object.end() && it->is_number_unsigned() ? it->get<uint64_t>() : fallback;
}

const Json& jsonObject(const Json& object, const char* key) {
    static const Json kEmpty = Json::object();
    auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : kEmpty;
}

// A reference into `object` (not a copy, as Json::value() returns), so pointers to its elements stay valid.
const Json& jsonArray(const Json& object, const char* key) {
    static const Json kEmpty = Json::array();
    auto it = object.find(key);
    return it != object.end() && it->is_array() ? *it : kEmpty;
}

Result<std::string> resolveDeadLetterQueue(Context& context, const std::string& name) {
    Result<Json> reply = context.call("queue.show", {{"name", name}});
    if (!reply)
        return reply.status();
    const Json& queue = jsonObject(*reply, "queue");
    if (jsonText(queue, "kind") == "dead-letter")
        return name;
    const std::string dlq = jsonText(queue, "deadLetterQueue");
    if (dlq.empty())
        return Status::notFound("queue '" + name + "' has no dead-letter queue");
    return dlq;
}

Result<std::vector<Json>> deadLetterQueues(Context& context) {
    Result<Json> reply = context.call("queue.list");
    if (!reply)
        return reply.status();
    std::vector<Json> out;
    auto queues = reply->find("queues");
    if (queues == reply->end() || !queues->is_array())
        return out;
    for (const Json& queue : *queues)
        if (jsonText(queue, "kind") == "dead-letter")
            out.push_back(queue);
    return out;
}

Result<std::vector<std::string>> searchQueues(Context& context, const Arguments& args) {
    if (std::optional<std::string> from = args.value("--from")) {
        Result<std::string> dlq = resolveDeadLetterQueue(context, *from);
        if (!dlq)
            return dlq.status();
        return std::vector<std::string>{*dlq};
    }
    Result<std::vector<Json>> queues = deadLetterQueues(context);
    if (!queues)
        return queues.status();
    std::vector<std::string> names;
    for (const Json& queue : *queues)
        names.push_back(jsonText(queue, "name"));
    return names;
}

Status browseAll(Context& context, const std::string& queue, const Json& filter, bool bodies,
                 const std::function<bool(const Json& message)>& each) {
    for (size_t start = 0;;) {
        Json args = {
            {"queue", queue}, {"start", start}, {"limit", kBrowsePage}, {"bodies", bodies}, {"filter", filter}};
        Result<Json> page = context.call("message.browse", args);
        if (!page)
            return page.status();
        auto messages = page->find("messages");
        if (messages == page->end() || !messages->is_array() || messages->empty())
            return Status::ok();
        for (const Json& message : *messages)
            if (!each(message))
                return Status::ok();
        start += messages->size();
        if (start >= jsonNumber(*page, "matched"))
            return Status::ok();
    }
}

Result<std::vector<FoundMessage>> findMessages(Context& context, const std::vector<std::string>& queues,
                                               const std::string& id, bool bodies) {
    Result<std::vector<FoundMessage>> byId = findByFilter(context, queues, {{"messageId", id}}, bodies);
    if (!byId || !byId->empty())
        return byId;
    if (std::optional<uint64_t> sequence = asSequence(id))
        return findByFilter(context, queues, {{"sequences", Json::array({*sequence})}}, bodies);
    return byId;
}

}  // namespace depotctl
