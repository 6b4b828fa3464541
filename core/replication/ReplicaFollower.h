#pragma once
// ReplicaFollower: a replica's thread that keeps its log equal to its primary's (docs/protocol.md "Replication").
// It fetches from its own written end, stores what comes (same offsets), waits for its fdatasync and says so in
// the next fetch: that durable end is the acknowledgement sync-replicated publishes wait for. Every answer names
// the offset it starts at; one for another offset is ignored and the fetch asked again, so a frame ZeroMQ lost
// on a broken connection shows up as a gap that is fetched again, never as a hole.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "depot/broker/Broker.h"
#include "replication/PeerChannel.h"

namespace depot::replication {

struct FollowerOptions {
    std::string primary;  // endpoint
    std::string name;     // how the primary lists this replica
    std::chrono::milliseconds answerTimeout{3000};  // a fetch unanswered this long: the connection is opened again
    uint32_t maxBytes = 4u << 20;                   // per fetch
    PeerKeys keys;                                   // CURVE to the primary (empty: plain)
};

class ReplicaFollower {
public:
    ReplicaFollower(broker::Broker& broker, FollowerOptions options);
    ~ReplicaFollower();  // requestStop() and join
    ReplicaFollower(const ReplicaFollower&) = delete;
    ReplicaFollower& operator=(const ReplicaFollower&) = delete;

    void requestStop() { m_stop = true; }

private:
    void run();
    // One session with the primary, until it fails or a stop is asked; returns why it ended.
    Status follow(class PeerChannel& channel);
    Status applyDefinitions(class PeerChannel& channel);
    void pause(std::chrono::milliseconds how);

    broker::Broker& m_broker;
    const FollowerOptions m_options;
    std::atomic<bool> m_stop = false;
    std::thread m_thread;
};

}  // namespace depot::replication
