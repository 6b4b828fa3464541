#include "broker/BrokerLoop.h"

#include <algorithm>
#include <chrono>

namespace depot::broker {

void BrokerLoop::start() {
    std::lock_guard lock(m_mutex);
    m_running = true;
    m_thread = std::thread([this] { run(); });
    m_threadId = m_thread.get_id();
}

void BrokerLoop::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_running) return;
        m_stopping = true;
    }
    m_wake.notify_one();
    m_thread.join();
    std::lock_guard lock(m_mutex);
    m_running = false;
}

bool BrokerLoop::running() const {
    std::lock_guard lock(m_mutex);
    return m_running && !m_stopping;
}

bool BrokerLoop::post(std::function<void()> command) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping || !m_running) return false;
        m_commands.push_back(std::move(command));
    }
    m_wake.notify_one();
    return true;
}

void BrokerLoop::waitSettled(bool forceTimers) {
    if (onLoopThread()) {
        m_core.runTimers(forceTimers);
        m_core.settle();
        return;
    }
    std::promise<void> done;
    auto future = done.get_future();
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        m_forceTimers = m_forceTimers || forceTimers;
        m_commands.push_back([] {});
        m_afterSettle.push_back([&] { done.set_value(); });
    }
    m_wake.notify_one();
    future.wait();
}

void BrokerLoop::run() {
    std::vector<std::function<void()>> commands, after;
    while (true) {
        bool force = false, stopping = false;
        {
            std::unique_lock lock(m_mutex);
            TimeMs due = m_core.nextTimerDue();
            TimeMs now = m_core.options().clock ? m_core.options().clock->now() : Clock::system().now();
            auto wait = std::chrono::milliseconds(std::clamp<int64_t>(due - now, 0, 1000));
            if (m_commands.empty() && !m_stopping && wait.count() > 0)
                m_wake.wait_for(lock, wait, [this] { return !m_commands.empty() || m_stopping; });
            commands.swap(m_commands);
            after.swap(m_afterSettle);
            force = m_forceTimers;
            m_forceTimers = false;
            stopping = m_stopping;
        }
        for (auto& command : commands) command();
        commands.clear();
        m_core.runTimers(force);
        m_core.settle();
        for (auto& done : after) done();
        after.clear();
        if (stopping) break;
    }
    m_core.shutdown();
    std::lock_guard lock(m_mutex);
    for (auto& command : m_commands) command();  // anything posted in between still answers its caller
    m_commands.clear();
    for (auto& done : m_afterSettle) done();
    m_afterSettle.clear();
}

}  // namespace depot::broker
