#include "depot/Heap.h"

#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace depot {

namespace {

// A tcmalloc entry point, or null when the process runs another malloc.
template <typename Function>
Function tcmalloc(const char* name) {
    return reinterpret_cast<Function>(::dlsym(RTLD_DEFAULT, name));
}

}  // namespace

std::string mallocName() {
    if (auto version = tcmalloc<const char* (*)(int*, int*, const char**)>("tc_version")) {
        int major = 0, minor = 0;
        const char* patch = nullptr;
        if (const char* name = version(&major, &minor, &patch))
            return name;
    }
    return "libc malloc";
}

void releaseFreeHeap() {
    if (auto release = tcmalloc<void (*)()>("MallocExtension_ReleaseFreeMemory"))
        return release();
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
}

}  // namespace depot
