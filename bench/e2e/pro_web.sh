#!/usr/bin/env bash
# bench/e2e/pro_web.sh — does a hammered dashboard slow the tests? btest-pro with
# --web runs one unlimited TCP test (direction both) alone, then the same test
# while bench/e2e/web_hammer.py sends GETs from THREADS threads for the test's
# length, REPS times each, alternating. Reported: test throughput alone and
# hammered (medians, and their ratio), and the dashboard's requests/s and
# latency under the test. There is no peer tool for this (no other btest server
# has a dashboard we can run here): the ratio is against our own run without
# the load, in the same command.
#
#   bench/e2e/pro_web.sh BUILD_DIR
#   env: REPS (default 3), SECONDS_PER_TEST (default 5), THREADS (default 16),
#        OUT (default BUILD_DIR/bench/pro_web.json).
# Loopback only; every run is bounded by timeout(1). Informational: exit 0
# unless a run failed; 2 on a setup error.
set -euo pipefail
die() { echo "pro_web.sh: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env REPS, SECONDS_PER_TEST, THREADS, OUT)"
BUILD_DIR=$1
REPS=${REPS:-3}
SECS=${SECONDS_PER_TEST:-5}
THREADS=${THREADS:-16}
OUT=${OUT:-$BUILD_DIR/bench/pro_web.json}
HERE=$(cd "$(dirname "$0")" && pwd)
BTEST=$BUILD_DIR/apps/btest/btest
PRO=$BUILD_DIR/apps/btest-pro/btest-pro
for f in "$BTEST" "$PRO"; do
  [ -x "$f" ] || die "missing $f (cmake --preset bench && cmake --build --preset bench)"
done
for v in REPS SECS THREADS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done

WORK=$(mktemp -d /tmp/pro_web.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -z "$SERVER_PID" ] || { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
read -r BPORT WPORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
"$PRO" --db "$WORK/pro.db" user add bench --password benchpass >/dev/null
timeout $((REPS * (2 * SECS + 20) + 60)) "$PRO" --db "$WORK/pro.db" serve -q -P "$BPORT" --listen 127.0.0.1 \
  --web "127.0.0.1:$WPORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$WPORT/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$WPORT/healthz" >/dev/null || { cat "$WORK/server.log" >&2; die "btest-pro did not start"; }

run_test() {  # $1 = output json
  timeout $((SECS + 20)) "$BTEST" -c 127.0.0.1 -P "$BPORT" -a bench -p benchpass -d "${SECS}s" --direction both \
    --json >"$1"
}
for r in $(seq "$REPS"); do
  run_test "$WORK/alone.$r.json"
  nice -n 19 python3 "$HERE/web_hammer.py" "http://127.0.0.1:$WPORT" --seconds "$SECS" --threads "$THREADS" \
    --json "$WORK/hammer.$r.json" >/dev/null &
  HPID=$!
  run_test "$WORK/loaded.$r.json"
  wait "$HPID"
done

mkdir -p "$(dirname "$OUT")"
python3 - "$WORK" "$REPS" "$OUT" <<'PY'
import json, statistics, sys
work, reps, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def bps(path):
    j = json.load(open(path))
    # the client's summary: both directions' average rates, bits/s
    return j["tx"]["avg_bps"] + j["rx"]["avg_bps"]
alone = [bps(f"{work}/alone.{r}.json") for r in range(1, reps + 1)]
loaded = [bps(f"{work}/loaded.{r}.json") for r in range(1, reps + 1)]
ham = [json.load(open(f"{work}/hammer.{r}.json")) for r in range(1, reps + 1)]
res = {
    "alone_gbps": [round(x / 1e9, 3) for x in alone],
    "hammered_gbps": [round(x / 1e9, 3) for x in loaded],
    "median_alone_gbps": round(statistics.median(alone) / 1e9, 3),
    "median_hammered_gbps": round(statistics.median(loaded) / 1e9, 3),
    "ratio_hammered_over_alone": round(statistics.median(loaded) / statistics.median(alone), 3),
    "web_requests_per_s": [h["requests_per_s"] for h in ham],
    "web_codes": [h["codes"] for h in ham],
    "web_median_latency_ms": [h["median_ms_all"] for h in ham],
    "web_latency_last_run": ham[-1]["latency_ms"],
}
json.dump(res, open(out, "w"), indent=1)
print(json.dumps({k: v for k, v in res.items() if k != "web_latency_last_run"}, indent=1))
PY
echo "pro_web.sh: wrote $OUT" >&2
