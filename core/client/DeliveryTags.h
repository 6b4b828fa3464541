#pragma once
// DeliveryTags: the client's own delivery tags. The broker's (consumer id, tag) pairs are valid only within the
// session that delivered them, and a restarted broker hands out the same numbers again; so each delivery gets a
// tag unique for the connection's life, mapped here to the broker's pair while its session lasts. A tag whose
// session ended is gone: settling it must do nothing (the broker redelivers the message). I/O thread only.
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace depot::client {

struct BrokerTag {
    uint64_t subscription = 0;  // the client-side Consumer id
    uint64_t consumer = 0;      // the broker's consumer id in the current session
    uint64_t tag = 0;           // the broker's delivery tag
};

class DeliveryTags {
public:
    // Returns a new client tag (never 0, never reused).
    uint64_t add(const BrokerTag& tag);
    // The broker's pair for a client tag, removed: a delivery is settled once. nullopt: unknown or stale.
    std::optional<BrokerTag> take(uint64_t clientTag);
    // The session ended: every outstanding tag is stale.
    void clear() { m_tags.clear(); }
    // The subscription was cancelled: its deliveries go back to the queue.
    void eraseSubscription(uint64_t subscription);
    size_t size() const { return m_tags.size(); }

private:
    std::unordered_map<uint64_t, BrokerTag> m_tags;
    uint64_t m_next = 1;
};

}  // namespace depot::client
