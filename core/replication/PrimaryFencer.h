#pragma once
// PrimaryFencer: a promoted replica's thread that tells the primary it replaced about the new epoch, once a
// second for as long as it runs (that broker may come back at any time): ADMIN replica.fence. A fenced broker
// refuses writes, so clients still pointed at it cannot get a confirm there that the new primary never sees.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "replication/PeerChannel.h"

namespace depot::replication {

struct FencerOptions {
    std::string formerPrimary;  // endpoint
    uint64_t epoch = 0;         // the new primary's
    std::string logId;          // the log both hold: a broker holding another one is left alone
    std::string by;             // who fences, for the fenced broker's status and audit
    PeerKeys keys;              // CURVE to the former primary (empty: plain)
};

class PrimaryFencer {
public:
    explicit PrimaryFencer(FencerOptions options);
    ~PrimaryFencer();
    PrimaryFencer(const PrimaryFencer&) = delete;
    PrimaryFencer& operator=(const PrimaryFencer&) = delete;

private:
    void run();
    const FencerOptions m_options;
    std::atomic<bool> m_stop = false;
    std::thread m_thread;
};

}  // namespace depot::replication
