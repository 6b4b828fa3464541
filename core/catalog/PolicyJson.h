#pragma once
// QueuePolicy as the catalog stores it: one JSON object per queue.
//
// {"durable":true,"flush":"sync","maxAttempts":5,"backoffMs":[1000,5000],"ackTimeoutMs":60000,"ttlMs":null,
//  "maxLength":null,"overflow":"reject-publish","ordering":"none","dedupWindowMs":300000,"deadLetterQueue":""}
//
// The same object as the wire protocol's Policy (protocol/ProtocolJson.h, keys in alphabetical order). Durations
// are integer milliseconds, an unset optional is null (or absent), enums are spelled as toString() spells them.
// Every field round-trips exactly.
#include <string>
#include <string_view>

#include "depot/Result.h"
#include "depot/broker/Policy.h"

namespace depot::catalog {

std::string policyToJson(const broker::QueuePolicy& policy);

// Absent keys keep QueuePolicy's defaults, so rows written before a field existed still load; unknown keys are
// ignored. Text that is not a JSON object, a value of the wrong type or out of range, or an enum spelling this
// build does not know is Corruption.
Result<broker::QueuePolicy> policyFromJson(std::string_view text);

}  // namespace depot::catalog
