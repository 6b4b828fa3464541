// Queues, exchanges and bindings: validated, written to the catalog (durable when the call returns), audited.
#include <algorithm>

#include "broker/BrokerCore.h"
#include "depot/broker/Validation.h"

namespace depot::broker {
namespace {

std::string resolvedDeadLetterName(const QueueSpec& spec) {
    if (spec.kind == QueueKind::DeadLetter) return "";
    return spec.policy.deadLetterQueue.empty() ? spec.name + ".dlq" : spec.policy.deadLetterQueue;
}

QueuePolicy deadLetterPolicy() {
    QueuePolicy policy;
    policy.maxAttempts = 0;  // a dead letter is never dead-lettered again: it waits for an operator
    policy.dedupWindow = Millis(0);
    return policy;
}

}  // namespace

Queue* BrokerCore::findQueue(const std::string& name) {
    auto it = m_queueIds.find(name);
    return it == m_queueIds.end() ? nullptr : queueById(it->second);
}

const Queue* BrokerCore::findQueue(const std::string& name) const {
    return const_cast<BrokerCore*>(this)->findQueue(name);
}

Queue* BrokerCore::queueById(uint32_t id) {
    auto it = m_queues.find(id);
    return it == m_queues.end() ? nullptr : it->second.get();
}

const Queue* BrokerCore::queueById(uint32_t id) const {
    auto it = m_queues.find(id);
    return it == m_queues.end() ? nullptr : it->second.get();
}

void BrokerCore::audit(const Actor& actor, std::string action, std::string target, std::string detail,
                       uint64_t count, const Status& status) {
    AuditEntry entry{now(), actor.name, std::move(action), std::move(target), std::move(detail), count, status.isOk()};
    if (!status.isOk()) entry.detail += (entry.detail.empty() ? "" : "; ") + status.message();
    m_catalog->appendAudit(std::move(entry));
}

Result<QueueInfo> BrokerCore::declareQueue(const QueueSpec& asked, const Actor& actor) {
    QueueSpec spec = asked;
    if (spec.brokerFlush) spec.policy.flush = m_settings.defaultFlush;
    DEPOT_RETURN_IF_ERROR(validateName("queue", spec.name));
    DEPOT_RETURN_IF_ERROR(validatePolicy(spec.policy));
    std::string deadLetterName = resolvedDeadLetterName(spec);
    if (!deadLetterName.empty()) DEPOT_RETURN_IF_ERROR(validateName("dead-letter queue", deadLetterName));
    if (deadLetterName == spec.name)
        return Status::invalidArgument("queue \"" + spec.name + "\" cannot be its own dead-letter queue");
    if (Queue* existing = findQueue(spec.name)) {
        if (existing->info.policy == spec.policy && existing->info.kind == spec.kind) return existing->info;
        return Status::invalidArgument("queue \"" + spec.name +
                                       "\" already exists with a different policy (change it with an update)");
    }
    QueueInfo info{0, spec.name, spec.policy, spec.kind, deadLetterName, now()};
    auto id = m_catalog->insertQueue(info);
    if (!id) return id.status();
    info.id = *id;
    ++m_definitionsVersion;
    auto queue = std::make_unique<Queue>();
    queue->info = info;
    queue->ready.setPerKey(spec.policy.ordering == Ordering::PerKey);
    Queue* created = queue.get();
    m_queues[info.id] = std::move(queue);
    m_queueIds[info.name] = info.id;
    audit(actor, "declare-queue", info.name, std::string(toString(spec.kind)), 0, Status::ok());
    if (!deadLetterName.empty()) {
        auto dlq = ensureDeadLetterQueue(*created);
        if (!dlq) return dlq.status();
    }
    return created->info;
}

Result<Queue*> BrokerCore::ensureDeadLetterQueue(Queue& queue) {
    if (queue.isDeadLetter() || queue.info.deadLetterQueue.empty()) return nullptr;
    if (Queue* dlq = queueById(queue.deadLetterId); dlq && dlq->info.name == queue.info.deadLetterQueue) return dlq;
    Queue* dlq = findQueue(queue.info.deadLetterQueue);
    if (!dlq) {
        QueueSpec spec{queue.info.deadLetterQueue, deadLetterPolicy(), QueueKind::DeadLetter};
        auto declared = declareQueue(spec, Actor{"broker"});
        if (!declared) return declared.status();
        dlq = findQueue(spec.name);
    }
    queue.deadLetterId = dlq->info.id;
    return dlq;
}

Result<QueueInfo> BrokerCore::updateQueuePolicy(const std::string& name, const QueuePolicy& policy,
                                                 const Actor& actor) {
    Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    DEPOT_RETURN_IF_ERROR(validatePolicy(policy));
    if (policy.durable != queue->info.policy.durable)
        return Status::invalidArgument("queue \"" + name + "\": durability cannot change (delete and redeclare)");
    QueueInfo info = queue->info;
    const std::string change = describePolicyChange(info.policy, policy);
    info.policy = policy;
    info.deadLetterQueue = resolvedDeadLetterName({name, policy, info.kind});
    if (info.deadLetterQueue == name)
        return Status::invalidArgument("queue \"" + name + "\" cannot be its own dead-letter queue");
    DEPOT_RETURN_IF_ERROR(m_catalog->updateQueue(info));
    ++m_definitionsVersion;  // replicas fetch the definitions again
    queue->info = info;
    queue->ready.setPerKey(policy.ordering == Ordering::PerKey);
    queue->deadLetterId = 0;
    auto dlq = ensureDeadLetterQueue(*queue);
    audit(actor, "update-policy", name, change, 0, dlq.status());
    markDirty(*queue);
    return queue->info;
}

Status BrokerCore::deleteQueue(const std::string& name, const Actor& actor) {
    Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    DEPOT_RETURN_IF_ERROR(m_catalog->deleteQueue(queue->info.id));
    ++m_definitionsVersion;  // replicas fetch the definitions again
    for (uint64_t consumer : std::vector<uint64_t>(queue->consumers)) {
        if (Consumer* c = findConsumer(consumer)) c->unacked.clear();
        (void)cancel(consumer);
    }
    uint64_t dropped = queue->depth() - queue->pending;
    auto forget = [&](const Entry& entry) {
        if (entry.inMemory()) m_transient.erase(entry.sequence);
        return true;
    };
    queue->ready.removeIf(forget);
    for (auto& [due, entry] : queue->delayed) forget(entry);
    std::erase_if(m_bindings, [&](const Binding& b) { return b.queue == name; });
    for (auto& [id, other] : m_queues)
        if (other->deadLetterId == queue->info.id) other->deadLetterId = 0;
    Counters& retired = m_retiredCounters;
    const Counters& c = queue->counters;
    for (auto field : {&Counters::published, &Counters::confirmed, &Counters::nacked, &Counters::delivered,
                       &Counters::redelivered, &Counters::acked, &Counters::retried, &Counters::deadLettered,
                       &Counters::expired, &Counters::deduplicated})
        retired.*field += c.*field;
    m_queueIds.erase(name);
    m_queues.erase(queue->info.id);
    audit(actor, "delete-queue", name, "", dropped, Status::ok());
    return Status::ok();
}

std::vector<QueueInfo> BrokerCore::listQueues() const {
    std::vector<QueueInfo> out;
    for (const auto& [id, queue] : m_queues) out.push_back(queue->info);
    std::sort(out.begin(), out.end(), [](const QueueInfo& a, const QueueInfo& b) { return a.name < b.name; });
    return out;
}

Status BrokerCore::declareExchange(const ExchangeSpec& spec, const Actor& actor) {
    DEPOT_RETURN_IF_ERROR(validateName("exchange", spec.name));
    if (!spec.alternateQueue.empty() && !findQueue(spec.alternateQueue))
        return Status::notFound("alternate queue \"" + spec.alternateQueue + "\" does not exist");
    auto it = m_exchanges.find(spec.name);
    if (it != m_exchanges.end()) {
        if (it->second.type == spec.type && it->second.alternateQueue == spec.alternateQueue) return Status::ok();
        return Status::invalidArgument("exchange \"" + spec.name + "\" already exists as " +
                                       std::string(toString(it->second.type)) + " with other settings");
    }
    DEPOT_RETURN_IF_ERROR(m_catalog->upsertExchange(spec));
    ++m_definitionsVersion;  // replicas fetch the definitions again
    m_exchanges[spec.name] = spec;
    audit(actor, "declare-exchange", spec.name, std::string(toString(spec.type)), 0, Status::ok());
    return Status::ok();
}

Status BrokerCore::deleteExchange(const std::string& name, const Actor& actor) {
    if (!m_exchanges.count(name)) return Status::notFound("no exchange \"" + name + "\"");
    DEPOT_RETURN_IF_ERROR(m_catalog->deleteExchange(name));
    ++m_definitionsVersion;  // replicas fetch the definitions again
    m_exchanges.erase(name);
    std::erase_if(m_bindings, [&](const Binding& b) { return b.exchange == name; });
    audit(actor, "delete-exchange", name, "", 0, Status::ok());
    return Status::ok();
}

std::vector<ExchangeSpec> BrokerCore::listExchanges() const {
    std::vector<ExchangeSpec> out;
    for (const auto& [name, spec] : m_exchanges) out.push_back(spec);
    return out;
}

Status BrokerCore::bind(const Binding& binding, const Actor& actor) {
    auto exchange = m_exchanges.find(binding.exchange);
    if (exchange == m_exchanges.end())
        return Status::notFound("no exchange \"" + binding.exchange + "\" (the default exchange takes no bindings)");
    if (!findQueue(binding.queue)) return Status::notFound("no queue \"" + binding.queue + "\"");
    DEPOT_RETURN_IF_ERROR(validateBindingPattern(exchange->second.type, binding.pattern));
    if (std::find(m_bindings.begin(), m_bindings.end(), binding) != m_bindings.end()) return Status::ok();
    DEPOT_RETURN_IF_ERROR(m_catalog->insertBinding(binding));
    ++m_definitionsVersion;  // replicas fetch the definitions again
    m_bindings.push_back(binding);
    audit(actor, "bind", binding.exchange, binding.queue + " " + binding.pattern, 0, Status::ok());
    return Status::ok();
}

Status BrokerCore::unbind(const Binding& binding, const Actor& actor) {
    auto it = std::find(m_bindings.begin(), m_bindings.end(), binding);
    if (it == m_bindings.end())
        return Status::notFound("no binding of \"" + binding.queue + "\" to \"" + binding.exchange + "\" with \"" +
                                binding.pattern + "\"");
    DEPOT_RETURN_IF_ERROR(m_catalog->deleteBinding(binding));
    ++m_definitionsVersion;  // replicas fetch the definitions again
    m_bindings.erase(it);
    audit(actor, "unbind", binding.exchange, binding.queue + " " + binding.pattern, 0, Status::ok());
    return Status::ok();
}

}  // namespace depot::broker
