#pragma once
// LargeTableAllocator: an allocator for big arrays probed at random (the flat hash tables, an entry per message:
// millions). From 2 MiB on, an array gets its own anonymous mapping with transparent huge pages asked for
// (madvise MADV_HUGEPAGE, a hint the kernel may ignore): with 4 KiB pages nearly every probe of such a table misses
// the TLB, and each page's first touch after a resize is a page fault, both dear in a virtual machine. Smaller
// arrays come from operator new.
#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace depot::broker {

template <typename T>
class LargeTableAllocator {
public:
    using value_type = T;

    LargeTableAllocator() = default;
    template <typename U>
    LargeTableAllocator(const LargeTableAllocator<U>&) {}

    T* allocate(size_t count) {
        const size_t bytes = count * sizeof(T);
        if (bytes < kHugePage)
            return static_cast<T*>(::operator new(bytes));
        void* mapped = ::mmap(nullptr, mappedSize(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mapped == MAP_FAILED)
            throw std::bad_alloc();
        ::madvise(mapped, mappedSize(bytes), MADV_HUGEPAGE);
        return static_cast<T*>(mapped);
    }
    void deallocate(T* array, size_t count) {
        const size_t bytes = count * sizeof(T);
        if (bytes < kHugePage)
            return ::operator delete(array);
        ::munmap(array, mappedSize(bytes));
    }
    template <typename U>
    bool operator==(const LargeTableAllocator<U>&) const {
        return true;
    }

private:
    static constexpr size_t kHugePage = size_t(2) << 20;
    static size_t mappedSize(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }
};

}  // namespace depot::broker
