// A replica's follower against a primary that misbehaves the way a broken network makes one look (issue 7:
// "ZeroMQ drops messages silently when a connection breaks ... every gap must be detected and refetched"). The
// primary here is a raw ROUTER socket in this test serving the log of a real broker: it answers the first fetch
// for offset 0 with records that start further on (as if the answers before were lost), then with an answer to an
// older request, then not at all; only then correctly. The replica (a real Broker opened with replicaOf) must
// store nothing but the right bytes at the right offsets and end up with exactly the source's messages.
#include <QtTest>

#include <zmq.h>

#include <atomic>
#include <thread>

#include "depot/broker/Broker.h"
#include "depot/storage/CommitLog.h"
#include "protocol/Protocol.h"
#include "protocol/ProtocolJson.h"
#include "support/TempDir.h"

using namespace depot;
using protocol::Command;
using protocol::Json;

namespace {

constexpr int kMessages = 50;

// The log and definitions a primary would serve: a real broker's, written and closed.
struct Source {
    std::string bytes;  // [0, end)
    uint64_t end = 0;
    Json definitions;
};

Source makeSource(const std::string& dir) {
    Source source;
    {
        auto broker = broker::Broker::open({.dataDir = dir});
        if (!broker) qFatal("source broker: %s", broker.status().toString().c_str());
        broker::QueueSpec spec;
        spec.name = "orders";
        if (!(*broker)->declareQueue(spec)) qFatal("declare");
        for (int i = 0; i < kMessages; ++i) {
            broker::PublishRequest request;
            request.routingKey = "orders";
            request.message.id = "m-" + std::to_string(i);
            request.message.body = "body " + std::to_string(i);
            if ((*broker)->publish(std::move(request)).get().outcome != broker::PublishOutcome::Confirmed) qFatal("publish");
        }
        Json queues = Json::array();
        auto listed = (*broker)->listQueues();  // kept: a loop over *temporary would read a destroyed Result
        for (const broker::QueueInfo& info : *listed) queues.push_back(protocol::queueInfoToJson(info));
        source.definitions = {{"version", 7}, {"queues", queues}, {"exchanges", Json::array()}, {"bindings", Json::array()}};
    }
    auto log = storage::CommitLog::open(dir + "/log");
    if (!log) qFatal("log: %s", log.status().toString().c_str());
    auto range = (*log)->readFramed(0, (*log)->durableOffset(), 64u << 20);
    if (!range) qFatal("readFramed: %s", range.status().toString().c_str());
    source.bytes = range->bytes;
    source.end = range->end;
    return source;
}

// A primary that answers badly on purpose before it answers well.
class FakePrimary {
public:
    explicit FakePrimary(const Source& source) : m_source(source) {
        m_context = zmq_ctx_new();
        m_socket = zmq_socket(m_context, ZMQ_ROUTER);
        int linger = 0;
        zmq_setsockopt(m_socket, ZMQ_LINGER, &linger, sizeof linger);
        zmq_bind(m_socket, "tcp://127.0.0.1:*");
        char endpoint[256];
        size_t size = sizeof endpoint;
        zmq_getsockopt(m_socket, ZMQ_LAST_ENDPOINT, endpoint, &size);
        m_endpoint = endpoint;
        m_thread = std::thread([this] { run(); });
    }
    ~FakePrimary() {
        m_stop = true;
        m_thread.join();
        zmq_close(m_socket);
        zmq_ctx_term(m_context);
    }
    const std::string& endpoint() const { return m_endpoint; }
    int fetchesFromZero() const { return m_fetchesFromZero; }
    int hellos() const { return m_hellos; }
    int foreignFetches() const { return m_foreignFetches; }  // fetches past 0 naming another log than this one
    static constexpr const char* kLogId = "0123456789abcdef0123456789abcdef";

private:
    void send(const std::string& routing, Command command, uint64_t requestId, const std::string& header,
              const std::string& body = {}) {
        const std::string envelope = protocol::encodeEnvelope({protocol::kVersion, command, 0, requestId});
        zmq_send(m_socket, routing.data(), routing.size(), ZMQ_SNDMORE);
        zmq_send(m_socket, envelope.data(), envelope.size(), ZMQ_SNDMORE);
        zmq_send(m_socket, header.data(), header.size(), ZMQ_SNDMORE);
        zmq_send(m_socket, body.data(), body.size(), 0);
    }

    void data(const std::string& routing, uint64_t requestId, uint64_t from, const std::string& bytes) {
        broker::FetchReply reply;
        reply.logId = kLogId;
        reply.epoch = 0;
        reply.from = from;
        reply.end = from + bytes.size();
        reply.primaryDurable = m_source.end;
        reply.definitions = 7;
        send(routing, Command::ReplData, requestId, protocol::toText(protocol::fetchReplyToJson(reply)), bytes);
    }

    void onFetch(const std::string& routing, uint64_t requestId, const broker::FetchRequest& request) {
        if (request.from == 0) ++m_fetchesFromZero;
        if (request.from > 0 && request.logId != kLogId) ++m_foreignFetches;
        const int n = m_fetches++;
        if (n == 0)  // records that start further on: the answers before them were "lost"
            return data(routing, requestId, 9, m_source.bytes.substr(9, 200));
        if (n == 1)  // an answer to an older request, right offset and all: not the one asked for
            return data(routing, requestId - 1, request.from, m_source.bytes);
        if (n == 2)  // no answer at all: the follower must give up on it and ask again
            return;
        if (request.from >= m_source.end) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            return data(routing, requestId, request.from, "");
        }
        data(routing, requestId, request.from, m_source.bytes.substr(request.from));
    }

    void run() {
        while (!m_stop) {
            zmq_pollitem_t item{m_socket, 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&item, 1, 50) <= 0) continue;
            std::vector<std::string> frames;
            int more = 1;
            while (more) {
                zmq_msg_t message;
                zmq_msg_init(&message);
                zmq_msg_recv(&message, m_socket, 0);
                frames.emplace_back(static_cast<char*>(zmq_msg_data(&message)), zmq_msg_size(&message));
                more = zmq_msg_more(&message);
                zmq_msg_close(&message);
            }
            if (frames.size() != 4) continue;
            auto envelope = protocol::decodeEnvelope(frames[1]);
            if (!envelope) continue;
            if (envelope->command == Command::Hello) {
                ++m_hellos;
                send(frames[0], Command::Reply, envelope->requestId, "{}");
            } else if (envelope->command == Command::Admin) {
                send(frames[0], Command::Reply, envelope->requestId, protocol::toText(m_source.definitions));
            } else if (envelope->command == Command::ReplFetch) {
                auto request = protocol::fetchRequestFromJson(*protocol::parseObject(frames[2]));
                if (request) onFetch(frames[0], envelope->requestId, *request);
            }
        }
    }

    const Source& m_source;
    void* m_context = nullptr;
    void* m_socket = nullptr;
    std::string m_endpoint;
    std::thread m_thread;
    std::atomic<bool> m_stop = false;
    std::atomic<int> m_fetchesFromZero = 0;
    std::atomic<int> m_foreignFetches = 0;
    std::atomic<int> m_hellos = 0;
    int m_fetches = 0;
};

}  // namespace

class TestReplicaFollower : public QObject {
    Q_OBJECT

private slots:
    void testGapsStaleAnswersAndSilenceAreFetchedAgain() {
        test::TempDir sourceDir, replicaDir;
        const Source source = makeSource(sourceDir.path());
        FakePrimary primary(source);
        auto replica = broker::Broker::open({.dataDir = replicaDir.path(), .replicaOf = primary.endpoint(),
                                             .replicaName = "follower-test"});
        QVERIFY2(replica.isOk(), replica.status().toString().c_str());

        auto caughtUp = [&] {
            auto position = (*replica)->replicaPosition();
            return position && position->durable == source.end;
        };
        QTRY_VERIFY_WITH_TIMEOUT(caughtUp(), 30000);
        QVERIFY2(primary.fetchesFromZero() >= 4, "the follower did not ask again after each bad answer");
        QVERIFY2(primary.hellos() >= 2, "an unanswered fetch should end the session and open a new one");
        // It took the primary's log before storing a byte of it, and named it in every fetch after.
        QCOMPARE(primary.foreignFetches(), 0);
        QCOMPARE((*replica)->replicaPosition()->logId, std::string(FakePrimary::kLogId));
        auto stats = (*replica)->queueStats("orders");
        QVERIFY2(stats.isOk(), stats.status().toString().c_str());
        QCOMPARE(stats->ready, uint64_t(kMessages));
        QVERIFY((*replica)->close().isOk());

        // Byte for byte what the source holds, and nothing more.
        auto log = storage::CommitLog::open(replicaDir.path() + "/log");
        QVERIFY(log.isOk());
        QCOMPARE((*log)->writtenOffset(), source.end);
        auto copied = (*log)->readFramed(0, source.end, 64u << 20);
        QVERIFY(copied.isOk());
        QVERIFY(copied->bytes == source.bytes);
    }
};

QTEST_GUILESS_MAIN(TestReplicaFollower)
#include "TestReplicaFollower.moc"
