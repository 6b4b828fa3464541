#include "client/Subscriptions.h"

#include <algorithm>

#include "client/ClientCore.h"
#include "client/Subscription.h"
#include "protocol/Protocol.h"
#include "protocol/ProtocolJson.h"

namespace depot::client {

namespace {

constexpr size_t kMaxTagsPerAck = 8192;
constexpr size_t kHandOverBatch = 16;  // deliveries staged for one subscription before a hand-over in mid-round

std::function<void(Result<Answer>)> toStatus(std::function<void(const Status&)> done) {
    return [done = std::move(done)](Result<Answer> answer) {
        if (done)
            done(answer ? Status::ok() : answer.status());
    };
}

}  // namespace

void Subscriptions::add(std::shared_ptr<Subscription> subscription, std::function<void(const Status&)> started) {
    if (m_core.closing()) {
        started(m_core.closedStatus());
        return;
    }
    subscription->started = std::move(started);
    m_byId[subscription->id()] = subscription;
    if (m_core.ready())
        consume(subscription);
}

void Subscriptions::consume(const std::shared_ptr<Subscription>& subscription) {
    const ConsumerOptions& options = subscription->options();
    protocol::Json header = {
        {"queue", options.queue}, {"prefetch", options.prefetch}, {"ack", options.autoAck ? "auto" : "manual"}};
    if (!options.name.empty())
        header["name"] = options.name;
    if (options.limit)
        header["limit"] = options.limit;
    subscription->consuming = true;
    ++m_consumesInFlight;
    // Forget: a CONSUME lost with its session is issued again by onSessionReady.
    m_core.request({protocol::Command::Consume, protocol::toText(header), "CONSUME " + options.queue,
                    OnSessionLoss::Forget, std::nullopt},
                   [this, subscription](Result<Answer> answer) { onConsumeAnswer(subscription, std::move(answer)); });
}

void Subscriptions::onConsumeAnswer(const std::shared_ptr<Subscription>& subscription, Result<Answer> answer) {
    subscription->consuming = false;
    --m_consumesInFlight;
    Status status = answer.status();
    uint64_t consumer = 0;
    if (answer) {
        Result<protocol::Json> reply = protocol::parseObject(answer->header);
        if (reply && reply->contains("consumer") && (*reply)["consumer"].is_number_unsigned())
            consumer = (*reply)["consumer"].get<uint64_t>();
        else
            status = Status::invalidArgument("unreadable answer to CONSUME " + subscription->options().queue);
    }
    auto started = std::move(subscription->started);
    subscription->started = nullptr;
    const bool removed = m_byId.count(subscription->id()) == 0;
    if (!status) {
        if (!removed) {
            m_byId.erase(subscription->id());
            subscription->close(status);  // after a reconnection: the queue is gone, say
        }
    } else if (removed) {
        m_early.erase(consumer);
        m_cancelled.insert(consumer);
        cancel(consumer, nullptr);
    } else {
        attach(subscription, consumer);
    }
    if (started)
        started(status);
    if (m_consumesInFlight == 0) {  // no answer to come can claim these any more
        for (auto& [early, deliveries] : m_early) {
            for (const broker::Delivery& delivery : deliveries)
                refuse(delivery.consumer, delivery.tag);
        }
        m_early.clear();
    }
}

void Subscriptions::attach(const std::shared_ptr<Subscription>& subscription, uint64_t consumer) {
    subscription->brokerConsumer = consumer;
    m_byConsumer[consumer] = subscription;
    auto early = m_early.find(consumer);
    if (early == m_early.end())
        return;
    std::vector<broker::Delivery> deliveries = std::move(early->second);
    m_early.erase(early);
    for (broker::Delivery& delivery : deliveries)
        hand(subscription, std::move(delivery));
}

void Subscriptions::onDeliver(std::string_view header, std::string body) {
    Result<broker::Delivery> delivery = protocol::decodeDeliver(header, std::move(body));
    if (delivery)
        route(std::move(delivery).value());
    // else malformed: cannot even be nacked; it stays unacked until the session ends
}

void Subscriptions::onDeliverBatch(std::string_view header, std::string_view bodies) {
    Result<std::vector<broker::Delivery>> deliveries = protocol::decodeDeliverBatch(header, bodies);
    if (!deliveries)
        return;  // as a malformed DELIVER: they stay unacked until the session ends
    for (broker::Delivery& delivery : *deliveries)
        route(std::move(delivery));
}

void Subscriptions::route(broker::Delivery delivery) {
    auto it = m_byConsumer.find(delivery.consumer);
    if (it != m_byConsumer.end()) {
        hand(it->second, std::move(delivery));
    } else if (m_cancelled.count(delivery.consumer) == 0) {
        if (m_consumesInFlight > 0)
            m_early[delivery.consumer].push_back(std::move(delivery));
        else
            refuse(delivery.consumer, delivery.tag);
    }
}

void Subscriptions::hand(const std::shared_ptr<Subscription>& subscription, broker::Delivery delivery) {
    if (subscription->options().autoAck)
        delivery.tag = 0;  // settled by the broker already
    else
        delivery.tag = m_tags.add({subscription->id(), delivery.consumer, delivery.tag});
    delivery.consumer = subscription->id();
    if (subscription->staged() == 0)
        m_staging.push_back(subscription);
    subscription->stage(std::move(delivery));
    if (subscription->staged() >= kHandOverBatch)
        subscription->handOver();  // may be listed twice now: handing over nothing is nothing
}

void Subscriptions::handOver() {
    for (const std::shared_ptr<Subscription>& subscription : m_staging)
        subscription->handOver();
    m_staging.clear();
}

void Subscriptions::refuse(uint64_t consumer, uint64_t tag) {
    protocol::NackFrame nack{consumer, tag, {true, "the client has no consumer " + std::to_string(consumer)}};
    m_core.sendFrame(protocol::Command::Nack, 0, 0, protocol::encodeNack(nack));
}

void Subscriptions::remove(uint64_t id, std::function<void(const Status&)> done) {
    auto it = m_byId.find(id);
    if (it == m_byId.end()) {
        done(Status::ok());
        return;
    }
    std::shared_ptr<Subscription> subscription = it->second;
    m_byId.erase(it);
    subscription->close();
    m_tags.eraseSubscription(id);
    if (auto started = std::move(subscription->started)) {
        subscription->started = nullptr;
        started(Status::closed("cancelled before the broker answered CONSUME"));
    }
    const uint64_t consumer = subscription->brokerConsumer;
    if (consumer == 0) {
        done(Status::ok());  // not consuming; a CONSUME still in flight is cancelled when its answer comes
        return;
    }
    subscription->brokerConsumer = 0;
    m_byConsumer.erase(consumer);
    m_cancelled.insert(consumer);
    cancel(consumer, std::move(done));
}

void Subscriptions::cancel(uint64_t consumer, std::function<void(const Status&)> done) {
    protocol::Json header = {{"consumer", consumer}};
    m_core.request({protocol::Command::Cancel, protocol::toText(header), "CANCEL", OnSessionLoss::Succeed,
                    m_core.options().requestTimeout},
                   toStatus(std::move(done)));
}

void Subscriptions::onSessionReady() {
    for (auto& [id, subscription] : m_byId)
        consume(subscription);
}

void Subscriptions::onSessionLost() {
    m_byConsumer.clear();
    m_early.clear();
    m_cancelled.clear();
    m_consumesInFlight = 0;
    m_tags.clear();
    m_acks.clear();
    for (auto& [id, subscription] : m_byId) {
        subscription->brokerConsumer = 0;
        subscription->consuming = false;
        if (!subscription->options().autoAck)
            subscription->dropUndelivered();
    }
}

void Subscriptions::ack(uint64_t clientTag) {
    if (std::optional<BrokerTag> tag = m_tags.take(clientTag))
        m_acks[tag->consumer].push_back(tag->tag);
}

void Subscriptions::nack(uint64_t clientTag, const broker::NackOptions& options) {
    if (std::optional<BrokerTag> tag = m_tags.take(clientTag))
        m_core.sendFrame(protocol::Command::Nack, 0, 0, protocol::encodeNack({tag->consumer, tag->tag, options}));
}

void Subscriptions::settleDurable(uint64_t clientTag, std::optional<broker::NackOptions> nack,
                                  std::function<void(const Status&)> done) {
    std::optional<BrokerTag> tag = m_tags.take(clientTag);
    if (!tag) {
        done(Status::unavailable("delivery " + std::to_string(clientTag) +
                                 " cannot be settled: it was settled already, or the session that delivered it "
                                 "ended (the broker delivers it again)"));
        return;
    }
    RequestSpec spec;
    spec.command = nack ? protocol::Command::Nack : protocol::Command::Ack;
    spec.header = nack ? protocol::encodeNack({tag->consumer, tag->tag, *nack})
                       : protocol::encodeAck({tag->consumer, {tag->tag}});
    spec.what = nack ? "NACK" : "ACK";
    spec.onLoss = OnSessionLoss::Fail;
    spec.timeout = m_core.options().requestTimeout;
    m_core.request(std::move(spec), toStatus(std::move(done)));
}

void Subscriptions::flushAcks() {
    if (m_acks.empty())
        return;
    std::map<uint64_t, std::vector<uint64_t>> batch;
    batch.swap(m_acks);
    for (auto& [consumer, tags] : batch) {
        for (size_t first = 0; first < tags.size(); first += kMaxTagsPerAck) {
            const size_t last = std::min(tags.size(), first + kMaxTagsPerAck);
            protocol::AckFrame frame{consumer, {tags.begin() + first, tags.begin() + last}};
            m_core.sendFrame(protocol::Command::Ack, 0, 0, protocol::encodeAck(frame));
        }
    }
}

void Subscriptions::closeAll(const Status& why) {
    auto subscriptions = std::move(m_byId);
    m_byId.clear();
    for (auto& [id, subscription] : subscriptions) {
        subscription->close(why);
        if (auto started = std::move(subscription->started)) {
            subscription->started = nullptr;
            started(why);
        }
    }
}

}  // namespace depot::client
