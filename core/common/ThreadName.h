#pragma once
// Names the calling thread (as top -H, perf and gdb show it), so an operator can tell the broker loop from the
// flusher. Linux keeps 15 characters; longer names are cut.
namespace depot {

void nameThisThread(const char* name);

}  // namespace depot
