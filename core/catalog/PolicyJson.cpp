#include "catalog/PolicyJson.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace depot::catalog {

namespace {

using Json = nlohmann::ordered_json;  // keeps the documented key order, for people reading the database
using broker::Millis;
using broker::QueuePolicy;

Status fieldError(std::string_view key, std::string_view problem) {
    return Status::corruption("queue policy in catalog: \"" + std::string(key) + "\" " + std::string(problem));
}

// Reads an integer that must fit in T. JSON numbers above INT64_MAX arrive as unsigned, the rest as signed.
template <typename T>
Result<T> integerValue(std::string_view key, const Json& value) {
    if (!value.is_number_integer())
        return fieldError(key, "must be an integer");
    if (value.is_number_unsigned()) {
        auto number = value.get<uint64_t>();
        if (number > uint64_t(std::numeric_limits<T>::max()))
            return fieldError(key, "is out of range");
        return T(number);
    }
    auto number = value.get<int64_t>();
    if (number < int64_t(std::numeric_limits<T>::min()) ||
        (number > 0 && uint64_t(number) > uint64_t(std::numeric_limits<T>::max())))
        return fieldError(key, "is out of range");
    return T(number);
}

// Each reader leaves `out` untouched when the key is absent, so absent fields keep their defaults.
template <typename T>
Status readInteger(const Json& object, const char* key, T& out) {
    auto it = object.find(key);
    if (it == object.end())
        return Status::ok();
    Result<T> value = integerValue<T>(key, *it);
    if (!value)
        return value.status();
    out = *value;
    return Status::ok();
}

Status readMillis(const Json& object, const char* key, Millis& out) {
    int64_t count = out.count();
    DEPOT_RETURN_IF_ERROR(readInteger(object, key, count));
    out = Millis(count);
    return Status::ok();
}

template <typename T>
Status readOptional(const Json& object, const char* key, std::optional<T>& out) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        out.reset();
        return Status::ok();
    }
    using Raw = std::conditional_t<std::is_same_v<T, Millis>, int64_t, T>;
    Result<Raw> value = integerValue<Raw>(key, *it);
    if (!value)
        return value.status();
    out = T(*value);
    return Status::ok();
}

Status readBool(const Json& object, const char* key, bool& out) {
    auto it = object.find(key);
    if (it == object.end())
        return Status::ok();
    if (!it->is_boolean())
        return fieldError(key, "must be true or false");
    out = it->get<bool>();
    return Status::ok();
}

Status readString(const Json& object, const char* key, std::string& out) {
    auto it = object.find(key);
    if (it == object.end())
        return Status::ok();
    if (!it->is_string())
        return fieldError(key, "must be a string");
    out = it->get<std::string>();
    return Status::ok();
}

template <typename E>
Status readEnum(const Json& object, const char* key, std::optional<E> (*fromString)(std::string_view), E& out) {
    std::string text;
    bool present = object.contains(key);
    DEPOT_RETURN_IF_ERROR(readString(object, key, text));
    if (!present)
        return Status::ok();
    std::optional<E> value = fromString(text);
    if (!value)
        return fieldError(key, "has an unknown value '" + text + "'");
    out = *value;
    return Status::ok();
}

Status readBackoff(const Json& object, const char* key, std::vector<Millis>& out) {
    auto it = object.find(key);
    if (it == object.end())
        return Status::ok();
    if (!it->is_array())
        return fieldError(key, "must be an array of integers");
    std::vector<Millis> backoff;
    for (const Json& item : *it) {
        Result<int64_t> value = integerValue<int64_t>(key, item);
        if (!value)
            return value.status();
        backoff.emplace_back(*value);
    }
    out = std::move(backoff);
    return Status::ok();
}

Status readPolicy(const Json& object, QueuePolicy& policy) {
    DEPOT_RETURN_IF_ERROR(readBool(object, "durable", policy.durable));
    DEPOT_RETURN_IF_ERROR(readEnum(object, "flush", broker::flushModeFromString, policy.flush));
    DEPOT_RETURN_IF_ERROR(readInteger(object, "maxAttempts", policy.maxAttempts));
    DEPOT_RETURN_IF_ERROR(readBackoff(object, "backoffMs", policy.backoff));
    DEPOT_RETURN_IF_ERROR(readMillis(object, "ackTimeoutMs", policy.ackTimeout));
    DEPOT_RETURN_IF_ERROR(readOptional(object, "ttlMs", policy.ttl));
    DEPOT_RETURN_IF_ERROR(readOptional(object, "maxLength", policy.maxLength));
    DEPOT_RETURN_IF_ERROR(readEnum(object, "overflow", broker::overflowFromString, policy.overflow));
    DEPOT_RETURN_IF_ERROR(readEnum(object, "ordering", broker::orderingFromString, policy.ordering));
    DEPOT_RETURN_IF_ERROR(readMillis(object, "dedupWindowMs", policy.dedupWindow));
    return readString(object, "deadLetterQueue", policy.deadLetterQueue);
}

}  // namespace

std::string policyToJson(const QueuePolicy& policy) {
    Json backoff = Json::array();
    for (Millis step : policy.backoff)
        backoff.push_back(step.count());
    Json object = {
        {"durable", policy.durable},
        {"flush", broker::toString(policy.flush)},
        {"maxAttempts", policy.maxAttempts},
        {"backoffMs", std::move(backoff)},
        {"ackTimeoutMs", policy.ackTimeout.count()},
        {"ttlMs", policy.ttl ? Json(policy.ttl->count()) : Json(nullptr)},
        {"maxLength", policy.maxLength ? Json(*policy.maxLength) : Json(nullptr)},
        {"overflow", broker::toString(policy.overflow)},
        {"ordering", broker::toString(policy.ordering)},
        {"dedupWindowMs", policy.dedupWindow.count()},
        {"deadLetterQueue", policy.deadLetterQueue},
    };
    // Queue names are validated UTF-8 before they get here; `replace` only keeps dump() from throwing.
    return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<QueuePolicy> policyFromJson(std::string_view text) {
    Json object = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object())
        return Status::corruption("queue policy in catalog is not a JSON object: " + std::string(text.substr(0, 80)));
    QueuePolicy policy;
    try {
        DEPOT_RETURN_IF_ERROR(readPolicy(object, policy));
    } catch (const nlohmann::json::exception& e) {
        // Types are checked before every get(); this only guards against a library surprise.
        return Status::corruption(std::string("queue policy in catalog: ") + e.what());
    }
    return policy;
}

}  // namespace depot::catalog
