#include "client/ClientCore.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>

#include "client/DealerSocket.h"
#include "client/PublishPipeline.h"
#include "client/Subscriptions.h"
#include "client/WireError.h"
#include "common/ThreadName.h"

namespace depot::client {

namespace {

constexpr size_t kMaxReadsPerRound = 1000;  // then timers, heartbeats and posted work get their turn
constexpr Millis kCloseLinger{500};         // how long BYE and the last acks may take to leave on close
constexpr Millis kWaitGuard{2000};          // the I/O thread answers by its own deadline; this only guards it

}  // namespace

ClientCore::ClientCore(ClientOptions options) : m_options(std::move(options)), m_slots(m_options.maxPendingPublishes) {
    m_publishes = std::make_unique<PublishPipeline>(*this);
    m_subscriptions = std::make_unique<Subscriptions>(*this);
}

ClientCore::~ClientCore() {
    if (m_thread.joinable()) {
        if (onIoThread())
            m_thread.detach();  // the last reference went away on the I/O thread itself, as it ends
        else
            close();
    }
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
}

Status ClientCore::start() {
    if (m_options.endpoint.empty())
        return Status::invalidArgument("no broker endpoint given");
    if (m_options.requestTimeout.count() <= 0 || m_options.heartbeat.count() <= 0)
        return Status::invalidArgument("requestTimeout and heartbeat must be positive");
    DEPOT_RETURN_IF_ERROR(validateCurveKeys(m_options));
    m_context = m_options.zmqContext;
    if (!m_context) {
        m_context = zmq_ctx_new();
        m_ownsContext = true;
        if (!m_context)
            return Status::ioError(std::string("cannot create a ZeroMQ context: ") + zmq_strerror(zmq_errno()));
    }
    m_wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_wakeFd < 0)
        return Status::fromErrno(errno, "eventfd");
    std::future<Status> started = m_started.get_future();
    // The thread keeps the core alive until it has finished, whichever thread drops the last reference.
    m_thread = std::thread([self = shared_from_this()] {
        nameThisThread("depot-client");
        self->run();
    });
    if (started.wait_for(m_options.requestTimeout) != std::future_status::ready) {
        close();
        return Status::unavailable("no answer from the broker at " + m_options.endpoint + " within " +
                                   std::to_string(m_options.requestTimeout.count()) +
                                   " ms (is depotd running and listening there?)");
    }
    Status status = started.get();
    if (!status)
        close();
    return status;
}

void ClientCore::close() {
    std::lock_guard lock(m_closeMutex);
    if (!m_thread.joinable())
        return;
    post([this] { m_stop = true; });
    if (onIoThread()) {
        m_thread.detach();  // joining itself is impossible; the loop ends after this round
        return;
    }
    m_thread.join();
}

bool ClientCore::post(std::function<void()> task) {
    bool wake = false;
    {
        std::lock_guard lock(m_taskMutex);
        if (m_stopped)
            return false;
        wake = m_tasks.empty();
        m_tasks.push_back(std::move(task));
    }
    // Only the first task of a batch needs to wake the loop: it drains them all.
    if (wake) {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t written = ::write(m_wakeFd, &one, sizeof one);
    }
    return true;
}

ServerInfo ClientCore::serverInfo() const {
    std::lock_guard lock(m_infoMutex);
    return m_sharedInfo;
}

Status ClientCore::closedStatus() const {
    return Status::closed("the connection to the broker at " + m_options.endpoint + " is closed");
}

Result<Answer> ClientCore::call(RequestSpec spec) {
    if (onIoThread())
        return Status::invalidArgument(spec.what + ": a blocking call on the client's I/O thread would deadlock");
    const Millis timeout = spec.timeout.value_or(m_options.requestTimeout);
    spec.timeout = timeout;
    const std::string what = spec.what;
    auto promise = std::make_shared<std::promise<Result<Answer>>>();
    std::future<Result<Answer>> future = promise->get_future();
    bool posted = post([this, spec = std::move(spec), promise]() mutable {
        request(std::move(spec), [promise](Result<Answer> result) { promise->set_value(std::move(result)); });
    });
    if (!posted)
        return closedStatus();
    if (future.wait_for(timeout + kWaitGuard) != std::future_status::ready)
        return Status::timedOut("no answer from the broker at " + m_options.endpoint + " to " + what + " within " +
                                std::to_string(timeout.count()) + " ms");
    return future.get();
}

Status ClientCore::waitFor(const std::function<void(std::function<void(const Status&)>)>& start, Millis timeout,
                           const std::string& what) {
    if (onIoThread())
        return Status::invalidArgument(what + ": a blocking call on the client's I/O thread would deadlock");
    auto promise = std::make_shared<std::promise<Status>>();
    auto once = std::make_shared<std::once_flag>();
    std::future<Status> future = promise->get_future();
    auto done = [promise, once](const Status& status) { std::call_once(*once, [&] { promise->set_value(status); }); };
    if (!post([start, done] { start(done); }))
        return closedStatus();
    if (future.wait_for(timeout) != std::future_status::ready)
        return Status::timedOut("no answer from the broker at " + m_options.endpoint + " to " + what + " within " +
                                std::to_string(timeout.count()) + " ms");
    return future.get();
}

void ClientCore::run() {
    m_ioThread = std::this_thread::get_id();
    beginSession();
    while (!m_stop) {
        SteadyTime wakeAt = tick(SteadyClock::now());
        if (auto timer = m_timers.next())
            wakeAt = std::min(wakeAt, *timer);
        m_subscriptions->handOver();  // everything staged for the consumers before sleeping
        poll(wakeAt);
        runTasks();
        readSocket();
        m_timers.runDue(SteadyClock::now());
        m_subscriptions->flushAcks();
    }
    shutdown();
}

// Sleeps until a task is posted, the socket has news, or `wakeAt`. A plain poll(2) on the socket's ZMQ_FD: zmq_poll
// asks ZeroMQ for the socket's events before and after sleeping, two system calls each time, which the socket
// can mostly answer itself (DealerSocket::mayHaveInput).
void ClientCore::poll(SteadyTime wakeAt) {
    if (m_socket && m_socket->mayHaveInput())
        return;  // read it now; a task posted meanwhile keeps the wake descriptor set for the next round
    pollfd fds[2] = {{m_wakeFd, POLLIN, 0}, {m_socket ? m_socket->fd() : -1, POLLIN, 0}};
    const auto wait = std::chrono::ceil<Millis>(wakeAt - SteadyClock::now());
    const int timeout = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 60000));
    ::poll(fds, m_socket ? 2 : 1, timeout);
    if (fds[0].revents & POLLIN) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t read = ::read(m_wakeFd, &count, sizeof count);
    }
}

void ClientCore::runTasks() {
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lock(m_taskMutex);
        tasks.swap(m_tasks);
    }
    for (auto& task : tasks)
        task();
}

void ClientCore::readSocket() {
    for (size_t i = 0; i < kMaxReadsPerRound && m_socket; ++i) {
        std::optional<std::vector<std::string>> frames = m_socket->receive();
        if (!frames)
            return;
        dispatch(*frames);
    }
}

void ClientCore::dispatch(std::vector<std::string>& frames) {
    using protocol::Command;
    // A broker that breaks the protocol is not answered: the message is dropped, as the broker drops ours.
    if (frames.size() != protocol::kFrameCount)
        return;
    Result<protocol::Envelope> envelope = protocol::decodeEnvelope(frames[0]);
    if (!envelope)
        return;
    m_lastHeard = SteadyClock::now();
    const uint64_t id = envelope->requestId;
    switch (envelope->command) {
        case Command::Reply:
            if (m_state == State::Connecting && isHelloId(id))
                onHelloReply(frames[1]);
            else
                answer(id, Answer{Command::Reply, envelope->flags, std::move(frames[1])});
            break;
        case Command::Error:
            onErrorFrame(id, WireError::parse(frames[1]));
            break;
        case Command::Confirm: {
            const bool cumulative = envelope->flags & protocol::kFlagCumulative;
            // A CONFIRM answers a PUBLISH or a TX_END; a cumulative one may cover both.
            if (!m_publishes->onConfirm(id, envelope->flags, frames[1]) || cumulative)
                answer(id, Answer{Command::Confirm, envelope->flags, std::move(frames[1])});
            break;
        }
        case Command::Deliver:
            m_subscriptions->onDeliver(frames[1], std::move(frames[2]));
            break;
        case Command::DeliverBatch:
            m_subscriptions->onDeliverBatch(frames[1], frames[2]);
            break;
        case Command::TxCheck:
            onTransactionCheck(frames[1]);
            break;
        default:  // HEARTBEAT: only a sign of life; anything else is not for a client
            break;
    }
}

void ClientCore::signalStarted(const Status& status) {
    if (m_startSignalled)
        return;
    m_startSignalled = true;
    m_started.set_value(status);
}

void ClientCore::shutdown() {
    m_closing = true;
    m_slots.close();
    m_subscriptions->flushAcks();
    if (m_state == State::Ready && m_socket) {
        sendFrame(protocol::Command::Bye, 0, 0, {});
        m_socket->setLinger(kCloseLinger);
    }
    m_state = State::Closed;
    m_connected = false;
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lock(m_taskMutex);
        m_stopped = true;
        tasks.swap(m_tasks);
    }
    for (auto& task : tasks)
        task();  // each sees closing() and completes with Closed
    const Status closed = closedStatus();
    failAllRequests(closed);
    m_publishes->failAll(closed);
    m_subscriptions->closeAll(closed);
    m_timers.clear();
    m_txCheck = nullptr;
    signalStarted(closed);
    m_socket.reset();
    if (m_ownsContext)
        zmq_ctx_term(m_context);
}

}  // namespace depot::client
