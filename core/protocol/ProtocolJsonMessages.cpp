// Messages as browsing shows them, their death records, and requeue reports (docs/protocol.md, "JSON objects").
#include "protocol/ProtocolJson.h"
#include "protocol/ProtocolJsonReaders.h"

namespace depot::protocol {

namespace {

Json requeueEventToJson(const broker::RequeueEvent& event) {
    return {{"at", event.at}, {"by", event.by}, {"fromQueue", event.fromQueue}, {"toQueue", event.toQueue}};
}

void readRequeueEvent(JsonReader& r, broker::RequeueEvent& out) {
    r.integer("at", out.at);
    r.string("by", out.by);
    r.string("fromQueue", out.fromQueue);
    r.string("toQueue", out.toQueue);
}

// The reverse of errorCodeFor for the codes it produces; the message keeps the details.
StatusCode statusCodeOf(std::string_view errorCode) {
    if (errorCode == "not-found")
        return StatusCode::NotFound;
    if (errorCode == "invalid")
        return StatusCode::InvalidArgument;
    if (errorCode == "read-only")
        return StatusCode::ReadOnly;
    if (errorCode == "unavailable")
        return StatusCode::Unavailable;
    if (errorCode == "too-large")
        return StatusCode::TooLarge;
    return StatusCode::IoError;
}

Json requeueItemToJson(const broker::RequeueItem& item) {
    Json out = {{"sequence", item.sequence},
                {"messageId", item.messageId},
                {"target", item.target},
                {"ok", item.status.isOk()},
                {"error", item.status.message()}};
    if (!item.status.isOk())
        out["code"] = errorCodeFor(item.status);
    return out;
}

void readRequeueItem(JsonReader& r, broker::RequeueItem& out) {
    bool ok = true;
    std::string error, code;
    r.integer("sequence", out.sequence, JsonReader::Required);
    r.string("messageId", out.messageId);
    r.string("target", out.target);
    r.boolean("ok", ok, JsonReader::Required);
    r.string("error", error);
    r.string("code", code);
    if (r.ok())
        out.status = ok ? Status::ok() : Status(statusCodeOf(code), error.empty() ? "requeue failed" : error);
}

}  // namespace

Json deathToJson(const broker::DeathRecord& death) {
    Json requeues = Json::array();
    for (const broker::RequeueEvent& event : death.requeues)
        requeues.push_back(requeueEventToJson(event));
    return {{"reason", broker::toString(death.reason)},
            {"sourceQueue", death.sourceQueue},
            {"attempts", death.attempts},
            {"firstDeathAt", death.firstDeathAt},
            {"lastDeathAt", death.lastDeathAt},
            {"deaths", death.deaths},
            {"lastError", death.lastError},
            {"requeues", std::move(requeues)}};
}

void readDeath(JsonReader& r, broker::DeathRecord& out) {
    r.enumeration("reason", broker::deathReasonFromString, out.reason, JsonReader::Required);
    r.string("sourceQueue", out.sourceQueue);
    r.integer("attempts", out.attempts);
    r.integer("firstDeathAt", out.firstDeathAt);
    r.integer("lastDeathAt", out.lastDeathAt);
    r.integer("deaths", out.deaths);
    r.string("lastError", out.lastError);
    readObjects(r, "requeues", out.requeues, readRequeueEvent);
}

Result<broker::DeathRecord> deathFromJson(const Json& value) {
    return decodeTopLevel<broker::DeathRecord>(value, readDeath);
}

Json messageToJson(const broker::QueuedMessage& message) {
    Json out = {{"sequence", message.sequence},
                {"queue", message.queue},
                {"id", message.messageId},
                {"key", message.key},
                {"headers", headersToJson(message.headers)},
                {"size", message.size},
                {"attempts", message.attempts},
                {"state", broker::toString(message.state)},
                {"publishedAt", message.publishedAt},
                {"dueAt", message.dueAt},
                {"expiresAt", message.expiresAt}};
    putBody(out, message.body);
    if (message.death)
        out["death"] = deathToJson(*message.death);
    return out;
}

void readMessage(JsonReader& r, broker::QueuedMessage& out) {
    r.integer("sequence", out.sequence, JsonReader::Required);
    r.string("queue", out.queue);
    r.string("id", out.messageId);
    r.string("key", out.key);
    readHeaders(r, "headers", out.headers);
    readBody(r, out.body);
    r.integer("size", out.size);
    r.integer("attempts", out.attempts);
    r.enumeration("state", broker::messageStateFromString, out.state);
    r.integer("publishedAt", out.publishedAt);
    r.integer("dueAt", out.dueAt);
    r.integer("expiresAt", out.expiresAt);
    if (r.has("death")) {
        broker::DeathRecord death;
        readObject(r, "death", death, readDeath);
        if (r.ok())
            out.death = std::move(death);
    }
}

Result<broker::QueuedMessage> messageFromJson(const Json& value) {
    return decodeTopLevel<broker::QueuedMessage>(value, readMessage);
}

Json reportToJson(const broker::RequeueReport& report) {
    Json items = Json::array();
    for (const broker::RequeueItem& item : report.items)
        items.push_back(requeueItemToJson(item));
    return {{"requeued", report.requeued},
            {"failed", report.failed},
            {"cancelled", report.cancelled},
            {"items", std::move(items)}};
}

void readReport(JsonReader& r, broker::RequeueReport& out) {
    r.integer("requeued", out.requeued);
    r.integer("failed", out.failed);
    r.boolean("cancelled", out.cancelled);
    readObjects(r, "items", out.items, readRequeueItem);
}

Result<broker::RequeueReport> reportFromJson(const Json& value) {
    return decodeTopLevel<broker::RequeueReport>(value, readReport);
}

}  // namespace depot::protocol
