// Operator tools: browse (no side effects), delete, dead-letter by hand, purge.
#include <algorithm>

#include "broker/BrokerCore.h"
#include "broker/JsonPath.h"

namespace depot::broker {
namespace {

void noop(const Status&, std::span<const uint64_t>, uint64_t) {}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

bool needsRecord(const MessageFilter& filter) {
    return !filter.messageId.empty() || !filter.sourceQueue.empty() || filter.reason || !filter.text.empty() ||
           !filter.error.empty() || !filter.jsonPath.empty() || filter.from > 0 || filter.to < INT64_MAX;
}

bool matchesText(const MessageRecord& record, const DeathRecord* death, const std::string& text) {
    if (contains(record.body, text) || (death && contains(death->lastError, text))) return true;
    for (const auto& [name, value] : record.headers)
        if (contains(name, text) || contains(value, text)) return true;
    return contains(record.messageId, text) || contains(record.key, text);
}

}  // namespace

bool BrokerCore::matches(const Queue&, const Entry& entry, const MessageRecord* record,
                         const MessageFilter& filter) const {
    if (!filter.sequences.empty() &&
        std::find(filter.sequences.begin(), filter.sequences.end(), entry.sequence) == filter.sequences.end())
        return false;
    if (!needsRecord(filter)) return true;
    if (!record) return false;
    if (!filter.messageId.empty() && record->messageId != filter.messageId) return false;
    const DeathRecord* death = record->death ? &*record->death : nullptr;
    if (!filter.sourceQueue.empty() && (!death || death->sourceQueue != filter.sourceQueue)) return false;
    if (filter.reason && (!death || death->reason != *filter.reason)) return false;
    TimeMs at = death ? death->lastDeathAt : record->publishedAt;
    if (at < filter.from || at > filter.to) return false;
    if (!filter.error.empty() && (!death || !contains(death->lastError, filter.error))) return false;
    if (!filter.jsonPath.empty()) {
        auto path = JsonPath::parse(filter.jsonPath);  // validated when the filter was read; a bad one matches nothing
        if (!path || !path->matches(record->body, filter.jsonEquals)) return false;
    }
    return filter.text.empty() || matchesText(*record, death, filter.text);
}

QueuedMessage BrokerCore::describe(const Queue& queue, const Entry& entry, MessageState state, bool bodies) const {
    QueuedMessage out;
    out.sequence = entry.sequence;
    out.queue = queue.info.name;
    out.size = entry.size;
    out.attempts = entry.attempts;
    out.state = state;
    out.publishedAt = entry.publishedAt;
    out.expiresAt = entry.expiresAt;
    auto record = loadMessage(entry);
    if (!record) return out;
    out.messageId = (*record)->messageId;
    out.key = (*record)->key;
    out.headers = (*record)->headers;
    if (bodies) out.body = (*record)->body;
    out.death = (*record)->death;
    return out;
}

uint64_t BrokerCore::forEachMatching(const Queue& queue, const MessageFilter& filter, bool loadAlways,
                                     const MatchVisitor& visit, uint64_t scanLimit) const {
    const bool load = loadAlways || needsRecord(filter);
    uint64_t considered = 0;
    auto consider = [&](const Entry& entry, MessageState state, TimeMs due) {
        if (considered >= scanLimit) return;
        ++considered;
        std::shared_ptr<const MessageRecord> record;
        if (load) {
            auto loaded = loadMessage(entry);
            if (loaded) record = *loaded;
        }
        if (matches(queue, entry, record.get(), filter)) visit(entry, state, due, record.get());
    };
    queue.ready.forEach([&](const Entry& entry) {
        consider(entry, MessageState::Ready, 0);
        return considered < scanLimit;
    });
    for (const auto& [due, entry] : queue.delayed) consider(entry, MessageState::Delayed, due);
    std::vector<Entry> unacked;
    for (uint64_t id : queue.consumers)
        for (const auto& [tag, pending] : m_consumers.at(id)->unacked) unacked.push_back(pending.entry);
    std::sort(unacked.begin(), unacked.end(), [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
    for (const Entry& entry : unacked) consider(entry, MessageState::Unacked, 0);
    return considered;
}

Result<BrowsePage> BrokerCore::browse(const std::string& name, const BrowseOptions& options) const {
    const Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    BrowsePage page;
    forEachMatching(*queue, options.filter, false, [&](const Entry& entry, MessageState state, TimeMs due, auto*) {
        uint64_t index = page.matched++;
        if (index < options.start || page.messages.size() >= options.limit) return;
        page.messages.push_back(describe(*queue, entry, state, options.bodies));
        page.messages.back().dueAt = due;
    });
    return page;
}

Result<MessageGroups> BrokerCore::groupMessages(const std::string& name, GroupBy by, const MessageFilter& filter,
                                                size_t limit) const {
    const Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    std::unordered_map<std::string, MessageGroup> groups;
    MessageGroups out;
    out.scanned = forEachMatching(
        *queue, filter, true,
        [&](const Entry& entry, MessageState, TimeMs, const MessageRecord* record) {
        const DeathRecord* death = record && record->death ? &*record->death : nullptr;
        std::string key;
        if (death) {
            key = by == GroupBy::Reason  ? std::string(toString(death->reason))
                  : by == GroupBy::Error ? death->lastError
                                         : death->sourceQueue;
        }
        MessageGroup& group = groups[key];
        group.key = key;
        ++group.count;
        group.lastAt = std::max(group.lastAt, death ? death->lastDeathAt : entry.publishedAt);
        },
        kGroupScanLimit);
    out.partial = out.scanned >= kGroupScanLimit && queue->depth() > kGroupScanLimit;
    out.groups.reserve(groups.size());
    for (auto& [key, group] : groups) out.groups.push_back(std::move(group));
    std::sort(out.groups.begin(), out.groups.end(), [](const MessageGroup& a, const MessageGroup& b) {
        return a.count != b.count ? a.count > b.count : a.key < b.key;
    });
    if (out.groups.size() > limit) out.groups.resize(limit);
    return out;
}

bool BrokerCore::takeEntry(Queue& queue, uint64_t sequence, Entry& out) {
    bool found = false;
    queue.ready.removeIf([&](const Entry& entry) {
        if (found || entry.sequence != sequence) return false;
        out = entry;
        found = true;
        return true;
    });
    if (found) return true;
    for (auto it = queue.delayed.begin(); it != queue.delayed.end(); ++it) {
        if (it->second.sequence != sequence) continue;
        out = it->second;
        queue.delayed.erase(it);
        return true;
    }
    return false;
}

Result<std::string> BrokerCore::removeWaiting(const std::string& name, uint64_t sequence, const Actor& actor) {
    Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    Entry entry;
    if (!takeEntry(*queue, sequence, entry))
        return Status::notFound("message " + std::to_string(sequence) + " is not waiting in \"" + name +
                                "\" (already gone, or being delivered)");
    auto record = loadMessage(entry);
    std::string messageId = record ? (*record)->messageId : std::string();
    settleEntry(*queue, entry);
    releaseKey(*queue, entry);
    traceEvent(TraceKind::Deleted, queue, sequence, messageId, "", "by " + actor.name);
    return messageId;
}

Status BrokerCore::deleteMessage(const std::string& name, uint64_t sequence, const Actor& actor) {
    DEPOT_RETURN_IF_ERROR(removeWaiting(name, sequence, actor).status());
    audit(actor, "delete-message", name, "sequence " + std::to_string(sequence), 1, Status::ok());
    return Status::ok();
}

Status BrokerCore::deadLetterMessage(const std::string& name, uint64_t sequence, const Actor& actor) {
    Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    if (queue->isDeadLetter()) return Status::invalidArgument("\"" + name + "\" is a dead-letter queue");
    Entry entry;
    bool found = takeEntry(*queue, sequence, entry);
    for (uint64_t id : queue->consumers) {
        if (found) break;
        auto& unacked = m_consumers.at(id)->unacked;
        for (auto it = unacked.begin(); it != unacked.end(); ++it) {
            if (it->second.entry.sequence != sequence) continue;
            entry = it->second.entry;
            unacked.erase(it);
            --queue->unacked;
            found = true;
            break;
        }
    }
    if (!found) return Status::notFound("no message " + std::to_string(sequence) + " in \"" + name + "\"");
    deadLetter(*queue, entry, DeathReason::Rejected, "dead-lettered by " + actor.name);
    markDirty(*queue);
    audit(actor, "dead-letter-message", name, "sequence " + std::to_string(sequence), 1, Status::ok());
    return Status::ok();
}

Result<uint64_t> BrokerCore::purgeQueue(const std::string& name, const Actor& actor) {
    Queue* queue = findQueue(name);
    if (!queue) return Status::notFound("no queue \"" + name + "\"");
    std::vector<Entry> entries = queue->ready.takeAll();
    for (const auto& [due, entry] : queue->delayed) entries.push_back(entry);
    queue->delayed.clear();
    // With nothing in consumers' hands, one PURGE record settles everything stored before it; otherwise each
    // purged message is settled by itself so the unacked ones survive a restart.
    bool onePurge = queue->unacked == 0 && queue->pending == 0;
    for (const Entry& entry : entries) {
        queue->bytes -= std::min<uint64_t>(queue->bytes, entry.size);
        queue->lastErrors.erase(entry.sequence);
        releaseKey(*queue, entry);
        if (entry.inMemory()) {
            m_transient.erase(entry.sequence);
        } else if (!onePurge) {
            m_stager.add(RecordType::Settle, SettleRecord{queue->info.id, entry.offset});
            m_stager.endGroup(false, noop);
        }
    }
    if (onePurge) {
        m_stager.add(RecordType::Purge, PurgeRecord{queue->info.id});
        m_stager.endGroup(true, noop);
    }
    queue->expiring = 0;
    audit(actor, "purge", name, "", entries.size(), Status::ok());
    return uint64_t(entries.size());
}

}  // namespace depot::broker
