#pragma once
// Signals: SIGINT/SIGTERM as a request to stop, for the commands that run until told (consume, stats --watch,
// dlq requeue), so they can settle, cancel and report instead of dying mid-way.
namespace depotctl {

// From now on SIGINT and SIGTERM only set the flag stopRequested() reads.
void catchStopSignals();
bool stopRequested();

}  // namespace depotctl
