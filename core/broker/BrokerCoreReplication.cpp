// Replication, broker side (docs/protocol.md "Replication"): what a primary answers a replica's fetch and how
// its acknowledgements release sync-replicated confirms; how a replica replays what its follower stored; promotion
// to a new epoch and fencing of a primary a newer one replaced.
#include <algorithm>
#include <cstdio>
#include <random>

#include "broker/BrokerCore.h"

namespace depot::broker {
namespace {

constexpr int64_t kConnectedWithinMs = 3000;
const char* const kFencedKey = "replication/fenced-by";
const char* const kFormerPrimaryKey = "replication/former-primary";  // a promoted broker keeps fencing it
const char* const kLogIdKey = "replication/log-id";

// 128 random bits as 32 hex digits: two data directories never share one by chance.
std::string newLogId() {
    std::random_device device;
    std::string id;
    for (int i = 0; i < 4; ++i) {
        char part[9];
        std::snprintf(part, sizeof part, "%08x", unsigned(device()));
        id += part;
    }
    return id;
}

}  // namespace

Status BrokerCore::checkWritable(std::string_view what) const {
    if (m_role == Role::Primary) return Status::ok();
    if (m_role == Role::Replica)
        return Status::readOnly("cannot " + std::string(what) + ": this broker is a read-only replica of " + m_primary +
                                "; ask the primary");
    return Status::readOnly("cannot " + std::string(what) + ": this broker was fenced (" + m_fencedBy +
                            "); it takes no writes until it rejoins as a replica (depotd --replica-of)");
}

// ---- primary ----

uint64_t BrokerCore::replicatedOffset() const {
    uint64_t best = 0;
    for (const auto& [name, replica] : m_replicas) best = std::max(best, replica.ackedOffset);
    return best;
}

Result<FetchReply> BrokerCore::replicaFetch(const FetchRequest& request) {
    if (m_role != Role::Primary) return checkWritable("serve a replica");
    // A replica holding nothing takes this log; one holding another log's records is refused: its offsets and
    // epochs mean nothing here, and counting its durable end as an acknowledgement would confirm what no copy has.
    const bool fresh = request.logId != m_logId && request.from == 0;
    if (request.logId != m_logId && !fresh)
        return Status::invalidArgument(
            "replica " + request.replica + " holds " + std::to_string(request.from) + " bytes of " +
            (request.logId.empty() ? std::string("a log of unknown origin") : "another log (" + request.logId + ")") +
            ", not this primary's (" + m_logId + "): start it with an empty --data directory");
    uint64_t epoch = lastEpoch();
    if (request.lastEpoch > epoch && !fresh) {
        // The replica has seen a newer primary than this one: this broker was replaced.
        DEPOT_RETURN_IF_ERROR(fence(request.lastEpoch,
                                    "replica " + request.replica + " follows epoch " + std::to_string(request.lastEpoch),
                                    m_logId, Actor{"broker"}));
        return checkWritable("serve a replica");
    }
    FetchReply reply;
    reply.logId = m_logId;
    reply.epoch = epoch;
    reply.from = request.from;
    reply.end = request.from;
    reply.primaryDurable = m_log->durableOffset();
    reply.definitions = m_definitionsVersion;
    reply.logStart = m_log->startOffset();
    ReplicaInfo& replica = m_replicas[request.replica];
    replica.name = request.replica;
    replica.address = request.address;
    replica.lastContact = now();
    if (fresh) replica.ackedOffset = 0;  // a new copy under an old name (its data directory was emptied)
    // KIP-101: where does the replica's last epoch end here? A replica past that point holds records this primary
    // never had (it was the primary of a term that ended, or it followed one): it truncates to it first.
    uint64_t epochEnd = m_log->writtenOffset();
    for (const EpochStart& start : m_epochs)
        if (start.epoch > request.lastEpoch) {
            epochEnd = start.offset;
            break;
        }
    if (request.from > epochEnd) {
        reply.truncateTo = epochEnd;
        return reply;
    }
    if (request.from < m_log->startOffset()) {
        reply.resetTo = m_log->startOffset();
        return reply;
    }
    // Its log is a prefix of this one up to `from`: its durable end is an acknowledgement.
    if (request.durable > replica.ackedOffset) {
        replica.ackedOffset = std::min(request.durable, request.from);
        releaseReplicaWaits();
    }
    auto range = m_log->readFramed(request.from, m_log->durableOffset(), request.maxBytes);
    if (!range) return range.status();
    reply.end = range->end;
    reply.bytes = std::move(range->bytes);
    return reply;
}

void BrokerCore::whenReplicated(uint64_t endOffset, const QueuePolicy& policy,
                                std::function<void(const Status&, bool replicated)> complete) {
    if (replicatedOffset() >= endOffset) return complete(Status::ok(), true);
    if (m_role != Role::Primary) return complete(checkWritable("confirm"), false);
    TimeMs deadline = now() + policy.replicaTimeout.count();
    bool anyway = policy.onReplicaTimeout == ReplicaTimeoutAction::Confirm;
    m_replicaWaits.push_back({endOffset, deadline, anyway, std::move(complete)});
}

void BrokerCore::releaseReplicaWaits() {
    const uint64_t replicated = replicatedOffset();
    m_unreplicated.release(replicated);
    // Mostly in offset order (queued as records became durable), but a duplicate's wait names an older record.
    std::vector<std::function<void(const Status&, bool)>> released;
    for (auto it = m_replicaWaits.begin(); it != m_replicaWaits.end();) {
        if (it->endOffset > replicated) {
            ++it;
            continue;
        }
        released.push_back(std::move(it->complete));
        it = m_replicaWaits.erase(it);
    }
    for (auto& complete : released) complete(Status::ok(), true);
}

void BrokerCore::expireReplicaWaits(TimeMs at) {
    for (auto it = m_replicaWaits.begin(); it != m_replicaWaits.end();) {
        if (it->deadline > at) {
            ++it;
            continue;
        }
        auto complete = std::move(it->complete);
        bool anyway = it->confirmAnyway;
        it = m_replicaWaits.erase(it);
        if (anyway) {
            ++m_confirmedWithoutReplica;
            complete(Status::ok(), false);
        } else {
            ++m_nackedForReplica;
            complete(Status::timedOut("no replica acknowledged the message in time: it is stored on this broker "
                                      "only; publish it again with the same id (a duplicate is confirmed once a "
                                      "replica has it)"),
                     false);
        }
    }
}

// ---- replica ----

Status BrokerCore::applyReplicated(uint64_t from, uint64_t end) {
    if (!m_replay) return Status::invalidArgument("not a replica");
    auto cursor = m_log->iterate(from);
    DEPOT_RETURN_IF_ERROR(replayFrom(cursor, end, *m_replay));
    return Status::ok();
}

void BrokerCore::noteFollower(bool connected, uint64_t primaryDurable, uint64_t primaryStart, std::string lastError) {
    m_followerConnected = connected;
    m_followerError = std::move(lastError);
    if (!connected) return;
    m_followerContact = now();
    m_primaryDurable = primaryDurable;
    m_primaryStart = primaryStart;
    if (m_log->durableOffset() >= primaryDurable) m_caughtUpAt = m_followerContact;
}

void BrokerCore::reclaimReplicaLog() {
    // Below the primary's start nothing is needed any more, once this replica has replayed what moved it there
    // (the SETTLEs and compacted copies): so also below every message its replay still holds.
    if (!m_replay || m_primaryStart == 0) return;
    uint64_t least = std::min(m_primaryStart, m_log->writtenOffset());
    for (const auto& [queue, messages] : m_replay->live)
        messages.forEach([&](uint64_t offset, const LiveMessage&) { least = std::min(least, offset); });
    for (const auto& [id, queue] : m_queues)
        if (auto sequence = queue->dedup.minPersistentSequence()) least = std::min(least, *sequence);
    for (const auto& [name, transaction] : m_transactions)
        for (const Prepared& prepared : transaction.messages) least = std::min(least, prepared.entry.offset);
    (void)m_log->dropBefore(least);
}

Status BrokerCore::rebuildReplica() {
    m_queues.clear();
    m_queueIds.clear();
    m_transactions.clear();
    m_epochs.clear();
    DEPOT_RETURN_IF_ERROR(loadDefinitions());
    m_replay = std::make_unique<ReplayState>();
    auto cursor = m_log->iterate(m_log->startOffset());
    return replayFrom(cursor, UINT64_MAX, *m_replay);
}

Status BrokerCore::truncateReplica(uint64_t offset) {
    if (m_role != Role::Replica) return Status::invalidArgument("only a replica truncates its log");
    DEPOT_RETURN_IF_ERROR(m_log->truncateAfter(offset));
    m_durableOffset = std::min(m_durableOffset, offset);
    audit(Actor{"broker"}, "replica-truncate", "log", "diverged from the primary after offset " + std::to_string(offset),
          0, Status::ok());
    return rebuildReplica();
}

Status BrokerCore::resetReplica(uint64_t offset) {
    if (m_role != Role::Replica) return Status::invalidArgument("only a replica resets its log");
    DEPOT_RETURN_IF_ERROR(m_log->resetTo(offset));
    m_durableOffset = offset;
    audit(Actor{"broker"}, "replica-reset", "log", "the primary's log starts at " + std::to_string(offset), 0,
          Status::ok());
    return rebuildReplica();
}

Status BrokerCore::adoptLogId(const std::string& id) {
    if (id == m_logId) return Status::ok();
    if (m_role != Role::Replica) return Status::invalidArgument("only a replica takes its primary's log");
    if (m_log->writtenOffset() != 0)
        return Status::invalidArgument("this replica holds " + std::to_string(m_log->writtenOffset()) +
                                       " bytes of another log; start it with an empty --data directory");
    DEPOT_RETURN_IF_ERROR(m_catalog->putSettings({{kLogIdKey, id}}));
    m_logId = id;
    return Status::ok();
}

Status BrokerCore::replaceDefinitions(std::vector<QueueInfo> queues, std::vector<ExchangeSpec> exchanges,
                                      std::vector<Binding> bindings, uint64_t version) {
    if (m_role != Role::Replica) return Status::invalidArgument("only a replica takes its primary's definitions");
    DEPOT_RETURN_IF_ERROR(m_catalog->replaceDefinitions(queues, exchanges, bindings));
    std::map<uint32_t, std::unique_ptr<Queue>> kept;
    m_queueIds.clear();
    for (QueueInfo& info : queues) {
        auto it = m_queues.find(info.id);
        std::unique_ptr<Queue> queue = it != m_queues.end() ? std::move(it->second) : std::make_unique<Queue>();
        queue->ready.setPerKey(info.policy.ordering == Ordering::PerKey);
        queue->info = std::move(info);
        m_queueIds[queue->info.name] = queue->info.id;
        kept[queue->info.id] = std::move(queue);
    }
    m_queues = std::move(kept);
    m_exchanges.clear();
    for (ExchangeSpec& spec : exchanges) m_exchanges[spec.name] = std::move(spec);
    m_bindings = std::move(bindings);
    m_appliedDefinitions = version;
    return Status::ok();
}

// ---- promotion and fencing ----

Status BrokerCore::loadRole() {
    m_definitionsVersion = uint64_t(now());
    auto settings = m_catalog->loadSettings();
    if (!settings) return settings.status();
    if (auto id = settings->find(kLogIdKey); id != settings->end()) m_logId = id->second;
    if (m_logId.empty() && m_role != Role::Replica) {  // a primary's first start (a replica learns its primary's)
        m_logId = newLogId();
        DEPOT_RETURN_IF_ERROR(m_catalog->putSettings({{kLogIdKey, m_logId}}));
    }
    if (m_role == Role::Replica) {  // it follows now: neither fenced nor the fencer of anyone
        DEPOT_RETURN_IF_ERROR(m_catalog->deleteSetting(kFormerPrimaryKey));
        return m_catalog->deleteSetting(kFencedKey);
    }
    if (auto former = settings->find(kFormerPrimaryKey); former != settings->end()) m_primary = former->second;
    auto fenced = settings->find(kFencedKey);
    if (fenced == settings->end()) return Status::ok();
    m_role = Role::Fenced;
    m_fencedBy = fenced->second;
    return Status::ok();
}

Status BrokerCore::promote(const Actor& actor) {
    if (m_role != Role::Replica)
        return Status::invalidArgument("only a replica can be promoted; this broker is " + std::string(toString(m_role)));
    if (m_logId.empty()) {  // it never heard from its primary: its (empty) log starts a history of its own
        m_logId = newLogId();
        DEPOT_RETURN_IF_ERROR(m_catalog->putSettings({{kLogIdKey, m_logId}}));
    }
    const uint64_t epoch = lastEpoch() + 1;
    std::string payload;
    encode(EpochRecord{epoch, now()}, payload);
    storage::RecordView view{uint8_t(RecordType::Epoch), payload};
    auto appended = m_log->append(std::span(&view, 1), storage::Durability::Sync);
    if (!appended) return appended.status();
    DEPOT_RETURN_IF_ERROR(m_log->waitDurable(appended->endOffset));
    m_epochs.push_back({epoch, appended->offsets[0], now()});
    m_durableOffset = std::max(m_durableOffset, m_log->durableOffset());
    // Kept so a restart of this broker goes on fencing the former primary (which may come back any time).
    if (Status kept = m_catalog->putSettings({{kFormerPrimaryKey, m_primary}}); !kept)
        std::fprintf(stderr, "depot: cannot keep the former primary's endpoint: %s\n", kept.toString().c_str());
    m_role = Role::Primary;
    materialize(*m_replay);
    m_replay.reset();
    for (auto& [id, queue] : m_queues) (void)ensureDeadLetterQueue(*queue);
    for (auto& [id, queue] : m_queues) markDirty(*queue);
    m_definitionsVersion = uint64_t(now());
    audit(actor, "promote", "broker", "epoch " + std::to_string(epoch) + " starts at offset " +
                                          std::to_string(appended->offsets[0]) + "; was a replica of " + m_primary,
          0, Status::ok());
    return Status::ok();
}

Status BrokerCore::fence(uint64_t epoch, const std::string& by, const std::string& logId, const Actor& actor) {
    if (logId != m_logId)  // another broker now answers at the address the fencer remembers
        return Status::invalidArgument("the fence is for log " + logId + "; this broker holds log " + m_logId +
                                       ", which " + by + " never followed");
    if (m_role == Role::Replica) return Status::ok();  // a replica takes no writes anyway
    if (epoch <= lastEpoch())
        return Status::invalidArgument("epoch " + std::to_string(epoch) + " is not newer than this broker's (" +
                                       std::to_string(lastEpoch()) + ")");
    if (m_role == Role::Fenced) return Status::ok();
    m_fencedBy = "epoch " + std::to_string(epoch) + ", " + by;
    DEPOT_RETURN_IF_ERROR(m_catalog->putSettings({{kFencedKey, m_fencedBy}}));
    m_role = Role::Fenced;
    // Nothing waiting for a replica will get one now.
    auto waits = std::move(m_replicaWaits);
    m_replicaWaits.clear();
    for (ReplicaWait& wait : waits)
        wait.complete(Status::unavailable("not confirmed: this broker was fenced (" + m_fencedBy +
                                          ") before a replica acknowledged the message"),
                      false);
    audit(actor, "fenced", "broker", m_fencedBy, 0, Status::ok());
    return Status::ok();
}

ReplicationStatus BrokerCore::replicationStatus() const {
    ReplicationStatus status;
    status.role = m_role;
    status.logId = m_logId;
    status.epoch = lastEpoch();
    status.writtenOffset = m_log->writtenOffset();
    status.durableOffset = m_log->durableOffset();
    status.logStart = m_log->startOffset();
    status.epochs = m_epochs;
    status.primary = m_primary;
    status.fencedBy = m_fencedBy;
    TimeMs at = now();
    const uint64_t durable = status.durableOffset;
    for (const auto& [name, known] : m_replicas) {
        ReplicaInfo replica = known;
        replica.connected = at - replica.lastContact <= kConnectedWithinMs;
        replica.lagBytes = durable > replica.ackedOffset ? durable - replica.ackedOffset : 0;
        AtRiskLedger::Beyond lacking = m_unreplicated.beyond(replica.ackedOffset);
        replica.lagMessages = lacking.messages;
        replica.lagMs = lacking.messages ? at - lacking.oldest : 0;
        status.replicas.push_back(std::move(replica));
    }
    status.atRisk = m_unreplicated.count();
    status.confirmedWithoutReplica = m_confirmedWithoutReplica;
    status.nackedForReplica = m_nackedForReplica;
    status.primaryDurable = m_primaryDurable;
    status.lastContact = m_followerContact;
    status.connected = m_followerConnected;
    status.lastError = m_followerError;
    if (m_role == Role::Replica && m_caughtUpAt) status.lagMs = durable >= m_primaryDurable ? 0 : at - m_caughtUpAt;
    return status;
}

}  // namespace depot::broker
