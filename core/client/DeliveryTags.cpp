#include "client/DeliveryTags.h"

namespace depot::client {

uint64_t DeliveryTags::add(const BrokerTag& tag) {
    const uint64_t clientTag = m_next++;
    m_tags.emplace(clientTag, tag);
    return clientTag;
}

std::optional<BrokerTag> DeliveryTags::take(uint64_t clientTag) {
    auto it = m_tags.find(clientTag);
    if (it == m_tags.end())
        return std::nullopt;
    BrokerTag tag = it->second;
    m_tags.erase(it);
    return tag;
}

void DeliveryTags::eraseSubscription(uint64_t subscription) {
    std::erase_if(m_tags, [subscription](const auto& entry) { return entry.second.subscription == subscription; });
}

}  // namespace depot::client
