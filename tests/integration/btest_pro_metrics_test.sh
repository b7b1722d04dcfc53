#!/usr/bin/env bash
# tests/integration/btest_pro_metrics_test.sh — /metrics and /healthz of the
# btest-pro binary (run by CTest): a fresh SQLite database with one user, the
# server on loopback with --web, one good 2-second test and one wrong password
# with the real btest client, then the exposition checked by prom_check.py
# (strict text format 0.0.4 plus prometheus_client) against the values the
# test must have produced. prom_check.py is also fed broken expositions that it
# must reject, so a checker that accepts anything fails here.
# Usage: btest_pro_metrics_test.sh PATH/TO/btest-pro PATH/TO/btest
set -uo pipefail
PRO=${1:?usage: btest_pro_metrics_test.sh PATH/TO/btest-pro PATH/TO/btest}
BTEST=${2:?usage: btest_pro_metrics_test.sh PATH/TO/btest-pro PATH/TO/btest}
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="$HERE/prom_check.py"
WORK=$(mktemp -d /tmp/lr-metrics-XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit $?
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json_field() {  # json_field FILE PYTHON-EXPRESSION-ON-d
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool is not installed"; exit 1; }
done
# The reference parser is Debian's python3-prometheus-client, installed for the
# system interpreter; a python3 earlier on PATH (pyenv, a venv) may lack it.
PY=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import prometheus_client.parser' 2>/dev/null; then PY=$candidate; break; fi
done
[ -n "$PY" ] || { echo "FAIL python3-prometheus-client is not installed (scripts/install-deps)"; exit 1; }

# --- the checker itself: a good exposition passes, broken ones are refused ----
GOOD='# HELP demo_requests_total Requests.
# TYPE demo_requests_total counter
demo_requests_total{code="200"} 3
demo_requests_total{code="404",path="a\\b\"c\nd"} 1
# HELP demo_up Up.
# TYPE demo_up gauge
demo_up 1
# HELP demo_seconds Latency.
# TYPE demo_seconds histogram
demo_seconds_bucket{le="0.1"} 1
demo_seconds_bucket{le="1"} 2
demo_seconds_bucket{le="+Inf"} 3
demo_seconds_sum 2.5
demo_seconds_count 3
'
printf '%s' "$GOOD" | "$PY" "$CHECK" --expect 'demo_up=1' --expect 'demo_seconds_count>=3' >"$WORK/good.out" 2>&1
check "prom_check accepts a valid exposition" test $? = 0
printf '%s' "$GOOD" | "$PY" "$CHECK" --expect 'demo_up=2' >"$WORK/o" 2>&1
check "prom_check fails an expectation that does not hold" test $? = 1
printf '%s' "$GOOD" | "$PY" "$CHECK" --expect 'demo_missing=1' >"$WORK/o" 2>&1
check "prom_check fails an expectation on a missing series" test $? = 1

rejects() {  # rejects NAME EXPECTED-FAILING-CHECK TEXT
  local name=$1 want=$2 text=$3
  printf '%s' "$text" | "$PY" "$CHECK" >"$WORK/bad.out" 2>&1
  local rc=$?
  if [ "$rc" = 1 ] && grep -q "^FAIL $want" "$WORK/bad.out"; then
    passed=$((passed + 1)); echo "ok   prom_check rejects: $name"
  else
    failed=$((failed + 1)); echo "FAIL prom_check rejects: $name (exit $rc)"; sed 's/^/    /' "$WORK/bad.out"
  fi
}
rejects "a family without TYPE" "one HELP and one TYPE" '# HELP x_total X.
x_total 1
'
rejects "a family without HELP" "one HELP and one TYPE" '# TYPE x_total counter
x_total 1
'
rejects "TYPE after the samples" "one HELP and one TYPE" '# HELP x_total X.
x_total 1
# TYPE x_total counter
'
rejects "two TYPE lines" "one HELP and one TYPE" '# HELP x_total X.
# TYPE x_total counter
# TYPE x_total counter
x_total 1
'
rejects "non-cumulative buckets" "histogram buckets" '# HELP h H.
# TYPE h histogram
h_bucket{le="0.1"} 5
h_bucket{le="1"} 3
h_bucket{le="+Inf"} 5
h_sum 1
h_count 5
'
rejects "+Inf bucket != _count" "histogram buckets" '# HELP h H.
# TYPE h histogram
h_bucket{le="1"} 3
h_bucket{le="+Inf"} 3
h_sum 1
h_count 4
'
rejects "a histogram without +Inf" "histogram buckets" '# HELP h H.
# TYPE h histogram
h_bucket{le="1"} 3
h_sum 1
h_count 3
'
rejects "an invalid escape in a label value" "label value and HELP escaping" '# HELP x_total X.
# TYPE x_total counter
x_total{reason="a\qb"} 1
'
rejects "an unescaped quote in a label value" "label value and HELP escaping" '# HELP x_total X.
# TYPE x_total counter
x_total{reason="a"b"} 1
'
rejects "an unterminated label value" "label value and HELP escaping" '# HELP x_total X.
# TYPE x_total counter
x_total{reason="ab} 1
'
rejects "a bad metric name" "metric and label names" '# HELP 1x X.
# TYPE 1x gauge
1x 1
'
rejects "a bad label name" "metric and label names" '# HELP x X.
# TYPE x gauge
x{a-b="1"} 1
'
rejects "a value that is not a float" "values are floats" '# HELP x X.
# TYPE x gauge
x one
'
rejects "a duplicate series" "no duplicate series" '# HELP x X.
# TYPE x gauge
x{a="1"} 1
x{a="1"} 2
'
rejects "a counter not named _total" "counters end in _total" '# HELP x X.
# TYPE x counter
x 1
'
rejects "a family split in two groups" "each family is one group" '# HELP x X.
# TYPE x gauge
x{a="1"} 1
# HELP y Y.
# TYPE y gauge
y 1
x{a="2"} 1
'

# --- a real server ----------------------------------------------------------
DB="$WORK/pro.db"
"$PRO" --db "$DB" user add alice --password pw-alice >"$WORK/useradd.log" 2>&1
check "btest-pro user add" test $? = 0

BASE=""
for attempt in 1 2 3; do
  P=$(free_port)
  W=$(free_port)
  "$PRO" --db "$DB" serve -P "$P" --listen 127.0.0.1 --web "127.0.0.1:$W" --server-name metrics-test \
    2>>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 150); do  # at most 15 s
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$W/healthz"; then BASE="http://127.0.0.1:$W"; break; fi
    sleep 0.1
  done
  [ -n "$BASE" ] && break
  kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
done
if [ -z "$BASE" ]; then
  echo "FAIL btest-pro serve --web did not answer /healthz within 15 s (3 attempts)"
  sed 's/^/    /' "$WORK/server.log"
  failed=$((failed + 1))
  finish
fi
echo "ok   btest-pro serve is up (btest 127.0.0.1:$P, web $BASE)"
passed=$((passed + 1))

code=$(curl -s -o "$WORK/healthz.json" -w '%{http_code}' --max-time 5 "$BASE/healthz")
check "/healthz answers 200" test "$code" = 200
check "/healthz says status ok" test "$(json_field "$WORK/healthz.json" 'd["status"]')" = ok

timeout 30 "$BTEST" -c 127.0.0.1 -P "$P" -a alice -p pw-alice --direction both -b 50M -d 2 --json \
  >"$WORK/run.json" 2>"$WORK/run.err"
check "a 2-second test runs (exit 0)" test $? = 0
timeout 30 "$BTEST" -c 127.0.0.1 -P "$P" -a alice -p wrong-password -d 1 >"$WORK/wrong.out" 2>&1
check "a wrong password is refused (exit 3)" test $? = 3

# The session is committed once it has ended (the writer flushes at its end).
ended=""
for _ in $(seq 1 100); do  # at most 10 s
  if curl -sf --max-time 2 "$BASE/api/v1/ip/127.0.0.1/sessions" -o "$WORK/sessions.json" &&
     [ "$(json_field "$WORK/sessions.json" 'len(d["sessions"]) == 1 and d["sessions"][0]["status"] != "running"')" = True ]; then
    ended=yes
    break
  fi
  sleep 0.1
done
check "the session is recorded as ended" test -n "$ended"
IN=$(json_field "$WORK/sessions.json" 'd["sessions"][0]["bytes_in"]' 2>/dev/null || echo 0)
OUT=$(json_field "$WORK/sessions.json" 'd["sessions"][0]["bytes_out"]' 2>/dev/null || echo 0)
check "the session status is ok" test "$(json_field "$WORK/sessions.json" 'd["sessions"][0]["status"]' 2>/dev/null)" = ok
echo "     session bytes in $IN, out $OUT"

curl -sf --max-time 5 "$BASE/metrics" -o "$WORK/metrics.txt" -D "$WORK/metrics.headers"
check "/metrics answers" test $? = 0
check "/metrics is text/plain version 0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/metrics.headers"
"$PY" "$CHECK" --file "$WORK/metrics.txt" \
  --expect 'btest_sessions_active=0' \
  --expect 'btest_tests_started_total=1' \
  --expect 'btest_logins_total{method="ecsrp5",result="ok"}=1' \
  --expect 'btest_logins_total{method="ecsrp5",result="failed"}=1' \
  --expect 'btest_logins_total{method="md5",result="ok"}=0' \
  --expect 'btest_logins_total{method="md5",result="failed"}=0' \
  --expect 'btest_rejections_total{reason="auth_failed"}=1' \
  --expect 'btest_bytes_received_total>0' \
  --expect 'btest_bytes_sent_total>0' \
  --expect "btest_bytes_received_total=$IN" \
  --expect "btest_bytes_sent_total=$OUT" \
  --expect 'btest_db_flush_seconds_count>=1' \
  --expect 'btest_db_flush_failures_total=0' \
  --expect 'btest_http_requests_total{code="200"}>=1' >"$WORK/check.out" 2>&1
rc=$?
sed 's/^/    /' "$WORK/check.out"
check "prom_check accepts /metrics with the expected values" test "$rc" = 0
if [ "$rc" != 0 ]; then sed 's/^/    | /' "$WORK/metrics.txt"; fi

# The same text with one expectation that must not hold: the check can fail.
"$PY" "$CHECK" --file "$WORK/metrics.txt" --expect 'btest_tests_started_total=2' >"$WORK/o" 2>&1
check "prom_check refuses a wrong expectation on /metrics" test $? = 1

kill -0 "$SERVER_PID" 2>/dev/null
check "the server is still running" test $? = 0
finish
