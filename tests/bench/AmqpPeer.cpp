// RabbitMQ through rabbitmq-c, one connection and channel per row, single-threaded like the library itself:
// the driver writes publishes while the window has room and reads confirms otherwise.
#include "AmqpPeer.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <algorithm>
#include <deque>
#include <memory>

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
    // The next basic.ack; a basic.nack or a closed channel is an error.
    Result<Confirm> nextConfirm() {
        for (;;) {
            amqp_maybe_release_buffers(m_state);
            amqp_frame_t frame;
            int read = amqp_simple_wait_frame_noblock(m_state, &frame, &kFrameTimeout);
            if (read == AMQP_STATUS_TIMEOUT) return Status::timedOut("no confirm from RabbitMQ within 30 s");
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
