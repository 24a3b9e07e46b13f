# Convenience front end over CMake. `make` builds build/labtape;
# `make check` installs what is missing, builds and runs every test;
# `make run` installs what is missing, builds and starts the main job.

BUILD  ?= build
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

all: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/Makefile:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

deps:
	@scripts/install-deps

check: deps all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The recorder on this folder, into a demo vault (scripts/demo-run).
run: deps all
	@BUILD=$(BUILD) scripts/demo-run

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize:
	@cmake -S . -B build-asan -DLABTAPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS)

# An optimized build (-O3), for the warnings only its analysis finds
# (CI builds it; nothing runs from it).
release:
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
	@cmake --build build-release -j $(JOBS)

# libFuzzer targets (clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz:
	@CC=clang cmake -S . -B build-fuzz -DLABTAPE_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	@cmake --build build-fuzz -j $(JOBS)
	@scripts/run-fuzzers build-fuzz $(FUZZ_SECONDS)

# The recorder's benchmark (bench/recorder.sh) installs restic and
# borgbackup if they are missing; it takes 10 to 20 minutes.
# bench/shell.sh (labtape shell against script and asciinema, 1 GiB each)
# installs asciinema if missing and takes a few minutes.
# bench/redact.sh (labtape redact beside grep -E, 1 GiB of mixed text)
# takes a few minutes, most of it grep.
# bench/import-git.sh (labtape import git beside git log -p, 10,000
# commits made with git fast-import) takes a few minutes.
bench: all
	@$(BUILD)/bench/ingest
	@$(BUILD)/bench/history
	@$(BUILD)/bench/export --labtape $(BUILD)/labtape
	@LABTAPE=$(BUILD)/labtape HISTORY_BENCH=$(BUILD)/bench/history bench/recorder.sh
	@LABTAPE=$(BUILD)/labtape bench/shell.sh
	@LABTAPE=$(BUILD)/labtape bench/redact.sh
	@bench/import-etherpad.py --labtape $(BUILD)/labtape
	@LABTAPE=$(BUILD)/labtape bench/import-git.sh

# Installs build/labtape into $(PREFIX)/bin (default /usr/local) and the
# systemd user unit.
PREFIX ?= /usr/local
install: all
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-release

.PHONY: all deps check run sanitize release fuzz bench install clean
