# linerate — the two commands every user and CI run.
#   make run    install deps, build (release), run a 5-second loopback btest demo
#   make test   install deps, build (dev: ASan+UBSan) and the perf-gate driver
#               (release), run every test through CTest, including the gate
# Also: make build, make bench (report in build/bench/report.json),
#       make bench-baseline (rewrite bench/baseline.json on purpose), make clean.
JOBS ?= $(shell nproc)
.PHONY: all deps build build-dev gate-build run test bench bench-baseline clean

all: build

deps:
	@scripts/install-deps

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

build-dev: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

# The callgrind gate needs an optimised, unsanitised driver: build just that
# target of the release preset.
gate-build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target gate_driver

run: build
	@scripts/demo build/release/apps/btest/btest

test: build-dev gate-build
	ctest --preset dev -j $(JOBS)

bench: deps gate-build
	cmake --preset bench >/dev/null
	cmake --build --preset bench -j $(JOBS)
	build/bench/bench/micro/micro_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
	  --benchmark_out=build/bench/micro.json --benchmark_out_format=json
	bench/e2e/btest_tcp.sh build/bench
	bench/e2e/btest_udp.sh build/bench
	bench/e2e/btest_load.sh build/bench
	bench/e2e/btest_auth.sh build/bench
	bench/e2e/pro_load.sh build/bench
	bench/e2e/pro_web.sh build/bench
	bench/e2e/scan_connect.sh build/bench
	bench/e2e/scan_syn.sh build/bench
	bench/e2e/scan_rate.sh build/bench
	bench/e2e/scan_dryrun.sh build/bench
	python3 bench/gate/run_gate.py --driver build/release/bench/gate/gate_driver \
	  --baseline bench/baseline.json --json build/bench/gate.json
	python3 bench/report.py build/bench

bench-baseline: gate-build
	python3 bench/gate/run_gate.py --driver build/release/bench/gate/gate_driver \
	  --baseline bench/baseline.json --update

clean:
	rm -rf build
