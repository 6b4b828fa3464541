#pragma once
// PeerChannel: one broker talking to another (a replica to its primary, a new primary to the one it replaced):
// a DEALER session opened with HELLO, then one request at a time, answered or timed out. Answers to an earlier,
// abandoned request are recognised by their request id and dropped: a lost or late frame never passes for the
// answer to a later request. One thread only.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "client/DealerSocket.h"
#include "depot/Result.h"
#include "protocol/Protocol.h"

namespace depot::replication {

using Millis = std::chrono::milliseconds;

// CURVE for a peer link (all empty: a plain connection).
struct PeerKeys {
    std::string serverKey;  // the peer's public key
    std::string publicKey;  // ours
    std::string secretKey;
};

struct PeerAnswer {
    protocol::Command command = protocol::Command::Reply;  // REPLY, ERROR or REPL_DATA
    std::string header;
    std::string body;
};

class PeerChannel {
public:
    // Connects and says HELLO (role admin, as `name`). Unavailable when the peer does not answer in `timeout`.
    static Result<std::unique_ptr<PeerChannel>> open(const std::string& endpoint, const std::string& name,
                                                      Millis timeout, const PeerKeys& keys = {});
    ~PeerChannel();
    PeerChannel(const PeerChannel&) = delete;
    PeerChannel& operator=(const PeerChannel&) = delete;

    // Sends a request and waits for its answer. An ERROR answer is returned as an answer (command Error), not a
    // failed Result; a failed Result means no answer (Unavailable: timed out or the socket failed).
    Result<PeerAnswer> call(protocol::Command command, std::string_view header, Millis timeout,
                            std::string_view body = {});
    // An ADMIN call: the REPLY's JSON, or the ERROR as a Status ("code: message").
    Result<std::string> admin(std::string_view header, Millis timeout);

private:
    PeerChannel(void* context, std::unique_ptr<client::DealerSocket> socket, std::string endpoint);
    void* m_context;
    std::unique_ptr<client::DealerSocket> m_socket;
    std::string m_endpoint;
    uint64_t m_nextRequest = 1;
};

}  // namespace depot::replication
