#pragma once
// Publisher: sends a stream of messages in one mode and reports each outcome as it arrives (publish, dlq import).
//
// With --json, one line per message: {"id", "body" (when the caller gives one to echo), "outcome":
// "confirmed" | "duplicate" | "nacked" (+ "reason", "error") | "unconfirmed" (+ "error")}. Otherwise a summary
// "published N, confirmed N, nacked N" (+ duplicate and unconfirmed counts when not zero).
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "Context.h"
#include "depot/broker/Message.h"
#include "depot/client/Producer.h"

namespace depotctl {

enum class PublishMode { Sync, Async, Oneway };

class Publisher {
public:
    // `verb` names what the summary counts ("published", "imported").
    Publisher(Context& context, depot::client::Producer& producer, PublishMode mode, std::string verb);

    // Sends one message; `echo` is printed as its "body" with --json. false when nothing more should be sent
    // (oneway: the connection is gone).
    bool send(depot::broker::PublishRequest request, std::optional<std::string> echo = std::nullopt);
    // Waits for every outcome, prints the summary (not with --json) and returns the exit code: 1 when a message
    // was nacked or unconfirmed (oneway: only when it could not be handed over), else 0.
    int finish();

private:
    struct Outcome {
        std::optional<std::string> echo;
        depot::client::SendResult result;
    };
    struct Inbox {
        std::mutex mutex;
        std::condition_variable arrived;
        std::deque<Outcome> outcomes;
    };

    void record(const Outcome& outcome);
    void drain(bool waitForAll);
    void confirmOnewayDelivery();
    std::string summary() const;

    Context& m_context;
    depot::client::Producer& m_producer;
    PublishMode m_mode;
    std::string m_verb;
    std::shared_ptr<Inbox> m_inbox = std::make_shared<Inbox>();
    uint64_t m_sent = 0;
    uint64_t m_reported = 0;
    uint64_t m_confirmed = 0, m_duplicate = 0, m_nacked = 0, m_unconfirmed = 0;
    bool m_onewayFailed = false;  // a oneway message could not be handed over, or may not have reached the broker
    std::string m_firstProblem;   // for the error line
};

}  // namespace depotctl
