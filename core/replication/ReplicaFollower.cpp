#include "replication/ReplicaFollower.h"

#include "client/WireError.h"
#include "protocol/ProtocolJson.h"
#include "replication/PeerChannel.h"

namespace depot::replication {
namespace {

constexpr std::chrono::milliseconds kRetryPause{500};

Result<broker::Definitions> decodeDefinitions(const std::string& text) {
    auto json = protocol::parseObject(text);
    if (!json) return json.status();
    broker::Definitions out;
    try {
        out.version = (*json)["version"].get<uint64_t>();
        for (const auto& queue : (*json)["queues"]) {
            auto info = protocol::queueInfoFromJson(queue);
            if (!info) return info.status();
            out.queues.push_back(std::move(*info));
        }
        for (const auto& exchange : (*json)["exchanges"]) {
            auto spec = protocol::exchangeFromJson(exchange);
            if (!spec) return spec.status();
            out.exchanges.push_back(std::move(*spec));
        }
        for (const auto& binding : (*json)["bindings"]) {
            auto parsed = protocol::bindingFromJson(binding);
            if (!parsed) return parsed.status();
            out.bindings.push_back(std::move(*parsed));
        }
    } catch (const std::exception& e) {
        return Status::invalidArgument(std::string("unreadable definitions from the primary: ") + e.what());
    }
    return out;
}

}  // namespace

ReplicaFollower::ReplicaFollower(broker::Broker& broker, FollowerOptions options)
    : m_broker(broker), m_options(std::move(options)), m_thread([this] { run(); }) {}

ReplicaFollower::~ReplicaFollower() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
}

void ReplicaFollower::pause(std::chrono::milliseconds how) {
    const auto until = std::chrono::steady_clock::now() + how;
    while (!m_stop && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void ReplicaFollower::run() {
    while (!m_stop) {
        auto channel =
            PeerChannel::open(m_options.primary, "replica " + m_options.name, m_options.answerTimeout, m_options.keys);
        Status ended = channel ? follow(**channel) : channel.status();
        if (m_stop) break;
        m_broker.noteFollower(false, 0, 0, ended.toString());
        pause(kRetryPause);
    }
}

Status ReplicaFollower::applyDefinitions(PeerChannel& channel) {
    auto text = channel.admin(protocol::toText({{"op", "replica.definitions"}}), m_options.answerTimeout);
    if (!text) return text.status();
    auto definitions = decodeDefinitions(*text);
    if (!definitions) return definitions.status();
    return m_broker.replaceDefinitions(std::move(*definitions));
}

Status ReplicaFollower::follow(PeerChannel& channel) {
    while (!m_stop) {
        auto position = m_broker.replicaPosition();
        if (!position) return position.status();
        broker::FetchRequest request{m_options.name,      "",
                                     position->logId,     position->lastEpoch,
                                     position->written,   position->durable,
                                     m_options.maxBytes};
        auto answer = channel.call(protocol::Command::ReplFetch, protocol::toText(protocol::fetchRequestToJson(request)),
                                   m_options.answerTimeout);
        if (!answer) return answer.status();
        if (answer->command == protocol::Command::Error) return client::WireError::parse(answer->header).toStatus();
        if (answer->command != protocol::Command::ReplData)
            return Status::invalidArgument("the primary answered a fetch with " +
                                           std::string(protocol::commandName(answer->command)));
        auto header = protocol::parseObject(answer->header);
        if (!header) return header.status();
        auto reply = protocol::fetchReplyFromJson(*header);
        if (!reply) return reply.status();
        if (reply->from != position->written) continue;  // stale: ask again from where this log ends
        if (reply->logId != position->logId) {  // the first answer to an empty replica: its log is the primary's
            DEPOT_RETURN_IF_ERROR(m_broker.adoptLogId(reply->logId));
            continue;
        }
        if (reply->truncateTo) {
            DEPOT_RETURN_IF_ERROR(m_broker.truncateReplica(*reply->truncateTo));
            continue;
        }
        if (reply->resetTo) {
            DEPOT_RETURN_IF_ERROR(m_broker.resetReplica(*reply->resetTo));
            continue;
        }
        if (answer->body.size() != reply->end - reply->from)
            return Status::corruption("REPL_DATA body is " + std::to_string(answer->body.size()) + " bytes, header says " +
                                      std::to_string(reply->end - reply->from));
        // Definitions first: the records may name a queue declared since the last look.
        if (reply->definitions != position->definitions) DEPOT_RETURN_IF_ERROR(applyDefinitions(channel));
        if (!answer->body.empty()) {
            DEPOT_RETURN_IF_ERROR(m_broker.storeReplicated(reply->from, answer->body));  // durable on return
        }
        m_broker.noteFollower(true, reply->primaryDurable, reply->logStart, "");
    }
    return Status::closed("stopped");
}

}  // namespace depot::replication
