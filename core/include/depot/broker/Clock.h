#pragma once
// Clock: where the broker reads time. Every broker time is milliseconds since the Unix epoch, so due times
// written to the log (retries, delays, expiry) mean the same thing after a restart.
#include <atomic>
#include <cstdint>

namespace depot::broker {

using TimeMs = int64_t;  // milliseconds since 1970-01-01T00:00:00Z

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimeMs now() const = 0;
    static Clock& system();
};

// A clock that moves only when told to: unit tests drive timers with it. Thread-safe. After advance(), call
// Broker::runTimers() (or wait for the loop's next wake-up) so the broker notices.
class ManualClock final : public Clock {
public:
    explicit ManualClock(TimeMs start = 1'700'000'000'000) : m_now(start) {}
    TimeMs now() const override { return m_now.load(); }
    void advance(int64_t ms) { m_now.fetch_add(ms); }
    void set(TimeMs t) { m_now.store(t); }

private:
    std::atomic<TimeMs> m_now;
};

}  // namespace depot::broker
