#include "ResourceMeasurement.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <tuple>
#include <utility>

#include "DepotdProcess.h"
#include "WireMeasurements.h"

namespace depot::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kStartTimeout = std::chrono::minutes(10);  // a restart replays the whole log

// A "Name:   123456 kB" line of /proc/PID/status, in bytes.
int64_t statusBytes(pid_t pid, const std::string& name) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(name + ":", 0) == 0) return std::strtoll(line.c_str() + name.size() + 1, nullptr, 10) * 1024;
    return -1;
}

// VmRSS and RssAnon once VmRSS has stopped moving (the broker settles and frees its round buffers after the last
// confirm).
std::pair<int64_t, int64_t> settledResidentBytes(pid_t pid) {
    int64_t last = statusBytes(pid, "VmRSS");
    for (int i = 0; i < 20; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const int64_t now = statusBytes(pid, "VmRSS");
        if (now == last) break;
        last = now;
    }
    return {last, statusBytes(pid, "RssAnon")};
}

}  // namespace

Result<ResourceMeasurement> measureDepotResources(const std::string& depotd,
                                                  const std::vector<std::string>& depotdArgs,
                                                  const std::string& dataDir, uint64_t messages, size_t messageSize) {
    ResourceMeasurement m;
    m.messages = messages;
    m.messageSize = messageSize;
    auto first = DepotdProcess::start(depotd, dataDir, std::chrono::seconds(30), depotdArgs);
    if (!first) return first.status();
    WireSetup setup;
    setup.endpoint = (*first)->endpoint();
    setup.queue = "bench.resources";
    setup.messageSize = messageSize;
    setup.asyncFlush = true;  // the fill's speed is not measured; the backlog is the same
    DEPOT_RETURN_IF_ERROR(declareWireQueue(setup));
    std::tie(m.rssBefore, m.anonBefore) = settledResidentBytes((*first)->pid());
    DEPOT_RETURN_IF_ERROR(fillQueue(setup, messages, m.fillSeconds));
    std::tie(m.rssAfter, m.anonAfter) = settledResidentBytes((*first)->pid());
    auto filled = readBacklog(setup);
    if (!filled) return filled.status();
    m.logBytes = filled->logBytes;

    ::kill((*first)->pid(), SIGKILL);
    (void)(*first)->stop(std::chrono::seconds(30));  // reaps it; "killed by signal" is what we asked for
    const auto killed = Clock::now();
    auto second = DepotdProcess::start(depotd, dataDir, kStartTimeout, depotdArgs);
    if (!second) return second.status();
    m.recoverySeconds = std::chrono::duration<double>(Clock::now() - killed).count();
    setup.endpoint = (*second)->endpoint();
    auto recovered = readBacklog(setup);
    if (!recovered) return recovered.status();
    m.depthAfterRecovery = recovered->depth;
    if (m.depthAfterRecovery != messages)
        return Status::corruption("after the restart the queue holds " + std::to_string(m.depthAfterRecovery) +
                                  " messages, not " + std::to_string(messages));
    DEPOT_RETURN_IF_ERROR((*second)->stop(std::chrono::seconds(60)).status());
    return m;
}

}  // namespace depot::bench
