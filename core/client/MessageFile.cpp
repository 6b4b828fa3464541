#include "depot/client/MessageFile.h"

#include "protocol/ProtocolJson.h"

namespace depot::client {

using protocol::Json;

std::string exportLine(const broker::QueuedMessage& message) {
    return protocol::toText(protocol::messageToJson(message)) + "\n";
}

namespace {

std::string textField(const Json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<broker::PublishRequest> importLine(std::string_view line, const std::string& to) {
    Result<Json> parsed = protocol::parseObject(line);
    if (!parsed)
        return Status::invalidArgument("not a JSON object");
    const Json& message = *parsed;
    broker::PublishRequest request;
    request.routingKey = to.empty() ? textField(message, "queue") : to;
    if (request.routingKey.empty())
        return Status::invalidArgument("no \"queue\" to import into: the line names none");
    if (!message.contains("body") && !message.contains("bodyBase64"))
        return Status::invalidArgument("no \"body\" or \"bodyBase64\"");
    Result<std::string> body = protocol::takeBody(message);
    if (!body)
        return body.status();
    request.message.body = std::move(body).value();
    request.message.id = textField(message, "id");
    request.message.key = textField(message, "key");
    if (auto headers = message.find("headers"); headers != message.end() && !headers->is_null()) {
        Result<broker::Headers> read = protocol::headersFromJson(*headers);
        if (!read)
            return read.status();
        request.message.headers = std::move(read).value();
    }
    return request;
}

}  // namespace depot::client
