// Recovery: definitions from the catalog, then one pass over the commit log rebuilds every queue, the
// transactions still open and the dedup windows (docs/storage-format.md, "Broker records").
#include <algorithm>
#include <cstdio>

#include "broker/BrokerCore.h"

namespace depot::broker {

Status BrokerCore::loadDefinitions() {
    auto queues = m_catalog->loadQueues();
    if (!queues) return queues.status();
    for (QueueInfo& info : *queues) {
        auto queue = std::make_unique<Queue>();
        queue->ready.setPerKey(info.policy.ordering == Ordering::PerKey);
        queue->info = std::move(info);
        m_queueIds[queue->info.name] = queue->info.id;
        m_queues[queue->info.id] = std::move(queue);
    }
    auto exchanges = m_catalog->loadExchanges();
    if (!exchanges) return exchanges.status();
    for (ExchangeSpec& spec : *exchanges) m_exchanges[spec.name] = std::move(spec);
    auto bindings = m_catalog->loadBindings();
    if (!bindings) return bindings.status();
    m_bindings = std::move(*bindings);
    return Status::ok();
}

Status BrokerCore::replayLog() {
    ReplayState state;
    auto cursor = m_log->iterate(m_log->startOffset());
    DEPOT_RETURN_IF_ERROR(replayFrom(cursor, UINT64_MAX, state));
    if (m_role == Role::Replica) {
        m_replay = std::make_unique<ReplayState>(std::move(state));  // materialized when promoted
        return Status::ok();
    }
    materialize(state);
    return Status::ok();
}

Status BrokerCore::replayFrom(storage::CommitLog::Cursor& cursor, uint64_t end, ReplayState& state) {
    TimeMs at = now();
    while (cursor.position() < end) {
        auto next = cursor.next();
        if (!next) {
            if (next.status().code() == StatusCode::Corruption) {
                std::fprintf(stderr, "depot: skipping quarantined log range: %s\n", next.status().message().c_str());
                continue;
            }
            return next.status();
        }
        if (!*next) break;
        DEPOT_RETURN_IF_ERROR(replayRecord(**next, at, state));
    }
    return Status::ok();
}

Status BrokerCore::replayRecord(const storage::Record& record, TimeMs at, ReplayState& state) {
    LiveMap& live = state.live;
    switch (RecordType(record.type)) {
    case RecordType::Message: {
        auto message = decodeMessage(record.payload);
        if (!message) return message.status();
        uint64_t sequence = message->origin ? message->origin : record.offset;
        Entry entry = entryFor(*message, record.offset, sequence, false);
        if (message->flags & kMessagePrepared) {
            Transaction& transaction = m_transactions[message->transaction];
            if (transaction.messages.empty()) {
                transaction.producer = message->producer;
                transaction.nextCheckAt = at + m_options.transactionCheckInterval.count();
            }
            Prepared prepared{message->queues, {}, entry, message->dueAt, message->messageId, message->key, {}};
            transaction.messages.push_back(std::move(prepared));
            break;
        }
        for (uint32_t id : message->queues) {
            Queue* queue = queueById(id);
            if (!queue) continue;  // deleted since
            live[id].put(record.offset, {entry, message->dueAt});
            Millis window = queue->info.policy.dedupWindow;
            if (window.count() > 0 && remembersId(*message) && message->publishedAt >= at - window.count())
                queue->dedup.insert(std::hash<std::string>{}(message->messageId), sequence, message->publishedAt);
        }
        break;
    }
    case RecordType::Settle: {
        auto settle = decodeSettle(record.payload);
        if (!settle) return settle.status();
        if (auto it = live.find(settle->queue); it != live.end()) it->second.erase(settle->offset);
        break;
    }
    case RecordType::Return: {
        auto returned = decodeReturn(record.payload);
        if (!returned) return returned.status();
        auto queue = live.find(returned->queue);
        if (queue == live.end()) break;
        LiveMessage* message = queue->second.find(returned->offset);
        if (!message) break;
        message->entry.attempts = uint16_t(std::min<uint32_t>(returned->attempts, 0xffff));
        message->dueAt = returned->dueAt;
        if (!returned->error.empty())
            if (Queue* q = queueById(returned->queue)) q->lastErrors[message->entry.sequence] = returned->error;
        break;
    }
    case RecordType::Purge: {
        auto purge = decodePurge(record.payload);
        if (!purge) return purge.status();
        live.erase(purge->queue);
        break;
    }
    case RecordType::Epoch: {
        auto epoch = decodeEpoch(record.payload);
        if (!epoch) return epoch.status();
        m_epochs.push_back({epoch->epoch, record.offset, epoch->at});
        break;
    }
    case RecordType::TxCommit:
    case RecordType::TxRollback: {
        auto tx = decodeTx(record.payload);
        if (!tx) return tx.status();
        auto it = m_transactions.find(tx->transaction);
        if (it == m_transactions.end()) break;
        if (RecordType(record.type) == RecordType::TxCommit)
            for (const Prepared& prepared : it->second.messages)
                for (uint32_t id : prepared.durable)
                    if (queueById(id)) live[id].put(prepared.entry.offset, {prepared.entry, prepared.dueAt});
        m_transactions.erase(it);
        break;
    }
    default:
        return Status::corruption("unknown broker record type " + std::to_string(record.type) + " at offset " +
                                  std::to_string(record.offset));
    }
    return Status::ok();
}

void BrokerCore::materialize(ReplayState& state) {
    TimeMs at = now();
    for (auto& [id, messages] : state.live) {
        Queue* queue = queueById(id);
        if (!queue) continue;
        for (const LiveMessage& entry : messages.sortedBySequence()) {
            // A retry still waiting for its backoff holds its key (per-key queues), as it did before the restart.
            if (entry.entry.attempts && entry.entry.hasKey() && entry.dueAt > at)
                queue->ready.block(entry.entry.keyHash);
            insertEntry(*queue, entry.entry, entry.dueAt);
        }
    }
}

}  // namespace depot::broker
