#include "depot/broker/Clock.h"

#include <chrono>

namespace depot::broker {

namespace {

// Wall-clock time, not steady time: due times are written to the log and must keep their meaning after a restart.
class SystemClock final : public Clock {
public:
    TimeMs now() const override {
        using namespace std::chrono;
        return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    }
};

}  // namespace

Clock& Clock::system() {
    static SystemClock clock;
    return clock;
}

}  // namespace depot::broker
