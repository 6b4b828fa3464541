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

struct Snapshot {
    broker::BrokerStats stats;                    // stats.at: the broker's clock, milliseconds since the epoch
    std::vector<client::QueueDetails> queues;     // definitions and stats of every queue
    std::vector<client::SessionInfo> sessions;    // connected clients
    std::string error;                            // non-empty: the poll failed (the rest is empty)
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace depot::ui

Q_DECLARE_METATYPE(depot::ui::SnapshotPtr)
