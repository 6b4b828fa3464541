#include "client/MessageIds.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>

namespace depot::client {

namespace {

std::string makePrefix() {
    std::random_device device;
    const uint64_t value = (uint64_t(device()) << 32) ^ device();
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

}  // namespace

std::string MessageIds::next() {
    static const std::string prefix = makePrefix();
    static std::atomic<uint64_t> counter{0};
    return prefix + "-" + std::to_string(++counter);
}

}  // namespace depot::client
