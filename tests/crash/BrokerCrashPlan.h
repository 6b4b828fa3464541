#pragma once
// BrokerCrashPlan: what depot-broker-crasher and TestBrokerRestart agree on — the queue, its policy, the broker's
// options, how a message is named, which messages are poison, and the journal the crasher writes on stdout.
//
// Journal: one event per line, each line written with one write(2) so a SIGKILL leaves at most a cut-off last line
// (which the parent ignores). N is the message number, A a delivery attempt.
//   confirmed mN            the broker confirmed the publish of mN (sync flush: it is on disk)
//   delivered mN A          the consumer received attempt A of mN
//   ack mN                  the consumer is about to call Broker::ack for mN (from here on mN may be gone)
//   nack mN A               the consumer is about to call Broker::nack (requeue) for attempt A of mN
//   ack-durable mN          a Broker::sync() that began after the ack of mN completed: the ack is on disk
//   nack-durable mN A       the same for the nack of attempt A: the attempt count A is on disk
//   publish-nacked mN R     the broker nacked the publish (reason R): the parent fails on it
//   error TEXT              the crasher hit an error and exits: the parent fails on it
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "depot/broker/Broker.h"

namespace depot::test {

class BrokerCrashPlan {
public:
    static constexpr const char* kQueue = "work";
    static constexpr const char* kDeadLetterQueue = "work.dlq";
    static constexpr uint32_t kMaxAttempts = 3;
    // Small segments so that segments roll and settled ones are reclaimed while the crasher runs.
    static constexpr uint64_t kSegmentSize = 1ull << 20;
    // Each run of the crasher numbers its messages from run * kNumbersPerRun + 1, so numbers never repeat across
    // runs (a repeated producer id would be deduplicated) and a run never reaches the next one's numbers.
    static constexpr uint64_t kNumbersPerRun = 1'000'000;

    static broker::QueuePolicy policy() {
        broker::QueuePolicy policy;
        policy.flush = broker::FlushMode::Sync;
        policy.maxAttempts = kMaxAttempts;
        policy.backoff = {broker::Millis(50)};
        policy.ackTimeout = broker::Millis(60000);
        return policy;
    }

    static broker::BrokerOptions options(const std::string& dataDir) {
        broker::BrokerOptions options;
        options.dataDir = dataDir;
        options.segmentSize = kSegmentSize;
        return options;
    }

    // Poison messages are nacked with requeue at every attempt: they must end in the DLQ with reason max-attempts.
    static bool isPoison(uint64_t number) { return number % 7 == 0; }
    // These are nacked with requeue at their first attempt only: a retry that then succeeds.
    static bool failsOnce(uint64_t number) { return number % 5 == 0 && !isPoison(number); }

    static std::string messageId(uint64_t number) { return "m" + std::to_string(number); }
    static std::optional<uint64_t> numberOf(std::string_view messageId) {
        if (messageId.size() < 2 || messageId[0] != 'm')
            return std::nullopt;
        uint64_t number = 0;
        for (char c : messageId.substr(1)) {
            if (c < '0' || c > '9')
                return std::nullopt;
            number = number * 10 + uint64_t(c - '0');
        }
        return number;
    }
    // The body: the id and padding, so the log holds records of a realistic size.
    static std::string body(uint64_t number) { return messageId(number) + ' ' + std::string(200, 'x'); }
};

}  // namespace depot::test
