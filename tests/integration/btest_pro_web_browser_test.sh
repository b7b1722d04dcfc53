#!/usr/bin/env bash
# tests/integration/btest_pro_web_browser_test.sh — the btest-pro dashboard in a
# real browser: start `btest-pro serve --web` on loopback with a fresh SQLite
# database and an admin token, run ONE real 5-second TCP test against it with
# our btest client (capped at 200 Mbit/s each way), then let
# tests/browser/dashboard.test.mjs (playwright-core driving Debian's chromium)
# check the pages against the JSON API and save screenshots.
#
#   tests/integration/btest_pro_web_browser_test.sh BTEST_PRO_BIN BTEST_BIN SCREENSHOT_DIR
#
# Needs node, tests/browser/node_modules/playwright-core (npm install --prefix
# tests/browser) and /usr/bin/chromium: scripts/install-deps sets them up.
# Everything stays on 127.0.0.1 and in a temp dir; the server is killed on exit.
# Exit 0 pass, 1 fail, 2 usage.
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BTEST_PRO_BIN BTEST_BIN SCREENSHOT_DIR" >&2
  exit 2
fi
PRO=$(readlink -f "$1")
BTEST=$(readlink -f "$2")
SHOTS=$3
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
BROWSER_DIR="$ROOT/tests/browser"

fail() { echo "FAIL $*"; exit 1; }

[ -x "$PRO" ] || fail "btest-pro binary not found: $1"
[ -x "$BTEST" ] || fail "btest binary not found: $2"
command -v node >/dev/null || fail "node is missing (run scripts/install-deps)"
[ -d "$BROWSER_DIR/node_modules/playwright-core" ] ||
  fail "tests/browser/node_modules/playwright-core is missing (run scripts/install-deps)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (run scripts/install-deps)"
command -v curl >/dev/null || fail "curl is missing (run scripts/install-deps)"
command -v python3 >/dev/null || fail "python3 is missing (run scripts/install-deps)"

WORK=$(mktemp -d /tmp/btest_pro_web.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    # Bounded: 5 s for a clean stop, then SIGKILL.
    for _ in $(seq 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

server_log() {
  echo "---- btest-pro serve log ----"
  cat "$WORK/serve.log" 2>/dev/null
  echo "-----------------------------"
}

DB="$WORK/btest-pro.db"
TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')

"$PRO" --db "$DB" user add alice --password secret123 >"$WORK/useradd.log" 2>&1 ||
  { cat "$WORK/useradd.log"; fail "btest-pro user add alice"; }

# Two free loopback TCP ports (the kernel picks; a tiny race until we bind).
read -r P1 P2 < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*[s.getsockname()[1] for s in socks])
EOF
)
[ -n "${P1:-}" ] && [ -n "${P2:-}" ] || fail "could not pick two free ports"

# Sanitizer builds: LeakSanitizer reports at exit would only add noise here;
# leaks are the unit tests' business.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

"$PRO" --db "$DB" serve -P "$P1" --listen 127.0.0.1 --web "127.0.0.1:$P2" --admin-token "$TOKEN" \
  --ip-daily 10G --ip-weekly 50G --ip-monthly 200G >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!

BASE="http://127.0.0.1:$P2"
up=0
for _ in $(seq 100); do   # 100 x 0.1 s = 10 s
  if curl -sf -m 2 "$BASE/healthz" >/dev/null 2>&1; then
    up=1
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ "$up" != 1 ]; then
  server_log
  fail "btest-pro serve did not answer $BASE/healthz within 10 s"
fi
echo "ok   btest-pro serve is up (btest on 127.0.0.1:$P1, web on $BASE)"

if ! timeout 30 "$BTEST" -c 127.0.0.1 -P "$P1" -a alice -p secret123 -d 5s --direction both -b 200M -q \
    >"$WORK/btest.log" 2>&1; then
  cat "$WORK/btest.log"
  server_log
  fail "the 5-second btest run against the server"
fi
echo "ok   one 5-second TCP test, both directions, 200 Mbit/s"

mkdir -p "$SHOTS" || fail "cannot create $SHOTS"
rc=0
BASE_URL="$BASE" SCREENSHOT_DIR="$SHOTS" ADMIN_TOKEN="$TOKEN" EXPECT_SECONDS=5 EXPECT_PROTO=tcp EXPECT_BPS=200000000 \
  timeout 90 node "$BROWSER_DIR/dashboard.test.mjs" || rc=$?
if [ "$rc" != 0 ]; then
  server_log
  fail "dashboard browser test (exit $rc)"
fi
kill -0 "$SERVER_PID" 2>/dev/null || { server_log; fail "btest-pro serve died during the test"; }
echo "ok   screenshots in $SHOTS"
exit 0
