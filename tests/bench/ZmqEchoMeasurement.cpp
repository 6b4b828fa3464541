// The raw floor of `depot-bench wire`: what ZeroMQ itself costs for a PUBLISH-shaped round trip over TCP loopback,
// with no broker, no client library and no disk behind it.

#include <zmq.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "WireMeasurements.h"

namespace depot::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kEnvelopeSize = 12;  // docs/protocol.md: version, command, flags, request id
constexpr size_t kHeaderSize = 64;    // about a PUBLISH header naming a queue and a message id
constexpr int kPollMs = 50;

Status zmqError(const char* what) { return Status::ioError(std::string(what) + ": " + zmq_strerror(zmq_errno())); }

// Echoes every message (all its frames, routing id first) until `stop`.
void runEcho(void* router, const std::atomic<bool>& stop) {
    std::vector<zmq_msg_t> frames;
    frames.reserve(16);  // never reallocated while a frame is live: a zmq_msg_t must not be copied
    while (!stop.load(std::memory_order_relaxed)) {
        zmq_pollitem_t item{router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, kPollMs) <= 0)
            continue;
        for (;;) {  // everything readable now, without waiting again
            frames.clear();
            int more = 1;
            while (more && frames.size() < frames.capacity()) {
                frames.emplace_back();
                zmq_msg_init(&frames.back());
                if (zmq_msg_recv(&frames.back(), router, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close(&frames.back());
                    frames.pop_back();
                    break;
                }
                more = zmq_msg_more(&frames.back());
            }
            if (frames.empty())
                break;
            for (size_t i = 0; i < frames.size(); ++i)
                zmq_msg_send(&frames[i], router, i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
        }
    }
}

// Sockets and the echo thread; closes everything on destruction.
struct EchoPair {
    void* context = zmq_ctx_new();
    void* router = nullptr;
    void* dealer = nullptr;
    std::atomic<bool> stop{false};
    std::thread echo;

    Status open() {
        router = zmq_socket(context, ZMQ_ROUTER);
        dealer = zmq_socket(context, ZMQ_DEALER);
        // Unbounded pipes: a ROUTER drops what does not fit under its high-water mark, and the driver would wait
        // for that echo forever (1000 in flight of 4 frames each is past the default 1000). The receive timeout
        // turns any other loss into an error instead of a hang.
        const int zero = 0, receiveTimeoutMs = 30'000;
        for (void* socket : {router, dealer}) {
            zmq_setsockopt(socket, ZMQ_LINGER, &zero, sizeof zero);
            zmq_setsockopt(socket, ZMQ_SNDHWM, &zero, sizeof zero);
            zmq_setsockopt(socket, ZMQ_RCVHWM, &zero, sizeof zero);
        }
        zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &receiveTimeoutMs, sizeof receiveTimeoutMs);
        if (zmq_bind(router, "tcp://127.0.0.1:*") != 0)
            return zmqError("zmq_bind");
        char endpoint[256];
        size_t size = sizeof endpoint;
        if (zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &size) != 0)
            return zmqError("ZMQ_LAST_ENDPOINT");
        if (zmq_connect(dealer, endpoint) != 0)
            return zmqError("zmq_connect");
        echo = std::thread([this] { runEcho(router, stop); });
        return Status::ok();
    }
    ~EchoPair() {
        stop = true;
        if (echo.joinable())
            echo.join();
        if (dealer)
            zmq_close(dealer);
        if (router)
            zmq_close(router);
        zmq_ctx_term(context);
    }
};

// The DEALER side: keeps `window` messages in flight; replies come back in order.
class EchoDriver {
public:
    EchoDriver(void* dealer, int window, size_t messageSize)
        : m_dealer(dealer),
          m_window(window),
          m_header(kHeaderSize, 'h'),
          m_body(messageSize, 'b'),
          m_sentAt(size_t(window)) {}

    // Runs for `duration`, then receives what is still in flight. Returns false on a socket error.
    bool run(std::chrono::duration<double> duration, bool counted) {
        const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(duration);
        const auto start = Clock::now();
        uint64_t done = 0;
        for (;;) {
            const bool sending = Clock::now() < deadline;
            while (sending && m_next - m_received < uint64_t(m_window))
                if (!send())
                    return false;
            if (m_next == m_received)
                break;
            const Clock::time_point sentAt = m_sentAt[m_received % uint64_t(m_window)];
            if (!receive())
                return false;
            ++done;
            if (counted)
                m_result.latency->record(uint64_t((Clock::now() - sentAt) / std::chrono::nanoseconds(1)));
        }
        if (counted) {
            m_result.records += done;
            m_result.bytes += done * m_body.size();
            m_result.seconds += std::chrono::duration<double>(Clock::now() - start).count();
        }
        return true;
    }
    Measurement& result() { return m_result; }

private:
    bool send() {
        char envelope[kEnvelopeSize] = {1, 0x10, 0, 0};
        std::memcpy(envelope + 4, &m_next, sizeof m_next);
        m_sentAt[m_next % uint64_t(m_window)] = Clock::now();
        ++m_next;
        return zmq_send(m_dealer, envelope, sizeof envelope, ZMQ_SNDMORE) >= 0 &&
               zmq_send(m_dealer, m_header.data(), m_header.size(), ZMQ_SNDMORE) >= 0 &&
               zmq_send(m_dealer, m_body.data(), m_body.size(), 0) >= 0;
    }
    bool receive() {
        for (int more = 1; more;) {
            zmq_msg_t frame;
            zmq_msg_init(&frame);
            if (zmq_msg_recv(&frame, m_dealer, 0) < 0) {
                zmq_msg_close(&frame);
                return false;
            }
            more = zmq_msg_more(&frame);
            zmq_msg_close(&frame);
        }
        ++m_received;
        return true;
    }

    void* m_dealer;
    const int m_window;
    const std::string m_header;
    const std::string m_body;
    std::vector<Clock::time_point> m_sentAt;  // by request id modulo the window
    uint64_t m_next = 0;
    uint64_t m_received = 0;
    Measurement m_result{.latency = LatencyHistogram{}};
};

}  // namespace

Result<Measurement> measureZmqEcho(int window, size_t messageSize, std::chrono::duration<double> warmup,
                                   std::chrono::duration<double> measure) {
    EchoPair pair;
    DEPOT_RETURN_IF_ERROR(pair.open());
    EchoDriver driver(pair.dealer, window, messageSize);
    if (!driver.run(warmup, false) || !driver.run(measure, true))
        return zmqError("echo");
    return driver.result();
}

}  // namespace depot::bench
