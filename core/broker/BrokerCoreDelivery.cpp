// Delivery: consumers with prefetch credit, acks, nacks, retries with backoff, ack timeouts, delays and expiry.
#include <algorithm>
#include <charconv>

#include "broker/BrokerCore.h"

namespace depot::broker {
namespace {

void noop(const Status&, std::span<const uint64_t>, uint64_t) {}

std::string formatMs(int64_t ms) {
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

// `value` in decimal, written into `buffer`.
template <size_t N>
std::string_view decimal(uint64_t value, char (&buffer)[N]) {
    auto written = std::to_chars(buffer, buffer + N, value);
    return {buffer, size_t(written.ptr - buffer)};
}

}  // namespace

BrokerCore::Consumer* BrokerCore::findConsumer(uint64_t id) {
    auto it = m_consumers.find(id);
    return it == m_consumers.end() ? nullptr : it->second.get();
}

void BrokerCore::markDirty(Queue& queue) {
    if (queue.consumers.empty()) return;
    if (std::find(m_dirty.begin(), m_dirty.end(), queue.info.id) == m_dirty.end()) m_dirty.push_back(queue.info.id);
}

Result<uint64_t> BrokerCore::consume(const ConsumerSpec& spec, DeliveryHandler handler) {
    Queue* queue = findQueue(spec.queue);
    if (!queue) return Status::notFound("no queue \"" + spec.queue + "\"");
    if (!handler) return Status::invalidArgument("a consumer needs a delivery handler");
    auto consumer = std::make_unique<Consumer>();
    consumer->id = m_nextConsumer++;
    consumer->queue = queue->info.id;
    consumer->spec = spec;
    consumer->handler = std::move(handler);
    uint64_t id = consumer->id;
    m_consumers[id] = std::move(consumer);
    queue->consumers.push_back(id);
    markDirty(*queue);
    return id;
}

Status BrokerCore::cancel(uint64_t id) {
    Consumer* consumer = findConsumer(id);
    if (!consumer) return Status::notFound("no consumer " + std::to_string(id));
    Queue* queue = queueById(consumer->queue);
    if (queue) {
        std::vector<Entry> returned;
        for (auto& [tag, unacked] : consumer->unacked) returned.push_back(unacked.entry);
        // Back at the head, in their original order: the next consumer sees them first.
        std::sort(returned.begin(), returned.end(),
                  [](const Entry& a, const Entry& b) { return a.sequence > b.sequence; });
        for (const Entry& entry : returned) {
            --queue->unacked;
            returnToQueue(*queue, entry);
        }
        std::erase(queue->consumers, id);
    }
    m_consumers.erase(id);
    return Status::ok();
}

Status BrokerCore::ack(uint64_t consumerId, uint64_t tag) {
    Consumer* consumer = findConsumer(consumerId);
    if (!consumer) return Status::notFound("no consumer " + std::to_string(consumerId));
    auto it = consumer->unacked.find(tag);
    if (it == consumer->unacked.end())
        return Status::notFound("delivery tag " + std::to_string(tag) + " is not pending on consumer " +
                                std::to_string(consumerId) + " (already settled, timed out, or never delivered)");
    Entry entry = it->second.entry;
    consumer->unacked.erase(it);
    Queue& queue = *queueById(consumer->queue);
    --queue.unacked;
    settleEntry(queue, entry);
    releaseKey(queue, entry);
    count(queue, &Counters::acked);
    if (m_options.trace)
        traceEvent(TraceKind::Acked, &queue, entry.sequence, "", "", traceDetail({"by ", consumer->spec.name}));
    markDirty(queue);
    return Status::ok();
}

Status BrokerCore::nack(uint64_t consumerId, uint64_t tag, const NackOptions& options) {
    Consumer* consumer = findConsumer(consumerId);
    if (!consumer) return Status::notFound("no consumer " + std::to_string(consumerId));
    auto it = consumer->unacked.find(tag);
    if (it == consumer->unacked.end())
        return Status::notFound("delivery tag " + std::to_string(tag) + " is not pending on consumer " +
                                std::to_string(consumerId) + " (already settled, timed out, or never delivered)");
    Entry entry = it->second.entry;
    consumer->unacked.erase(it);
    Queue& queue = *queueById(consumer->queue);
    --queue.unacked;
    traceEvent(TraceKind::Rejected, &queue, entry.sequence, "", "",
               std::string(options.requeue ? "requeue" : "reject") +
                   (options.error.empty() ? "" : ": " + options.error));
    if (options.requeue || queue.isDeadLetter())
        retryOrDeadLetter(queue, entry, options.error);
    else
        deadLetter(queue, entry, DeathReason::Rejected, options.error);
    markDirty(queue);
    return Status::ok();
}

void BrokerCore::settleEntry(Queue& queue, const Entry& entry) {
    queue.bytes -= std::min<uint64_t>(queue.bytes, entry.size);
    queue.lastErrors.erase(entry.sequence);
    if (entry.inMemory()) {
        m_transient.erase(entry.sequence);
        return;
    }
    m_stager.add(RecordType::Settle, SettleRecord{queue.info.id, entry.offset});
    m_stager.endGroup(false, noop);
}

void BrokerCore::releaseKey(Queue& queue, const Entry& entry) {
    if (entry.hasKey()) queue.ready.unblock(entry.keyHash);
}

void BrokerCore::returnToQueue(Queue& queue, const Entry& entry) {
    queue.ready.pushFront(entry);
    markDirty(queue);
}

void BrokerCore::retryOrDeadLetter(Queue& queue, Entry entry, const std::string& error, bool afterBackoff) {
    const QueuePolicy& policy = queue.info.policy;
    if (!error.empty()) queue.lastErrors[entry.sequence] = error;
    if (!queue.isDeadLetter() && policy.maxAttempts && entry.attempts >= policy.maxAttempts)
        return deadLetter(queue, entry, DeathReason::MaxAttempts, error);
    size_t step = std::min<size_t>(entry.attempts ? entry.attempts - 1 : 0, policy.backoff.size() - 1);
    int64_t delay = !afterBackoff || policy.backoff.empty() ? 0 : policy.backoff[step].count();
    TimeMs due = now() + delay;
    count(queue, &Counters::retried);
    traceEvent(TraceKind::RetryScheduled, &queue, entry.sequence, "", "",
               "attempt " + std::to_string(entry.attempts) + " failed" + (error.empty() ? "" : " (" + error + ")") +
                   "; retry in " + formatMs(delay));
    if (!entry.inMemory()) {
        m_stager.add(RecordType::Return, ReturnRecord{queue.info.id, entry.offset, entry.attempts, due, error});
        m_stager.endGroup(false, noop);
    }
    if (delay == 0) return returnToQueue(queue, entry);
    holdUntil(queue, due, entry);  // a per-key queue keeps the key blocked until the retry is delivered
}

void BrokerCore::dispatch(Queue& queue) {
    size_t idle = 0;
    while (queue.ready.hasDeliverable() && !queue.consumers.empty() && idle < queue.consumers.size()) {
        uint64_t id = queue.consumers[queue.nextConsumer++ % queue.consumers.size()];
        Consumer& consumer = *m_consumers.at(id);
        const bool full = consumer.spec.prefetch && consumer.unacked.size() >= consumer.spec.prefetch;
        const bool done = consumer.spec.limit && consumer.nextTag > consumer.spec.limit;  // tags count deliveries
        if (full || done) {
            ++idle;
            continue;
        }
        idle = 0;
        deliverOne(queue, consumer);
    }
}

Result<MessageRecord> BrokerCore::copyOfTransient(const Entry& entry) const {
    auto shared = loadMessage(entry);
    if (!shared) return shared.status();
    return MessageRecord(**shared);
}

bool BrokerCore::deliverOne(Queue& queue, Consumer& consumer) {
    Entry entry;
    if (!queue.ready.pop(entry)) return false;
    TimeMs at = now();
    if (entry.expiresAt && entry.expiresAt <= at) {
        count(queue, &Counters::expired);
        deadLetter(queue, entry, DeathReason::Expired, "expired before delivery");
        return true;
    }
    // A message read from the log is this delivery's own: its fields move into the delivery. An in-memory one
    // is shared with its other queues: copied.
    Result<MessageRecord> record = entry.inMemory() ? copyOfTransient(entry) : readMessage(entry);
    if (!record) {
        queue.unreadable.push_back(entry);
        releaseKey(queue, entry);
        traceEvent(TraceKind::Nacked, &queue, entry.sequence, "", "", "unreadable: " + record.status().message());
        return true;
    }
    MessageRecord& message = *record;
    if (entry.attempts < 0xffff) ++entry.attempts;
    count(queue, &Counters::delivered);
    if (entry.attempts > 1) count(queue, &Counters::redelivered);
    if (entry.attempts == 1 && at >= message.publishedAt)
        m_deliverLatency.record(uint64_t(at - message.publishedAt) * 1'000'000);
    if (m_options.trace) {
        char attempt[8], id[24];
        std::string_view name = consumer.spec.name;
        traceEvent(TraceKind::Delivered, &queue, entry.sequence, message.messageId, message.key,
                   traceDetail({"attempt ", decimal(entry.attempts, attempt), " to consumer ", decimal(consumer.id, id),
                                name.empty() ? "" : " (", name, name.empty() ? "" : ")"}));
    }
    Delivery delivery{consumer.id,
                      consumer.nextTag++,
                      queue.info.name,
                      entry.sequence,
                      std::move(message.messageId),
                      std::move(message.key),
                      std::move(message.headers),
                      std::move(message.body),
                      entry.attempts,
                      entry.attempts > 1,
                      message.publishedAt,
                      std::move(message.death)};
    if (consumer.spec.autoAck) {
        settleEntry(queue, entry);
        releaseKey(queue, entry);
        count(queue, &Counters::acked);
    } else {
        consumer.unacked[delivery.tag] = {entry, at};
        ++queue.unacked;
    }
    m_outbox.push_back([this, id = consumer.id, delivery = std::move(delivery)]() mutable {
        if (Consumer* target = findConsumer(id)) target->handler(std::move(delivery));
    });
    return true;
}

void BrokerCore::checkAckTimeouts(TimeMs at) {
    for (auto& [id, consumer] : m_consumers) {
        Queue* queue = queueById(consumer->queue);
        if (!queue || queue->info.policy.ackTimeout.count() == 0) continue;
        int64_t timeout = queue->info.policy.ackTimeout.count();
        std::vector<uint64_t> expired;
        for (const auto& [tag, unacked] : consumer->unacked)
            if (at - unacked.deliveredAt >= timeout) expired.push_back(tag);
        // Newest first: each goes back to the head, so they end up in their original order.
        std::sort(expired.begin(), expired.end(), std::greater<>());
        for (uint64_t tag : expired) {
            Entry entry = consumer->unacked[tag].entry;
            consumer->unacked.erase(tag);
            --queue->unacked;
            retryOrDeadLetter(*queue, entry, "no ack within " + formatMs(timeout), false);
            markDirty(*queue);
        }
    }
}

void BrokerCore::holdUntil(Queue& queue, TimeMs due, const Entry& entry) {
    queue.delayed.emplace(due, entry);
    m_queuesWithDelayed.insert(queue.info.id);
}

void BrokerCore::promoteDue(TimeMs at) {
    // Only queues that had something delayed: a loop round must not cost O(all queues) (there may be 10,000s).
    for (auto it = m_queuesWithDelayed.begin(); it != m_queuesWithDelayed.end();) {
        Queue* queue = queueById(*it);
        if (!queue || queue->delayed.empty()) {
            it = m_queuesWithDelayed.erase(it);
            continue;
        }
        ++it;
        while (!queue->delayed.empty() && queue->delayed.begin()->first <= at) {
            Entry entry = queue->delayed.begin()->second;
            queue->delayed.erase(queue->delayed.begin());
            if (entry.expiresAt && entry.expiresAt <= at) {
                count(*queue, &Counters::expired);
                deadLetter(*queue, entry, DeathReason::Expired, "expired while delayed");
                continue;
            }
            if (entry.attempts > 0)
                queue->ready.pushFront(entry);  // a retry goes first, and frees its key for itself
            else
                queue->ready.pushBack(entry);
            markDirty(*queue);
        }
    }
}

void BrokerCore::sweepExpired(Queue& queue, TimeMs at) {
    if (!queue.expiring) return;
    std::vector<Entry> expired;
    uint64_t remaining = 0;
    queue.ready.removeIf([&](const Entry& entry) {
        if (!entry.expiresAt) return false;
        if (entry.expiresAt > at) {
            ++remaining;
            return false;
        }
        expired.push_back(entry);
        return true;
    });
    for (const auto& [due, entry] : queue.delayed) remaining += entry.expiresAt ? 1 : 0;
    queue.expiring = remaining + queue.unacked;  // unacked entries may come back with an expiry
    for (const Entry& entry : expired) {
        count(queue, &Counters::expired);
        deadLetter(queue, entry, DeathReason::Expired, "expired (ttl)");
    }
}

}  // namespace depot::broker
