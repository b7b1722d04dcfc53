#!/usr/bin/env bash
# tests/integration/lrscan_dryrun_test.sh — lrscan --dry-run generates every probe
# of a large scan and sends nothing: the probe count is exact (exclusions
# subtracted) and strace sees no socket or connect call at all. Needs no lab: no
# packet can leave, which is what the test proves.
#
#   tests/integration/lrscan_dryrun_test.sh PATH/TO/lrscan
# Exit 0 pass, 1 fail.
set -uo pipefail
LRSCAN=$(readlink -f "${1:?usage: $0 PATH/TO/lrscan}")
command -v strace >/dev/null || { echo "FAIL: strace is missing (run scripts/install-deps)"; exit 1; }
WORK=$(mktemp -d /tmp/lrscan_dry.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

passed=0; failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

# dry NAME EXPECTED_PROBES ARGS...: one traced dry run.
dry() {
  local name=$1 want=$2; shift 2
  local rc=0
  # LeakSanitizer cannot run under ptrace; leaks are the unit tests' business.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 timeout 300 strace -f -qq -e trace=socket,connect,sendto,sendmsg,sendmmsg -o "$WORK/$name.strace" \
    "$LRSCAN" --dry-run --no-progress "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  check "[$name] exit 0 (got $rc)" test "$rc" = 0
  check "[$name] reports exactly $want probes" grep -q "dry run: $want probes generated" "$WORK/$name.err"
  # Any socket of an internet family, or any connect/send, would be a packet.
  local calls
  calls=$(grep -cE 'socket\(AF_INET6?|connect\(|send(to|msg|mmsg)\(' "$WORK/$name.strace")
  check "[$name] no socket, connect or send call (strace: $calls)" test "$calls" = 0
  check "[$name] no host in the output" bash -c "! grep -q 'scan report for' '$WORK/$name.out'"
}

dry v4-16 $((65536 * 100)) -p 1-100 10.0.0.0/16
dry v4-exclude $(((65536 - 256 - 1) * 100)) -p 1-100 10.0.0.0/16 --exclude 10.0.5.0/24,10.0.9.9
dry v6-ports $((1024 * 1000)) --top-ports 1000 fd13:99::/118
dry mixed $(((256 + 16) * 3)) -p 22,80,443 192.168.7.0/24 fd13:98::/124

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
