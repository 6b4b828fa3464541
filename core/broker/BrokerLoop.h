#pragma once
// BrokerLoop: the broker thread. Runs posted commands in order, reads the attached services' sockets, runs the
// core's timers, and then settles the core (one log append for the burst, dispatch, outbox) before sleeping in
// poll(2) until the next command (an eventfd), socket input or timer.
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "depot/broker/LoopService.h"

#include "broker/BrokerCore.h"

namespace depot::broker {

class BrokerLoop {
public:
    explicit BrokerLoop(BrokerCore& core);
    ~BrokerLoop();

    void start();
    // Runs the core's shutdown on the broker thread, then joins it. Later posts are dropped.
    void stop();
    bool running() const;

    // False when the loop is stopping: the command will never run.
    bool post(std::function<void()> command);
    // Runs `command` on the broker thread and returns its result (a Status or Result), or Closed when the loop
    // has stopped. On the broker thread itself (a handler calling back), it runs at once.
    template <typename F>
    auto call(F command) -> std::invoke_result_t<F> {
        using R = std::invoke_result_t<F>;
        if (onLoopThread()) return command();
        std::promise<R> promise;
        auto future = promise.get_future();
        if (!post([&] { promise.set_value(command()); })) return R(Status::closed("the broker is closed"));
        return future.get();
    }
    // Waits until a burst that starts after this call has settled (its deliveries and confirms handed out).
    void waitSettled(bool forceTimers);
    bool onLoopThread() const { return std::this_thread::get_id() == m_threadId; }

    // Broker thread only (use call()).
    void attach(std::shared_ptr<LoopService> service);
    bool detach(const std::shared_ptr<LoopService>& service);

private:
    void run();
    void sleep(TimeMs due);
    void serveSockets();
    void wake();

    BrokerCore& m_core;
    mutable std::mutex m_mutex;
    int m_wakeFd = -1;  // eventfd: a command was posted
    bool m_wakePending = false;
    std::vector<std::shared_ptr<LoopService>> m_services;
    std::vector<bool> m_readable;
    std::vector<std::function<void()>> m_commands;
    std::vector<std::function<void()>> m_afterSettle;
    bool m_forceTimers = false;
    bool m_stopping = false;
    bool m_running = false;
    std::thread m_thread;
    std::thread::id m_threadId;
};

}  // namespace depot::broker
