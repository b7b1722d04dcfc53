# shellcheck shell=bash
# tests/lab/lrscan_test_lib.sh — shell helpers shared by the lrscan lab tests in
# tests/integration/ (sourced after `set -uo pipefail`, with LAB set to lab.sh).
# The tests own their labs: lr_work's EXIT trap takes down every lab named in LABS
# (and only those), stops BG_PID and removes WORK (KEEP_WORK=1 keeps it).
# Counters: passed, failed, skipped; check/skip print one "ok"/"FAIL"/"skip" line each.
# The parsers and scoring helpers shared by the tests' python checkers are in
# lrscan_score.py next to this file (LR_LAB_DIR; ck_py runs a checker with it importable).

LR_LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LABS=()
BG_PID=""
passed=0; failed=0; skipped=0

# lr_require TOOL...: skip (exit 77) unless root; fail (exit 1) when a tool is missing.
lr_require() {
  local t
  [ "$(id -u)" = 0 ] || { echo "SKIP: needs root for network namespaces"; exit 77; }
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "FAIL: $t is missing (run scripts/install-deps)"; exit 1; }
  done
}

# lr_require_netns PROBE: skip (exit 77) when namespace PROBE cannot be created.
lr_require_netns() {
  local err
  if ! err=$(timeout 10 ip netns add "$1" 2>&1); then
    echo "SKIP: cannot create a network namespace: $err"; exit 77
  fi
  timeout 10 ip netns del "$1"
}

# lr_work NAME: WORK=/tmp/NAME.XXXXXX, removed on exit with the labs in LABS.
lr_work() {
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  trap lr_cleanup EXIT
  trap 'exit 1' INT TERM
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
lr_cleanup() {
  local name
  if [ -n "$BG_PID" ]; then kill -KILL "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; fi
  for name in "${LABS[@]}"; do "$LAB" down "$name" >/dev/null 2>&1; done
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}

# lab_up NAME ARGS...: lab.sh up, its log in WORK; exit 1 when it fails.
lab_up() {
  local name=$1; shift
  if ! timeout 60 "$LAB" up "$name" "$@" >"$WORK/up-$name.log" 2>&1; then
    echo "FAIL: lab.sh up $name"; cat "$WORK/up-$name.log"; exit 1
  fi
}

check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}
skip() { echo "skip $1 (SCANNER=$SCANNER)"; skipped=$((skipped + 1)); }
is_nmap() { [ "${SCANNER:-lrscan}" = nmap ]; }
now() { date +%s%N; }
elapsed() {  # elapsed T0 T1 (from now): seconds with two decimals
  local cs=$((($2 - $1) / 10000000))
  printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

# ck_py SCRIPT ARGS...: a python checker that imports lrscan_score.
ck_py() { PYTHONPATH=$LR_LAB_DIR${PYTHONPATH:+:$PYTHONPATH} python3 "$@"; }

# verdicts FILE: each "PASS name" / "MISS name || detail" line becomes one check.
verdicts() {
  local v rest line
  while IFS= read -r line; do
    v=${line%% *}; rest=${line#* }
    case $v in
      PASS) check "${rest%% || *}" true ;;
      MISS) check "$rest" false ;;
      INFO) echo "     ${rest}" ;;
      *) check "checker output: $line" false ;;
    esac
  done <"$1"
}
same() {  # same GOT WANT [WHAT]: equal files; otherwise show the first differences
  if cmp -s "$1" "$2"; then return 0; fi
  echo "  --- ${3:-difference} (< got $1, > want $2):"
  diff "$1" "$2" | grep '^[<>]' | head -12 | sed 's/^/    /'
  return 1
}

# sc LAB ARGS...: the scanner (SCANNER, LRSCAN) in LAB's scanner namespace, lrscan's
# grammar. In SCANNER=nmap mode the flags are translated (--rate R -> --min-rate R
# --max-rate R, -T4 added, -6 for IPv6 targets) and -oJ is produced from nmap's XML
# after the run (`ck nmap2json`). Limit: SC_LIMIT seconds (default 60).
sc() {
  local lab=$1; shift
  if ! is_nmap; then
    timeout -k 5 "${SC_LIMIT:-60}" "$LAB" exec "$lab" scan "$LRSCAN" --no-progress "$@"
    return
  fi
  local -a args=(-T4) ; local json="" xml="" six=0 rc
  while [ $# -gt 0 ]; do
    case $1 in
      --rate) args+=(--min-rate "$2" --max-rate "$2"); shift 2 ;;
      -oJ) json=$2; shift 2 ;;
      -oX) xml=$2; shift 2 ;;
      -p|-oG|--exclude|--max-retries|--min-rate) args+=("$1" "$2"); shift 2 ;;
      --no-progress) shift ;;
      -*) args+=("$1"); shift ;;
      *:*) six=1; args+=("$1"); shift ;;
      *) args+=("$1"); shift ;;
    esac
  done
  [ "$six" = 1 ] && args=(-6 "${args[@]}")
  # nmap writes one -oX: -oJ is made from it (from a temporary one if -oX was not asked).
  if [ -n "$json" ] && [ -z "$xml" ]; then xml=$json.nmap.xml; fi
  [ -n "$xml" ] && args+=(-oX "$xml")
  timeout -k 5 "${SC_LIMIT:-60}" "$LAB" exec "$lab" scan nmap "${args[@]}"
  rc=$?
  if [ -n "$json" ]; then ck nmap2json "$xml" "$json" || rc=1; fi
  return "$rc"
}
