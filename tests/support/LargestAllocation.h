#pragma once
// LargestAllocation: the largest single `operator new` made while a measurement runs. It proves a decoder checks
// a declared length against the bytes it has before allocating for it.
//
// This header replaces the global operator new/delete: include it in exactly one translation unit of a test
// program (the test's .cpp).
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace depot::test::allocation {
inline std::atomic<bool> g_tracking{false};
inline std::atomic<size_t> g_largest{0};
}  // namespace depot::test::allocation

void* operator new(size_t size) {
    using namespace depot::test::allocation;
    if (g_tracking.load(std::memory_order_relaxed) && size > g_largest.load())
        g_largest.store(size);
    if (void* p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace depot::test {

// The largest allocation `run()` made.
template <typename F>
size_t largestAllocationOf(F&& run) {
    allocation::g_largest = 0;
    allocation::g_tracking = true;
    run();
    allocation::g_tracking = false;
    return allocation::g_largest.load();
}

}  // namespace depot::test
