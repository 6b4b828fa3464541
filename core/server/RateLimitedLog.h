#pragma once
// RateLimitedLog: at most one line per interval; lines dropped in between are counted in the next one, so a
// hostile client cannot flood the broker's log.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace depot::server {

class RateLimitedLog {
public:
    using Sink = std::function<void(std::string_view)>;
    explicit RateLimitedLog(Sink sink, std::chrono::milliseconds interval = std::chrono::seconds(1))
        : m_sink(std::move(sink)), m_interval(interval) {}

    void write(std::string_view line) {
        if (!m_sink) return;
        auto now = std::chrono::steady_clock::now();
        if (m_written && now - m_last < m_interval) {
            ++m_dropped;
            return;
        }
        std::string text(line);
        if (m_dropped) text += " (" + std::to_string(m_dropped) + " similar lines suppressed)";
        m_sink(text);
        m_last = now;
        m_written = true;
        m_dropped = 0;
    }

private:
    Sink m_sink;
    std::chrono::milliseconds m_interval;
    std::chrono::steady_clock::time_point m_last{};
    bool m_written = false;
    uint64_t m_dropped = 0;
};

}  // namespace depot::server
