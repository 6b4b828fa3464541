#!/usr/bin/env bash
# Installs every Debian package Depot's build, tests and benchmarks need.
# Idempotent: does nothing when everything is present; runs `apt-get update` only when something is missing.
# Nothing is downloaded from anywhere but Debian's archive.
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake ninja-build ccache pkg-config git
    # core
    libzmq3-dev cppzmq-dev libsqlite3-dev nlohmann-json3-dev
    # console
    qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev libxkbcommon-dev
    # tests: the Python protocol client, screenshots under Xvfb
    python3 python3-zmq xvfb xauth x11-apps imagemagick
    # profiling and benchmarks
    linux-perf valgrind
)

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
