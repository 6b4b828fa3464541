#pragma once
// MessageIds: ids for messages published without one, so that resending them is deduplicated by the broker.
// "<16 hex digits random per process>-<counter>": unique across processes and restarts with overwhelming odds.
// Thread-safe.
#include <string>

namespace depot::client {

class MessageIds {
public:
    static std::string next();
};

}  // namespace depot::client
