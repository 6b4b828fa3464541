#pragma once
// TimerQueue: one-shot timers on the steady clock, run by the I/O thread between polls. I/O thread only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace depot::client {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

class TimerQueue {
public:
    // Identifies a scheduled timer; default-constructed (or after cancel/firing as told below): none.
    struct Handle {
        SteadyTime at{};
        uint64_t id = 0;
        explicit operator bool() const { return id != 0; }
    };

    Handle schedule(SteadyTime at, std::function<void()> callback);
    // Forgets the timer if it has not fired; resets the handle either way. Cheap for a timer already gone.
    void cancel(Handle& handle);
    // Runs, in time order, every timer due at `now`, including ones those callbacks schedule for ≤ now.
    // Returns how many ran.
    size_t runDue(SteadyTime now);
    std::optional<SteadyTime> next() const;
    size_t size() const { return m_timers.size(); }
    void clear() { m_timers.clear(); }

private:
    std::map<std::pair<SteadyTime, uint64_t>, std::function<void()>> m_timers;
    uint64_t m_nextId = 1;
};

}  // namespace depot::client
