#include "client/Subscription.h"

#include <iterator>

namespace depot::client {

void Subscription::handOver() {
    if (m_staged.empty())
        return;
    {
        std::lock_guard lock(m_mutex);
        if (!m_closed)
            std::move(m_staged.begin(), m_staged.end(), std::back_inserter(m_inbox));
    }
    m_staged.clear();
    m_arrived.notify_all();  // readers on several threads (receive()) may each take one
}

std::optional<broker::Delivery> Subscription::pop(std::optional<Millis> timeout) {
    std::unique_lock lock(m_mutex);
    auto ready = [&] { return m_closed || !m_inbox.empty(); };
    if (timeout)
        m_arrived.wait_for(lock, *timeout, ready);
    else
        m_arrived.wait(lock, ready);
    if (m_closed || m_inbox.empty())
        return std::nullopt;
    broker::Delivery delivery = std::move(m_inbox.front());
    m_inbox.pop_front();
    return delivery;
}

void Subscription::dropUndelivered() {
    m_staged.clear();
    std::lock_guard lock(m_mutex);
    m_inbox.clear();
}

void Subscription::close(const Status& why) {
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_inbox.clear();
        if (m_status.isOk())
            m_status = why;
    }
    m_arrived.notify_all();
}

bool Subscription::closed() const {
    std::lock_guard lock(m_mutex);
    return m_closed;
}

Status Subscription::status() const {
    std::lock_guard lock(m_mutex);
    return m_status;
}

}  // namespace depot::client
