#pragma once
// PublishSlots: a counting bound on the publishes a connection holds (waiting or in flight), so sendAsync blocks
// its caller instead of growing memory without limit. Thread-safe.
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace depot::client {

class PublishSlots {
public:
    explicit PublishSlots(size_t limit) : m_limit(limit == 0 ? 1 : limit) {}

    // Takes a slot, waiting while all are taken if `mayBlock` (else it overdraws: the I/O thread must not wait
    // for itself). False once closed.
    bool acquire(bool mayBlock) {
        std::unique_lock lock(m_mutex);
        if (mayBlock)
            m_freed.wait(lock, [&] { return m_closed || m_taken < m_limit; });
        if (m_closed)
            return false;
        ++m_taken;
        return true;
    }
    void release() {
        {
            std::lock_guard lock(m_mutex);
            if (m_taken > 0)
                --m_taken;
        }
        m_freed.notify_one();
    }
    void close() {
        {
            std::lock_guard lock(m_mutex);
            m_closed = true;
        }
        m_freed.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_freed;
    size_t m_limit;
    size_t m_taken = 0;
    bool m_closed = false;
};

}  // namespace depot::client
