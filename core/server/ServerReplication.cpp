// REPL_FETCH (docs/protocol.md "Replication"): a replica's fetch is answered with REPL_DATA at once when there is
// something to send, else parked until records become durable or kFetchWait passes (then an empty REPL_DATA).
#include "server/ServerImpl.h"

namespace depot::server {
namespace {

constexpr std::chrono::milliseconds kFetchWait{500};
constexpr uint32_t kMaxFetchBytes = 8u << 20;
constexpr uint32_t kDefaultFetchBytes = 1u << 20;

}  // namespace

void Server::Impl::onReplFetch(Session& session, const Incoming& in) {
    const uint64_t requestId = in.envelope.requestId;
    if (session.role != Role::Admin)
        return sendError(session, requestId, "forbidden", "REPL_FETCH needs the admin role (a replica says HELLO as admin)");
    auto json = protocol::parseObject(in.header);
    if (!json) return malformed(&session, session.routingId, requestId, json.status().message());
    auto request = protocol::fetchRequestFromJson(*json);
    if (!request) return sendError(session, requestId, "invalid", request.status().message());
    request->address = session.address;
    if (request->maxBytes == 0) request->maxBytes = kDefaultFetchBytes;
    request->maxBytes = std::min(request->maxBytes, kMaxFetchBytes);
    // A newer fetch from the same session replaces a parked one (its answer would be stale anyway).
    std::erase_if(parkedFetches, [&](const ParkedFetch& p) { return p.sessionId == session.id; });
    answerFetch(session, requestId, *request, true);
}

bool Server::Impl::answerFetch(Session& session, uint64_t requestId, const broker::FetchRequest& request,
                               bool mayPark) {
    auto reply = broker.replicaFetch(request);
    if (!reply) {
        const Status& status = reply.status();
        // InvalidArgument is the one refusal of a well-formed fetch: the replica holds another log.
        const char* code = status.code() == StatusCode::ReadOnly          ? "read-only"
                           : status.code() == StatusCode::InvalidArgument ? "other-log"
                                                                          : "failed";
        sendError(session, requestId, code, status.message());
        return true;
    }
    const bool nothing = reply->bytes.empty() && !reply->truncateTo && !reply->resetTo;
    if (nothing && mayPark) {
        parkedFetches.push_back({session.id, requestId, request, std::chrono::steady_clock::now() + kFetchWait});
        return false;
    }
    send(session, protocol::Command::ReplData, 0, requestId, protocol::toText(protocol::fetchReplyToJson(*reply)),
         reply->bytes);
    return true;
}

void Server::Impl::answerParkedFetches(std::chrono::steady_clock::time_point now, bool onlyExpired) {
    std::vector<ParkedFetch> parked = std::move(parkedFetches);
    parkedFetches.clear();
    for (ParkedFetch& fetch : parked) {
        Session* session = findSession(fetch.sessionId);
        if (!session) continue;
        const bool expired = now >= fetch.deadline;
        if (onlyExpired && !expired) {
            parkedFetches.push_back(std::move(fetch));
            continue;
        }
        // Not expired: answered only if there is data now; otherwise it waits on.
        if (!answerFetch(*session, fetch.requestId, fetch.request, !expired)) {
            parkedFetches.back().deadline = fetch.deadline;
        }
    }
}

}  // namespace depot::server
