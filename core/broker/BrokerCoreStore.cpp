// Storing a routed message and confirming it: the confirm waits for the covering fdatasync on a sync-flushed
// durable queue, for the write on an async one, and for nothing on a transient queue or a transient message.
#include <algorithm>

#include "broker/BrokerCore.h"

namespace depot::broker {
namespace {

NackReason reasonFor(const Status& status) {
    if (status.code() == StatusCode::Closed)
        return NackReason::ShuttingDown;
    if (status.code() == StatusCode::TimedOut)
        return NackReason::ReplicaUnavailable;  // a sync-replicated publish no replica acknowledged in time
    if (status.code() == StatusCode::Unavailable)
        return NackReason::NotPrimary;          // fenced while the confirm waited
    return status.code() == StatusCode::ReadOnly ? NackReason::ReadOnly : NackReason::StorageFailed;
}

}  // namespace

void BrokerCore::storeMessage(std::vector<Queue*> targets, std::shared_ptr<MessageRecord> record, bool persistent,
                              uint64_t started, ConfirmHandler handler, std::vector<std::string> dupQueues) {
    std::vector<uint32_t> durable, memory;
    bool sync = false;
    bool replicated = false;                 // a target queue replicates: its confirmed messages are "at risk" until
    std::optional<QueuePolicy> replicaWait;  // a replica has them; sync: the confirm waits for one (the first such queue's terms)
    for (Queue* queue : targets) {
        const QueuePolicy& policy = queue->info.policy;
        bool onDisk = policy.durable && persistent;
        (onDisk ? durable : memory).push_back(queue->info.id);
        // Only synced records are shipped: a sync-replicated confirm waits for the local fdatasync anyway.
        sync = sync || (onDisk && (policy.flush == FlushMode::Sync || policy.replication == Replication::Sync));
        replicated = replicated || (onDisk && policy.replication != Replication::None);
        if (onDisk && policy.replication == Replication::Sync && !replicaWait)
            replicaWait = policy;
        ++queue->pending;
    }
    record->queues = durable;
    const bool toDisk = !durable.empty();
    auto apply = [this, durable = std::move(durable), memory = std::move(memory), record, started, sync, replicated,
                  replicaWait, handler = std::move(handler), dupQueues = std::move(dupQueues)](
                     const Status& status, std::span<const uint64_t> offsets, uint64_t end) mutable {
        std::vector<std::string> stored;
        if (!durable.empty() && remembersId(*record))
            unstageId(record->messageId);
        for (uint32_t id : durable)
            if (Queue* queue = queueById(id))
                --queue->pending;
        for (uint32_t id : memory)
            if (Queue* queue = queueById(id))
                --queue->pending;
        if (!status) {
            PublishRequest failed;
            failed.message.id = record->messageId;
            failed.message.key = record->key;
            return nackPublish(handler, failed, reasonFor(status), "message not stored: " + status.message());
        }
        std::shared_ptr<const MessageRecord> shared = record;
        uint64_t sequence = durable.empty() ? 0 : offsets[0];
        uint64_t firstSequence = 0;  // stored[0]'s: the confirm's trace event links to that message
        for (uint32_t id : durable) {
            Queue* queue = queueById(id);
            if (!queue)
                continue;
            insertEntry(*queue, entryFor(*record, sequence, sequence, false), record->dueAt);
            if (queue->info.policy.dedupWindow.count() > 0 && remembersId(*record))
                queue->dedup.insert(std::hash<std::string>{}(record->messageId), sequence, record->publishedAt);
            count(*queue, &Counters::published);
            if (stored.empty())
                firstSequence = sequence;
            stored.push_back(queue->info.name);
            traceEvent(TraceKind::Published, queue, sequence, record->messageId, record->key, "");
        }
        for (uint32_t id : memory) {
            Queue* queue = queueById(id);
            if (!queue)
                continue;
            uint64_t transient = m_nextTransient++;
            m_transient[transient] = shared;
            insertEntry(*queue, entryFor(*record, 0, transient, true), record->dueAt);
            if (queue->info.policy.dedupWindow.count() > 0 && remembersId(*record))
                queue->dedup.insert(std::hash<std::string>{}(record->messageId), transient, record->publishedAt);
            count(*queue, &Counters::published);
            if (stored.empty())
                firstSequence = transient;
            stored.push_back(queue->info.name);
            traceEvent(TraceKind::Published, queue, transient, record->messageId, record->key, "in memory only");
        }
        const bool anyDurable = !durable.empty();
        // Captures by move: apply runs once, and each copy of a vector or string was an allocation per publish.
        auto confirm = [this, record, stored = std::move(stored), firstSequence, sequence, started,
                        dupQueues = std::move(dupQueues), waitedForSync = sync, handler = std::move(handler),
                        ids = std::move(durable), end, replicated,
                        waitedForReplica = replicaWait.has_value()](const Status& synced,
                                                                                     bool onReplica) mutable {
            PublishResult result{PublishOutcome::Confirmed, NackReason::None, "", record->messageId, {}};
            if (!synced) {
                const bool storage = synced.code() != StatusCode::TimedOut && synced.code() != StatusCode::Unavailable;
                result = {PublishOutcome::Nacked, reasonFor(synced),
                          (storage ? "fdatasync failed: " : "") + synced.message(), record->messageId, {}};
                // A replica that did not answer leaves the message stored here (nothing is lost by saying "not
                // confirmed"); the producer's retry with the same id is a duplicate, confirmed once a replica has it.
                for (uint32_t id : ids)
                    if (Queue* queue = queueById(id); queue && storage)
                        withdrawUnconfirmed(*queue, sequence, record->messageId);
            } else if (!onReplica) {
                result.reason = NackReason::ReplicaUnavailable;
                result.error = "confirmed without a replica: no replica acknowledged it in time, it is on this broker only";
            }
            if (synced && replicated && end > replicatedOffset())
                m_unreplicated.add(end, now());
            for (const std::string& name : stored)
                if (Queue* queue = findQueue(name))
                    count(*queue, synced ? &Counters::confirmed : &Counters::nacked);
            uint64_t latency = steadyNs() - started;
            m_confirmLatency.record(latency);
            m_secondConfirm.record(latency);
            const Queue* first = stored.empty() ? nullptr : findQueue(stored[0]);
            // With a queue, these events name the message by (queue, sequence) only, as settlements do: the
            // trace links them to its published event. A message id and key on every row cost an allocation on
            // this thread and index entries in the catalog per event, a third of the trace's cost.
            static const std::string kLinked;
            const std::string& id = first ? kLinked : record->messageId;
            const std::string& key = first ? kLinked : record->key;
            if (synced && waitedForSync)
                traceEvent(TraceKind::Flushed, first, firstSequence, id, key, "fdatasync");
            if (synced && waitedForReplica)
                traceEvent(TraceKind::Replicated, first, firstSequence, id, key,
                           onReplica ? "a replica has it on disk" : "no replica acknowledged it in time");
            traceEvent(synced ? TraceKind::Confirmed : TraceKind::Nacked, first, firstSequence, id, key,
                       synced ? "" : result.error);
            if (synced)
                result.queues = std::move(stored);
            result.queues.insert(result.queues.end(), dupQueues.begin(), dupQueues.end());
            m_outbox.push_back([handler = std::move(handler), result = std::move(result)] {
                if (handler)
                    handler(result);
            });
        };
        if (replicaWait)
            return whenDurable(end, [this, end, policy = *replicaWait,
                                     confirm = std::move(confirm)](const Status& synced) mutable {
                if (!synced)
                    return confirm(synced, true);
                whenReplicated(end, policy, std::move(confirm));
            });
        if (sync)
            return whenDurable(end, [confirm = std::move(confirm)](const Status& synced) mutable {
                confirm(synced, true);
            });
        if (anyDurable && end > m_durableOffset)
            m_unflushed.add(end, now());
        confirm(Status::ok(), true);
    };
    if (!toDisk)
        return apply(Status::ok(), {}, 0);
    if (remembersId(*record))
        ++m_stagedIds[std::hash<std::string>{}(record->messageId)];
    m_stager.add(RecordType::Message, *record);
    m_stager.endGroup(sync, std::move(apply));
}

void BrokerCore::unstageId(const std::string& messageId) {
    const uint64_t hash = std::hash<std::string>{}(messageId);
    uint64_t* staged = m_stagedIds.find(hash);
    if (staged && --*staged == 0)
        m_stagedIds.erase(hash);
}

void BrokerCore::withdrawUnconfirmed(Queue& queue, uint64_t sequence, const std::string& messageId) {
    // The producer hears "not stored" and will publish again: the retry must not be a duplicate, and this copy,
    // whose bytes a failed fdatasync may have dropped, must not be handed out later. One a consumer already holds
    // stays with it (its ack or nack decides).
    if (!messageId.empty())
        queue.dedup.erase(std::hash<std::string>{}(messageId), sequence);
    Entry entry;
    if (!takeEntry(queue, sequence, entry))
        return;
    queue.bytes -= std::min<uint64_t>(queue.bytes, entry.size);
    queue.lastErrors.erase(sequence);
}

void BrokerCore::whenDurable(uint64_t endOffset, std::function<void(const Status&)> complete) {
    if (!m_logFailure.isOk())
        return complete(m_logFailure);
    if (endOffset <= m_durableOffset)
        return complete(Status::ok());
    m_waitingForSync.push_back({endOffset, std::move(complete)});
}

void BrokerCore::onDurable(uint64_t durableOffset, const Status& status) {
    if (!status) {
        m_logFailure = status;
        auto waiting = std::move(m_waitingForSync);
        m_waitingForSync.clear();
        for (PendingConfirm& pending : waiting)
            pending.complete(status);
        return;
    }
    m_durableOffset = std::max(m_durableOffset, durableOffset);
    while (!m_waitingForSync.empty() && m_waitingForSync.front().endOffset <= m_durableOffset) {
        auto complete = std::move(m_waitingForSync.front().complete);
        m_waitingForSync.pop_front();
        complete(Status::ok());
    }
    m_unflushed.release(m_durableOffset);
}

void BrokerCore::shutdown() {
    settle();
    Status flushed = m_log->flush();
    onDurable(m_log->durableOffset(), flushed);
    auto waiting = std::move(m_waitingForSync);
    m_waitingForSync.clear();
    for (PendingConfirm& pending : waiting)
        pending.complete(Status::closed("broker is shutting down"));
    settle();
}

}  // namespace depot::broker

namespace depot::broker {

void BrokerCore::whenAllDurable(std::function<void(const Status&)> done) {
    m_stager.requestSync();
    // The outbox runs after this round's append, so the written offset then covers what the round staged.
    m_outbox.push_back(
        [this, done = std::move(done)]() mutable { whenDurable(m_log->writtenOffset(), std::move(done)); });
}

}  // namespace depot::broker
