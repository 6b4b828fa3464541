#pragma once
// PublishSlots: a counting bound on the publishes a connection holds (waiting or in flight), so sendAsync blocks
// its caller instead of growing memory without limit. Thread-safe.
//
// It also takes back what is left of finished publishes (retire), to be freed by the next acquire: a publish's
// memory (its request, body and callbacks) is allocated by the sending thread, and freeing it there rather than
// on the I/O thread spares both threads the allocator's lock they otherwise contend for (glibc frees a block
// into the arena of the thread that allocated it), and lets the sender reuse the blocks at once.
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace depot::client {

class PublishSlots {
public:
    explicit PublishSlots(size_t limit) : m_limit(limit == 0 ? 1 : limit) {}

    // Takes a slot, waiting while all are taken if `mayBlock` (else it overdraws: the I/O thread must not wait
    // for itself). False once closed.
    bool acquire(bool mayBlock) {
        std::vector<std::shared_ptr<void>> retired;
        std::unique_lock lock(m_mutex);
        if (mayBlock)
            m_freed.wait(lock, [&] { return m_closed || m_taken < m_limit; });
        if (m_retired.size() >= kRetiredBatch)
            retired.swap(m_retired);  // freed after the unlock, when `retired` goes out of scope
        if (m_closed)
            return false;
        ++m_taken;
        return true;
    }
    // Keeps a finished publish's remains until the next acquire (or the connection's end) frees them.
    void retire(std::shared_ptr<void> remains) {
        std::lock_guard lock(m_mutex);
        m_retired.push_back(std::move(remains));
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
    // Remains are freed this many at a time: the list's own buffer, grown on the I/O thread, is freed here too.
    static constexpr size_t kRetiredBatch = 32;

    std::mutex m_mutex;
    std::condition_variable m_freed;
    size_t m_limit;
    size_t m_taken = 0;
    bool m_closed = false;
    std::vector<std::shared_ptr<void>> m_retired;
};

}  // namespace depot::client
