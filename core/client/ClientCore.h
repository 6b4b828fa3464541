#pragma once
// ClientCore: the engine behind client::Connection. It owns the I/O thread, the only thread that touches the
// DEALER socket; other threads hand it work with post(). It runs the session (HELLO, heartbeats, reconnection,
// docs/protocol.md "Transport"), matches answers to requests, and hosts the publish pipeline and the consumers'
// subscriptions, which run on the I/O thread too.
//
// Members marked "I/O thread" may only be used from tasks, timers and callbacks running there.
#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/PublishSlots.h"
#include "client/RequestTable.h"
#include "client/TimerQueue.h"
#include "depot/Result.h"
#include "depot/client/ClientOptions.h"
#include "protocol/Protocol.h"

namespace depot::client {

class DealerSocket;
class PublishPipeline;
class Subscriptions;
struct WireError;

// The broker's answer to a request: a REPLY (JSON header) or, for TX_END, a CONFIRM (binary header; empty when
// cumulative).
struct Answer {
    protocol::Command command = protocol::Command::Reply;
    uint16_t flags = 0;
    std::string header;
};
using AnswerCallback = std::function<void(Result<Answer>)>;

// What becomes of a request still unanswered when its session ends.
enum class OnSessionLoss {
    Resend,              // repeating it is harmless (reads, idempotent declarations): sent again on the next session
    ResendIfUnexecuted,  // sent again only if the broker proved it did not run it (no-session); else fails
    Fail,                // fails with Unavailable: its outcome is unknown
    Succeed,             // the end of the session did what it asked (CANCEL): answered with an empty REPLY
    Forget,              // its owner issues it again itself (CONSUME): the callback is dropped
};

struct RequestSpec {
    protocol::Command command = protocol::Command::Admin;
    std::string header;
    std::string what;  // names the request in error messages: "ADMIN queue.purge"
    OnSessionLoss onLoss = OnSessionLoss::Fail;
    std::optional<Millis> timeout;  // nullopt: no deadline
};

class ClientCore : public std::enable_shared_from_this<ClientCore> {
public:
    explicit ClientCore(ClientOptions options);
    ~ClientCore();
    ClientCore(const ClientCore&) = delete;
    ClientCore& operator=(const ClientCore&) = delete;

    // ---- any thread ----
    // Starts the I/O thread and waits up to requestTimeout for the first session.
    Status start();
    // Says BYE and stops the I/O thread; everything pending completes with Closed. Idempotent.
    void close();
    // Runs `task` on the I/O thread, in posting order. False (task dropped) once the connection is closed.
    bool post(std::function<void()> task);
    bool onIoThread() const { return m_ioThread.load() == std::this_thread::get_id(); }
    const ClientOptions& options() const { return m_options; }
    ServerInfo serverInfo() const;
    bool connected() const { return m_connected.load(); }
    uint64_t sessions() const { return m_sessions.load(); }
    PublishSlots& publishSlots() { return m_slots; }
    // request() from a user thread, waiting for the answer (spec.timeout, default requestTimeout).
    Result<Answer> call(RequestSpec spec);
    // Waits for a callback-style operation run on the I/O thread: `start` gets the completion function.
    Status waitFor(const std::function<void(std::function<void(const Status&)>)>& start, Millis timeout,
                   const std::string& what);
    Status closedStatus() const;

    // ---- I/O thread ----
    bool ready() const { return m_state == State::Ready; }
    bool closing() const { return m_closing; }
    const ServerInfo& session() const { return m_session; }
    uint64_t nextRequestId() { return m_nextRequestId++; }
    // Sends one message (acks batched so far go first, keeping their order with everything else).
    void sendFrame(protocol::Command command, uint16_t flags, uint64_t requestId, std::string_view header,
                   std::string_view body = {});
    // Sends the request now if a session is up, else when one is; the callback runs once on the I/O thread
    // (except with OnSessionLoss::Forget after a lost session).
    void request(RequestSpec spec, AnswerCallback callback);
    TimerQueue& timers() { return m_timers; }
    PublishPipeline& publishes() { return *m_publishes; }
    Subscriptions& subscriptions() { return *m_subscriptions; }
    // "no session with the broker at tcp://...: <why>"
    std::string noSessionText() const;
    // Check-backs (TX_CHECK) go to this handler; null: unanswered.
    void setTransactionCheckHandler(std::function<void(const std::string& transaction, const std::string& id)> h) {
        m_txCheck = std::move(h);
    }

private:
    enum class State { Connecting, Ready, Closed };
    struct PendingRequest {
        RequestSpec spec;
        AnswerCallback callback;
        TimerQueue::Handle deadline;
        uint64_t requestId = 0;  // 0 until sent
        bool finished = false;
    };
    using PendingPtr = std::shared_ptr<PendingRequest>;

    // ClientCore.cpp: the thread and its loop.
    void run();
    void poll(SteadyTime wakeAt);
    void runTasks();
    void readSocket();
    void dispatch(std::vector<std::string>& frames);
    void shutdown();
    void signalStarted(const Status& status);

    // ClientCoreSession.cpp: HELLO, heartbeats, losing and re-establishing the session.
    void beginSession();
    void sendHello();
    bool isHelloId(uint64_t requestId) const;
    void onHelloReply(std::string_view header);
    void onHelloError(const WireError& error);
    SteadyTime tick(SteadyTime now);
    void loseSession(const std::string& why, uint64_t unexecutedFrom);
    void onErrorFrame(uint64_t requestId, const WireError& error);
    void onTransactionCheck(std::string_view header);
    Millis helloTimeout() const;

    // ClientCoreRequests.cpp: requests and their answers.
    void sendRequest(const PendingPtr& pending);
    void sendUnsent();
    void finish(const PendingPtr& pending, Result<Answer> result);
    void expire(const PendingPtr& pending);
    void answer(uint64_t requestId, Result<Answer> result);
    void requestsLost(uint64_t unexecutedFrom);
    void failAllRequests(const Status& status);

    const ClientOptions m_options;
    void* m_context = nullptr;
    bool m_ownsContext = false;
    int m_wakeFd = -1;
    std::thread m_thread;
    std::atomic<std::thread::id> m_ioThread{};
    std::mutex m_closeMutex;

    std::mutex m_taskMutex;
    std::vector<std::function<void()>> m_tasks;
    bool m_stopped = false;  // under m_taskMutex: no more tasks accepted

    std::promise<Status> m_started;
    bool m_startSignalled = false;  // I/O thread
    std::atomic<bool> m_connected{false};
    std::atomic<uint64_t> m_sessions{0};
    mutable std::mutex m_infoMutex;
    ServerInfo m_sharedInfo;  // under m_infoMutex: serverInfo()
    PublishSlots m_slots;

    // I/O thread state.
    std::unique_ptr<DealerSocket> m_socket;
    State m_state = State::Connecting;
    bool m_stop = false;
    bool m_closing = false;
    ServerInfo m_session;
    uint64_t m_nextRequestId = 1;
    std::vector<uint64_t> m_helloIds;  // every HELLO sent on the current socket: the first answer counts
    SteadyTime m_helloDeadline{};      // when to say HELLO again
    SteadyTime m_helloSince{};
    Millis m_helloInterval{1000};
    SteadyTime m_lastHeard{};
    SteadyTime m_lastSent{};
    std::string m_lastProblem = "connecting";
    TimerQueue m_timers;
    RequestTable<PendingPtr> m_requests;
    std::deque<PendingPtr> m_unsent;
    std::unique_ptr<PublishPipeline> m_publishes;
    std::unique_ptr<Subscriptions> m_subscriptions;
    std::function<void(const std::string&, const std::string&)> m_txCheck;
};

}  // namespace depot::client
