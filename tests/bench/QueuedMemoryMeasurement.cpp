// RAM per queued message (measureQueuedMemory in BrokerMeasurements.h).
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "BrokerMeasurements.h"
#include "depot/Heap.h"
#include "depot/broker/Broker.h"

namespace depot::bench {

using Clock = std::chrono::steady_clock;
using namespace depot::broker;

namespace {

constexpr const char* kQueue = "memory";
// More than the throughput rows' 64: only the end state is measured here, and a wider window fills faster.
constexpr uint64_t kWindow = 1024;

// VmRSS in bytes, after handing freed heap back to the system so that it does not count as used.
int64_t residentBytes() {
    releaseFreeHeap();
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;  // "VmRSS:   123456 kB"
    return -1;
}

// Publishes `count` messages keeping at most kWindow unconfirmed; fails on the first publish that is not confirmed.
Status publishAll(Broker& broker, uint64_t count, const std::string& body) {
    std::mutex mutex;
    std::condition_variable changed;
    uint64_t outstanding = 0;
    Status failure;
    for (uint64_t i = 0; i < count; ++i) {
        {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return outstanding < kWindow; });
            if (!failure.isOk())
                break;
            ++outstanding;
        }
        PublishRequest request;
        request.routingKey = kQueue;
        request.message.body = body;
        broker.publish(std::move(request), [&](const PublishResult& result) {
            std::lock_guard lock(mutex);
            --outstanding;
            if (result.outcome != PublishOutcome::Confirmed && failure.isOk())
                failure = Status::ioError("publish not confirmed: " + result.error);
            changed.notify_all();
        });
    }
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return outstanding == 0; });
    return failure;
}

Result<MemoryMeasurement> measureIn(const std::string& dir, const BrokerSetup& setup, uint64_t messages,
                                    size_t messageSize, bool dedup) {
    BrokerOptions options;
    options.dataDir = dir;
    options.segmentSize = setup.segmentSize;
    options.trace = setup.trace;
    auto opened = Broker::open(options);
    if (!opened.isOk())
        return opened.status();
    std::unique_ptr<Broker> broker = std::move(opened.value());
    QueueSpec spec{kQueue, {}};
    spec.policy.flush = FlushMode::Async;
    if (!dedup)
        spec.policy.dedupWindow = Millis(0);
    if (auto declared = broker->declareQueue(spec); !declared.isOk())
        return declared.status();

    MemoryMeasurement measurement;
    measurement.messages = messages;
    measurement.messageSize = messageSize;
    measurement.dedup = dedup;
    measurement.rssBeforeBytes = residentBytes();
    const Clock::time_point start = Clock::now();
    DEPOT_RETURN_IF_ERROR(publishAll(*broker, messages, benchPayload(messageSize)));
    measurement.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    // Written, synced, and every trace row in the catalog: nothing left in flight that would be freed later.
    DEPOT_RETURN_IF_ERROR(broker->sync());
    measurement.rssAfterBytes = residentBytes();
    const BrokerStats stats = broker->stats();
    measurement.traceDropped = stats.traceDropped;
    for (const QueueStats& queue : stats.queues)
        if (queue.name == kQueue)
            measurement.queued = queue.ready + queue.unacked + queue.delayed;
    DEPOT_RETURN_IF_ERROR(broker->close());
    return measurement;
}

}  // namespace

Result<MemoryMeasurement> measureQueuedMemory(const BrokerSetup& setup, uint64_t messages, size_t messageSize,
                                              bool dedup) {
    const std::string dir = setup.scratchDir + (dedup ? "/memory" : "/memory-nodedup");
    auto measured = measureIn(dir, setup, messages, messageSize, dedup);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return measured;
}

}  // namespace depot::bench
