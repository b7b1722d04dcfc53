#!/usr/bin/env bash
# bench/e2e/pro_load.sh — login rate of btest-pro against a 10,000-user database,
# on SQLite and on PostgreSQL, next to `btest -s` (one user, no database) in the
# same run.
#
#   bench/e2e/pro_load.sh BUILD_DIR
#   env: USERS (default 10000) users in each database; CONCURRENCY (default 200)
#        clients at once; MD5_LOGINS (default 4000), ECSRP5_LOGINS (default 2000)
#        logins per run; OUT (default BUILD_DIR/bench/pro_load.json).
#
# Each login is a complete test start over loopback: connect, HELLO, command, MD5
# or EC-SRP5 login, OK (btest_auth measures connect -> OK), then the client closes,
# which ends the test. For btest-pro that is the whole control path: the user is
# read at login and again at admission, the session is inserted, its end and the
# usage go through the writer thread. Users u0..u(N-1) share one password;
# btest_auth --users spreads the logins over all of them.
# Servers: `btest -s --auth M -a u0 -p bench`; `btest-pro --db FILE serve --auth M`;
# `btest-pro --db postgresql://... serve --auth M` (a PostgreSQL 15 server started
# here from Debian's package in a temp dir, default settings, stopped on exit).
# Reported per method and server: logins/s, latency p50/p99, server CPU ms per
# login; and the ratio btest-pro / btest -s (goal, issue 7: >= 0.8). Informational:
# exit 0 unless a run failed; 2 on a setup error. Needs root (runs PostgreSQL as
# the postgres user).
set -euo pipefail
die() { echo "pro_load.sh: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env USERS, CONCURRENCY, MD5_LOGINS, ECSRP5_LOGINS, OUT)"
BUILD_DIR=$1
USERS=${USERS:-10000}
CONCURRENCY=${CONCURRENCY:-200}
MD5_LOGINS=${MD5_LOGINS:-4000}
ECSRP5_LOGINS=${ECSRP5_LOGINS:-2000}
OUT=${OUT:-$BUILD_DIR/bench/pro_load.json}
BTEST=$BUILD_DIR/apps/btest/btest
PRO=$BUILD_DIR/apps/btest-pro/btest-pro
AUTH=$BUILD_DIR/bench/load/btest_auth
SEED=$BUILD_DIR/bench/load/pro_seed
PGBIN=/usr/lib/postgresql/15/bin
for f in "$BTEST" "$PRO" "$AUTH" "$SEED"; do
  [ -x "$f" ] || die "missing $f (cmake --preset bench && cmake --build --preset bench)"
done
[ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 server binaries missing in $PGBIN (scripts/install-deps)"
[ "$(id -u)" = 0 ] || die "needs root (PostgreSQL runs as the postgres user)"
for v in USERS CONCURRENCY MD5_LOGINS ECSRP5_LOGINS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done

WORK=$(mktemp -d /tmp/pro_load.XXXXXX)
chmod 755 "$WORK"
declare -a JOBS=()
PG_UP=0
cleanup() {
  local p
  for p in "${JOBS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${JOBS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$PG_UP" = 1 ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$(dirname "$OUT")"

free_port() {
  local p
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port"
}
wait_listen() {  # wait_listen PORT PID
  for ((i = 0; i < 200; i++)); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---- PostgreSQL in a temp dir --------------------------------------------------------
PGPORT=$(free_port)
mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w \
  -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null ||
  die "PostgreSQL did not start ($WORK/pg/log)"
PG_UP=1
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE bench" || die "CREATE DATABASE failed"
PGURL="postgresql://postgres@127.0.0.1:$PGPORT/bench"

echo "pro_load.sh: seeding $USERS users into SQLite and PostgreSQL" >&2
"$SEED" --db "$WORK/users.db" --users "$USERS" --allow-md5
"$SEED" --db "$PGURL" --users "$USERS" --allow-md5

# ---- one run --------------------------------------------------------------------------
# run SERVER METHOD: start the server, one btest_auth run, stop it.
run() {
  local server=$1 method=$2 port pid n users
  port=$(free_port)
  n=$([ "$method" = md5 ] && echo "$MD5_LOGINS" || echo "$ECSRP5_LOGINS")
  case $server in
    btest) "$BTEST" -s --listen 127.0.0.1 -P "$port" -q --max-sessions 0 --auth "$method" -a u0 -p bench \
             >"$WORK/$server-$method.log" 2>&1 & users=0 ;;
    sqlite) "$PRO" --db "$WORK/users.db" serve --listen 127.0.0.1 -P "$port" -q --max-sessions 0 --auth "$method" \
             >"$WORK/$server-$method.log" 2>&1 & users=$USERS ;;
    postgresql) "$PRO" --db "$PGURL" serve --listen 127.0.0.1 -P "$port" -q --max-sessions 0 --auth "$method" \
             >"$WORK/$server-$method.log" 2>&1 & users=$USERS ;;
  esac
  pid=$!
  JOBS+=("$pid")
  wait_listen "$port" "$pid" || { tail -5 "$WORK/$server-$method.log" >&2; die "$server server did not start"; }
  echo "pro_load.sh: $server, $method: $n logins, $CONCURRENCY at once" >&2
  local uargs=(-a u0)
  [ "$users" = 0 ] || uargs=(-a u --users "$users")
  timeout -k 5 120 "$AUTH" 127.0.0.1 -P "$port" --method "$method" -n "$n" -c "$CONCURRENCY" "${uargs[@]}" \
    -p bench --server-pid "$pid" --json "$WORK/$server-$method.json" -q --direction transmit >&2 ||
    { echo "pro_load.sh: btest_auth against $server/$method failed" >&2; FAILED=1; }
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

FAILED=0
for method in md5 ecsrp5; do
  for server in btest sqlite postgresql; do
    run "$server" "$method"
  done
done

python3 - "$WORK" "$OUT" "$USERS" "$CONCURRENCY" <<'PY'
import json, os, sys
work, out, users, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
res = {"bench": "pro_load", "users": users, "concurrency": conc, "runs": {}}
print(f"btest-pro logins with {users} users, {conc} clients at once (ratio = logins/s vs btest -s, same run)")
print(f"{'method':7} {'server':11} {'logins/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'srv cpu ms/login':>17} {'failed':>7} {'ratio':>6}")
ok_goal = True
for method in ("md5", "ecsrp5"):
    base = None
    for server in ("btest", "sqlite", "postgresql"):
        f = f"{work}/{server}-{method}.json"
        if not os.path.exists(f):
            print(f"{method:7} {server:11} (no report)"); ok_goal = False; continue
        d = json.load(open(f))
        lps = d.get("logins_per_s", 0.0)
        lat = d.get("latency_ms", {})
        cpu = (d.get("server_cpu") or {}).get("ms_per_login")
        failed = d.get("failures", 0)
        if server == "btest":
            base = lps
        ratio = lps / base if base else None
        if server != "btest" and (ratio is None or ratio < 0.8):
            ok_goal = False
        res["runs"][f"{server}-{method}"] = {"logins_per_s": lps, "latency_ms": lat, "server_cpu_ms_per_login": cpu,
                                             "failed": failed, "ratio_vs_btest": ratio}
        print(f"{method:7} {server:11} {lps:9.0f} {lat.get('p50', 0):8.2f} {lat.get('p99', 0):8.2f} "
              f"{(cpu if cpu is not None else float('nan')):17.3f} {failed:7} {(ratio or 0):6.2f}")
res["goal_ratio_at_least_0_8"] = ok_goal
print(f"goal (informational, issue 7: btest-pro logins/s >= 0.8x btest -s): {'met' if ok_goal else 'NOT met'}")
json.dump(res, open(out, "w"), indent=2)
print(f"JSON: {out}")
PY
exit "$FAILED"
