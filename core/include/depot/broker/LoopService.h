#pragma once
// LoopService: something the broker thread serves besides the broker itself: the network server (and later the
// replication sender). The broker thread polls the service's ZeroMQ socket together with its own command queue,
// so a service calls the Broker inline, with no hop between threads, and its handlers (confirms, deliveries) run
// where its socket lives. Every method runs on the broker thread.
#include <cstdint>

#include "depot/broker/Clock.h"

namespace depot::broker {

class LoopService {
public:
    virtual ~LoopService() = default;
    // The ZeroMQ socket (a void* from zmq_socket) polled for input. Owned by the service.
    virtual void* pollSocket() = 0;
    // Input waits on pollSocket(): read what is there, a bounded amount per call (others are waiting too).
    virtual void onReadable() = 0;
    // Once per loop round, after timers: periodic work (heartbeats). Returns when it next needs a round.
    virtual TimeMs onTick(TimeMs now) = 0;
    // After the broker settled a round (confirms and deliveries handed out): flush buffered output.
    virtual void afterSettle() = 0;
    // Detached or the broker is closing: stop using the broker. Called once.
    virtual void onDetach() = 0;
};

}  // namespace depot::broker
