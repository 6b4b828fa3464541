#pragma once
// Subscriptions: the consumers of a connection, as the I/O thread sees them. Maps the broker's consumer ids and
// delivery tags (valid for one session) to Subscriptions and client tags (valid for the connection's life),
// consumes again for every subscription when a new session starts, and batches acks: every ack of one round of
// the I/O loop leaves in one ACK frame per consumer, before any other frame, so settlements keep their order
// with everything else (a CANCEL, a NACK). I/O thread only.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/DeliveryTags.h"
#include "depot/Result.h"
#include "depot/broker/Message.h"

namespace depot::client {

class ClientCore;
class Subscription;
struct Answer;

class Subscriptions {
public:
    explicit Subscriptions(ClientCore& core) : m_core(core) {}

    // Consumes now if a session is up, else as soon as one is. `started` gets the first answer to CONSUME (an
    // error removes the subscription).
    void add(std::shared_ptr<Subscription> subscription, std::function<void(const Status&)> started);
    // Closes the subscription and CANCELs its consumer; `done` gets the answer (OK without a session).
    void remove(uint64_t subscription, std::function<void(const Status&)> done);

    void onDeliver(std::string_view header, std::string body);
    void onDeliverBatch(std::string_view header, std::string_view bodies);
    void onSessionReady();
    void onSessionLost();

    // Settling by client tag. A tag that is unknown (settled already, or its session ended) is ignored.
    void ack(uint64_t clientTag);
    void nack(uint64_t clientTag, const broker::NackOptions& options);
    // With a request id: `done` gets OK once the broker says the settlement is durable.
    void settleDurable(uint64_t clientTag, std::optional<broker::NackOptions> nack,
                       std::function<void(const Status&)> done);
    void flushAcks();
    // Hands the deliveries staged since the last call over to their subscriptions' readers. The I/O loop calls it
    // once a round; a subscription that has staged kHandOverBatch in a round is handed them at once, so a long
    // burst does not hold its first deliveries back.
    void handOver();
    void closeAll(const Status& why);

private:
    void consume(const std::shared_ptr<Subscription>& subscription);
    void onConsumeAnswer(const std::shared_ptr<Subscription>& subscription, Result<Answer> answer);
    void attach(const std::shared_ptr<Subscription>& subscription, uint64_t consumer);
    void route(broker::Delivery delivery);
    void hand(const std::shared_ptr<Subscription>& subscription, broker::Delivery delivery);
    void refuse(uint64_t consumer, uint64_t tag);
    void cancel(uint64_t consumer, std::function<void(const Status&)> done);

    ClientCore& m_core;
    std::map<uint64_t, std::shared_ptr<Subscription>> m_byId;
    std::unordered_map<uint64_t, std::shared_ptr<Subscription>> m_byConsumer;  // the broker's consumer id →
    // DELIVERs that came before the answer to their CONSUME (the broker may send the first ones first).
    std::unordered_map<uint64_t, std::vector<broker::Delivery>> m_early;
    std::set<uint64_t> m_cancelled;  // consumers of this session cancelled by us: late deliveries are dropped
    size_t m_consumesInFlight = 0;
    DeliveryTags m_tags;
    std::map<uint64_t, std::vector<uint64_t>> m_acks;  // the broker's consumer id → its tags to ack
    std::vector<std::shared_ptr<Subscription>> m_staging;  // those with deliveries staged since handOver()
};

}  // namespace depot::client
