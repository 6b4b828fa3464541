#pragma once
// Replication: a primary ships its commit log to replicas (docs/protocol.md "Replication"). A replica stores
// the primary's records at the same offsets, fsyncs them and acknowledges its durable offset; a queue with
// replication sync confirms a publish only once a replica acknowledged it. Promotion (manual) starts a new
// epoch; a former primary that learns of a newer epoch is fenced: it refuses writes until it rejoins as a replica.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "depot/broker/Clock.h"
#include "depot/broker/Policy.h"

namespace depot::broker {

enum class Role { Primary, Replica, Fenced };
std::string_view toString(Role role);
std::optional<Role> roleFromString(std::string_view text);

// Every log has an identity (LogId): random, made when a primary first opens an empty data directory, learned by
// a replica with its first fetch and kept across promotions. Offsets and epochs only compare between copies of the
// same log: a replica of another log (a different data directory, or another broker that took over the primary's
// address) is refused, its durable end never counts as an acknowledgement, and a fence names the log it fences.

// Where each epoch starts in the log. Epoch 0 starts at offset 0 (a log that was never promoted).
struct EpochStart {
    uint64_t epoch = 0;
    uint64_t offset = 0;
    TimeMs at = 0;
};

// One replica as its primary sees it.
struct ReplicaInfo {
    std::string name;         // the replica's --name (or its data directory), from its fetches
    std::string address;      // peer address
    uint64_t ackedOffset = 0; // the replica's durable end
    uint64_t lagBytes = 0;    // primary's durable end - ackedOffset
    uint64_t lagMessages = 0; // confirmed messages of replicated queues not yet acknowledged by this replica
    int64_t lagMs = 0;        // age of the oldest of those (0: caught up)
    TimeMs lastContact = 0;
    bool connected = false;   // fetched within the last 3 s
};

struct ReplicationStatus {
    Role role = Role::Primary;
    std::string logId;  // empty: a replica that has not heard from its primary yet
    uint64_t epoch = 0;
    uint64_t writtenOffset = 0;
    uint64_t durableOffset = 0;
    uint64_t logStart = 0;
    std::vector<EpochStart> epochs;
    // Primary.
    std::vector<ReplicaInfo> replicas;
    uint64_t atRisk = 0;                  // confirmed messages of replicated queues on no replica yet
    uint64_t confirmedWithoutReplica = 0; // sync publishes confirmed after the timeout (on-replica-timeout confirm)
    uint64_t nackedForReplica = 0;        // sync publishes nacked after the timeout
    // Replica (and a fenced or promoted broker: the primary it followed).
    std::string primary;
    uint64_t primaryDurable = 0;  // the primary's durable end at the last fetch
    int64_t lagMs = 0;            // since the replica last had everything the primary had
    TimeMs lastContact = 0;
    bool connected = false;
    std::string lastError;        // of the last failed fetch, for a person
    std::string fencedBy;         // fenced: who and which epoch
};

// A primary's definitions as a replica takes them (ADMIN replica.definitions), with the queue ids its records use.
struct Definitions {
    uint64_t version = 0;
    std::vector<QueueInfo> queues;
    std::vector<ExchangeSpec> exchanges;
    std::vector<Binding> bindings;
};

// Where a replica's log stands (what its next fetch says).
struct ReplicaPosition {
    std::string logId;  // empty until the first answer from the primary
    uint64_t written = 0;
    uint64_t durable = 0;
    uint64_t lastEpoch = 0;
    uint64_t definitions = 0;  // the primary's definitions version last applied
};

// What a replica asks its primary for (REPL_FETCH).
struct FetchRequest {
    std::string replica;      // name
    std::string address;      // peer address (filled by the server)
    std::string logId;        // the replica's log (empty: it holds none yet)
    uint64_t lastEpoch = 0;   // the epoch of the replica's last record
    uint64_t from = 0;        // the replica's written end: the next byte it wants
    uint64_t durable = 0;     // the replica's durable end: its acknowledgement
    uint32_t maxBytes = 0;
};

// The primary's answer (REPL_DATA). Exactly one of: records (bytes, maybe empty), truncateTo, resetTo.
struct FetchReply {
    std::string logId;              // the primary's log: a replica with none takes it before storing anything
    uint64_t epoch = 0;             // the primary's current epoch
    uint64_t from = 0;              // echoes the request: a reply for another offset is stale and ignored
    uint64_t end = 0;               // from + bytes.size()
    uint64_t primaryDurable = 0;
    uint64_t definitions = 0;       // the primary's definitions version: fetch them when it changed
    uint64_t logStart = 0;          // the primary's first offset: the replica may delete what lies before it
    std::optional<uint64_t> truncateTo;  // the replica's log diverged after this offset (KIP-101)
    std::optional<uint64_t> resetTo;     // the primary no longer holds `from`: start over empty at this offset
    std::string bytes;              // whole commit-log batches, framed as on disk
};

}  // namespace depot::broker
