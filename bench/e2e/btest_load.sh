#!/usr/bin/env bash
# bench/e2e/btest_load.sh — load test of the btest server: many short tests at once,
# then check that the server went back to idle without leaking.
#
#   bench/e2e/btest_load.sh BUILD_DIR
#   env: TESTS (default 500) tests in all; CONCURRENCY (default 500 = all at once);
#        DURATION (default 1) seconds per test; CONNECTIONS (default 1) per test;
#        DIRECTION (default alternate: transmit, receive, both in turn);
#        BANDWIDTH (default 0 = unlimited) speed cap of each sending side, e.g. 10M;
#        AUTH_USER/AUTH_PASS (default none: when set, server and tests use MD5 auth);
#        DEADLINE (default 60) seconds after which btest_load starts no test and
#        counts what is unfinished as failed; IDLE_WAIT (default 30) seconds to wait
#        for the server to go idle afterwards; RSS_SLACK_MB (default 20) allowed
#        RSS growth; OUT (default BUILD_DIR/bench/btest_load.json).
#
# It starts `btest -s --listen 127.0.0.1 -P PORT -q --max-sessions 0` (plus --csv
# into a temp dir, so the server's own view of every test can be counted), waits
# until that process is the one listening, records its RSS (VmRSS), open fds and
# threads, runs bench/load/btest_load against it (peaks of the same three figures
# are sampled every 0.2 s meanwhile), waits (bounded) until the server's fds and
# threads are back to their idle counts, records the three again, checks that the
# server is still alive and stops within 5 s of SIGTERM, and writes one JSON file.
#
# Verdict (exit 1 when any fails):
#   - btest_load reported no failed, unfinished or unstarted test;
#   - the server is alive after the load and its CSV has one row per test started;
#   - fds after <= fds before and threads after <= threads before (a leaked
#     session or thread shows here);
#   - RSS after <= RSS before + RSS_SLACK_MB. RSS may stay a little higher after a
#     load without any leak: glibc keeps freed heap in its per-thread arenas and
#     caches thread stacks, so some growth is allowed and always reported.
# Everything runs under timeout(1) and is killed on exit. Exit 2 on a usage/setup
# error.
set -euo pipefail

die() { echo "btest_load.sh: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env TESTS, CONCURRENCY, DURATION, CONNECTIONS, DIRECTION, AUTH_USER, AUTH_PASS, DEADLINE, IDLE_WAIT, RSS_SLACK_MB, OUT)"
BUILD_DIR=$1
TESTS=${TESTS:-500}
CONCURRENCY=${CONCURRENCY:-500}
DURATION=${DURATION:-1}
CONNECTIONS=${CONNECTIONS:-1}
DIRECTION=${DIRECTION:-alternate}
BANDWIDTH=${BANDWIDTH:-0}
DEADLINE=${DEADLINE:-60}
IDLE_WAIT=${IDLE_WAIT:-30}
RSS_SLACK_MB=${RSS_SLACK_MB:-20}
AUTH_USER=${AUTH_USER:-}
AUTH_PASS=${AUTH_PASS:-}
OUT=${OUT:-$BUILD_DIR/bench/btest_load.json}
BTEST=$BUILD_DIR/apps/btest/btest
LOAD=$BUILD_DIR/bench/load/btest_load

for v in TESTS CONCURRENCY DURATION CONNECTIONS DEADLINE IDLE_WAIT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ $RSS_SLACK_MB =~ ^[0-9]+$ ]] || die "RSS_SLACK_MB must be a non-negative integer, got '$RSS_SLACK_MB'"
[[ $DIRECTION =~ ^(alternate|transmit|receive|both)$ ]] || die "DIRECTION must be alternate, transmit, receive or both"
[[ $BANDWIDTH =~ ^[0-9.]+[kKmMgG]?$ ]] || die "BANDWIDTH must look like 0, 500K, 10M or 1G, got '$BANDWIDTH'"
[ -z "$AUTH_USER" ] || [ -n "$AUTH_PASS" ] || die "AUTH_USER needs AUTH_PASS"
[ -x "$BTEST" ] || die "btest is missing: $BTEST (build it: cmake --preset bench && cmake --build --preset bench --target btest btest_load)"
[ -x "$LOAD" ] || die "btest_load is missing: $LOAD (build it: cmake --build --preset bench --target btest_load)"
for tool in timeout pgrep python3; do
  command -v "$tool" >/dev/null || die "'$tool' not found (scripts/install-deps installs coreutils/procps/python3)"
done

# Each side holds CONCURRENCY x CONNECTIONS sockets at the peak, in one process
# each; give both room (the soft limit is inherited by the children).
RUNNING=$((CONCURRENCY < TESTS ? CONCURRENCY : TESTS))
NEED_FDS=$((RUNNING * CONNECTIONS * 2 + 1024))
SOFT=$(ulimit -Sn)
if [ "$SOFT" != unlimited ] && [ "$SOFT" -lt "$NEED_FDS" ]; then
  HARD=$(ulimit -Hn)
  if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$NEED_FDS" ]; then
    die "open-file limit too low: need $NEED_FDS, hard limit is $HARD (raise it or lower CONCURRENCY)"
  fi
  ulimit -Sn "$NEED_FDS" || die "cannot raise the open-file soft limit to $NEED_FDS"
fi

LOAD_GRACE=15
LOAD_LIMIT=$((DEADLINE + LOAD_GRACE + 30))
SERVER_LIMIT=$((LOAD_LIMIT + IDLE_WAIT + 60))
WORK=$(mktemp -d /tmp/btest_load.XXXXXX)
# A job is timeout(1) -> tool; timeout puts itself and the tool in a new process
# group named by its own pid, which is what we signal.
SERVER_TPID="" LOAD_TPID=""

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  stop_job "$LOAD_TPID" TERM
  stop_job "$SERVER_TPID" TERM
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_job TPID SIG: signal timeout's group, wait at most 5 s, then KILL. Returns
# 0 when it ended within those 5 s.
# shellcheck source=bench/e2e/lib.sh
. "$(dirname "$0")/lib.sh"



# Below the ephemeral range (32768+), so the load's own client ports cannot take it.
pick_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 12000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free TCP port found"
}

# The socket inode listening on 127.0.0.1:PORT (state 0A), empty when none.

# True when PID itself holds the listening socket (not some other process on the port).

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() {
  local f
  f=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) || f=0
  echo "$f"
}

SERVER_PID=""
start_server() {
  local attempt i
  local -a auth=()
  [ -z "$AUTH_USER" ] || auth=(-a "$AUTH_USER" -p "$AUTH_PASS")
  for attempt in 1 2 3; do
    PORT=$(pick_port)
    timeout -k 5 "$SERVER_LIMIT" "$BTEST" -s --listen 127.0.0.1 -P "$PORT" -q --max-sessions 0 \
      --csv "$WORK/server.csv" "${auth[@]}" >"$WORK/server.log" 2>&1 &
    SERVER_TPID=$!
    SERVER_PID=""
    for ((i = 0; i < 100; i++)); do
      [ -n "$SERVER_PID" ] || SERVER_PID=$(pgrep -P "$SERVER_TPID" || true)
      if [ -n "$SERVER_PID" ] && owns_listener "$SERVER_PID" "$PORT"; then
        return 0
      fi
      kill -0 "$SERVER_TPID" 2>/dev/null || break
      sleep 0.05
    done
    echo "btest_load.sh: server did not start listening on 127.0.0.1:$PORT (attempt $attempt); its log:" >&2
    tail -n 5 "$WORK/server.log" >&2 || true
    stop_job "$SERVER_TPID" KILL || true
    SERVER_TPID="" SERVER_PID=""
  done
  die "could not start the btest server"
}

start_server
sleep 0.5  # let it settle (logger, first poll) before the baseline
RSS_BEFORE=$(rss_kb "$SERVER_PID") FDS_BEFORE=$(fds "$SERVER_PID") THREADS_BEFORE=$(threads "$SERVER_PID")
echo "btest_load.sh: server pid $SERVER_PID on 127.0.0.1:$PORT: rss ${RSS_BEFORE} kB, $FDS_BEFORE fds, $THREADS_BEFORE threads" >&2
echo "btest_load.sh: $TESTS tests, $CONCURRENCY at a time, ${DURATION}s each, $CONNECTIONS connection(s), direction $DIRECTION, bandwidth $BANDWIDTH, open-file limit $(ulimit -Sn)" >&2

LOAD_ARGS=(127.0.0.1 -P "$PORT" -n "$TESTS" -c "$CONCURRENCY" -d "$DURATION" --connections "$CONNECTIONS"
  --direction "$DIRECTION" -b "$BANDWIDTH" --deadline "$DEADLINE" --grace "$LOAD_GRACE" --json "$WORK/load.json" -q)
[ -z "$AUTH_USER" ] || LOAD_ARGS+=(-a "$AUTH_USER" -p "$AUTH_PASS")
# In the background so a signal to this script is handled at once; the server's
# peaks are sampled meanwhile.
timeout -k 5 "$LOAD_LIMIT" "$LOAD" "${LOAD_ARGS[@]}" >"$WORK/load.out" 2>"$WORK/load.err" &
LOAD_TPID=$!
RSS_PEAK=$RSS_BEFORE FDS_PEAK=$FDS_BEFORE THREADS_PEAK=$THREADS_BEFORE
while kill -0 "$LOAD_TPID" 2>/dev/null; do
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    r=$(rss_kb "$SERVER_PID") f=$(fds "$SERVER_PID") t=$(threads "$SERVER_PID")
    ((r > RSS_PEAK)) && RSS_PEAK=$r
    ((f > FDS_PEAK)) && FDS_PEAK=$f
    ((t > THREADS_PEAK)) && THREADS_PEAK=$t
  fi
  sleep 0.2
done
LOAD_RC=0
wait "$LOAD_TPID" || LOAD_RC=$?
LOAD_TPID=""
cat "$WORK/load.out"
[ ! -s "$WORK/load.err" ] || sed 's/^/  btest_load stderr: /' "$WORK/load.err" >&2

# Wait (bounded) for the server to drop back to its idle fds and threads.
SERVER_ALIVE=1
IDLE_START=$(date +%s.%N)
IDLE=0
for ((i = 0; i < IDLE_WAIT * 10; i++)); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    SERVER_ALIVE=0
    break
  fi
  if (($(fds "$SERVER_PID") <= FDS_BEFORE && $(threads "$SERVER_PID") <= THREADS_BEFORE)); then
    IDLE=1
    break
  fi
  sleep 0.1
done
IDLE_S=$(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$IDLE_START" "$(date +%s.%N)")
if [ "$SERVER_ALIVE" = 1 ]; then
  sleep 1.5  # one more poll period: finished handler threads are joined, allocator settles
  RSS_AFTER=$(rss_kb "$SERVER_PID") FDS_AFTER=$(fds "$SERVER_PID") THREADS_AFTER=$(threads "$SERVER_PID")
else
  RSS_AFTER=0 FDS_AFTER=0 THREADS_AFTER=0
  echo "btest_load.sh: the server died during the load; its log:" >&2
  tail -n 20 "$WORK/server.log" >&2 || true
fi

# Stop the server: it must leave within 5 s of SIGTERM (stop_job's bound).
SHUTDOWN_OK=1
if [ "$SERVER_ALIVE" = 1 ]; then
  stop_job "$SERVER_TPID" TERM || SHUTDOWN_OK=0
else
  stop_job "$SERVER_TPID" TERM || true
fi
SERVER_TPID=""

mkdir -p "$(dirname "$OUT")"
export TESTS CONCURRENCY DURATION CONNECTIONS DIRECTION BANDWIDTH DEADLINE IDLE_WAIT RSS_SLACK_MB AUTH_USER LOAD_RC \
  RSS_BEFORE RSS_PEAK RSS_AFTER FDS_BEFORE FDS_PEAK FDS_AFTER THREADS_BEFORE THREADS_PEAK THREADS_AFTER \
  SERVER_ALIVE IDLE IDLE_S SHUTDOWN_OK
set +e
python3 - "$WORK" "$OUT" <<'PY'
import csv, json, os, sys
work, out = sys.argv[1], sys.argv[2]
E = os.environ
def num(k):
    return int(E[k])
slack_mb = num("RSS_SLACK_MB")
env = dict(tests=num("TESTS"), concurrency=num("CONCURRENCY"), duration_s=num("DURATION"),
           connections=num("CONNECTIONS"), direction=E["DIRECTION"], bandwidth=E["BANDWIDTH"], deadline_s=num("DEADLINE"),
           idle_wait_s=num("IDLE_WAIT"), rss_slack_mb=slack_mb, auth="md5" if E.get("AUTH_USER") else "none")
load_rc = num("LOAD_RC")
try:
    load = json.load(open(os.path.join(work, "load.json")))
except (OSError, ValueError) as e:
    load = None
    load_error = f"btest_load wrote no report (exit {load_rc}): {e}"
rows = []
try:
    with open(os.path.join(work, "server.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
except OSError:
    pass
reasons = {}
for r in rows:
    key = f"{r['result']}: {r['end_reason']}"
    reasons[key] = reasons.get(key, 0) + 1
log_lines = [l.rstrip("\n") for l in open(os.path.join(work, "server.log"), errors="replace")]
warn_lines = [l for l in log_lines if " warning " in l or " error " in l or " critical " in l]
server = {
    "rss_kb_before": num("RSS_BEFORE"), "rss_kb_peak": num("RSS_PEAK"), "rss_kb_after": num("RSS_AFTER"),
    "rss_growth_kb": num("RSS_AFTER") - num("RSS_BEFORE"),
    "fds_before": num("FDS_BEFORE"), "fds_peak": num("FDS_PEAK"), "fds_after": num("FDS_AFTER"),
    "threads_before": num("THREADS_BEFORE"), "threads_peak": num("THREADS_PEAK"), "threads_after": num("THREADS_AFTER"),
    "alive_after_load": E["SERVER_ALIVE"] == "1", "idle_reached": E["IDLE"] == "1", "idle_after_s": float(E["IDLE_S"]),
    "stopped_on_sigterm_within_5s": E["SHUTDOWN_OK"] == "1",
    "csv_rows": len(rows), "csv_ok": sum(1 for r in rows if r["result"] == "ok"),
    "csv_errors": sum(1 for r in rows if r["result"] != "ok"), "csv_end_reasons": reasons,
    "log_warnings": len(warn_lines), "first_log_warnings": warn_lines[:5],
}
started = load["setup_ms"]["count"] if load else None
checks = {
    "no_failed_tests": bool(load) and load["failed"] == 0 and load["not_started"] == 0 and load_rc == 0,
    "server_alive": server["alive_after_load"],
    "server_recorded_every_test": bool(load) and server["csv_rows"] == started,
    "fds_back_to_idle": server["alive_after_load"] and server["fds_after"] <= server["fds_before"],
    "threads_back_to_idle": server["alive_after_load"] and server["threads_after"] <= server["threads_before"],
    "rss_within_slack": server["alive_after_load"] and server["rss_growth_kb"] <= slack_mb * 1024,
    "clean_shutdown": server["stopped_on_sigterm_within_5s"],
}
doc = {
    "benchmark": "btest_load", "host": os.uname().nodename, "cpus": os.cpu_count(), "address": "127.0.0.1",
    **env,
    "sessions_per_s": load["sessions_per_s"] if load else None,
    "attempted": load["attempted"] if load else None, "ok_tests": load["ok"] if load else None,
    "failures": (load["failed"] + load["not_started"]) if load else None,
    "unfinished": load["unfinished"] if load else None,
    "wall_s": load["wall_s"] if load else None, "total_bytes": load["total_bytes"] if load else None,
    "setup_ms": load["setup_ms"] if load else None, "test_s": load["test_s"] if load else None,
    "first_failures": load["first_failures"] if load else [load_error],
    "failure_counts": load["failure_counts"] if load else {},
    "btest_load_exit": load_rc,
    # The headline server figures, flat for report scripts; the rest is under "server".
    **{k: server[k] for k in ("rss_kb_before", "rss_kb_after", "rss_growth_kb", "fds_before", "fds_after",
                              "threads_before", "threads_after")},
    "server": server,
    "rss_note": "RSS may stay higher after a load without a leak (glibc arenas and cached thread stacks); "
                f"growth up to {slack_mb} MB is allowed, fds and threads must return to their idle counts",
    "checks": checks, "ok": all(checks.values()),
}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
def g(v, fmt="{}"):
    return "-" if v is None else fmt.format(v)
print(f"btest server load on 127.0.0.1: {env['tests']} tests, {env['concurrency']} at a time, "
      f"{env['duration_s']}s each, {env['connections']} connection(s), {env['direction']}, bandwidth {env['bandwidth']}, "
      f"auth {env['auth']}")
print(f"  sessions/s {g(doc['sessions_per_s'], '{:.1f}')}  ok {g(doc['ok_tests'])}  failures {g(doc['failures'])}"
      f"  wall {g(doc['wall_s'], '{:.2f}')} s  setup p50/p99 "
      f"{g(load and load['setup_ms']['p50'], '{:.0f}')}/{g(load and load['setup_ms']['p99'], '{:.0f}')} ms")
print(f"  {'server':<8}{'before':>10}{'peak':>10}{'after':>10}")
print(f"  {'rss kB':<8}{server['rss_kb_before']:>10}{server['rss_kb_peak']:>10}{server['rss_kb_after']:>10}"
      f"   growth {server['rss_growth_kb']} kB (allowed {slack_mb} MB: allocator caches)")
print(f"  {'fds':<8}{server['fds_before']:>10}{server['fds_peak']:>10}{server['fds_after']:>10}")
print(f"  {'threads':<8}{server['threads_before']:>10}{server['threads_peak']:>10}{server['threads_after']:>10}")
print(f"  idle after {server['idle_after_s']} s; server CSV rows {server['csv_rows']} "
      f"(ok {server['csv_ok']}, error {server['csv_errors']}); server log warnings {server['log_warnings']}")
for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
    print(f"    server end: {n:5}  {k}")
for l in server["first_log_warnings"]:
    print(f"    server log: {l}")
for k, v in checks.items():
    print(f"  check {k}: {'ok' if v else 'FAILED'}")
print(f"JSON: {out}")
sys.exit(0 if doc["ok"] else 1)
PY
RC=$?
set -e
[ "$RC" = 0 ] || echo "btest_load.sh: load test failed (see the checks above)" >&2
exit "$RC"
