#include "depot/Status.h"

#include <cerrno>
#include <cstring>

namespace depot {

std::string_view statusCodeName(StatusCode code) {
    switch (code) {
    case StatusCode::Ok: return "Ok";
    case StatusCode::InvalidArgument: return "InvalidArgument";
    case StatusCode::NotFound: return "NotFound";
    case StatusCode::Corruption: return "Corruption";
    case StatusCode::IoError: return "IoError";
    case StatusCode::NoSpace: return "NoSpace";
    case StatusCode::ReadOnly: return "ReadOnly";
    case StatusCode::Closed: return "Closed";
    case StatusCode::TooLarge: return "TooLarge";
    case StatusCode::TimedOut: return "TimedOut";
    case StatusCode::Unavailable: return "Unavailable";
    }
    return "Unknown";
}

Status::Status(StatusCode code, std::string message) {
    if (code != StatusCode::Ok)
        m_state = std::make_shared<const State>(State{code, std::move(message)});
}

Status Status::fromErrno(int err, std::string_view what) {
    std::string message = std::string(what) + ": " + std::strerror(err);
    if (err == ENOSPC || err == EDQUOT)
        return noSpace(std::move(message));
    return ioError(std::move(message));
}

const std::string& Status::message() const {
    static const std::string kEmpty;
    return m_state ? m_state->message : kEmpty;
}

std::string Status::toString() const {
    if (!m_state)
        return "Ok";
    return std::string(statusCodeName(m_state->code)) + ": " + m_state->message;
}

}  // namespace depot
