# linerate — the two commands every user and CI run.
#   make run    install deps, build (release), run a 5-second loopback btest demo
#   make test   install deps, build (dev: ASan+UBSan), run every test through CTest
# Also: make build, make bench, make clean.
JOBS ?= $(shell nproc)
.PHONY: all deps build build-dev run test bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

build-dev: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

run: build
	@scripts/demo build/release/apps/btest/btest

test: build-dev
	ctest --preset dev -j $(JOBS)

bench: deps
	cmake --preset bench >/dev/null
	cmake --build --preset bench -j $(JOBS)
	build/bench/bench/micro/micro_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
	  --benchmark_out=build/bench/micro.json --benchmark_out_format=json
	bench/e2e/btest_tcp.sh build/bench

clean:
	rm -rf build
