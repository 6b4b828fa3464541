#pragma once
// Status: the error type of Depot's core. No exception crosses the core API.
// A Status is OK or carries a code and a one-line message meant for a person.
// OK is cheap (no allocation); errors allocate their message once.

#include <memory>
#include <string>
#include <string_view>

namespace depot {

enum class StatusCode {
    Ok = 0,
    InvalidArgument,  // the caller passed something malformed or out of range
    NotFound,         // the named thing (file, offset, queue) does not exist
    Corruption,       // stored data failed its checksum or framing check
    IoError,          // the operating system reported a failure (EIO, ...)
    NoSpace,          // the disk is full (ENOSPC)
    ReadOnly,         // a previous write or sync failed; writing stays refused until reopen
    Closed,           // the object was closed
    TooLarge,         // a record or message exceeds its configured maximum
    TimedOut,
    Unavailable,      // temporarily unable; retrying later may succeed
};

std::string_view statusCodeName(StatusCode code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message);

    static Status ok() { return {}; }
    static Status invalidArgument(std::string m) { return {StatusCode::InvalidArgument, std::move(m)}; }
    static Status notFound(std::string m) { return {StatusCode::NotFound, std::move(m)}; }
    static Status corruption(std::string m) { return {StatusCode::Corruption, std::move(m)}; }
    static Status ioError(std::string m) { return {StatusCode::IoError, std::move(m)}; }
    static Status noSpace(std::string m) { return {StatusCode::NoSpace, std::move(m)}; }
    static Status readOnly(std::string m) { return {StatusCode::ReadOnly, std::move(m)}; }
    static Status closed(std::string m) { return {StatusCode::Closed, std::move(m)}; }
    static Status tooLarge(std::string m) { return {StatusCode::TooLarge, std::move(m)}; }
    static Status timedOut(std::string m) { return {StatusCode::TimedOut, std::move(m)}; }
    static Status unavailable(std::string m) { return {StatusCode::Unavailable, std::move(m)}; }
    // Maps an errno value from a failed system call: ENOSPC/EDQUOT → NoSpace, anything else → IoError.
    static Status fromErrno(int err, std::string_view what);

    bool isOk() const { return !m_state; }
    explicit operator bool() const { return isOk(); }
    StatusCode code() const { return m_state ? m_state->code : StatusCode::Ok; }
    const std::string& message() const;
    // "NoSpace: append to 00000000000000000000.seg: No space left on device"
    std::string toString() const;

private:
    struct State {
        StatusCode code;
        std::string message;
    };
    std::shared_ptr<const State> m_state;  // null means OK
};

}  // namespace depot
