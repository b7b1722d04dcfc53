#!/usr/bin/env bash
# bench/e2e/btest_tcp.sh — loopback TCP throughput and CPU cost: our btest vs iperf3.
#
#   bench/e2e/btest_tcp.sh BUILD_DIR [SECONDS]
#   env: REPEAT (default 3) runs per tool and direction; OUT (default
#        BUILD_DIR/bench/btest_tcp.json); TIME_BIN (default /usr/bin/time, GNU time).
#
# For each direction (client's view: transmit, receive, both) it runs our server +
# client and an iperf3 server + client with the same settings: 127.0.0.1 only, one
# TCP stream, 256 KiB writes, SECONDS long (iperf3: -l 256K, -R for receive,
# --bidir for both; note iperf3 --bidir uses two connections, btest one). Runs
# alternate ours/iperf3 and the order flips every repetition, so machine drift
# (other builds on this 2-core VM) hits both tools alike; medians are reported and
# the number to read is the ratio ours/iperf3 (STYLE §6: wall time is only judged
# as a ratio to a peer measured in the same job): "ratio" is of the medians,
# "paired" the median of the per-repetition ratios (each pair ran back to back).
#
# Throughput is what the client counted locally (ours: tx/rx bytes of --json;
# iperf3: sum_sent for what the client sent, sum_received[_bidir_reverse] for what
# it received). CPU is user+sys of server and client processes (GNU time around
# each, through `timeout`, so the rusage of the real process is included), divided
# by the gigabytes (1e9 B) moved in both directions.
#
# Every process is bounded by timeout(1) and killed on exit. Output: a table on
# stdout and one JSON file. Exit 1 if a run failed, 2 on a usage/setup error.
set -euo pipefail

die() { echo "btest_tcp.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 BUILD_DIR [SECONDS]   (env REPEAT, OUT, TIME_BIN)"
BUILD_DIR=$1
DURATION=${2:-10}
REPEAT=${REPEAT:-3}
OUT=${OUT:-$BUILD_DIR/bench/btest_tcp.json}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
BTEST=$BUILD_DIR/apps/btest/btest

[[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive integer, got '$DURATION'"
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer, got '$REPEAT'"
[ -x "$BTEST" ] || die "our btest binary is missing: $BTEST (build it first: cmake --preset bench && cmake --build --preset bench)"
IPERF3=$(command -v iperf3) || die "iperf3 not found (Debian package iperf3; scripts/install-deps installs it)"
for tool in timeout pgrep python3; do
  command -v "$tool" >/dev/null || die "'$tool' not found (scripts/install-deps installs coreutils/procps/python3)"
done
[ -x "$TIME_BIN" ] && "$TIME_BIN" -f '%U %S' -o /dev/null true 2>/dev/null ||
  die "GNU time not usable at $TIME_BIN (Debian package 'time'; or set TIME_BIN)"

# Bounds: a client may overrun its duration by its own end-of-test grace; the
# servers are stopped by us, the limit only guards against a hung script.
CLIENT_LIMIT=$((DURATION + 30))
SERVER_LIMIT=$((DURATION + 60))
WORK=$(mktemp -d /tmp/btest_tcp.XXXXXX)
# A job is GNU time -> timeout -> tool. timeout(1) puts itself and the tool in a
# new process group named by its own pid, which is what we signal.
SERVER_TIME_PID="" SERVER_GROUP=""
CLIENT_TIME_PID="" CLIENT_GROUP=""

cleanup() {
  local rc=$?
  stop_job "$CLIENT_TIME_PID" "$CLIENT_GROUP" TERM
  stop_job "$SERVER_TIME_PID" "$SERVER_GROUP" TERM
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_job TIME_PID GROUP SIG: signal the group, wait at most 5 s, then KILL.
stop_job() {
  local tpid=$1 group=$2 sig=$3 i
  [ -n "$tpid" ] || return 0
  [ -n "$group" ] || group=$(group_of "$tpid")
  [ -z "$group" ] || kill -s "$sig" -- "-$group" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$tpid" 2>/dev/null; then
    [ -z "$group" ] || kill -s KILL -- "-$group" 2>/dev/null || true
    kill -s KILL "$tpid" 2>/dev/null || true
  fi
  wait "$tpid" 2>/dev/null || true
}

stop_server() {
  stop_job "$SERVER_TIME_PID" "$SERVER_GROUP" "${1:-TERM}"
  SERVER_TIME_PID="" SERVER_GROUP=""
}

# The timeout(1) child of a GNU time process (empty until it has started).
group_of() { pgrep -P "$1" timeout || true; }

port_in_use() {
  local hex
  hex=$(printf ':%04X ' "$1")
  grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

pick_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  die "no free TCP port found"
}

is_listening() {
  # /proc/net/tcp: local 127.0.0.1:PORT, remote 0.0.0.0:0, state 0A (LISTEN)
  grep -q "0100007F:$(printf '%04X' "$1") 00000000:0000 0A" /proc/net/tcp 2>/dev/null
}

# start_server NAME PORT CMD... : start CMD under GNU time + timeout, wait for LISTEN.
start_server() {
  local name=$1 port=$2
  shift 2
  "$TIME_BIN" -f '%U %S' -o "$WORK/$name.server.time" \
    timeout -k 5 "$SERVER_LIMIT" "$@" >"$WORK/$name.server.log" 2>&1 &
  SERVER_TIME_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [ -n "$SERVER_GROUP" ] || SERVER_GROUP=$(group_of "$SERVER_TIME_PID")
    if [ -n "$SERVER_GROUP" ] && is_listening "$port"; then
      return 0
    fi
    kill -0 "$SERVER_TIME_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "btest_tcp.sh: $name server did not start listening on 127.0.0.1:$port; its log:" >&2
  tail -n 20 "$WORK/$name.server.log" >&2 || true
  stop_server KILL
  return 1
}

FAILED=0
RUNS="$WORK/runs.jsonl"
: >"$RUNS"

# run_one TOOL DIRECTION REP
run_one() {
  local tool=$1 dir=$2 rep=$3 name="$1-$2-$3" port attempt
  local -a server_cmd client_cmd
  for attempt in 1 2 3; do
    port=$(pick_port)
    if [ "$tool" = ours ]; then
      server_cmd=("$BTEST" -s --listen 127.0.0.1 -P "$port" -q)
      client_cmd=("$BTEST" -c 127.0.0.1 -P "$port" -d "$DURATION" --json)
      case $dir in
        transmit) client_cmd+=(-t) ;;
        receive) client_cmd+=(-r) ;;
        both) client_cmd+=(-t -r) ;;
      esac
    else
      server_cmd=("$IPERF3" -s -B 127.0.0.1 -p "$port" -1)
      client_cmd=("$IPERF3" -c 127.0.0.1 -p "$port" -t "$DURATION" -l 256K -P 1 -J)
      case $dir in
        receive) client_cmd+=(-R) ;;
        both) client_cmd+=(--bidir) ;;
      esac
    fi
    start_server "$name" "$port" "${server_cmd[@]}" && break
    [ "$attempt" = 3 ] && { FAILED=1; return 0; }
  done

  # The client runs in the background so that a signal to this script is handled
  # at once (bash runs traps only between foreground commands, but during wait).
  local crc=0
  "$TIME_BIN" -f '%U %S' -o "$WORK/$name.client.time" \
    timeout -k 5 "$CLIENT_LIMIT" "${client_cmd[@]}" >"$WORK/$name.client.json" 2>"$WORK/$name.client.err" &
  CLIENT_TIME_PID=$!
  wait "$CLIENT_TIME_PID" || crc=$?
  CLIENT_TIME_PID="" CLIENT_GROUP=""
  # iperf3 -1 exits by itself after the test; ours is told to stop (SIGTERM).
  if [ "$tool" = iperf3 ]; then
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$SERVER_TIME_PID" 2>/dev/null || break
      sleep 0.1
    done
  fi
  stop_server TERM
  if [ "$crc" != 0 ]; then
    echo "btest_tcp.sh: $tool $dir run $rep: client exited $crc; stderr:" >&2
    tail -n 20 "$WORK/$name.client.err" >&2 || true
    FAILED=1
    return 0
  fi
  if ! python3 - "$tool" "$dir" "$rep" "$WORK/$name" >>"$RUNS" <<'PY'
import json, sys
tool, direction, rep, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def cpu(path):
    # GNU time -o may hold a "Command exited with non-zero status" line first.
    user, sys_ = open(path).read().strip().splitlines()[-1].split()
    return float(user), float(sys_)
j = json.load(open(base + ".client.json"))
tx_bps = rx_bps = 0.0
tx_bytes = rx_bytes = 0
if tool == "ours":
    if not j.get("ok", False):
        sys.exit("btest reported ok=false: " + str(j.get("end_reason")))
    if direction in ("transmit", "both"):
        tx_bps, tx_bytes = j["tx"]["avg_bps"], j["tx"]["bytes"]
    if direction in ("receive", "both"):
        rx_bps, rx_bytes = j["rx"]["avg_bps"], j["rx"]["bytes"]
    duration = j["duration_s"]
else:
    if "error" in j:
        sys.exit("iperf3 error: " + j["error"])
    e = j["end"]
    if direction == "transmit":
        tx_bps, tx_bytes, duration = e["sum_sent"]["bits_per_second"], e["sum_sent"]["bytes"], e["sum_sent"]["seconds"]
    elif direction == "receive":
        rx_bps, rx_bytes, duration = e["sum_received"]["bits_per_second"], e["sum_received"]["bytes"], e["sum_received"]["seconds"]
    else:
        tx_bps, tx_bytes = e["sum_sent"]["bits_per_second"], e["sum_sent"]["bytes"]
        r = e["sum_received_bidir_reverse"]
        rx_bps, rx_bytes, duration = r["bits_per_second"], r["bytes"], r["seconds"]
su, ss = cpu(base + ".server.time")
cu, cs = cpu(base + ".client.time")
moved_gb = (tx_bytes + rx_bytes) / 1e9
cpu_s = su + ss + cu + cs
print(json.dumps({
    "tool": tool, "direction": direction, "rep": rep, "duration_s": duration,
    "tx_gbps": tx_bps / 1e9, "rx_gbps": rx_bps / 1e9, "total_gbps": (tx_bps + rx_bps) / 1e9,
    "tx_bytes": tx_bytes, "rx_bytes": rx_bytes,
    "cpu_server_s": su + ss, "cpu_client_s": cu + cs, "cpu_s": cpu_s,
    "cpu_s_per_gb": cpu_s / moved_gb if moved_gb > 0 else None,
}))
PY
  then
    echo "btest_tcp.sh: $tool $dir run $rep: could not read results (client output in $name.client.json)" >&2
    head -c 400 "$WORK/$name.client.json" >&2 || true
    FAILED=1
  fi
}

echo "btest_tcp.sh: $REPEAT x {transmit,receive,both} x {ours,iperf3}, ${DURATION}s each, 127.0.0.1, 1 stream, 256 KiB writes" >&2
for ((rep = 1; rep <= REPEAT; rep++)); do
  for dir in transmit receive both; do
    if ((rep % 2 == 1)); then order=(ours iperf3); else order=(iperf3 ours); fi
    for tool in "${order[@]}"; do
      echo "  run $rep/$REPEAT $dir $tool" >&2
      run_one "$tool" "$dir" "$rep"
    done
  done
done

mkdir -p "$(dirname "$OUT")"
python3 - "$RUNS" "$OUT" "$DURATION" "$REPEAT" "$FAILED" <<'PY'
import json, os, statistics, sys
runs_path, out_path, duration, repeat, failed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
runs = [json.loads(line) for line in open(runs_path) if line.strip()]
def med(tool, direction, key):
    vals = [r[key] for r in runs if r["tool"] == tool and r["direction"] == direction and r[key] is not None]
    return statistics.median(vals) if vals else None
def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None
keys = ["tx_gbps", "rx_gbps", "total_gbps", "cpu_s_per_gb", "cpu_server_s", "cpu_client_s"]
cases = {}
for d in ("transmit", "receive", "both"):
    c = {t: {k: med(t, d, k) for k in keys} for t in ("ours", "iperf3")}
    for t in ("ours", "iperf3"):
        c[t]["runs"] = sum(1 for r in runs if r["tool"] == t and r["direction"] == d)
    c["ratio_gbps"] = ratio(c["ours"]["total_gbps"], c["iperf3"]["total_gbps"])
    # Median of per-repetition ratios: each pair ran back to back, so this one is
    # the least sensitive to slow drift of the machine's load.
    pairs = []
    for rep in sorted({r["rep"] for r in runs}):
        o = [r for r in runs if r["tool"] == "ours" and r["direction"] == d and r["rep"] == rep]
        i = [r for r in runs if r["tool"] == "iperf3" and r["direction"] == d and r["rep"] == rep]
        if o and i and i[0]["total_gbps"] > 0:
            pairs.append(o[0]["total_gbps"] / i[0]["total_gbps"])
    c["paired_ratio_gbps_median"] = statistics.median(pairs) if pairs else None
    c["ratio_cpu_s_per_gb"] = ratio(c["ours"]["cpu_s_per_gb"], c["iperf3"]["cpu_s_per_gb"])
    if d == "both":
        c["ratio_tx_gbps"] = ratio(c["ours"]["tx_gbps"], c["iperf3"]["tx_gbps"])
        c["ratio_rx_gbps"] = ratio(c["ours"]["rx_gbps"], c["iperf3"]["rx_gbps"])
    cases[d] = c
doc = {
    "benchmark": "btest_tcp", "host": os.uname().nodename, "cpus": os.cpu_count(),
    "duration_s": duration, "repeat": repeat, "write_bytes": 262144, "streams": 1,
    "address": "127.0.0.1", "statistic": "median", "gb": "1e9 bytes", "failed": failed,
    "cases": cases, "runs": runs,
}
with open(out_path, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
def g(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)
print(f"btest TCP on 127.0.0.1, {duration}s x {repeat} runs, medians (Gbit/s; CPU = server+client user+sys s per GB moved)")
print(f"{'case':<16}{'ours Gbit/s':>12}{'iperf3 Gbit/s':>15}{'ratio':>8}{'paired':>8}{'ours CPU s/GB':>15}{'iperf3 CPU s/GB':>17}")
for d, c in cases.items():
    rows = [(d, "total_gbps", "ratio_gbps")]
    if d == "both":
        rows = [("both (sum)", "total_gbps", "ratio_gbps"), ("  both tx", "tx_gbps", "ratio_tx_gbps"),
                ("  both rx", "rx_gbps", "ratio_rx_gbps")]
    for label, k, rk in rows:
        cpu_o = g(c["ours"]["cpu_s_per_gb"], "{:.3f}") if k == "total_gbps" else ""
        cpu_i = g(c["iperf3"]["cpu_s_per_gb"], "{:.3f}") if k == "total_gbps" else ""
        paired = g(c["paired_ratio_gbps_median"], "{:.3f}") if k == "total_gbps" else ""
        print(f"{label:<16}{g(c['ours'][k]):>12}{g(c['iperf3'][k]):>15}{g(c[rk], '{:.3f}'):>8}{paired:>8}{cpu_o:>15}{cpu_i:>17}")
print(f"JSON: {out_path}")
PY

if [ "$FAILED" = 1 ]; then
  echo "btest_tcp.sh: at least one run failed (see messages above)" >&2
  exit 1
fi
