#include "replication/PrimaryFencer.h"

#include "protocol/ProtocolJson.h"
#include "replication/PeerChannel.h"

namespace depot::replication {
namespace {

constexpr std::chrono::milliseconds kInterval{1000};
constexpr std::chrono::milliseconds kTimeout{1000};

}  // namespace

PrimaryFencer::PrimaryFencer(FencerOptions options) : m_options(std::move(options)), m_thread([this] { run(); }) {}

PrimaryFencer::~PrimaryFencer() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
}

void PrimaryFencer::run() {
    const std::string request = protocol::toText(
        {{"op", "replica.fence"}, {"epoch", m_options.epoch}, {"log", m_options.logId}, {"by", m_options.by}});
    while (!m_stop) {
        // A new connection each time: the former primary may have restarted since.
        if (auto channel = PeerChannel::open(m_options.formerPrimary, "fencer", kTimeout, m_options.keys))
            (void)(*channel)->admin(request, kTimeout);
        for (auto waited = std::chrono::milliseconds(0); !m_stop && waited < kInterval; waited += kInterval / 10)
            std::this_thread::sleep_for(kInterval / 10);
    }
}

}  // namespace depot::replication
