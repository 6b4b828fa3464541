// Compaction: a few long-lived messages must not pin gigabytes of settled log. When the live messages in the
// old part of the log are few, each is copied forward (MESSAGE with its original sequence and attempt count,
// then SETTLE of the old copy, in one atomic batch) so the old segments can be deleted.
#include <unordered_map>

#include "broker/BrokerCore.h"

namespace depot::broker {
namespace {

constexpr size_t kMaxMovesPerRound = 1000;

}  // namespace

void BrokerCore::compactOldest(uint64_t before) {
    struct Move {
        uint32_t queue;
        Entry entry;
        TimeMs dueAt;
    };
    std::vector<Move> moves;
    bool tooMany = false;
    for (auto& [id, queue] : m_queues) {
        auto consider = [&, id = id](const Entry& entry, TimeMs dueAt) {
            if (entry.inMemory() || entry.offset >= before) return;
            if (moves.size() >= kMaxMovesPerRound) tooMany = true;
            else moves.push_back({id, entry, dueAt});
        };
        queue->ready.forEachUnordered([&](const Entry& entry) {
            consider(entry, 0);
            return !tooMany;
        });
        for (const auto& [due, entry] : queue->delayed) consider(entry, due);
    }
    if (tooMany || moves.empty()) return;  // dense: not worth copying (or nothing to move)
    for (const Move& move : moves) {
        auto record = loadMessage(move.entry);
        if (!record) continue;
        MessageRecord copy = **record;
        copy.flags &= uint8_t(~kMessagePrepared);  // a committed half message: replayed as prepared it would vanish
        copy.transaction.clear();
        copy.queues = {move.queue};
        copy.origin = move.entry.sequence;
        copy.attempts = move.entry.attempts;
        copy.dueAt = move.dueAt;
        m_stager.add(RecordType::Message, copy);
        m_stager.add(RecordType::Settle, SettleRecord{move.queue, move.entry.offset});
        m_stager.endGroup(false, [this, move](const Status& status, std::span<const uint64_t> offsets, uint64_t) {
            Queue* queue = queueById(move.queue);
            if (!status || !queue) return;
            auto relocate = [&](Entry& entry) {
                if (entry.sequence == move.entry.sequence && entry.offset == move.entry.offset)
                    entry.offset = offsets[0];
            };
            queue->ready.updateEach(relocate);
            for (auto& [due, entry] : queue->delayed) relocate(entry);
            for (auto& [id, consumer] : m_consumers)
                for (auto& [tag, unacked] : consumer->unacked) relocate(unacked.entry);
        });
    }
    m_stager.flush();
}

}  // namespace depot::broker
