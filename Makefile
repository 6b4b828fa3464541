# Depot: the two commands are `make run` and `make test`. Both install missing Debian packages first
# (installer/deps-debian.sh, idempotent), configure build/ once, and build incrementally (ccache when present).

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
DATA_DIR   ?= $(HOME)/.local/share/depot
JOBS       ?= $(shell nproc)
BENCH_ARGS ?=

.DEFAULT_GOAL := run
.PHONY: run test test-slow test-all build deps bench clean

# The console with its embedded broker; without a display, depot says so and runs depotd on the same data.
run: build
	exec $(BUILD_DIR)/app/depot --data "$(DATA_DIR)"

# The default suite: everything except soak tests labelled `slow`.
test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2 -LE slow

test-slow: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L slow

test-all: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

deps:
	bash installer/deps-debian.sh

# Configure only once; CMake re-runs itself when a CMakeLists.txt changes. deps is order-only: it always runs
# first, but never forces a reconfigure.
$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

bench: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target depot-bench
	$(BUILD_DIR)/tests/bench/depot-bench storage $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR)
