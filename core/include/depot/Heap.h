#pragma once
// The process's heap, whichever malloc it runs with: the programs link tcmalloc (CMake option DEPOT_TCMALLOC), a
// program using the libraries keeps its own. Asked at run time, so the answer is the malloc actually in use.
#include <string>

namespace depot {

// "gperftools 2.10" when tcmalloc is loaded, else "libc malloc".
std::string mallocName();
// Gives the heap's free memory back to the system (a burst's peak would otherwise stay in the process):
// tcmalloc's MallocExtension_ReleaseFreeMemory when it is loaded, else glibc's malloc_trim(0).
void releaseFreeHeap();

}  // namespace depot
