#pragma once
// Messages as JSON Lines: the file format of `depotctl dlq export|import` and the console's Export/Import. One
// Message object of docs/protocol.md per line (death record included; a body that is not UTF-8 as bodyBase64, a
// header value that is not as {"base64": ...}), so an export read back gives byte-identical bodies and headers.
#include <string>
#include <string_view>

#include "depot/Result.h"
#include "depot/broker/Broker.h"

namespace depot::client {

// The message as one line, "\n" included.
std::string exportLine(const broker::QueuedMessage& message);

// A line read back as a publish of the same id, key, headers and body: to `to`, or (empty) to the queue the line
// names. InvalidArgument saying what is wrong: not a JSON object, no body, no queue, unreadable base64, ...
Result<broker::PublishRequest> importLine(std::string_view line, const std::string& to = {});

}  // namespace depot::client
