# shellcheck shell=bash
# bench/e2e/lib.sh — shell helpers shared by the end-to-end scripts (sourced).
# The first part is loopback only: those helpers look at 127.0.0.1 listeners of this
# machine. The second part serves the scan benchmarks, which run in scan labs.

# Stop a job started under `setsid timeout ...`: signal its process group, wait up
# to 5 s, then KILL. Returns 1 when it had to be killed.
stop_job() {
  local tpid=$1 sig=$2 i
  [ -n "$tpid" ] || return 0
  kill -s "$sig" -- "-$tpid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  local late=0
  if kill -0 "$tpid" 2>/dev/null; then
    late=1
    kill -s KILL -- "-$tpid" 2>/dev/null || true
    kill -s KILL "$tpid" 2>/dev/null || true
  fi
  wait "$tpid" 2>/dev/null || true
  return "$late"
}

# True when something on this machine uses port $1 of protocol $2 (tcp, the
# default, or udp).
port_in_use() {
  local hex proto=${2:-tcp}
  hex=$(printf ':%04X ' "$1")
  grep -q "$hex" "/proc/net/$proto" "/proc/net/${proto}6" 2>/dev/null
}

# Socket inode of the 127.0.0.1:$1 listener, empty when none.
listen_inode() {
  awk -v local="0100007F:$(printf '%04X' "$1")" '$2 == local && $3 == "00000000:0000" && $4 == "0A" { print $10; exit }' \
    /proc/net/tcp 2>/dev/null
}

# True when process $1 holds the 127.0.0.1:$2 listening socket.
owns_listener() {
  local pid=$1 port=$2 inode
  inode=$(listen_inode "$port")
  [ -n "$inode" ] || return 1
  find "/proc/$pid/fd" -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | grep -q .
}

# ---- the scan-lab benchmarks (scan_*.sh) ----------------------------------------------
# Not loopback: these run the tools inside scan labs (tests/lab/lab.sh). The scripts
# define die() (which names the script), LAB, WORK, TIME_BIN and BUILD_DIR first.

BENCH_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bench_py ARGS...: python3 with scan_score.py (next to this file) importable.
bench_py() { PYTHONPATH=$BENCH_E2E_DIR${PYTHONPATH:+:$PYTHONPATH} python3 "$@"; }

# Stop the job whose process group $1 leads: TERM, up to 5 s for the leader to go,
# then KILL the whole group (whatever the leader left behind too) and reap it.
stop_group() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -s TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -s KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# find_lrscan: LRSCAN, the resolved BUILD_DIR/apps/lrscan/lrscan; die when it is missing.
find_lrscan() {
  LRSCAN=$BUILD_DIR/apps/lrscan/lrscan
  [ -x "$LRSCAN" ] || die "lrscan is missing: $LRSCAN (build it: cmake --preset bench && cmake --build --preset bench --target lrscan)"
  LRSCAN=$(readlink -f "$LRSCAN")
}

# require_lab_tools: the scan lab, nmap (sets NMAP), the tools the scripts use and GNU
# time at TIME_BIN; die naming the first one missing.
require_lab_tools() {
  local tool
  [ -x "$LAB" ] || die "the scan lab is missing: $LAB"
  # shellcheck disable=SC2034  # for the scripts
  NMAP=$(command -v nmap) || die "nmap not found (scripts/install-deps installs it)"
  for tool in timeout setsid python3 ip nft; do
    command -v "$tool" >/dev/null || die "'$tool' not found (scripts/install-deps installs it)"
  done
  if ! { [ -x "$TIME_BIN" ] && "$TIME_BIN" -f '%e %U %S %M' -o /dev/null true 2>/dev/null; }; then
    die "GNU time not usable at $TIME_BIN (Debian package 'time'; or set TIME_BIN)"
  fi
}

# bench_lab_up LOG NAME ARGS...: lab.sh up NAME ARGS; on failure show LOG and die.
bench_lab_up() {
  local log=$1 name=$2; shift 2
  if ! timeout -k 5 90 "$LAB" up "$name" "$@" >"$log" 2>&1; then
    cat "$log" >&2; die "lab.sh up $name failed"
  fi
}

# lab_timed_run LAB BASE LIMIT CMD...: CMD in LAB's scanner namespace under
# `TIME_BIN -f '%e %U %S %M' -o BASE.time timeout LIMIT` (GNU time around timeout, so
# the tool's rusage is included), stdout to BASE.out, stderr to BASE.err; returns
# its exit status. The outer timeout guards the namespace hop, in its own process
# group (setsid; JOB_PID while it runs) so that cleanup can signal all of it; the
# background job + wait lets a signal to the script be handled at once.
lab_timed_run() {
  local lab=$1 base=$2 limit=$3 rc=0; shift 3
  setsid timeout -k 5 $((limit + 15)) "$LAB" exec "$lab" scan \
    "$TIME_BIN" -f '%e %U %S %M' -o "$base.time" timeout -k 5 "$limit" "$@" \
    >"$base.out" 2>"$base.err" </dev/null &
  JOB_PID=$!
  wait "$JOB_PID" || rc=$?
  JOB_PID=""
  return "$rc"
}

# lab_bench_setup PROG WORK_WHAT "PIDVAR..." LAB...: WORK (a fresh /tmp/PROG.XXXXXX),
# KEEP_WORK=0, LABS_UP=0, the pid variables empty, and lab_bench_cleanup as the EXIT
# trap (INT and TERM exit 130 through it).
lab_bench_setup() {
  local v
  PROG=$1 WORK_WHAT=$2 CLEANUP_PIDS=$3
  shift 3
  LAB_NAMES=("$@")
  WORK=$(mktemp -d "/tmp/${PROG%.sh}.XXXXXX")
  KEEP_WORK=0
  LABS_UP=0
  for v in $CLEANUP_PIDS; do printf -v "$v" '%s' ""; done
  trap lab_bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# lab_bench_cleanup, the EXIT trap: stop the jobs whose pids the variables named in
# CLEANUP_PIDS hold (each leads its own process group), then, when LABS_UP=1, the
# labs in LAB_NAMES (`lab.sh down` also kills whatever still runs in them); remove
# WORK unless KEEP_WORK=1 (it holds WORK_WHAT). PROG names the script. Exits with
# the status the script was leaving with.
# shellcheck disable=SC2317  # invoked by the EXIT trap
lab_bench_cleanup() {
  local rc=$? v name
  for v in $CLEANUP_PIDS; do stop_group "${!v}"; done
  if [ "$LABS_UP" = 1 ]; then
    for name in "${LAB_NAMES[@]}"; do
      timeout -k 5 60 "$LAB" down "$name" >/dev/null 2>&1 ||
        echo "$PROG: could not take a lab down; run: $LAB down $name" >&2
    done
  fi
  if [ "$KEEP_WORK" = 1 ]; then
    echo "$PROG: kept $WORK ($WORK_WHAT)" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
