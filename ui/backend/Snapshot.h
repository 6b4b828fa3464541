#pragma once
// Snapshot: everything the console shows of a broker at one moment, taken off the GUI thread by SnapshotPoller
// and handed to the models whole. Immutable once published (shared as std::shared_ptr<const Snapshot>).
#include <QMetaType>

#include <memory>
#include <string>
#include <vector>

#include "depot/broker/Broker.h"
#include "depot/client/Admin.h"

namespace depot::ui {

inline constexpr broker::TimeMs kLiveHistoryMs = 5 * 60 * 1000;  // what the live charts show

struct Snapshot {
    broker::BrokerStats stats;                    // stats.at: the broker's clock, milliseconds since the epoch
    std::vector<client::QueueDetails> queues;     // definitions and stats of every queue
    std::vector<client::SessionInfo> sessions;    // connected clients
    std::vector<broker::AlertState> alerts;       // every alert rule with its value and whether it fires
    broker::ReplicationStatus replication;        // role, epoch, replicas and their lag
    // First snapshot of a connection only: the broker-wide per-second samples (MetricsSample::queue empty) of the
    // last kLiveHistoryMs, oldest first, so the charts start full. Later points come from consecutive snapshots
    // (counter and histogram differences): reading history makes the broker wait for its catalog writer, which
    // a once-a-second poll should not impose on everyone else.
    std::vector<broker::MetricsSample> backfill;
    std::string error;                            // non-empty: the poll failed (the rest is empty)
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// The queue of that name in the snapshot; null when it has none (or no snapshot yet).
inline const client::QueueDetails* findQueue(const SnapshotPtr& snapshot, const std::string& name) {
    if (!snapshot || name.empty())
        return nullptr;
    for (const client::QueueDetails& queue : snapshot->queues)
        if (queue.info.name == name)
            return &queue;
    return nullptr;
}

}  // namespace depot::ui

Q_DECLARE_METATYPE(depot::ui::SnapshotPtr)
