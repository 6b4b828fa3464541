#pragma once
// WireError: an ERROR frame's {"code", "message"} and what it means to the client (Admin.h lists the mapping).
#include <string>
#include <string_view>

#include "depot/Status.h"
#include "depot/broker/Message.h"

namespace depot::client {

struct WireError {
    std::string code;  // "not-found"; "bad-frame" when the frame itself could not be read
    std::string message;

    // Never fails: an unreadable header gives code "failed" and a message saying so.
    static WireError parse(std::string_view header);

    bool isNoSession() const { return code == "no-session"; }
    bool isBusy() const { return code == "busy"; }
    // "<code>: <message>" with the mapped StatusCode.
    Status toStatus() const;
    // A publish answered with ERROR was not stored: the nack reason that says the same.
    broker::NackReason nackReason() const;
};

}  // namespace depot::client
