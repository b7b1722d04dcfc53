#!/usr/bin/env bash
# bench/e2e/btest_udp.sh — loopback UDP throughput, loss, rate accuracy and CPU cost:
# our btest vs iperf3 -u.
#
#   bench/e2e/btest_udp.sh BUILD_DIR
#   env: REPS (default 3) runs per tool and case; DURATION (default 10) seconds per
#        run; CASES (default all: "unlimited_offload unlimited_no_offload rate_10M
#        rate_100M rate_1G"); RATE_OFFLOAD (default 0: the fixed-rate cases run
#        ours with --no-offload, like iperf3; 1 = with GSO/GRO); PORT (default
#        19301: our server's TCP port; iperf3 uses PORT+1 for TCP and UDP);
#        UDP_PORTS (default 3001-3010: our server's --udp-ports, the client then
#        uses 3257-3266); IPERF3_ARGS (default "-w 8M": extra iperf3 client words;
#        set it empty for iperf3's default buffers); OUT (default BUILD_DIR/bench/btest_udp.json); TIME_BIN
#        (default /usr/bin/time, GNU time); KEEP_WORK=1 keeps the raw outputs
#        (client JSON, server logs, CSV, time files) in /tmp/btest_udp.* and says where.
#
# Every run is client -> server (btest -t; iperf3's default direction), 1500-byte
# IPv4 packets (btest --udp-size 1500 = 1472 bytes of payload; iperf3 -l 1472),
# one flow, 127.0.0.1. Cases:
#   unlimited_offload     ours with no -b (adaptive: starts at 100 Mbit/s, x4 per
#                         second while nothing is lost) with UDP GSO/GRO, vs
#                         iperf3 -b 0. On loopback GSO is never segmented, so
#                         this is not a like-for-like comparison; it shows what
#                         offload buys.
#   unlimited_no_offload  the same with --no-offload (one datagram per message):
#                         the fair comparison. Both unlimited cases pair with the
#                         same iperf3 -b 0 run of their repetition.
#   rate_10M/100M/1G      -b 10M / 100M / 1G on both (see RATE_OFFLOAD).
# Runs alternate ours/iperf3 and the order flips every repetition, so drift of
# this shared 2-core VM hits both alike; medians are reported and the figure to
# read is the ratio ours/iperf3 ("ratio" of the medians; "paired" = median of the
# per-repetition ratios of runs made back to back). STYLE §6.
#
# Figures, per run (receiver side unless said otherwise):
#   rx_gbps      datagrams the receiver got x 1500 B x 8 / test seconds. The same
#                IP-level unit for both tools (btest counts 1500 B per datagram,
#                iperf3 counts 1472 B of payload; datagram counts are compared).
#                Seconds: our client's duration_s; iperf3's sum_received.seconds.
#   rx_pps       received datagrams per second.
#   steady_*     the same over the last half of the full 1-second intervals (ours:
#                the server's per-second reports as our client logged them, per
#                report; iperf3: its server's own intervals via --get-server-output);
#                steady_tx_gbps: the sender's own last-half rate. Our adaptive sender holds 100 Mbit/s for
#                ~2 s, then x4 per second: ~4 s to 1-2 Gbit/s, ~6 s to the ~10
#                Gbit/s of offloaded loopback, so give unlimited runs >= 10 s.
#                ramp_s (ours): seconds until the sender first reached 90 % of its
#                last-half median rate; steady_tx_spread: max/min of its per-second
#                rate over the last half (near 1 = steady).
#   loss_percent the receiver's own figure (sequence gaps: lost / (received + lost));
#                undelivered_percent = 1 - received / sent (includes the tail).
#   accuracy     rate cases: achieved / target in % in each tool's own unit (btest
#                -b counts IP bytes, iperf3 -b counts payload): tx_accuracy_percent
#                for what the sender sent, rx_accuracy_percent for what arrived.
#   cpu_s_per_gb user+sys CPU of server and client (GNU time around each, through
#                timeout) per GB (1e9 B at IP level) received; also per GB sent.
# Note: btest asks for 8 MiB socket buffers and iperf3 would keep the system
# default (208 KiB here), so iperf3 gets "-w 8M" by default: at unlimited rate the
# receiver's buffer decides much of the loss, and a fair race has equal buffers.
#
# Every process is bounded by timeout(1) and stopped on exit. Output: a table on
# stdout and one JSON file. Exit 1 if a run failed, 2 on a usage/setup error.
set -euo pipefail

die() { echo "btest_udp.sh: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env REPS, DURATION, CASES, RATE_OFFLOAD, PORT, UDP_PORTS, IPERF3_ARGS, OUT, TIME_BIN)"
BUILD_DIR=$1
REPS=${REPS:-3}
DURATION=${DURATION:-10}
ALL_CASES="unlimited_offload unlimited_no_offload rate_10M rate_100M rate_1G"
CASES=${CASES:-$ALL_CASES}
RATE_OFFLOAD=${RATE_OFFLOAD:-0}
PORT=${PORT:-19301}
UDP_PORTS=${UDP_PORTS:-3001-3010}
IPERF3_ARGS=${IPERF3_ARGS--w 8M}
OUT=${OUT:-$BUILD_DIR/bench/btest_udp.json}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
BTEST=$BUILD_DIR/apps/btest/btest
IPERF_PORT=$((PORT + 1))

[[ $REPS =~ ^[1-9][0-9]?$ ]] || die "REPS must be 1-99, got '$REPS'"
[[ $DURATION =~ ^[1-9][0-9]{0,2}$ ]] || die "DURATION must be 1-999 seconds, got '$DURATION'"
[[ $RATE_OFFLOAD =~ ^[01]$ ]] || die "RATE_OFFLOAD must be 0 or 1, got '$RATE_OFFLOAD'"
[[ $PORT =~ ^[0-9]+$ ]] && ((PORT >= 1024 && PORT < 65535)) || die "PORT must be 1024-65534, got '$PORT'"
[[ $UDP_PORTS =~ ^([0-9]+)-([0-9]+)$ ]] || die "UDP_PORTS must be FIRST-LAST, got '$UDP_PORTS'"
UDP_FIRST=${BASH_REMATCH[1]} UDP_LAST=${BASH_REMATCH[2]}
((UDP_FIRST >= 1 && UDP_FIRST <= UDP_LAST && UDP_LAST <= 65279)) || die "UDP_PORTS out of range: '$UDP_PORTS'"
for c in $CASES; do
  [[ " $ALL_CASES " == *" $c "* ]] || die "unknown case '$c' (known: $ALL_CASES)"
done
read -r -a IPERF3_EXTRA <<<"$IPERF3_ARGS"
[ -x "$BTEST" ] || die "our btest binary is missing: $BTEST (build it first: cmake --preset bench && cmake --build --preset bench)"
IPERF3=$(command -v iperf3) || die "iperf3 not found (Debian package iperf3; scripts/install-deps installs it)"
for tool in timeout pgrep python3; do
  command -v "$tool" >/dev/null || die "'$tool' not found (scripts/install-deps installs coreutils/procps/python3)"
done
[ -x "$TIME_BIN" ] && "$TIME_BIN" -f '%U %S' -o /dev/null true 2>/dev/null ||
  die "GNU time not usable at $TIME_BIN (Debian package 'time'; or set TIME_BIN)"

# shellcheck source=bench/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# True when anything listens on TCP port $1 on any address.
is_listening_any() {
  awk -v p=":$(printf '%04X' "$1")" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# A listener is a conflict; TIME_WAIT sockets of an earlier run on these fixed
# ports are not (both servers bind with SO_REUSEADDR).
for p in "$PORT" "$IPERF_PORT"; do
  ! is_listening_any "$p" || die "TCP port $p already has a listener (set PORT to another fixed port)"
done
! port_in_use "$IPERF_PORT" udp || die "UDP port $IPERF_PORT (iperf3) is in use (set PORT)"
FREE_UDP=0
for ((p = UDP_FIRST; p <= UDP_LAST && p < UDP_FIRST + 64; p++)); do
  if ! port_in_use "$p" udp && ! port_in_use $((p + 256)) udp; then FREE_UDP=1; break; fi
done
[ "$FREE_UDP" = 1 ] || die "no free UDP port pair (P, P+256) in $UDP_PORTS (set UDP_PORTS)"

# Bounds: a client may overrun its duration by its own end-of-test grace; servers
# are stopped by us, their limit only guards against a hung script.
CLIENT_LIMIT=$((DURATION + 30))
SERVER_LIMIT=$((DURATION + 60))
WORK=$(mktemp -d /tmp/btest_udp.XXXXXX)
# A job is timeout(1) -> GNU time -> tool. timeout puts itself and its children in
# a new process group named by its own pid (our $!). A server is stopped by a
# SIGINT to the tool alone: GNU time ignores SIGINT only while its child runs and
# restores the default before it writes the rusage, so a signal to the whole
# group (which timeout also forwards, a little later) can kill it in between and
# leave the time file empty. The group is signalled (lib.sh stop_job) only as a
# fallback and on exit.
SERVER_TPID="" CLIENT_TPID=""

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  stop_job "$CLIENT_TPID" INT || true
  stop_job "$SERVER_TPID" INT || true
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "btest_udp.sh: raw outputs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_server() {
  local pid i
  [ -n "$SERVER_TPID" ] || return 0
  pid=$(tool_pid "$SERVER_TPID")
  [ -z "$pid" ] || kill -s INT "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$SERVER_TPID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_TPID" 2>/dev/null; then
    echo "btest_udp.sh: a server did not stop within 5 s of SIGINT; stopping its group" >&2
    stop_job "$SERVER_TPID" TERM || true
  fi
  wait "$SERVER_TPID" 2>/dev/null || true
  SERVER_TPID=""
}

# The tool under timeout -> time (empty until both have started).
tool_pid() {
  local t
  t=$(pgrep -P "$1" | head -n 1) || true
  [ -n "$t" ] || return 0
  pgrep -P "$t" | head -n 1 || true
}

# start_server NAME PORT CMD... : start CMD under timeout + GNU time and wait until
# the tool itself holds the 127.0.0.1:PORT listener (at most 5 s).
start_server() {
  local name=$1 port=$2 i pid=""
  shift 2
  timeout -k 5 "$SERVER_LIMIT" "$TIME_BIN" -f '%U %S' -o "$WORK/$name.server.time" "$@" \
    >"$WORK/$name.server.out" 2>"$WORK/$name.server.log" &
  SERVER_TPID=$!
  for ((i = 0; i < 100; i++)); do
    [ -n "$pid" ] || pid=$(tool_pid "$SERVER_TPID")
    if [ -n "$pid" ] && owns_listener "$pid" "$port"; then
      return 0
    fi
    kill -0 "$SERVER_TPID" 2>/dev/null || break
    sleep 0.05
  done
  echo "btest_udp.sh: $name server did not start listening on 127.0.0.1:$port; its log:" >&2
  tail -n 20 "$WORK/$name.server.log" "$WORK/$name.server.out" >&2 || true
  stop_server
  return 1
}

FAILED=0
RUNS="$WORK/runs.jsonl"
: >"$RUNS"

# run_one TOOL CONFIG REP. CONFIG: ours: unl_offload, unl_no_offload or a rate
# (10M, 100M, 1G); iperf3: unl or a rate. Appends one JSON line to $RUNS.
run_one() {
  local tool=$1 config=$2 rep=$3 name="$1-$2-$3" port rate=0 offload=1
  local -a server_cmd client_cmd
  case $config in
    unl_offload | unl) rate=0 ;;
    unl_no_offload) rate=0 offload=0 ;;
    *) rate=$config offload=$RATE_OFFLOAD ;;
  esac
  if [ "$tool" = ours ]; then
    port=$PORT
    server_cmd=("$BTEST" -s --listen 127.0.0.1 -P "$port" --udp-ports "$UDP_PORTS" --csv "$WORK/$name.csv")
    client_cmd=("$BTEST" -c 127.0.0.1 -P "$port" -u -t -d "$DURATION" --udp-size 1500 --json)
    [ "$rate" = 0 ] || client_cmd+=(-b "$rate")
    [ "$offload" = 1 ] || { server_cmd+=(--no-offload); client_cmd+=(--no-offload); }
  else
    port=$IPERF_PORT
    server_cmd=("$IPERF3" -s -B 127.0.0.1 -p "$port" -1 -J)
    client_cmd=("$IPERF3" -c 127.0.0.1 -p "$port" -u -l 1472 -b "$rate" -t "$DURATION" -J --get-server-output
      "${IPERF3_EXTRA[@]}")
  fi
  start_server "$name" "$port" "${server_cmd[@]}" || { FAILED=1; return 0; }

  # The client runs in the background so that a signal to this script is handled
  # at once (bash runs traps only between foreground commands, but during wait).
  local crc=0
  timeout -k 5 "$CLIENT_LIMIT" "$TIME_BIN" -f '%U %S' -o "$WORK/$name.client.time" \
    "${client_cmd[@]}" >"$WORK/$name.client.json" 2>"$WORK/$name.client.err" &
  CLIENT_TPID=$!
  wait "$CLIENT_TPID" || crc=$?
  CLIENT_TPID=""
  local i
  if [ "$tool" = iperf3 ]; then
    # iperf3 -s -1 exits by itself after the test (bounded wait).
    for ((i = 0; i < 50; i++)); do
      kill -0 "$SERVER_TPID" 2>/dev/null || break
      sleep 0.1
    done
  else
    # Our server writes its CSV row when it sees the test end (bounded wait).
    for ((i = 0; i < 50; i++)); do
      [ "$(wc -l <"$WORK/$name.csv" 2>/dev/null || echo 0)" -ge 2 ] && break
      sleep 0.1
    done
  fi
  stop_server
  if [ "$crc" != 0 ]; then
    echo "btest_udp.sh: $tool $config run $rep: client exited $crc; stderr:" >&2
    tail -n 20 "$WORK/$name.client.err" >&2 || true
    FAILED=1
    return 0
  fi
  if ! python3 - "$tool" "$config" "$rep" "$WORK/$name" "$rate" "$offload" >>"$RUNS" <<'PY'
import csv, json, sys
tool, config, rep, base, rate_word, offload = sys.argv[1:7]
rep, offload = int(rep), offload == "1"
WIRE, PAYLOAD = 1500, 1472
def rate_bps(w):
    if w == "0":
        return 0
    mult = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}
    return float(w[:-1]) * mult[w[-1]] if w[-1] in mult else float(w)
target = rate_bps(rate_word)
def cpu(path):
    # GNU time -o may hold a "Command exited with non-zero status" line first.
    try:
        user, sys_ = open(path).read().strip().splitlines()[-1].split()
        return float(user) + float(sys_)
    except (OSError, IndexError, ValueError):
        print(f"btest_udp.sh: no CPU time in {path}; this run's CPU figures are left out", file=sys.stderr)
        return None
j = json.load(open(base + ".client.json"))
r = {"tool": tool, "config": config, "rep": rep, "target_bps": target,
     "offload": offload if tool == "ours" else False}
if tool == "ours":
    if not j.get("ok", False):
        sys.exit("btest reported ok=false: " + str(j.get("end_reason")))
    rows = list(csv.DictReader(open(base + ".csv")))
    if len(rows) != 1:
        sys.exit(f"server CSV has {len(rows)} rows, expected 1")
    s = rows[0]
    u = j["udp"]
    duration = j["duration_s"]
    tx = u["tx_datagrams"]
    rx = int(s["udp_rx_datagrams"])
    lost = int(s["udp_lost"])
    r["loss_percent"] = float(s["udp_loss_percent"])
    r["tx_bps_own"] = j["tx"]["avg_bps"]            # IP level, what -b counts
    own_bytes = WIRE
    r["server_duration_s"] = float(s["duration_s"])
    r["gso"] = u.get("gso")
    r["peer_reported_rx_bytes"] = j.get("peer_reported_rx_bytes")
    # Steady state from the client's 1-second intervals. The server reports its
    # last second once a second on its own ticker, nearly in phase with ours, so
    # a client interval holds 0, 1 or 2 reports (peer_rx_bytes is their sum,
    # peer_last_bytes the last one). Receiver rate = bytes of the reports seen in
    # the last half / the number of those reports (one server-second each; the
    # count is inferred as round(sum / last), which holds at a steady rate). The
    # sender's own per-second rate shows whether it was steady (tx_spread, ramp_s).
    full = [x for x in j.get("intervals", []) if x["seconds"] >= 0.5]
    half = full[len(full) // 2:]
    reports = [(x["peer_rx_bytes"], max(1, round(x["peer_rx_bytes"] / x["peer_last_bytes"]))
                if x["peer_last_bytes"] else 1) for x in half if x.get("peer_reported")]
    secs = float(sum(n for _, n in reports))
    rx_half = sum(b for b, _ in reports) / WIRE
    tx_half = None  # no per-interval server loss for our -t: see loss_percent
    tx_secs = sum(x["seconds"] for x in half)
    tx_dgrams_half = sum(x["tx_bytes"] for x in half) / WIRE
    tx_rates = [x["tx_bytes"] * 8 / x["seconds"] for x in half]
    if tx_rates and min(tx_rates) > 0:
        r["steady_tx_spread"] = max(tx_rates) / min(tx_rates)
        final = sorted(tx_rates)[len(tx_rates) // 2]
        # Seconds until the sender first sent >= 90 % of its last-half median rate.
        r["ramp_s"] = next((sum(y["seconds"] for y in full[:k]) for k, y in enumerate(full)
                            if y["tx_bytes"] * 8 / y["seconds"] >= 0.9 * final), None)
    r["tx_gbps_per_interval"] = [round(x["tx_bytes"] * 8 / x["seconds"] / 1e9, 4) for x in full]
    r["peer_reports_per_interval"] = [round(x["peer_rx_bytes"] / x["peer_last_bytes"]) if x["peer_last_bytes"] else 0
                                      for x in full]
else:
    if "error" in j:
        sys.exit("iperf3 error: " + j["error"])
    e = j["end"]
    duration = e["sum_received"]["seconds"]
    tx = e["sum_sent"]["packets"]
    rx = e["sum_received"]["packets"] - e["sum_received"]["lost_packets"]
    lost = e["sum_received"]["lost_packets"]
    r["loss_percent"] = e["sum_received"]["lost_percent"]
    r["tx_bps_own"] = e["sum_sent"]["bits_per_second"]       # payload, what -b counts
    own_bytes = PAYLOAD
    # Steady state from the receiving server's own intervals (exact alignment).
    full = [x["sum"] for x in (j.get("server_output_json") or {}).get("intervals", []) if x["sum"]["seconds"] >= 0.5]
    half = full[len(full) // 2:]
    secs = sum(x["seconds"] for x in half)
    rx_half = sum(x["packets"] - x["lost_packets"] for x in half)
    tx_half = sum(x["packets"] for x in half)
    # The sender's own intervals (client side) for steady_tx_gbps.
    sent = [x["sum"] for x in j.get("intervals", []) if x["sum"]["seconds"] >= 0.5]
    sent = sent[len(sent) // 2:]
    tx_secs = sum(x["seconds"] for x in sent)
    tx_dgrams_half = sum(x["packets"] for x in sent)
# What arrived, in the unit the tool's -b counts, over the same seconds as rx_gbps.
r["rx_bps_own"] = rx * own_bytes * 8 / duration if duration else None
cpu_server, cpu_client = cpu(base + ".server.time"), cpu(base + ".client.time")
rx_gb, tx_gb = rx * WIRE / 1e9, tx * WIRE / 1e9
cpu_s = cpu_server + cpu_client if cpu_server is not None and cpu_client is not None else None
r.update({
    "duration_s": duration, "tx_datagrams": tx, "rx_datagrams": rx, "lost": lost,
    "undelivered_percent": 100.0 * (1 - rx / tx) if tx else None,
    "rx_gbps": rx * WIRE * 8 / duration / 1e9 if duration else None,
    "tx_gbps": tx * WIRE * 8 / duration / 1e9 if duration else None,
    "rx_pps": rx / duration if duration else None,
    "steady_seconds": secs,
    "steady_rx_gbps": rx_half * WIRE * 8 / secs / 1e9 if secs else None,
    "steady_rx_pps": rx_half / secs if secs else None,
    "steady_tx_gbps": tx_dgrams_half * WIRE * 8 / tx_secs / 1e9 if tx_secs else None,
    "steady_undelivered_percent": max(0.0, 100.0 * (1 - rx_half / tx_half)) if tx_half else None,
    "steady_intervals": len(half),
    "cpu_server_s": cpu_server, "cpu_client_s": cpu_client, "cpu_s": cpu_s,
    "cpu_s_per_gb": cpu_s / rx_gb if rx_gb and cpu_s is not None else None,
    "cpu_s_per_gb_sent": cpu_s / tx_gb if tx_gb and cpu_s is not None else None,
    "tx_accuracy_percent": 100.0 * r["tx_bps_own"] / target if target else None,
    "rx_accuracy_percent": 100.0 * r["rx_bps_own"] / target if target and r["rx_bps_own"] is not None else None,
})
print(json.dumps(r))
PY
  then
    echo "btest_udp.sh: $tool $config run $rep: could not read results (client output $name.client.json):" >&2
    head -c 400 "$WORK/$name.client.json" >&2 || true
    FAILED=1
  fi
}

# The runs of one repetition, in the order given (flipped every other repetition).
declare -a PLAN=()
want() { [[ " $CASES " == *" $1 "* ]]; }
if want unlimited_offload || want unlimited_no_offload; then
  want unlimited_offload && PLAN+=("ours unl_offload")
  PLAN+=("iperf3 unl")
  want unlimited_no_offload && PLAN+=("ours unl_no_offload")
fi
for r in 10M 100M 1G; do
  want "rate_$r" && PLAN+=("ours $r" "iperf3 $r")
done

echo "btest_udp.sh: $REPS x {$CASES} x {ours,iperf3}, ${DURATION}s each, 127.0.0.1, client -> server," \
  "1500-byte packets; ${#PLAN[@]} runs per repetition" >&2
for ((rep = 1; rep <= REPS; rep++)); do
  n=${#PLAN[@]}
  for ((k = 0; k < n; k++)); do
    if ((rep % 2 == 1)); then idx=$k; else idx=$((n - 1 - k)); fi
    read -r tool config <<<"${PLAN[$idx]}"
    echo "  run $rep/$REPS $config $tool" >&2
    run_one "$tool" "$config" "$rep"
  done
done

mkdir -p "$(dirname "$OUT")"
python3 - "$RUNS" "$OUT" "$DURATION" "$REPS" "$FAILED" "$RATE_OFFLOAD" "$CASES" "$IPERF3_ARGS" <<'PY'
import json, os, statistics, sys
runs_path, out_path = sys.argv[1], sys.argv[2]
duration, reps, failed, rate_offload = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1", sys.argv[6] == "1"
case_names, iperf3_args = sys.argv[7].split(), sys.argv[8]
runs = [json.loads(line) for line in open(runs_path) if line.strip()]
# case -> (our config, iperf3 config)
CASES = {"unlimited_offload": ("unl_offload", "unl"), "unlimited_no_offload": ("unl_no_offload", "unl"),
         "rate_10M": ("10M", "10M"), "rate_100M": ("100M", "100M"), "rate_1G": ("1G", "1G")}
KEYS = ["rx_gbps", "steady_rx_gbps", "rx_pps", "steady_rx_pps", "tx_gbps", "steady_tx_gbps", "loss_percent", "undelivered_percent",
        "steady_undelivered_percent", "cpu_s_per_gb", "cpu_s_per_gb_sent", "cpu_server_s", "cpu_client_s",
        "tx_accuracy_percent", "rx_accuracy_percent", "ramp_s", "steady_tx_spread"]
def sel(tool, config, rep=None):
    return [r for r in runs if r["tool"] == tool and r["config"] == config and (rep is None or r["rep"] == rep)]
def med(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None
def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None
cases = {}
for name in case_names:
    oc, ic = CASES[name]
    o_runs, i_runs = sel("ours", oc), sel("iperf3", ic)
    c = {"ours_config": oc, "iperf3_config": ic,
         "target_bps": (o_runs or i_runs or [{}])[0].get("target_bps"),
         "ours_offload": name == "unlimited_offload" or (name.startswith("rate_") and rate_offload)}
    c["ours"] = {k: med(o_runs, k) for k in KEYS} | {"runs": len(o_runs)}
    c["iperf3"] = {k: med(i_runs, k) for k in KEYS} | {"runs": len(i_runs)}
    for k, rk in (("rx_gbps", "ratio_gbps"), ("steady_rx_gbps", "ratio_steady_gbps"), ("rx_pps", "ratio_pps"),
                  ("cpu_s_per_gb", "ratio_cpu_s_per_gb")):
        c[rk] = ratio(c["ours"][k], c["iperf3"][k])
    # Median of per-repetition ratios: each pair ran back to back.
    for k, rk in (("rx_gbps", "paired_ratio_gbps_median"), ("steady_rx_gbps", "paired_ratio_steady_gbps_median"),
                  ("cpu_s_per_gb", "paired_ratio_cpu_s_per_gb_median")):
        pairs = []
        for rep in range(1, reps + 1):
            o, i = sel("ours", oc, rep), sel("iperf3", ic, rep)
            if o and i and o[0].get(k) is not None and i[0].get(k):
                pairs.append(o[0][k] / i[0][k])
        c[rk] = statistics.median(pairs) if pairs else None
    cases[name] = c
doc = {
    "benchmark": "btest_udp", "host": os.uname().nodename, "cpus": os.cpu_count(),
    "duration_s": duration, "repeat": reps, "direction": "client -> server (btest -t, iperf3 default)",
    "packet_bytes": 1500, "payload_bytes": 1472, "address": "127.0.0.1", "statistic": "median",
    "gb": "1e9 bytes at IP level (1500 B per datagram) received", "rate_cases_offload": rate_offload,
    "iperf3_extra_args": iperf3_args, "failed": failed, "cases": cases, "runs": runs,
}
with open(out_path, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
def g(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)
print(f"btest UDP on 127.0.0.1, client -> server, 1500-byte packets, {duration}s x {reps} runs, medians")
print("(Gbit/s and pkt/s at the receiver; steady = last half of the run; loss = receiver's gap count;"
      " CPU = server+client user+sys s per GB received)")
hdr = (f"{'case':<22}{'ours Gb/s':>10}{'iperf3':>8}{'ratio':>7}{'paired':>8}{'steady o':>9}{'steady i':>9}"
       f"{'ratio':>7}{'ours kpps':>10}{'iperf3':>8}{'loss% o':>8}{'loss% i':>8}{'CPU s/GB o':>11}{'i':>7}{'ratio':>7}")
print(hdr)
for name, c in cases.items():
    o, i = c["ours"], c["iperf3"]
    kp = lambda v: None if v is None else v / 1e3
    print(f"{name:<22}{g(o['rx_gbps'], '{:.3f}'):>10}{g(i['rx_gbps'], '{:.3f}'):>8}{g(c['ratio_gbps'], '{:.3f}'):>7}"
          f"{g(c['paired_ratio_gbps_median'], '{:.3f}'):>8}{g(o['steady_rx_gbps'], '{:.3f}'):>9}"
          f"{g(i['steady_rx_gbps'], '{:.3f}'):>9}{g(c['ratio_steady_gbps'], '{:.3f}'):>7}"
          f"{g(kp(o['rx_pps']), '{:.1f}'):>10}{g(kp(i['rx_pps']), '{:.1f}'):>8}"
          f"{g(o['loss_percent'], '{:.3f}'):>8}{g(i['loss_percent'], '{:.3f}'):>8}"
          f"{g(o['cpu_s_per_gb'], '{:.3f}'):>11}{g(i['cpu_s_per_gb'], '{:.3f}'):>7}{g(c['ratio_cpu_s_per_gb'], '{:.3f}'):>7}")
for name, c in cases.items():
    if name.startswith("unlimited"):
        o = c["ours"]
        print(f"  {name}: ours' adaptive sender reached 90% of its final rate after {g(o['ramp_s'], '{:.1f}')} s;"
              f" last-half rate spread max/min {g(o['steady_tx_spread'], '{:.2f}')}")
rate_cases = [n for n in cases if n.startswith("rate_")]
if rate_cases:
    print("\nrate accuracy: achieved / target in % (each tool's own unit: btest IP bytes, iperf3 payload);"
          f" ours {'with' if rate_offload else 'without'} offload")
    print(f"{'case':<12}{'ours tx%':>10}{'ours rx%':>10}{'iperf3 tx%':>12}{'iperf3 rx%':>12}"
          f"{'undeliv% o':>12}{'undeliv% i':>12}")
    for name in rate_cases:
        o, i = cases[name]["ours"], cases[name]["iperf3"]
        print(f"{name:<12}{g(o['tx_accuracy_percent']):>10}{g(o['rx_accuracy_percent']):>10}"
              f"{g(i['tx_accuracy_percent']):>12}{g(i['rx_accuracy_percent']):>12}"
              f"{g(o['undelivered_percent'], '{:.3f}'):>12}{g(i['undelivered_percent'], '{:.3f}'):>12}")
print(f"JSON: {out_path}")
PY

if [ "$FAILED" = 1 ]; then
  echo "btest_udp.sh: at least one run failed (see messages above)" >&2
  exit 1
fi
