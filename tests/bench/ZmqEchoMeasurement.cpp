// The raw floors of `depot-bench wire` and `compare`: what ZeroMQ itself costs for a PUBLISH-shaped round trip over
// TCP loopback, with no broker and no client library behind it; and the same with the least a durable broker must
// add, a group commit: the bodies written to a pre-zeroed file and one fdatasync before the replies.

#include <fcntl.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <cerrno>
#include <memory>
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

constexpr size_t kMaxFramesPerMessage = 16;
constexpr size_t kMaxBatchFrames = 16384;
constexpr uint64_t kJournalSize = 64ull << 20;

// The group-commit side: message bodies go to a pre-zeroed, synced file, written round and round.
struct Journal {
    int fd = -1;
    std::string path;
    uint64_t position = 0;
    std::string batch;
    std::atomic<uint64_t> syncs{0};

    Status open(const std::string& dir) {
        path = dir + "/zmq-journal.dat";
        fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return Status::fromErrno(errno, "open " + path);
        const std::string zeros(1 << 20, '\0');
        for (uint64_t at = 0; at < kJournalSize; at += zeros.size())
            if (::pwrite(fd, zeros.data(), zeros.size(), off_t(at)) != ssize_t(zeros.size()))
                return Status::fromErrno(errno, "pre-zero " + path);
        if (::fsync(fd) != 0) return Status::fromErrno(errno, "fsync " + path);
        return Status::ok();
    }
    // One write for the whole batch, then one fdatasync: false on an I/O error.
    bool commit() {
        if (position + batch.size() > kJournalSize) position = 0;
        if (::pwrite(fd, batch.data(), batch.size(), off_t(position)) != ssize_t(batch.size())) return false;
        position += batch.size();
        batch.clear();
        syncs.fetch_add(1, std::memory_order_relaxed);
        return ::fdatasync(fd) == 0;
    }
    ~Journal() {
        if (fd >= 0) ::close(fd);
        if (!path.empty()) ::unlink(path.c_str());
    }
};

// Receives one whole message onto `frames` (a multipart message arrives whole: only its first frame can be
// missing). False when nothing is readable.
bool receiveMessage(void* router, std::vector<zmq_msg_t>& frames) {
    const size_t first = frames.size();
    for (int more = 1; more;) {
        frames.emplace_back();
        zmq_msg_init(&frames.back());
        if (zmq_msg_recv(&frames.back(), router, frames.size() - 1 == first ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&frames.back());
            frames.pop_back();
            return false;
        }
        more = zmq_msg_more(&frames.back());
    }
    return true;
}

// Echoes every message (all its frames, routing id first) until `stop`. Without a journal each message is echoed
// as it comes; with one, everything readable is taken in, its bodies (last frames) committed, then echoed.
void runEcho(void* router, const std::atomic<bool>& stop, Journal* journal) {
    std::vector<zmq_msg_t> frames;
    frames.reserve(kMaxBatchFrames);  // never reallocated while a frame is live: a zmq_msg_t must not be copied
    std::vector<size_t> ends;         // one past each message's last frame
    while (!stop.load(std::memory_order_relaxed)) {
        zmq_pollitem_t item{router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, kPollMs) <= 0)
            continue;
        for (;;) {  // everything readable now, without waiting again
            frames.clear();
            ends.clear();
            while (frames.size() + kMaxFramesPerMessage <= frames.capacity() && receiveMessage(router, frames)) {
                ends.push_back(frames.size());
                if (!journal)
                    break;
            }
            if (ends.empty())
                break;
            if (journal) {
                for (size_t end : ends)
                    journal->batch.append(static_cast<const char*>(zmq_msg_data(&frames[end - 1])),
                                          zmq_msg_size(&frames[end - 1]));
                if (!journal->commit()) {  // no echo: the driver's receive times out and reports the failure
                    for (zmq_msg_t& frame : frames) zmq_msg_close(&frame);
                    return;
                }
            }
            for (size_t i = 0, message = 0; i < frames.size(); ++i) {
                const bool last = i + 1 == ends[message];
                zmq_msg_send(&frames[i], router, last ? 0 : ZMQ_SNDMORE);
                message += last;
            }
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
    std::unique_ptr<Journal> journal;

    Status open(const std::string& journalDir) {
        if (!journalDir.empty()) {
            journal = std::make_unique<Journal>();
            DEPOT_RETURN_IF_ERROR(journal->open(journalDir));
        }
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
        echo = std::thread([this] { runEcho(router, stop, journal.get()); });
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
                                   std::chrono::duration<double> measure, const std::string& journalDir) {
    EchoPair pair;
    DEPOT_RETURN_IF_ERROR(pair.open(journalDir));
    EchoDriver driver(pair.dealer, window, messageSize);
    if (!driver.run(warmup, false))
        return zmqError("echo");
    const uint64_t syncsBefore = pair.journal ? pair.journal->syncs.load() : 0;
    if (!driver.run(measure, true))
        return zmqError(pair.journal ? "echo after fdatasync" : "echo");
    Measurement result = driver.result();
    if (pair.journal) result.syncs = pair.journal->syncs.load() - syncsBefore;
    return result;
}

}  // namespace depot::bench
