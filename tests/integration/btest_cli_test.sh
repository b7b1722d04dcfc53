#!/usr/bin/env bash
# End-to-end command matrix for the btest binary (run by CTest): real processes on
# loopback, exit codes, --json, CSV rows, Ctrl-C handling, usage errors.
# Usage: btest_cli_test.sh PATH/TO/btest
set -uo pipefail
BTEST=${1:?usage: btest_cli_test.sh PATH/TO/btest}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
failed=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
json_get() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

# --- usage errors: exit 2, one clear line -------------------------------------
"$BTEST" -c 127.0.0.1 -a admin >"$WORK/o" 2>"$WORK/e"; rc=$?
check "-a without -p is a usage error (exit 2)" test "$rc" = 2
check "-a without -p names the missing flag" grep -q -- "--password" "$WORK/e"
"$BTEST" -c 127.0.0.1 -b 10X >"$WORK/o" 2>"$WORK/e"; rc=$?
check "bad bandwidth is a usage error" test "$rc" = 2
check "bad bandwidth names the text" grep -q "invalid bandwidth '10X'" "$WORK/e"
"$BTEST" >"$WORK/o" 2>"$WORK/e"; rc=$?
check "no mode is a usage error" test "$rc" = 2
"$BTEST" --help >"$WORK/o" 2>&1; rc=$?
check "--help exits 0 and documents exit codes" bash -c "test $rc = 0 && grep -q 'Exit status' '$WORK/o'"

# --- no server: exit 1 ----------------------------------------------------------
DEAD=$(free_port)
"$BTEST" -c 127.0.0.1 -P "$DEAD" -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "connection refused exits 1" test "$rc" = 1
check "connection refused says so" grep -q "cannot connect" "$WORK/e"

# --- a real server --------------------------------------------------------------
PORT=$(free_port)
"$BTEST" -s --listen 127.0.0.1 -P "$PORT" -a cli -p secret --csv "$WORK/server.csv" 2>"$WORK/server.log" &
SERVER=$!
PIDS+=("$SERVER")
check "server starts" wait_port "$PORT"

timeout 20 "$BTEST" -c 127.0.0.1 -P "$PORT" -a cli -p secret -t -r -d 1.5 --json --csv "$WORK/client.csv" >"$WORK/run.json" 2>"$WORK/e"; rc=$?
check "both-direction test exits 0" test "$rc" = 0
check "--json has tx and rx bytes" bash -c "test \$(python3 -c \"import json; d=json.load(open('$WORK/run.json')); print(int(d['tx']['bytes']>0 and d['rx']['bytes']>0 and d['direction']=='both'))\") = 1"
check "client CSV has header + 1 row" test "$(wc -l <"$WORK/client.csv")" = 2

timeout 20 "$BTEST" -c 127.0.0.1 -P "$PORT" -a cli -p wrong -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "wrong password exits 3" test "$rc" = 3
check "wrong password says authentication failed" grep -q "authentication failed" "$WORK/e"
check "server logged AUTH_FAILURE" grep -q "AUTH_FAILURE" "$WORK/server.log"

timeout 20 "$BTEST" -c 127.0.0.1 -P "$PORT" -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "missing credentials exits 3 and says what to do" bash -c "test $rc = 3 && grep -q -- '-a USER -p PASSWORD' '$WORK/e'"

# Ctrl-C: summary still printed, CSV row still written, exit 0.
"$BTEST" -c 127.0.0.1 -P "$PORT" -a cli -p secret -t -d 0 --csv "$WORK/client.csv" >"$WORK/int.out" 2>&1 &
CLIENT=$!
PIDS+=("$CLIENT")
sleep 1.5
kill -INT "$CLIENT"
timeout 10 tail --pid="$CLIENT" -f /dev/null
wait "$CLIENT"; rc=$?
check "Ctrl-C exits 0" test "$rc" = 0
check "Ctrl-C prints the summary" grep -q "\[SUM\]  TX  avg" "$WORK/int.out"
check "Ctrl-C writes the CSV row" test "$(wc -l <"$WORK/client.csv")" = 3
check "per-second lines are printed" grep -q "^\[  1\]  TX" "$WORK/int.out"

# The same server's default (-a/-p) is EC-SRP5, as RouterOS 6.43+.
check "server logged an EC-SRP5 login" grep -q "AUTH_SUCCESS.*method=ecsrp5" "$WORK/server.log"

kill -INT "$SERVER"
timeout 10 tail --pid="$SERVER" -f /dev/null
wait "$SERVER"; rc=$?
check "server exits 0 on SIGINT" test "$rc" = 0
check "server CSV has header + 2 rows" test "$(wc -l <"$WORK/server.csv")" = 3
check "server and client CSV agree on direction words" bash -c "cut -d, -f6 '$WORK/server.csv' | sort -u | tr '\n' ' ' | grep -q 'both direction transmit'"

# MD5 server for clients older than RouterOS 6.43.
PORT2=$(free_port)
UDP_BASE=$((40000 + ($$ % 500) * 20))  # away from other tests' UDP ranges (clients use +256)
"$BTEST" -s --listen 127.0.0.1 -P "$PORT2" -a old -p timer --auth md5 --udp-ports "$UDP_BASE-$((UDP_BASE + 9))" \
  2>"$WORK/server2.log" &
SERVER2=$!
PIDS+=("$SERVER2")
check "md5 server starts" wait_port "$PORT2"
timeout 20 "$BTEST" -c 127.0.0.1 -P "$PORT2" -a old -p timer -t -d 1 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "md5 login and test exit 0" test "$rc" = 0
check "server logged an MD5 login" grep -q "AUTH_SUCCESS.*method=md5" "$WORK/server2.log"

# UDP both ways at a fixed rate: every datagram accounted for on both sides.
timeout 20 "$BTEST" -c 127.0.0.1 -P "$PORT2" -a old -p timer -u -t -r -b 20M --udp-size 1000 -d 1.5 --json \
  >"$WORK/udp.json" 2>"$WORK/e"; rc=$?
check "UDP test exits 0" test "$rc" = 0
check "UDP --json: 1000-byte datagrams sent and received, none lost" python3 -c "
import json, sys
d = json.load(open('$WORK/udp.json'))
u = d['udp']
assert d['protocol'] == 'udp' and u['tx_size'] == 1000 and u['port'] == $UDP_BASE, u
assert u['tx_datagrams'] > 1000 and u['rx_datagrams'] > 1000 and u['lost'] == 0, u
assert d['tx']['bytes'] == u['tx_datagrams'] * 1000 and d['rx']['bytes'] == u['rx_datagrams'] * 1000, d
"
check "UDP lines show lost: per second" bash -c "timeout 20 '$BTEST' -c 127.0.0.1 -P $PORT2 -a old -p timer -u -r -b 5M -d 1.2 | grep -q 'RX .* lost: 0'"
check "server logged the UDP counts" grep -q "TEST_END.*proto=udp.*udp_tx_datagrams=[1-9]" "$WORK/server2.log"
timeout 20 "$BTEST" -c 127.0.0.1 -P "$PORT2" -u --udp-size 64001 >"$WORK/o" 2>"$WORK/e"; rc=$?
check "UDP size above 64000 is a usage error naming it" bash -c "test $rc = 2 && grep -q 64001 '$WORK/e'"
kill -INT "$SERVER2"

echo "$passed passed, $failed failed"
test "$failed" = 0
