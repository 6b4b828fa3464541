#pragma once
// Result<T>: a value or a non-OK Status.

#include <cassert>
#include <optional>
#include <utility>

#include "depot/Status.h"

namespace depot {

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Status status) : m_status(std::move(status)) { assert(!m_status.isOk()); }  // NOLINT

    bool isOk() const { return m_value.has_value(); }
    explicit operator bool() const { return isOk(); }
    const Status& status() const { return m_status; }

    T& value() & { assert(isOk()); return *m_value; }
    const T& value() const& { assert(isOk()); return *m_value; }
    T&& value() && { assert(isOk()); return std::move(*m_value); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

private:
    std::optional<T> m_value;
    Status m_status;
};

}  // namespace depot

// Propagates a non-OK Status from an expression returning Status.
#define DEPOT_RETURN_IF_ERROR(expr)              \
    do {                                         \
        ::depot::Status depot_status_ = (expr);  \
        if (!depot_status_.isOk())               \
            return depot_status_;                \
    } while (0)
