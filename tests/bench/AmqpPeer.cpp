// RabbitMQ through rabbitmq-c, one connection and channel per row, single-threaded like the library itself:
// the driver writes publishes while the window has room and reads confirms otherwise.
#include "AmqpPeer.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace depot::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr amqp_channel_t kChannel = 1;
constexpr timeval kFrameTimeout{30, 0};  // a broker silent this long has failed the row

std::string bytesText(amqp_bytes_t bytes) { return std::string(static_cast<const char*>(bytes.bytes), bytes.len); }

// What an RPC reply says went wrong, or OK.
Status statusOf(const amqp_rpc_reply_t& reply, const std::string& what) {
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return Status::ok();
    case AMQP_RESPONSE_NONE:
        return Status::ioError(what + ": no reply from RabbitMQ");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return Status::ioError(what + ": " + amqp_error_string2(reply.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD)
            return Status::ioError(what + ": connection closed by RabbitMQ: " +
                                   bytesText(static_cast<amqp_connection_close_t*>(reply.reply.decoded)->reply_text));
        if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
            return Status::ioError(what + ": channel closed by RabbitMQ: " +
                                   bytesText(static_cast<amqp_channel_close_t*>(reply.reply.decoded)->reply_text));
        return Status::ioError(what + ": RabbitMQ answered with method " + std::to_string(reply.reply.id));
    }
    return Status::ioError(what + ": unknown reply");
}

Status libraryStatus(int code, const std::string& what) {
    return code >= 0 ? Status::ok() : Status::ioError(what + ": " + amqp_error_string2(code));
}

class AmqpConnection {
public:
    static Result<std::unique_ptr<AmqpConnection>> open(const AmqpTarget& target) {
        std::unique_ptr<AmqpConnection> connection(new AmqpConnection());
        amqp_socket_t* socket = amqp_tcp_socket_new(connection->m_state);
        if (!socket) return Status::ioError("rabbitmq-c: cannot create a TCP socket");
        const std::string where = "RabbitMQ at " + target.host + ":" + std::to_string(target.port);
        DEPOT_RETURN_IF_ERROR(libraryStatus(amqp_socket_open(socket, target.host.c_str(), target.port), where));
        DEPOT_RETURN_IF_ERROR(statusOf(amqp_login(connection->m_state, "/", 0, 1 << 20, 0, AMQP_SASL_METHOD_PLAIN,
                                                  target.user.c_str(), target.password.c_str()),
                                       "login to " + where));
        connection->m_loggedIn = true;
        amqp_channel_open(connection->m_state, kChannel);
        DEPOT_RETURN_IF_ERROR(connection->rpcStatus("channel.open"));
        connection->m_channelOpen = true;
        return connection;
    }

    ~AmqpConnection() {
        if (m_channelOpen) amqp_channel_close(m_state, kChannel, AMQP_REPLY_SUCCESS);
        if (m_loggedIn) amqp_connection_close(m_state, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(m_state);
    }

    amqp_connection_state_t state() const { return m_state; }
    Status rpcStatus(const std::string& what) { return statusOf(amqp_get_rpc_reply(m_state), what); }

    // Durable, and empty: deleted first (a quorum queue's log goes with it).
    Status declareFresh(const std::string& queue, AmqpQueueType type) {
        amqp_queue_delete(m_state, kChannel, amqp_cstring_bytes(queue.c_str()), 0, 0);
        DEPOT_RETURN_IF_ERROR(rpcStatus("queue.delete " + queue));
        amqp_table_entry_t typeArg;
        typeArg.key = amqp_cstring_bytes("x-queue-type");
        typeArg.value.kind = AMQP_FIELD_KIND_UTF8;
        typeArg.value.value.bytes = amqp_cstring_bytes(type == AmqpQueueType::Quorum ? "quorum" : "classic");
        amqp_table_t arguments{1, &typeArg};
        amqp_queue_declare(m_state, kChannel, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0, arguments);
        return rpcStatus("queue.declare " + queue);
    }

    // A durable fanout exchange `exchange` bound to `queues` fresh queues named `queue`.1, `queue`.2, ...
    Status declareFanout(const std::string& exchange, const std::string& queue, int queues, AmqpQueueType type) {
        amqp_exchange_declare(m_state, kChannel, amqp_cstring_bytes(exchange.c_str()), amqp_cstring_bytes("fanout"),
                              0, 1, 0, 0, amqp_empty_table);
        DEPOT_RETURN_IF_ERROR(rpcStatus("exchange.declare " + exchange));
        for (int i = 1; i <= queues; ++i) {
            const std::string name = queue + "." + std::to_string(i);
            DEPOT_RETURN_IF_ERROR(declareFresh(name, type));
            amqp_queue_bind(m_state, kChannel, amqp_cstring_bytes(name.c_str()), amqp_cstring_bytes(exchange.c_str()),
                            amqp_empty_bytes, amqp_empty_table);
            DEPOT_RETURN_IF_ERROR(rpcStatus("queue.bind " + name));
        }
        return Status::ok();
    }

    Status deleteQueue(const std::string& queue) {
        amqp_queue_delete(m_state, kChannel, amqp_cstring_bytes(queue.c_str()), 0, 0);
        return rpcStatus("queue.delete " + queue);
    }

    Status confirmSelect() {
        amqp_confirm_select(m_state, kChannel);
        return rpcStatus("confirm.select");
    }

    // To the default exchange (routing key `queue`), or to `exchange` when it is not empty.
    Status publish(const std::string& queue, const std::string& body, bool persistent, const std::string& exchange = {}) {
        amqp_basic_properties_t properties{};
        properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
        properties.delivery_mode = persistent ? 2 : 1;
        amqp_bytes_t bytes{body.size(), const_cast<char*>(body.data())};
        const bool direct = exchange.empty();
        return libraryStatus(amqp_basic_publish(m_state, kChannel,
                                                direct ? amqp_empty_bytes : amqp_cstring_bytes(exchange.c_str()),
                                                direct ? amqp_cstring_bytes(queue.c_str()) : amqp_empty_bytes, 0, 0,
                                                &properties, bytes),
                             "basic.publish");
    }

    struct Confirm {
        uint64_t tag = 0;
        bool multiple = false;
    };
    // The next basic.ack; a basic.nack or a closed channel is an error. TimedOut after `timeout`.
    Result<Confirm> nextConfirm(timeval timeout = kFrameTimeout) {
        for (;;) {
            amqp_maybe_release_buffers(m_state);
            amqp_frame_t frame;
            int read = amqp_simple_wait_frame_noblock(m_state, &frame, &timeout);
            if (read == AMQP_STATUS_TIMEOUT) return Status::timedOut("no confirm from RabbitMQ in time");
            DEPOT_RETURN_IF_ERROR(libraryStatus(read, "waiting for a confirm"));
            if (frame.frame_type != AMQP_FRAME_METHOD) continue;
            switch (frame.payload.method.id) {
            case AMQP_BASIC_ACK_METHOD: {
                auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
                return Confirm{ack->delivery_tag, bool(ack->multiple)};
            }
            case AMQP_BASIC_NACK_METHOD:
                return Status::ioError("RabbitMQ nacked a publish");
            case AMQP_CHANNEL_CLOSE_METHOD:
                return Status::ioError("RabbitMQ closed the channel: " +
                                       bytesText(static_cast<amqp_channel_close_t*>(frame.payload.method.decoded)->reply_text));
            case AMQP_CONNECTION_CLOSE_METHOD:
                return Status::ioError("RabbitMQ closed the connection");
            default:
                continue;
            }
        }
    }

private:
    AmqpConnection() : m_state(amqp_new_connection()) {}
    amqp_connection_state_t m_state;
    bool m_loggedIn = false;
    bool m_channelOpen = false;
};

// Publishes with `window` unconfirmed at most until `until`; then waits for every confirm. Latencies of
// messages published after `countFrom` go to `m` (with their count); `published` counts them all.
Status publishWindowed(AmqpConnection& connection, const AmqpPublishSetup& setup, const std::string& body,
                       Clock::time_point countFrom, Clock::time_point until, uint64_t maxMessages, Measurement& m) {
    struct Sent {
        uint64_t tag;
        Clock::time_point at;
    };
    std::deque<Sent> unconfirmed;
    uint64_t nextTag = 1, sent = 0;
    for (;;) {
        const Clock::time_point now = Clock::now();
        const bool sending = now < until && sent < maxMessages;
        if (sending && unconfirmed.size() < size_t(setup.window)) {
            DEPOT_RETURN_IF_ERROR(
                connection.publish(setup.queue, body, setup.persistent, setup.fanout ? setup.queue : std::string()));
            unconfirmed.push_back({nextTag++, now});
            ++sent;
            continue;
        }
        if (unconfirmed.empty()) return Status::ok();
        auto confirm = connection.nextConfirm();
        if (!confirm) return confirm.status();
        const Clock::time_point at = Clock::now();
        const auto settle = [&](const Sent& done) {
            if (done.at < countFrom) return;
            ++m.records;
            m.bytes += body.size();
            if (m.latency) m.latency->record(uint64_t(std::chrono::nanoseconds(at - done.at).count()));
        };
        if (confirm->multiple) {  // every tag up to this one
            while (!unconfirmed.empty() && unconfirmed.front().tag <= confirm->tag) {
                settle(unconfirmed.front());
                unconfirmed.pop_front();
            }
        } else {
            auto it = std::find_if(unconfirmed.begin(), unconfirmed.end(),
                                   [&](const Sent& s) { return s.tag == confirm->tag; });
            if (it != unconfirmed.end()) {
                settle(*it);
                unconfirmed.erase(it);
            }
        }
    }
}

int64_t steadyNowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// The consumer side of the end-to-end run, on a thread of its own with a connection of its own.
struct E2eConsumer {
    std::mutex mutex;
    LatencyHistogram latency;
    uint64_t received = 0;
    int64_t countFromNs = INT64_MAX;
    Status status;
    std::atomic<bool> stop{false};

    void run(AmqpConnection& connection, const std::string& queue, uint32_t prefetch) {
        amqp_connection_state_t state = connection.state();
        amqp_basic_qos(state, kChannel, 0, uint16_t(std::min<uint32_t>(prefetch, 65535)), 0);
        Status ok = connection.rpcStatus("basic.qos");
        if (ok) {
            amqp_basic_consume(state, kChannel, amqp_cstring_bytes(queue.c_str()), amqp_empty_bytes, 0, 0, 0,
                               amqp_empty_table);
            ok = connection.rpcStatus("basic.consume");
        }
        while (ok && !stop.load()) {
            amqp_maybe_release_buffers(state);
            amqp_envelope_t envelope;
            timeval timeout{0, 100'000};
            amqp_rpc_reply_t reply = amqp_consume_message(state, &envelope, &timeout, 0);
            if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT)
                continue;
            ok = statusOf(reply, "basic.deliver");
            if (!ok) break;
            int64_t sentNs = 0;
            std::memcpy(&sentNs, envelope.message.body.bytes, std::min(sizeof sentNs, envelope.message.body.len));
            const int64_t latencyNs = steadyNowNs() - sentNs;
            const uint64_t tag = envelope.delivery_tag;
            amqp_destroy_envelope(&envelope);
            ok = libraryStatus(amqp_basic_ack(state, kChannel, tag, 0), "basic.ack");
            std::lock_guard lock(mutex);
            if (sentNs >= countFromNs) latency.record(uint64_t(latencyNs));
            ++received;
        }
        std::lock_guard lock(mutex);
        status = ok;
    }
};

}  // namespace

std::string_view toString(AmqpQueueType type) { return type == AmqpQueueType::Quorum ? "quorum" : "classic"; }

Result<AmqpTarget> parseAmqpUrl(const std::string& url) {
    const std::string scheme = "amqp://";
    if (url.rfind(scheme, 0) != 0) return Status::invalidArgument("not an amqp:// URL: '" + url + "'");
    const std::string rest = url.substr(scheme.size());
    const size_t colon = rest.rfind(':');
    AmqpTarget target;
    target.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
        char* end = nullptr;
        long port = std::strtol(rest.c_str() + colon + 1, &end, 10);
        if (*end != '\0' || port <= 0 || port > 65535) return Status::invalidArgument("bad port in '" + url + "'");
        target.port = int(port);
    }
    if (target.host.empty()) return Status::invalidArgument("no host in '" + url + "'");
    return target;
}

Result<Measurement> measureAmqpPublish(const AmqpTarget& target, const AmqpPublishSetup& setup) {
    auto connection = AmqpConnection::open(target);
    if (!connection) return connection.status();
    if (setup.fanout)  // the exchange is named like the queues' prefix
        DEPOT_RETURN_IF_ERROR((*connection)->declareFanout(setup.queue, setup.queue, setup.fanout, setup.type));
    else
        DEPOT_RETURN_IF_ERROR((*connection)->declareFresh(setup.queue, setup.type));
    DEPOT_RETURN_IF_ERROR((*connection)->confirmSelect());
    Measurement m;
    m.name = "rabbitmq " + std::string(toString(setup.type));
    m.latency.emplace();
    const std::string body = benchPayload(setup.messageSize);
    const Clock::time_point start = Clock::now();
    const auto warmup = std::chrono::duration_cast<Clock::duration>(setup.warmup);
    const auto measure = std::chrono::duration_cast<Clock::duration>(setup.measure);
    DEPOT_RETURN_IF_ERROR(
        publishWindowed(**connection, setup, body, start + warmup, start + warmup + measure, UINT64_MAX, m));
    m.seconds = std::chrono::duration<double>(setup.measure).count();
    for (int i = 1; i <= setup.fanout; ++i)
        DEPOT_RETURN_IF_ERROR((*connection)->deleteQueue(setup.queue + "." + std::to_string(i)));
    if (!setup.fanout) DEPOT_RETURN_IF_ERROR((*connection)->deleteQueue(setup.queue));
    return m;
}

Result<Measurement> measureAmqpConsumeAck(const AmqpTarget& target, const std::string& queue, AmqpQueueType type,
                                          size_t messageSize, uint64_t prefill, uint32_t prefetch) {
    auto opened = AmqpConnection::open(target);
    if (!opened) return opened.status();
    AmqpConnection& connection = **opened;
    DEPOT_RETURN_IF_ERROR(connection.declareFresh(queue, type));
    DEPOT_RETURN_IF_ERROR(connection.confirmSelect());
    {
        AmqpPublishSetup fill;
        fill.queue = queue;
        fill.messageSize = messageSize;
        fill.window = 1000;
        Measurement ignored;
        DEPOT_RETURN_IF_ERROR(publishWindowed(connection, fill, benchPayload(messageSize), Clock::time_point::max(),
                                              Clock::time_point::max(), prefill, ignored));
    }
    amqp_connection_state_t state = connection.state();
    amqp_basic_qos(state, kChannel, 0, uint16_t(std::min<uint32_t>(prefetch, 65535)), 0);
    DEPOT_RETURN_IF_ERROR(connection.rpcStatus("basic.qos"));
    const Clock::time_point start = Clock::now();
    amqp_basic_consume(state, kChannel, amqp_cstring_bytes(queue.c_str()), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    DEPOT_RETURN_IF_ERROR(connection.rpcStatus("basic.consume"));
    for (uint64_t received = 0; received < prefill; ++received) {
        amqp_maybe_release_buffers(state);
        amqp_envelope_t envelope;
        timeval timeout = kFrameTimeout;
        amqp_rpc_reply_t reply = amqp_consume_message(state, &envelope, &timeout, 0);
        DEPOT_RETURN_IF_ERROR(statusOf(reply, "basic.deliver " + std::to_string(received)));
        const uint64_t tag = envelope.delivery_tag;
        amqp_destroy_envelope(&envelope);
        DEPOT_RETURN_IF_ERROR(libraryStatus(amqp_basic_ack(state, kChannel, tag, 0), "basic.ack"));
    }
    // Answered only after the channel processed every ack before it.
    amqp_queue_declare_ok_t* declared =
        amqp_queue_declare(state, kChannel, amqp_cstring_bytes(queue.c_str()), 1, 0, 0, 0, amqp_empty_table);
    DEPOT_RETURN_IF_ERROR(connection.rpcStatus("queue.declare (passive)"));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (declared->message_count != 0)
        return Status::ioError(std::to_string(declared->message_count) + " messages left after consuming " +
                               std::to_string(prefill));
    Measurement m;
    m.name = "rabbitmq " + std::string(toString(type));
    m.records = prefill;
    m.bytes = prefill * messageSize;
    m.seconds = seconds;
    DEPOT_RETURN_IF_ERROR(connection.deleteQueue(queue));
    return m;
}

}  // namespace depot::bench

namespace depot::bench {

Result<Measurement> measureAmqpEndToEnd(const AmqpTarget& target, const std::string& queue, AmqpQueueType type,
                                        size_t messageSize, double rate, uint32_t prefetch,
                                        std::chrono::duration<double> warmup, std::chrono::duration<double> measure) {
    auto publisher = AmqpConnection::open(target);
    if (!publisher) return publisher.status();
    auto subscriber = AmqpConnection::open(target);
    if (!subscriber) return subscriber.status();
    DEPOT_RETURN_IF_ERROR((*publisher)->declareFresh(queue, type));
    DEPOT_RETURN_IF_ERROR((*publisher)->confirmSelect());
    E2eConsumer consumer;
    const auto start = Clock::now();
    const auto countFrom = start + std::chrono::duration_cast<Clock::duration>(warmup);
    const auto end = countFrom + std::chrono::duration_cast<Clock::duration>(measure);
    consumer.countFromNs = std::chrono::duration_cast<std::chrono::nanoseconds>(countFrom.time_since_epoch()).count();
    std::thread receiving([&] { consumer.run(**subscriber, queue, prefetch); });
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
    std::string body = benchPayload(std::max<size_t>(messageSize, sizeof(int64_t)));
    uint64_t sent = 0, counted = 0, confirmed = 0;
    Status status;
    // Behind schedule: sends at once, keeping the rate. Ahead: reads confirms until the next send is due.
    for (auto next = start; status && next < end; next += period) {
        for (auto now = Clock::now(); status && now < next; now = Clock::now()) {
            const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next - now).count();
            auto confirm = (*publisher)->nextConfirm(timeval{0, long(wait)});
            if (confirm) confirmed = std::max(confirmed, confirm->tag);  // in publish order on a channel
            else if (confirm.status().code() != StatusCode::TimedOut) status = confirm.status();
        }
        const int64_t now = steadyNowNs();
        std::memcpy(body.data(), &now, sizeof now);
        if (status) status = (*publisher)->publish(queue, body, true);
        ++sent;
        counted += next >= countFrom;
    }
    while (status && confirmed < sent) {  // the rest of the confirms (in order: the last tag covers the ones before)
        auto confirm = (*publisher)->nextConfirm();
        if (confirm) confirmed = std::max(confirmed, confirm->tag);
        else status = confirm.status();
    }
    for (auto deadline = Clock::now() + std::chrono::seconds(60); status && Clock::now() < deadline;) {
        {
            std::lock_guard lock(consumer.mutex);
            if (consumer.received >= sent || !consumer.status) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    consumer.stop = true;
    receiving.join();
    DEPOT_RETURN_IF_ERROR(status);
    DEPOT_RETURN_IF_ERROR(consumer.status);
    if (consumer.received < sent)
        return Status::timedOut("end to end: " + std::to_string(consumer.received) + " of " + std::to_string(sent) +
                                " messages delivered within 60 s");
    DEPOT_RETURN_IF_ERROR((*publisher)->deleteQueue(queue));
    Measurement m;
    m.name = "rabbitmq " + std::string(toString(type));
    m.records = counted;
    m.bytes = counted * messageSize;
    m.seconds = std::chrono::duration<double>(measure).count();
    m.latency = consumer.latency;
    return m;
}

}  // namespace depot::bench
