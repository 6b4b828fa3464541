#!/usr/bin/env bash
# Installs every Debian package Depot's build, tests and benchmarks need (`--bench`: and RabbitMQ, for comparison).
# Idempotent: does nothing when everything is present; runs `apt-get update` only when something is missing.
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake ninja-build ccache pkg-config git
    # core
    libzmq3-dev cppzmq-dev libsqlite3-dev nlohmann-json3-dev
    # the programs' allocator (tcmalloc_minimal; CMake option DEPOT_TCMALLOC)
    libgoogle-perftools-dev
    # console
    qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev libxkbcommon-dev
    # tests: the Python protocol client, screenshots under Xvfb
    python3 python3-zmq xvfb xauth x11-apps imagemagick
    # profiling and benchmarks (depot-bench compare drives RabbitMQ through rabbitmq-c)
    linux-perf valgrind strace librabbitmq-dev
)
# `--bench`: also the RabbitMQ server depot-bench compare --peer rabbitmq measures against (Erlang and all: not
# needed to build or test, so not installed by default).
if [ "${1:-}" = "--bench" ]; then
    packages+=(rabbitmq-server)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps-debian: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

# Debian starts (and enables) a system RabbitMQ listening on every interface: depot-bench runs its own node on
# loopback (tests/bench/rabbitmq-local.sh), so the service this script just brought in is stopped and disabled.
if [[ " ${missing[*]} " == *" rabbitmq-server "* ]] && command -v systemctl > /dev/null &&
    systemctl is-active -q rabbitmq-server 2> /dev/null; then
    echo "deps-debian: stopping and disabling the rabbitmq-server service (depot-bench starts its own, on loopback)" >&2
    $SUDO systemctl disable --now rabbitmq-server
fi
