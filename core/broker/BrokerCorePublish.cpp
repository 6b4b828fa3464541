// Publish: validate, route, refuse what cannot be kept, deduplicate, store, and confirm only once the queues'
// durability policy holds.
#include <algorithm>
#include <cstdio>

#include "broker/BrokerCore.h"
#include "broker/TopicMatcher.h"
#include "depot/broker/Validation.h"

namespace depot::broker {
namespace {

uint64_t idHash(const std::string& id) { return std::hash<std::string>{}(id); }

uint32_t keyHash(const std::string& key) {
    uint64_t h = std::hash<std::string>{}(key);
    return uint32_t(h ^ (h >> 32)) | 1u;  // never 0
}

Status validateMessage(const Message& message, size_t maxSize) {
    if (message.id.size() > 255) return Status::invalidArgument("message id is longer than 255 bytes");
    if (message.key.size() > 255) return Status::invalidArgument("message key is longer than 255 bytes");
    DEPOT_RETURN_IF_ERROR(validateHeaders(message.headers));
    if (message.ttl && message.ttl->count() <= 0) return Status::invalidArgument("message ttl must be positive");
    if (message.delay && message.delay->count() < 0) return Status::invalidArgument("message delay is negative");
    size_t size = message.body.size() + message.id.size() + message.key.size();
    for (const auto& [name, value] : message.headers) size += name.size() + value.size();
    if (size > maxSize)
        return Status::tooLarge("message of " + std::to_string(size) + " bytes exceeds the limit of " +
                                std::to_string(maxSize) + " bytes");
    return Status::ok();
}

std::string generatedId(TimeMs now, uint64_t counter) {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "depot-%llx-%llx", (unsigned long long)now, (unsigned long long)counter);
    return buffer;
}

}  // namespace

void BrokerCore::nackPublish(ConfirmHandler& handler, const PublishRequest& request, NackReason reason,
                             std::string error) {
    PublishResult result{PublishOutcome::Nacked, reason, std::move(error), request.message.id, {}};
    traceEvent(TraceKind::Nacked, nullptr, 0, request.message.id, request.message.key,
               std::string(toString(reason)) + ": " + result.error);
    if (reason != NackReason::Overflow) ++m_retiredCounters.nacked;  // an overflow is counted on its queue
    m_outbox.push_back([handler = std::move(handler), result = std::move(result)] {
        if (handler) handler(result);
    });
}

BrokerCore::Route BrokerCore::route(const PublishRequest& request) {
    Route route;
    if (request.exchange.empty()) {
        if (Queue* queue = findQueue(request.routingKey)) {
            route.queues.push_back(queue);
        } else {
            route.reason = NackReason::NoQueue;
            route.error = "no queue named \"" + request.routingKey + "\"";
        }
        return route;
    }
    auto exchange = m_exchanges.find(request.exchange);
    if (exchange == m_exchanges.end()) {
        route.reason = NackReason::NoExchange;
        route.error = "no exchange named \"" + request.exchange + "\"";
        return route;
    }
    const ExchangeSpec& spec = exchange->second;
    for (const Binding& binding : m_bindings) {
        if (binding.exchange != spec.name) continue;
        bool match = spec.type == ExchangeType::Fanout ||
                     (spec.type == ExchangeType::Direct && binding.pattern == request.routingKey) ||
                     (spec.type == ExchangeType::Topic && topicMatches(binding.pattern, request.routingKey));
        Queue* queue = match ? findQueue(binding.queue) : nullptr;
        if (queue && std::find(route.queues.begin(), route.queues.end(), queue) == route.queues.end())
            route.queues.push_back(queue);
    }
    if (route.queues.empty() && !spec.alternateQueue.empty())
        if (Queue* alternate = findQueue(spec.alternateQueue)) route.queues.push_back(alternate);
    if (route.queues.empty()) {
        route.reason = NackReason::NoRoute;
        route.error = "exchange \"" + spec.name + "\" has no binding matching routing key \"" +
                      request.routingKey + "\" and no alternate queue";
    }
    return route;
}

bool BrokerCore::checkOverflow(const Route& route, ConfirmHandler& handler, const PublishRequest& request) {
    for (Queue* queue : route.queues) {
        const QueuePolicy& policy = queue->info.policy;
        if (!policy.maxLength || queue->depth() < *policy.maxLength) continue;
        // Dead-letter-oldest makes room when the new message is applied: possible while a message is ready, or
        // still on its way to being ready (a burst's earlier publishes, staged but not yet written).
        if (policy.overflow == Overflow::DeadLetterOldest && (!queue->ready.empty() || queue->pending > 0)) continue;
        count(*queue, &Counters::nacked);
        nackPublish(handler, request, NackReason::Overflow,
                    "queue \"" + queue->info.name + "\" is full (max-length " + std::to_string(*policy.maxLength) +
                        ", overflow " + std::string(toString(policy.overflow)) + ")");
        return false;
    }
    return true;
}

std::vector<Queue*> BrokerCore::dropDuplicates(Route& route, const Message& message,
                                               std::vector<std::string>& dupQueues) {
    if (message.id.empty()) return std::move(route.queues);
    std::vector<Queue*> keep;  // filled only once a duplicate turns up: most publishes have none
    bool anyDuplicate = false;
    uint64_t hash = idHash(message.id);
    // A publish with this id still staged is in no window yet: append it now so it is (a rare, early append).
    if (m_stagedIds.find(hash)) m_stager.flush();
    for (size_t i = 0; i < route.queues.size(); ++i) {
        Queue* queue = route.queues[i];
        auto sequence = queue->info.policy.dedupWindow.count() > 0 ? queue->dedup.find(hash) : std::nullopt;
        bool duplicate = false;
        if (sequence) {
            // Compare the stored id: a hash collision must never turn a new message into a "duplicate".
            Entry probe{*sequence, *sequence};
            if (isTransientSequence(*sequence)) probe.flags = kEntryInMemory;
            auto stored = loadMessage(probe);
            duplicate = stored && (*stored)->messageId == message.id;
        }
        if (duplicate) {
            if (!anyDuplicate) keep.assign(route.queues.begin(), route.queues.begin() + ptrdiff_t(i));
            anyDuplicate = true;
            dupQueues.push_back(queue->info.name);
            count(*queue, &Counters::deduplicated);
            traceEvent(TraceKind::Duplicate, queue, *sequence, message.id, message.key, "");
        } else if (anyDuplicate) {
            keep.push_back(queue);
        }
    }
    return anyDuplicate ? keep : std::move(route.queues);
}

void BrokerCore::publish(PublishRequest request, ConfirmHandler handler) {
    uint64_t started = steadyNs();
    Message& message = request.message;
    if (Status writable = checkWritable("publish"); !writable)
        return nackPublish(handler, request, NackReason::NotPrimary, writable.message());
    if (Status valid = validateMessage(message, m_options.maxMessageSize); !valid) {
        auto reason = valid.code() == StatusCode::TooLarge ? NackReason::TooLarge : NackReason::Invalid;
        return nackPublish(handler, request, reason, valid.message());
    }
    Route routed = route(request);
    if (routed.reason != NackReason::None) return nackPublish(handler, request, routed.reason, routed.error);
    static uint64_t generated = 0;
    bool idGenerated = message.id.empty();
    if (idGenerated) message.id = generatedId(now(), ++generated);
    if (!request.transaction.empty()) return prepareTransaction(request, routed.queues, std::move(handler));
    if (!checkOverflow(routed, handler, request)) return;
    std::vector<std::string> dupQueues;
    std::vector<Queue*> targets = dropDuplicates(routed, message, dupQueues);
    if (targets.empty())
        return confirmDuplicate(routed, message.id, std::move(dupQueues), std::move(handler));
    bool persistent = message.persistent;
    auto record = std::make_shared<MessageRecord>(makeRecord(request, targets, now()));
    if (idGenerated) record->flags |= kMessageGeneratedId;
    storeMessage(std::move(targets), std::move(record), persistent, started, std::move(handler), std::move(dupQueues));
}

void BrokerCore::confirmDuplicate(const Route& route, const std::string& id, std::vector<std::string> dupQueues,
                                  ConfirmHandler handler) {
    PublishResult result{PublishOutcome::Duplicate, NackReason::None, "", id, std::move(dupQueues)};
    auto answer = [this, handler = std::move(handler), result](const Status& status, bool onReplica) mutable {
        if (!status) {
            result = {PublishOutcome::Nacked, NackReason::ReplicaUnavailable, status.message(), result.messageId, {}};
        } else if (!onReplica) {
            result.reason = NackReason::ReplicaUnavailable;
            result.error = "the stored copy is on this broker only: no replica acknowledged it in time";
        }
        m_outbox.push_back([handler = std::move(handler), result = std::move(result)] { handler(result); });
    };
    // The stored copy of a sync-replicated queue may be the one a replica did not acknowledge (its publish was
    // nacked): the duplicate is confirmed only once a replica has it.
    for (Queue* queue : route.queues) {
        const QueuePolicy& policy = queue->info.policy;
        auto sequence = queue->dedup.find(idHash(id));
        if (policy.replication != Replication::Sync || !sequence || isTransientSequence(*sequence)) continue;
        return whenReplicated(*sequence + 1, policy, std::move(answer));
    }
    answer(Status::ok(), true);
}

MessageRecord BrokerCore::makeRecord(PublishRequest& request, const std::vector<Queue*>& queues, TimeMs at) const {
    Message& message = request.message;
    MessageRecord record;
    for (Queue* queue : queues) record.queues.push_back(queue->info.id);
    record.publishedAt = at;
    if (message.ttl) record.expiresAt = timeAfter(at, message.ttl->count());
    if (message.delay && message.delay->count() > 0) record.dueAt = timeAfter(at, message.delay->count());
    record.messageId = std::move(message.id);
    record.key = std::move(message.key);
    record.producer = std::move(request.producer);
    record.transaction = std::move(request.transaction);
    record.headers = std::move(message.headers);
    record.body = std::move(message.body);
    return record;
}

void BrokerCore::insertEntry(Queue& queue, Entry entry, TimeMs dueAt) {
    if (auto ttl = queue.info.policy.ttl; ttl && !queue.isDeadLetter()) {
        TimeMs queueExpiry = timeAfter(entry.publishedAt, ttl->count());
        entry.expiresAt = entry.expiresAt ? std::min(entry.expiresAt, queueExpiry) : queueExpiry;
    }
    if (queue.isDeadLetter()) entry.expiresAt = 0;
    if (entry.expiresAt) ++queue.expiring;
    queue.bytes += entry.size;
    if (dueAt > now()) {
        holdUntil(queue, dueAt, entry);
    } else {
        queue.ready.pushBack(entry);
        markDirty(queue);
    }
    if (queue.info.policy.maxLength && queue.info.policy.overflow == Overflow::DeadLetterOldest) applyOverflow(queue);
}

void BrokerCore::applyOverflow(Queue& queue) {
    Entry oldest;
    while (queue.depth() > *queue.info.policy.maxLength && queue.ready.popOldest(oldest))
        deadLetter(queue, oldest, DeathReason::Overflow, "queue full: dead-lettered the oldest message");
}

Entry entryFor(const MessageRecord& record, uint64_t offset, uint64_t sequence, bool inMemory) {
    Entry entry;
    entry.offset = offset;
    entry.sequence = sequence;
    entry.publishedAt = record.publishedAt;
    entry.expiresAt = std::min(record.expiresAt, kLatestTime);  // a record of an older version may hold more
    entry.size = uint32_t(record.body.size());
    entry.attempts = uint16_t(std::min<uint32_t>(record.attempts, 0xffff));
    if (!record.key.empty()) {
        entry.keyHash = keyHash(record.key);
        entry.flags |= kEntryHasKey;
    }
    if (inMemory) entry.flags |= kEntryInMemory;
    return entry;
}

}  // namespace depot::broker
