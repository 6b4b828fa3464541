// Transactions (half messages): prepared messages are stored but invisible; commit makes them visible, rollback
// discards them; an unresolved one is checked back with its producer and finally dead-lettered (tx-unresolved).
#include "broker/BrokerCore.h"

namespace depot::broker {

void BrokerCore::setTransactionChecker(const std::string& producer, TransactionChecker checker) {
    if (checker)
        m_checkers[producer] = std::move(checker);
    else
        m_checkers.erase(producer);
}

void BrokerCore::prepareTransaction(PublishRequest& request, std::vector<Queue*> targets, ConfirmHandler handler) {
    std::string name = request.transaction;
    bool persistent = request.message.persistent;
    auto record = std::make_shared<MessageRecord>(makeRecord(request, targets, now()));
    record->flags |= kMessagePrepared;
    Prepared prepared;
    for (Queue* queue : targets)
        (queue->info.policy.durable && persistent ? prepared.durable : prepared.memory).push_back(queue->info.id);
    record->queues = prepared.durable;
    prepared.dueAt = record->dueAt;
    prepared.messageId = record->messageId;
    prepared.key = record->key;
    auto done = [this, name, prepared, record, handler = std::move(handler)](
                    const Status& status, std::span<const uint64_t> offsets, uint64_t end) mutable {
        PublishResult result{PublishOutcome::Confirmed, NackReason::None, "", record->messageId, {}};
        if (!status) {
            result = {PublishOutcome::Nacked, NackReason::StorageFailed, status.message(), record->messageId, {}};
            m_outbox.push_back([handler, result] { handler(result); });
            return;
        }
        if (offsets.empty()) {
            prepared.record = record;
        } else {
            prepared.entry = entryFor(*record, offsets[0], offsets[0], false);
        }
        Transaction& transaction = m_transactions[name];
        if (transaction.messages.empty()) {
            transaction.producer = record->producer;
            transaction.nextCheckAt = now() + m_options.transactionCheckInterval.count();
        }
        transaction.messages.push_back(std::move(prepared));
        traceEvent(TraceKind::Prepared, nullptr, offsets.empty() ? 0 : offsets[0], record->messageId, record->key,
                   "transaction " + name);
        whenDurable(offsets.empty() ? 0 : end, [this, handler, result](const Status& synced) mutable {
            if (!synced) result = {PublishOutcome::Nacked, NackReason::StorageFailed, synced.message(), "", {}};
            m_outbox.push_back([handler, result] { handler(result); });
        });
    };
    if (prepared.durable.empty()) return done(Status::ok(), {}, 0);
    m_stager.add(RecordType::Message, *record);
    m_stager.endGroup(true, std::move(done));
}

void BrokerCore::finishTransaction(const std::string& name, bool commit, ConfirmHandler handler) {
    if (Status writable = checkWritable(commit ? "commit" : "roll back"); !writable) {
        PublishResult result{PublishOutcome::Nacked, NackReason::NotPrimary, writable.message(), "", {}};
        m_outbox.push_back([handler, result] { handler(result); });
        return;
    }
    auto it = m_transactions.find(name);
    if (it == m_transactions.end()) {
        PublishResult result{PublishOutcome::Nacked, NackReason::Invalid,
                             "no open transaction \"" + name + "\" (never prepared, or already resolved)", "", {}};
        m_outbox.push_back([handler, result] { handler(result); });
        return;
    }
    Transaction transaction = std::move(it->second);
    m_transactions.erase(it);
    bool onDisk = false;
    for (const Prepared& prepared : transaction.messages) onDisk = onDisk || !prepared.durable.empty();
    auto done = [this, name, commit, transaction = std::move(transaction), handler](
                    const Status& status, std::span<const uint64_t>, uint64_t end) mutable {
        if (!status) {
            m_transactions[name] = std::move(transaction);  // still open: the log is read-only, nothing changed
            PublishResult result{PublishOutcome::Nacked, NackReason::StorageFailed, status.message(), "", {}};
            m_outbox.push_back([handler, result] { handler(result); });
            return;
        }
        applyTransaction(transaction, commit);
        whenDurable(end, [this, handler](const Status& synced) {
            PublishResult result{PublishOutcome::Confirmed, NackReason::None, "", "", {}};
            if (!synced) result = {PublishOutcome::Nacked, NackReason::StorageFailed, synced.message(), "", {}};
            m_outbox.push_back([handler, result] { handler(result); });
        });
    };
    if (!onDisk) return done(Status::ok(), {}, 0);
    m_stager.add(commit ? RecordType::TxCommit : RecordType::TxRollback, TxRecord{name});
    m_stager.endGroup(true, std::move(done));
}

void BrokerCore::applyTransaction(Transaction& transaction, bool commit) {
    for (Prepared& prepared : transaction.messages) {
        traceEvent(commit ? TraceKind::Committed : TraceKind::RolledBack, nullptr, prepared.entry.sequence,
                   prepared.messageId, prepared.key, "");
        if (!commit) continue;
        for (uint32_t id : prepared.durable)
            if (Queue* queue = queueById(id)) {
                insertEntry(*queue, prepared.entry, prepared.dueAt);
                count(*queue, &Counters::published);
            }
        if (prepared.memory.empty()) continue;
        auto record = prepared.record ? Result<std::shared_ptr<const MessageRecord>>(prepared.record)
                                      : loadMessage(prepared.entry);
        if (!record) continue;
        for (uint32_t id : prepared.memory)
            if (Queue* queue = queueById(id)) {
                uint64_t transient = m_nextTransient++;
                m_transient[transient] = *record;
                insertEntry(*queue, entryFor(**record, 0, transient, true), prepared.dueAt);
                count(*queue, &Counters::published);
            }
    }
}

void BrokerCore::checkTransactions(TimeMs at) {
    std::vector<std::string> exhausted;
    for (auto& [name, transaction] : m_transactions) {
        if (transaction.nextCheckAt > at) continue;
        if (transaction.checks >= m_options.transactionMaxChecks) {
            exhausted.push_back(name);
            continue;
        }
        ++transaction.checks;
        transaction.nextCheckAt = at + m_options.transactionCheckInterval.count();
        const Prepared& first = transaction.messages.front();
        traceEvent(TraceKind::CheckBack, nullptr, first.entry.sequence, first.messageId, first.key,
                   "check " + std::to_string(transaction.checks) + " of " +
                       std::to_string(m_options.transactionMaxChecks) + " to producer \"" + transaction.producer +
                       "\"");
        auto checker = m_checkers.find(transaction.producer);
        if (checker == m_checkers.end()) continue;
        m_outbox.push_back([check = checker->second, name, id = first.messageId] { check(name, id); });
    }
    for (const std::string& name : exhausted) {
        Transaction transaction = std::move(m_transactions[name]);
        m_transactions.erase(name);
        deadLetterTransaction(name, transaction);
    }
}

}  // namespace depot::broker

namespace depot::broker {

void BrokerCore::commitTransaction(const std::string& transaction, ConfirmHandler handler) {
    finishTransaction(transaction, true, std::move(handler));
}

void BrokerCore::rollbackTransaction(const std::string& transaction, ConfirmHandler handler) {
    finishTransaction(transaction, false, std::move(handler));
}

}  // namespace depot::broker
