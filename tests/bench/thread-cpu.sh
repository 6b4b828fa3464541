#!/bin/bash
# Per-thread CPU of every depotd and depot-bench process over SECONDS (default 5), busiest first, as a share of
# one core. Run it while a benchmark runs, e.g.
#   build/tests/bench/depot-bench wire --only publish@64 --seconds 12 & sleep 4; tests/bench/thread-cpu.sh 5
# Depot names its threads (depot-broker, depot-flusher, depot-history, depot-client, ...); ZMQbg/IO/0 is
# ZeroMQ's I/O thread of the process before it.
set -euo pipefail
seconds=${1:-5}
ticks=$(getconf CLK_TCK)
snapshot() {
    for pid in $(pgrep -x depotd || true) $(pgrep -x depot-bench || true); do
        for task in /proc/$pid/task/*; do
            stat=$(cat "$task/stat" 2>/dev/null) || continue
            fields=(${stat##*) })
            echo "$pid/${task##*/} $(cat "$task/comm" 2>/dev/null | tr ' ' '_') $((fields[11] + fields[12]))"
        done
    done | sort
}
before=$(snapshot)
sleep "$seconds"
after=$(snapshot)
join <(echo "$before") <(echo "$after") |
    awk -v s="$seconds" -v t="$ticks" '{ d = $5 - $3; if (d > 0) printf "%-16s %-16s %6.1f%%\n", $1, $2, 100 * d / t / s }' |
    sort -k3 -nr
