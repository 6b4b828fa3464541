#include "broker/BrokerLoop.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <chrono>

#include "common/ThreadName.h"

namespace depot::broker {

namespace {

// Prepares `item` to wait on a socket's ZMQ_FD. Asking for ZMQ_EVENTS takes in ZeroMQ's news, so the descriptor
// then signals only what comes after. True when input is waiting already (or the socket cannot tell: its read
// finds out).
bool armSocket(void* socket, pollfd& item) {
    item = {-1, POLLIN, 0};  // poll(2) skips a negative descriptor
    if (!socket)
        return false;
    int events = 0, fd = -1;
    size_t size = sizeof events;
    if (zmq_getsockopt(socket, ZMQ_EVENTS, &events, &size) != 0)
        return true;
    size = sizeof fd;
    if (zmq_getsockopt(socket, ZMQ_FD, &fd, &size) != 0)
        return true;
    item.fd = fd;
    return events & ZMQ_POLLIN;
}

}  // namespace

BrokerLoop::BrokerLoop(BrokerCore& core) : m_core(core), m_wakeFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

BrokerLoop::~BrokerLoop() {
    stop();
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
}

void BrokerLoop::start() {
    std::lock_guard lock(m_mutex);
    m_running = true;
    m_thread = std::thread([this] {
        nameThisThread("depot-broker");
        run();
    });
    m_threadId = m_thread.get_id();
}

void BrokerLoop::stop() {
    {
        std::lock_guard lock(m_mutex);
        if (!m_running)
            return;
        m_stopping = true;
    }
    wake();
    m_thread.join();
    std::lock_guard lock(m_mutex);
    m_running = false;
}

bool BrokerLoop::running() const {
    std::lock_guard lock(m_mutex);
    return m_running && !m_stopping;
}

void BrokerLoop::wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_wakeFd, &one, sizeof one);  // EAGAIN only when the counter is full
}

bool BrokerLoop::post(std::function<void()> command) {
    bool needWake;
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping || !m_running)
            return false;
        m_commands.push_back(std::move(command));
        // One write wakes the loop; later posts before it runs ride on it.
        needWake = !m_wakePending;
        m_wakePending = true;
    }
    if (needWake)
        wake();
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
        if (m_stopping)
            return;
        m_forceTimers = m_forceTimers || forceTimers;
        m_commands.push_back([] {});
        m_afterSettle.push_back([&] { done.set_value(); });
    }
    wake();
    future.wait();
}

void BrokerLoop::attach(std::shared_ptr<LoopService> service) { m_services.push_back(std::move(service)); }

bool BrokerLoop::detach(const std::shared_ptr<LoopService>& service) {
    auto it = std::find(m_services.begin(), m_services.end(), service);
    if (it == m_services.end())
        return false;
    m_services.erase(it);
    service->onDetach();
    return true;
}

// Sleeps until a command is posted, a service socket has input, or `due`. A plain poll(2) on the sockets' ZMQ_FD,
// each asked for its events (ZMQ_EVENTS) just before: zmq_poll asks before and after sleeping and polls once more
// without waiting first, three system calls more a round (each ZeroMQ question is a poll and a getpid). A socket
// whose descriptor fires is served even if that news was not input: its read finds nothing.
void BrokerLoop::sleep(TimeMs due) {
    TimeMs now = m_core.options().clock ? m_core.options().clock->now() : Clock::system().now();
    int timeout = static_cast<int>(std::clamp<int64_t>(due - now, 0, 1000));
    {
        std::lock_guard lock(m_mutex);
        if (!m_commands.empty() || m_stopping)
            timeout = 0;
    }
    m_readable.assign(m_services.size(), false);
    std::vector<pollfd> fds(1 + m_services.size());
    fds[0] = {m_wakeFd, POLLIN, 0};
    for (size_t i = 0; i < m_services.size(); ++i)
        m_readable[i] = armSocket(m_services[i]->pollSocket(), fds[i + 1]);
    if (std::find(m_readable.begin(), m_readable.end(), true) != m_readable.end())
        timeout = 0;
    ::poll(fds.data(), fds.size(), timeout);
    uint64_t count;
    if (fds[0].revents & POLLIN) [[maybe_unused]]
        ssize_t n = ::read(m_wakeFd, &count, sizeof count);
    for (size_t i = 0; i < m_services.size(); ++i)
        m_readable[i] = m_readable[i] || (fds[i + 1].revents & POLLIN);
}

void BrokerLoop::serveSockets() {
    // A service may detach itself while reading: walk a copy.
    auto services = m_services;
    auto readable = m_readable;
    for (size_t i = 0; i < services.size() && i < readable.size(); ++i)
        if (readable[i])
            services[i]->onReadable();
}

void BrokerLoop::run() {
    std::vector<std::function<void()>> commands, after;
    TimeMs serviceDue = 0;
    while (true) {
        sleep(std::min(m_core.nextTimerDue(), serviceDue));
        bool force = false, stopping = false;
        {
            std::lock_guard lock(m_mutex);
            commands.swap(m_commands);
            after.swap(m_afterSettle);
            force = m_forceTimers;
            m_forceTimers = false;
            stopping = m_stopping;
            m_wakePending = false;
        }
        for (auto& command : commands)
            command();
        commands.clear();
        serveSockets();
        m_core.runTimers(force);
        TimeMs now = m_core.options().clock ? m_core.options().clock->now() : Clock::system().now();
        serviceDue = now + 1000;
        for (auto& service : std::vector(m_services))
            serviceDue = std::min(serviceDue, service->onTick(now));
        m_core.settle();
        for (auto& service : std::vector(m_services))
            service->afterSettle();
        for (auto& done : after)
            done();
        after.clear();
        if (stopping)
            break;
    }
    m_core.shutdown();
    for (auto& service : std::vector(m_services))
        service->afterSettle();  // sends the shutdown nacks
    for (auto& service : std::vector(m_services))
        detach(service);
    std::lock_guard lock(m_mutex);
    for (auto& command : m_commands)
        command();  // anything posted in between still answers its caller
    m_commands.clear();
    for (auto& done : m_afterSettle)
        done();
    m_afterSettle.clear();
}

}  // namespace depot::broker
