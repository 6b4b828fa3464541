#include "client/TimerQueue.h"

namespace depot::client {

TimerQueue::Handle TimerQueue::schedule(SteadyTime at, std::function<void()> callback) {
    Handle handle{at, m_nextId++};
    m_timers.emplace(std::make_pair(at, handle.id), std::move(callback));
    return handle;
}

void TimerQueue::cancel(Handle& handle) {
    if (handle)
        m_timers.erase(std::make_pair(handle.at, handle.id));
    handle = {};
}

size_t TimerQueue::runDue(SteadyTime now) {
    size_t ran = 0;
    while (!m_timers.empty() && m_timers.begin()->first.first <= now) {
        // Erased before running: the callback may schedule or cancel other timers (or, harmlessly, this one).
        std::function<void()> callback = std::move(m_timers.begin()->second);
        m_timers.erase(m_timers.begin());
        callback();
        ++ran;
    }
    return ran;
}

std::optional<SteadyTime> TimerQueue::next() const {
    if (m_timers.empty())
        return std::nullopt;
    return m_timers.begin()->first.first;
}

}  // namespace depot::client
