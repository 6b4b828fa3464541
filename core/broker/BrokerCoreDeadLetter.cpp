// Dead letters and requeues. Each move is one atomic log batch: [MESSAGE to the target, SETTLE at the source].
// A crash before the batch leaves the message where it was; after it, the message is only at the target. The
// in-memory move happens when the batch is written, so a failed write leaves the message in its source queue.
#include "broker/BrokerCore.h"
#include "depot/broker/Validation.h"

namespace depot::broker {
namespace {

// Finds a waiting (ready or delayed) message without moving it, so a requeue that fails leaves its queue as it was.
bool findWaiting(const Queue& queue, uint64_t sequence, Entry& out) {
    bool found = false;
    auto visit = [&](const Entry& entry) {
        if (entry.sequence != sequence) return true;
        out = entry;
        found = true;
        return false;
    };
    queue.ready.forEach(visit);
    for (auto it = queue.delayed.begin(); !found && it != queue.delayed.end(); ++it) visit(it->second);
    return found;
}

}  // namespace

DeathRecord BrokerCore::makeDeath(const MessageRecord& original, const Queue& queue, const Entry& entry,
                                  DeathReason reason, const std::string& error) const {
    DeathRecord death = original.death.value_or(DeathRecord{});
    TimeMs at = now();
    if (!original.death) death.firstDeathAt = at;
    death.reason = reason;
    death.sourceQueue = queue.info.name;
    death.attempts = entry.attempts;
    death.lastDeathAt = at;
    ++death.deaths;
    if (!error.empty()) {
        death.lastError = error;
    } else if (auto it = queue.lastErrors.find(entry.sequence); it != queue.lastErrors.end()) {
        death.lastError = it->second;
    }
    return death;
}

void BrokerCore::deadLetter(Queue& queue, const Entry& entry, DeathReason reason, const std::string& error) {
    auto dlq = ensureDeadLetterQueue(queue);
    auto record = loadMessage(entry);
    if (!dlq || !*dlq || !record) {
        // Nowhere to put it (a dead-letter queue itself, or the DLQ cannot be created): it stays, and waits.
        if (!error.empty()) queue.lastErrors[entry.sequence] = error;
        holdUntil(queue, now() + queue.info.policy.backoff.back().count(), entry);
        return;
    }
    Queue& target = **dlq;
    auto copy = std::make_shared<MessageRecord>(**record);
    copy->flags = 0;
    copy->queues = {target.info.id};
    copy->origin = 0;
    copy->attempts = 0;
    copy->expiresAt = 0;
    copy->dueAt = 0;
    copy->transaction.clear();
    copy->death = makeDeath(**record, queue, entry, reason, error);
    releaseKey(queue, entry);
    queue.bytes -= std::min<uint64_t>(queue.bytes, entry.size);
    queue.lastErrors.erase(entry.sequence);
    count(queue, &Counters::deadLettered);
    std::string detail = std::string(toString(reason)) + " to " + target.info.name +
                         (copy->death->lastError.empty() ? "" : ": " + copy->death->lastError);
    if (reason == DeathReason::Expired)
        traceEvent(TraceKind::Expired, &queue, entry.sequence, copy->messageId, copy->key, error);
    traceEvent(TraceKind::DeadLettered, &queue, entry.sequence, copy->messageId, copy->key, detail);
    bool onDisk = target.info.policy.durable && !entry.inMemory();
    uint32_t sourceId = queue.info.id, targetId = target.info.id;
    ++target.pending;
    auto moved = [this, sourceId, targetId, entry, copy, onDisk](const Status& status,
                                                                  std::span<const uint64_t> offsets, uint64_t) {
        Queue* source = queueById(sourceId);
        Queue* dest = queueById(targetId);
        if (dest) --dest->pending;
        if (!status) {
            if (source) {
                source->bytes += entry.size;
                returnToQueue(*source, entry);
            }
            return;
        }
        if (entry.inMemory()) m_transient.erase(entry.sequence);
        if (!dest) return;
        if (onDisk) {
            insertEntry(*dest, entryFor(*copy, offsets[0], offsets[0], false), 0);
        } else {
            uint64_t transient = m_nextTransient++;
            m_transient[transient] = copy;
            insertEntry(*dest, entryFor(*copy, 0, transient, true), 0);
        }
        count(*dest, &Counters::published);
    };
    if (onDisk) m_stager.add(RecordType::Message, *copy);
    if (!entry.inMemory()) m_stager.add(RecordType::Settle, SettleRecord{sourceId, entry.offset});
    m_stager.endGroup(false, std::move(moved));
}

void BrokerCore::deadLetterTransaction(const std::string& name, Transaction& transaction) {
    struct Copy {
        uint32_t queue;
        std::shared_ptr<MessageRecord> record;
        bool onDisk;
    };
    auto copies = std::make_shared<std::vector<Copy>>();
    std::string error = "transaction \"" + name + "\" unresolved after " +
                        std::to_string(m_options.transactionMaxChecks) + " check-backs";
    for (Prepared& prepared : transaction.messages) {
        auto record = prepared.record ? Result<std::shared_ptr<const MessageRecord>>(prepared.record)
                                      : loadMessage(prepared.entry);
        if (!record) continue;
        std::vector<uint32_t> targets = prepared.durable;
        targets.insert(targets.end(), prepared.memory.begin(), prepared.memory.end());
        for (uint32_t id : targets) {
            Queue* queue = queueById(id);
            auto dlq = queue ? ensureDeadLetterQueue(*queue) : Result<Queue*>(nullptr);
            if (!dlq || !*dlq) continue;
            auto copy = std::make_shared<MessageRecord>(**record);
            copy->flags = 0;
            copy->queues = {(*dlq)->info.id};
            copy->transaction.clear();
            copy->death = makeDeath(**record, *queue, prepared.entry, DeathReason::TxUnresolved, error);
            bool onDisk = (*dlq)->info.policy.durable && !prepared.durable.empty();
            if (onDisk) m_stager.add(RecordType::Message, *copy);
            copies->push_back({(*dlq)->info.id, copy, onDisk});
            count(*queue, &Counters::deadLettered);
            traceEvent(TraceKind::DeadLettered, queue, prepared.entry.sequence, copy->messageId, copy->key,
                       "tx-unresolved to " + (*dlq)->info.name);
        }
    }
    m_stager.add(RecordType::TxRollback, TxRecord{name});
    m_stager.endGroup(true, [this, copies](const Status& status, std::span<const uint64_t> offsets, uint64_t) {
        if (!status) return;  // the log is read-only; after a restart the transaction is checked again
        size_t next = 0;
        for (const Copy& copy : *copies) {
            Queue* dlq = queueById(copy.queue);
            uint64_t offset = copy.onDisk ? offsets[next++] : 0;
            if (!dlq) continue;
            if (copy.onDisk) {
                insertEntry(*dlq, entryFor(*copy.record, offset, offset, false), 0);
            } else {
                uint64_t transient = m_nextTransient++;
                m_transient[transient] = copy.record;
                insertEntry(*dlq, entryFor(*copy.record, 0, transient, true), 0);
            }
            count(*dlq, &Counters::published);  // as for every other dead letter
        }
    });
}

void BrokerCore::requeueOne(const std::string& queueName, uint64_t sequence, const RequeueRequest& request,
                            std::function<void(RequeueItem)> done) {
    RequeueItem item{sequence, "", request.target, Status::ok()};
    auto fail = [&](Status status) {
        item.status = std::move(status);
        done(std::move(item));
    };
    Queue* source = findQueue(queueName);
    if (!source) return fail(Status::notFound("no queue \"" + queueName + "\""));
    Entry entry;
    if (!findWaiting(*source, sequence, entry))
        return fail(Status::notFound("message " + std::to_string(sequence) + " is not waiting in \"" + queueName +
                                     "\" (already moved, deleted, or being delivered)"));
    auto record = loadMessage(entry);
    if (!record) return fail(record.status());
    item.messageId = (*record)->messageId;
    if (item.target.empty() && (*record)->death) item.target = (*record)->death->sourceQueue;
    if (item.target.empty())
        return fail(Status::invalidArgument("message has no death record naming its source: choose a target"));
    Queue* target = findQueue(item.target);
    if (!target) return fail(Status::notFound("no queue \"" + item.target + "\""));
    auto copy = std::make_shared<MessageRecord>(**record);
    copy->flags = 0;
    copy->queues = {target->info.id};
    copy->origin = 0;
    copy->attempts = 0;
    copy->publishedAt = now();  // a fresh start: the queue's ttl counts from the requeue
    copy->expiresAt = 0;
    copy->dueAt = 0;
    if (request.body) copy->body = *request.body;
    if (request.headers) {
        if (Status valid = validateHeaders(*request.headers); !valid) return fail(valid);
        copy->headers = *request.headers;
    }
    if (copy->body.size() > m_options.maxMessageSize)
        return fail(Status::tooLarge("edited body exceeds the message size limit"));
    if (copy->death) copy->death->requeues.push_back({now(), request.actor.name, queueName, item.target});
    takeEntry(*source, sequence, entry);  // found above, and nothing has run since
    bool onDisk = target->info.policy.durable && !entry.inMemory();
    bool sync = onDisk && target->info.policy.flush == FlushMode::Sync;
    uint32_t sourceId = source->info.id, targetId = target->info.id;
    source->bytes -= std::min<uint64_t>(source->bytes, entry.size);
    ++target->pending;
    auto moved = [this, sourceId, targetId, entry, copy, onDisk, item, done, actor = request.actor.name](
                     const Status& status, std::span<const uint64_t> offsets, uint64_t end) mutable {
        Queue* from = queueById(sourceId);
        Queue* to = queueById(targetId);
        if (to) --to->pending;
        if (!status) {
            if (from) {
                from->bytes += entry.size;
                returnToQueue(*from, entry);
            }
            item.status = status;
            return done(std::move(item));
        }
        if (entry.inMemory()) m_transient.erase(entry.sequence);
        if (to) {
            uint64_t sequence = onDisk ? offsets[0] : m_nextTransient++;
            if (!onDisk) m_transient[sequence] = copy;
            insertEntry(*to, entryFor(*copy, onDisk ? sequence : 0, sequence, !onDisk), 0);
            count(*to, &Counters::published);
        }
        if (from)
            traceEvent(TraceKind::Requeued, from, entry.sequence, copy->messageId, copy->key,
                       "by " + actor + " to " + item.target);
        whenDurable(onDisk ? end : 0, [item, done](const Status& synced) mutable {
            item.status = synced;
            done(std::move(item));
        });
    };
    if (onDisk) m_stager.add(RecordType::Message, *copy);
    if (!entry.inMemory()) m_stager.add(RecordType::Settle, SettleRecord{sourceId, entry.offset});
    m_stager.endGroup(sync, std::move(moved));
}

}  // namespace depot::broker
