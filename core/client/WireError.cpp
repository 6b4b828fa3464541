#include "client/WireError.h"

#include "protocol/ProtocolJson.h"

namespace depot::client {

WireError WireError::parse(std::string_view header) {
    Result<protocol::Json> object = protocol::parseObject(header);
    if (!object)
        return {"failed", "unreadable ERROR header: " + object.status().message()};
    WireError error;
    const protocol::Json& json = *object;
    auto code = json.find("code");
    auto message = json.find("message");
    error.code = code != json.end() && code->is_string() ? code->get<std::string>() : "failed";
    error.message = message != json.end() && message->is_string() ? message->get<std::string>() : "";
    return error;
}

Status WireError::toStatus() const {
    std::string text = code + ": " + message;
    if (code == "not-found")
        return Status::notFound(std::move(text));
    if (code == "too-large")
        return Status::tooLarge(std::move(text));
    if (code == "read-only")
        return Status::readOnly(std::move(text));
    if (code == "busy" || code == "unavailable" || code == "no-session")
        return Status::unavailable(std::move(text));
    if (code == "invalid" || code == "exists" || code == "forbidden" || code == "bad-frame" ||
        code == "unknown-command" || code == "unsupported-version")
        return Status::invalidArgument(std::move(text));
    return Status::ioError(std::move(text));
}

broker::NackReason WireError::nackReason() const {
    if (code == "too-large")
        return broker::NackReason::TooLarge;
    if (code == "read-only")
        return broker::NackReason::ReadOnly;
    if (code == "unavailable")
        return broker::NackReason::ShuttingDown;
    return broker::NackReason::Invalid;
}

}  // namespace depot::client
