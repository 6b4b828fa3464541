// The catalog stores a policy as the wire protocol spells it (protocol::policyToJson), so there is one codec; a
// row that does not decode is Corruption here rather than the protocol's InvalidArgument.
#include "catalog/PolicyJson.h"

#include "protocol/ProtocolJson.h"

namespace depot::catalog {

std::string policyToJson(const broker::QueuePolicy& policy) { return protocol::toText(protocol::policyToJson(policy)); }

Result<broker::QueuePolicy> policyFromJson(std::string_view text) {
    Result<protocol::Json> object = protocol::parseObject(text);
    if (!object || text.empty())
        return Status::corruption("queue policy in catalog is not a JSON object: " + std::string(text.substr(0, 80)));
    Result<broker::QueuePolicy> policy = protocol::policyFromJson(*object);
    if (!policy)
        return Status::corruption("queue policy in catalog: " + policy.status().message());
    return policy;
}

}  // namespace depot::catalog
