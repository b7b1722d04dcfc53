#!/usr/bin/env bash
# bench/e2e/scan_syn.sh — full-range raw SYN scan of one lab host: lrscan -sS (default
# timing) vs nmap -sS -T4 vs masscan --rate 100000 on a clean host, then lrscan vs
# nmap on a lossy host; speed, CPU, memory and exactness (spec lrscan.md §7).
#
#   bench/e2e/scan_syn.sh BUILD_DIR
#   env: REPS (default 3) runs per tool and host; OUT (default BUILD_DIR/bench/scan_syn.json);
#        TIME_BIN (default /usr/bin/time, GNU time); DEADLINE (default 420) seconds for
#        the whole script, lab set-up included; MASSCAN_RATE (default 100000);
#        MASSCAN=0 leaves masscan out (it is also left out, with a note, when it is not
#        installed); SCANNER=nmap (debugging aid) runs `nmap -sS -T4` in lrscan's slot.
#
# Needs root. Two scan labs (tests/lab/lab.sh, names lrsb<pid>a and lrsb<pid>b):
#   clean: 100 open TCP ports scattered over 1-65535 (1 and 65535 included) and 20
#          filtered ports (dropped by nftables); every other port closed;
#   lossy: 30 open (1 and 65535 included) and 20 filtered ports, and 1 % random loss
#          each way (lab --drop-percent 1).
# The listener sets are the ground truth (fixed seeds). REPS times, with the order of
# the tools rotating every repetition (machine drift hits all alike), each tool runs
# in the scanner namespace under `/usr/bin/time -f '%e %U %S %M' timeout ...`:
#   lrscan -sS -p- -n -Pn TGT --no-progress -oX FILE      (lrscan's default timing)
#   nmap -sS -T4 -p- -n -Pn TGT -oX FILE
#   masscan -p1-65535 --rate 100000 TGT -e lrs0 --adapter-ip SCAN_ADDR
#           --adapter-mac MAC(lrs0) --router-mac MAC(lrt0) -oL FILE     (clean host only)
# masscan in a namespace: the scanner namespace has no default route, so masscan is
# given its interface, source address, source MAC and the target's MAC (its man page:
# --adapter-ip, --adapter-mac, --router-mac; the lab's neighbours are static). Its
# default --wait of 10 s after the last probe is kept (it is part of its wall time, as
# in the spec's anchor). masscan 1.3.2's receive thread blocks in poll() on an idle
# interface and then never exits ("waiting -N secs", masscan issues #144, #558);
# SIGINT does not help. So while masscan runs, one UDP datagram goes from the target
# to the scanner every 0.5 s (its kernel answers port-unreachable, masscan ignores
# both): the receive thread wakes and masscan exits when its wait is over. masscan
# reports open ports only: its closed and filtered figures are "n/a".
#
# Per run: wall s (GNU time %e), CPU s (user+sys), peak RSS MiB (%M / 1024), probes/s
# (65535 / wall), and exactness: lrscan and nmap from their XML (closed ports in
# <extraports>): open set and filtered set equal to the ground truth and every other
# port closed; masscan from -oL: its open set. Per tool and host: medians, and "exact"
# only if every run was. Speedups are medians of per-repetition ratios (other tool's
# wall / lrscan's wall, each pair in the same repetition; STYLE §6). "goal" compares
# with lrscan.md §7 (-sS at least 2x faster than nmap -sS -T4 with identical results,
# clean and lossy); informational, it does not set the exit status.
#
# Output: a table on stdout and one JSON file. Exit 1 if a run of lrscan or nmap
# failed or was inexact, or a masscan run failed (masscan's inexactness is a finding,
# not a failure); its work directory is then kept. Exit 2 on a usage/setup error. The
# labs are taken down on exit (trap); everything is bounded by timeout(1) and DEADLINE.
set -euo pipefail

die() { echo "scan_syn.sh: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env REPS, OUT, TIME_BIN, DEADLINE, MASSCAN_RATE, MASSCAN, SCANNER)"
BUILD_DIR=$1
REPS=${REPS:-3}
OUT=${OUT:-$BUILD_DIR/bench/scan_syn.json}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
DEADLINE=${DEADLINE:-420}
MASSCAN_RATE=${MASSCAN_RATE:-100000}
SCANNER=${SCANNER:-lrscan}
RUN_LIMIT=120   # timeout(1) of each scan, seconds
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
LAB=$HERE/../../tests/lab/lab.sh
# shellcheck source=bench/e2e/lib.sh
. "$HERE/lib.sh"

[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, got '$REPS'"
[[ $DEADLINE =~ ^[1-9][0-9]*$ ]] || die "DEADLINE must be a positive integer, got '$DEADLINE'"
[[ $MASSCAN_RATE =~ ^[1-9][0-9]*$ ]] || die "MASSCAN_RATE must be a positive integer, got '$MASSCAN_RATE'"
case $SCANNER in lrscan|nmap) ;; *) die "SCANNER must be lrscan or nmap, got '$SCANNER'" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (the scan lab uses network namespaces and raw sockets)"
LRSCAN=$BUILD_DIR/apps/lrscan/lrscan
if [ "$SCANNER" = lrscan ]; then find_lrscan; fi
require_lab_tools
MASSCAN_BIN=""
MASSCAN_NOTE=""
if [ "${MASSCAN:-1}" = 0 ]; then
  MASSCAN_NOTE="left out (MASSCAN=0)"
elif MASSCAN_BIN=$(command -v masscan); then
  :
else
  MASSCAN_BIN=""
  MASSCAN_NOTE="left out: masscan is not installed (Debian package masscan)"
  echo "scan_syn.sh: $MASSCAN_NOTE" >&2
fi

ID=$(($$ % 10000000))
CLEAN=lrsb${ID}a
LOSSY=lrsb${ID}b
END=$((SECONDS + DEADLINE))
# On exit: stop the running scan and the kicker, take the labs down (lib.sh).
lab_bench_setup scan_syn.sh "outputs, logs and time files of every run" "JOB_PID KICK_PID" "$CLEAN" "$LOSSY"

# ---- the labs ---------------------------------------------------------------------
read -r OPEN FILTERED L_OPEN L_FILTERED < <(python3 -c '
import random
r = random.Random(8101)
opened = {1, 65535} | set(r.sample(range(2, 65535), 98))
filtered = r.sample(sorted(set(range(2, 65535)) - opened), 20)
r = random.Random(8102)
lopened = {1, 65535} | set(r.sample(range(2, 65535), 28))
lfiltered = r.sample(sorted(set(range(2, 65535)) - lopened), 20)
j = lambda s: ",".join(map(str, sorted(s)))
print(j(opened), j(filtered), j(lopened), j(lfiltered))')

echo "scan_syn.sh: labs $CLEAN (100 open + 20 filtered) and $LOSSY (30 open + 20 filtered, 1 % loss each way)" >&2
LABS_UP=1   # from here `down` is needed even if `up` fails half-way (it is idempotent)
bench_lab_up "$WORK/up-clean.log" "$CLEAN" --tcp "$OPEN" --filtered-tcp "$FILTERED"
bench_lab_up "$WORK/up-lossy.log" "$LOSSY" --tcp "$L_OPEN" --filtered-tcp "$L_FILTERED" --drop-percent 1
timeout 10 "$LAB" info "$CLEAN" >"$WORK/info-clean" || die "lab.sh info $CLEAN failed"
timeout 10 "$LAB" info "$LOSSY" >"$WORK/info-lossy" || die "lab.sh info $LOSSY failed"
info() { sed -n "s/^$2=//p" "$WORK/info-$1"; }
[ "$(info clean TCP_OPEN_COUNT)" = 100 ] && [ "$(info clean FILTERED_TCP_COUNT)" = 20 ] &&
  [ "$(info lossy TCP_OPEN_COUNT)" = 30 ] && [ "$(info lossy FILTERED_TCP_COUNT)" = 20 ] ||
  die "the labs' ground truth is not as intended ($WORK/info-*)"
SCAN_IF=$(info clean SCAN_IF)
MAC_SCAN=$(timeout 10 "$LAB" exec "$CLEAN" scan cat "/sys/class/net/$SCAN_IF/address") || die "MAC of $SCAN_IF"
MAC_TGT=$(timeout 10 "$LAB" exec "$CLEAN" tgt cat "/sys/class/net/$(info clean TGT_IF)/address") || die "MAC of the target"

# ---- the runs ---------------------------------------------------------------------
FAILED=0
RUNS=$WORK/runs.jsonl
: >"$RUNS"

# run_one HOST TOOL REP: one scan in HOST's scanner namespace, one JSON line in $RUNS.
run_one() {
  local host=$1 tool=$2 rep=$3 base="$WORK/$1-$2-$3" left limit rc=0 src=0 lab tgt out fmt
  local -a cmd
  if [ "$host" = clean ]; then lab=$CLEAN; else lab=$LOSSY; fi
  tgt=$(info "$host" TGT_ADDR)
  left=$((END - SECONDS - 20))   # 20 s kept for the summary and `down`
  if ((left < 15)); then
    echo "scan_syn.sh: $host $tool run $rep skipped: DEADLINE (${DEADLINE}s) reached" >&2
    FAILED=1
    printf '{"host": "%s", "tool": "%s", "rep": %d, "ok": false, "error": "skipped: deadline"}\n' \
      "$host" "$tool" "$rep" >>"$RUNS"
    return 0
  fi
  limit=$((left < RUN_LIMIT ? left : RUN_LIMIT))
  out=$base.xml; fmt=xml
  case $tool in
    lrscan)
      if [ "$SCANNER" = nmap ]; then cmd=("$NMAP" -sS -T4 -p- -n -Pn "$tgt" -oX "$out")
      else cmd=("$LRSCAN" -sS -p- -n -Pn "$tgt" --no-progress -oX "$out"); fi ;;
    nmap) cmd=("$NMAP" -sS -T4 -p- -n -Pn "$tgt" -oX "$out") ;;
    masscan)
      out=$base.list; fmt=list
      cmd=("$MASSCAN_BIN" -p1-65535 --rate "$MASSCAN_RATE" "$tgt" -e "$SCAN_IF" --adapter-ip "$(info "$host" SCAN_ADDR)"
           --adapter-mac "$MAC_SCAN" --router-mac "$MAC_TGT" -oL "$out") ;;
  esac
  if [ "$tool" = masscan ]; then
    # The kicker (see the header): one datagram every 0.5 s, at most for the run's limit.
    setsid timeout -k 2 $((limit + 5)) "$LAB" exec "$lab" tgt python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2]) * 2):
    s.sendto(b"wake", (sys.argv[1], 9))
    time.sleep(0.5)' "$(info "$host" SCAN_ADDR)" "$((limit + 5))" </dev/null >/dev/null 2>&1 &
    KICK_PID=$!
  fi
  lab_timed_run "$lab" "$base" "$limit" "${cmd[@]}" || rc=$?
  if [ -n "$KICK_PID" ]; then stop_group "$KICK_PID"; KICK_PID=""; fi
  # Exit 0: exact; 3: inexact; 4: failed (a JSON line is written either way).
  bench_py - "$host" "$tool" "$rep" "$rc" "$base" "$out" "$fmt" "$(info "$host" TCP_OPEN_FILE)" \
    "$(info "$host" FILTERED_TCP_FILE)" >>"$RUNS" <<'PY' || src=$?
import json, sys
from scan_score import gnu_time, tcp_xml_host, tcp_exactness
host, tool, rep, rc, base, out, fmt, open_file, filt_file = sys.argv[1:10]
rep, rc = int(rep), int(rc)
ALL = 65535
want_open = {int(x) for x in open(open_file).read().split()}
want_filt = {int(x) for x in open(filt_file).read().split()}
want_closed = ALL - len(want_open) - len(want_filt)
run = {"host": host, "tool": tool, "rep": rep, "exit": rc, "ok": False}
def done(error=None):
    if error:
        run["error"] = error
        print(f"    FAILED: {error}", file=sys.stderr)
    else:
        r = run
        if r["exact"]:
            what = "exact"
        else:
            what = (f"INEXACT: open {r['open_found']}/{len(want_open)} (missed {r['missed_open'][:6]}, "
                    f"extra {r['extra_open'][:6]})")
            if r.get("filtered_found") is not None:
                what += (f", filtered {r['filtered_found']}/{len(want_filt)} (missed {r['missed_filtered'][:6]}, "
                         f"extra {r['extra_filtered'][:6]}), closed {r['closed_found']}/{want_closed}")
        print(f"    {r['wall_s']:.2f} s, {what}", file=sys.stderr)
    print(json.dumps(run))
    sys.exit(4 if not run["ok"] else 0 if run.get("exact") else 3)
try:
    wall, user, sys_, rss_kb = gnu_time(base)
    run.update(wall_s=wall, cpu_s=user + sys_, user_s=user, sys_s=sys_, peak_rss_mib=rss_kb / 1024.0)
    run["probes_per_s"] = ALL / run["wall_s"] if run["wall_s"] > 0 else None
except (OSError, ValueError) as e:
    done(f"no GNU time figures: {e}")
if rc != 0:
    done("timed out" if rc in (124, 137) else f"exit status {rc}")
if fmt == "list":
    # masscan -oL: "open tcp PORT ADDR TIMESTAMP"; open ports only.
    try:
        lines = open(out).read().splitlines()
    except OSError as e:
        done(f"no output: {e}")
    got_open = {int(l.split()[2]) for l in lines if l.startswith("open tcp ")}
    run.update(open_found=len(got_open), open_exact=got_open == want_open,
               missed_open=sorted(want_open - got_open)[:20], extra_open=sorted(got_open - want_open)[:20],
               filtered_found=None, closed_found=None, filtered_exact=None, closed_exact=None,
               note="masscan reports open ports only")
    run["exact"] = run["open_exact"]
    run["ok"] = True
    done()
try:
    listed, extra, extra_ports = tcp_xml_host(out)
except ValueError as e:
    done(str(e))
run.update(tcp_exactness(listed, extra, extra_ports, want_open, want_filt, ALL))
if any(s not in ("closed",) for s in extra) and not extra_ports:
    run["note"] = "non-closed <extraports> without a port list"
run["exact"] = run["open_exact"] and run["filtered_exact"] and run["closed_exact"]
run["ok"] = True
done()
PY
  # The summary line of lrscan -sS, kept for the JSON (probes, replies, drops, ...).
  if [ "$tool" = lrscan ] && [ -s "$base.err" ]; then
    grep -m1 '^lrscan: syn scan:' "$base.err" >"$base.summary" || true
  fi
  case $src in
    0) ;;
    3) if [ "$tool" != masscan ]; then FAILED=1; [ ! -s "$base.err" ] || tail -n 5 "$base.err" >&2; fi ;;
    4) FAILED=1; [ ! -s "$base.err" ] || tail -n 5 "$base.err" | tr '\r' '\n' | tail -n 5 >&2 ;;
    *) FAILED=1; echo "scan_syn.sh: $host $tool run $rep: could not score the run" >&2 ;;
  esac
}

CLEAN_TOOLS=(lrscan nmap)
[ -n "$MASSCAN_BIN" ] && CLEAN_TOOLS+=(masscan)
LOSSY_TOOLS=(lrscan nmap)
for host in clean lossy; do
  if [ "$host" = clean ]; then tools=("${CLEAN_TOOLS[@]}"); else tools=("${LOSSY_TOOLS[@]}"); fi
  echo "scan_syn.sh: $host host $(info "$host" TGT_ADDR): $REPS x {${tools[*]}}, -p-, order rotating" >&2
  for ((rep = 1; rep <= REPS; rep++)); do
    n=${#tools[@]}
    for ((i = 0; i < n; i++)); do
      tool=${tools[$(((i + rep - 1) % n))]}
      echo "  $host run $rep/$REPS $tool" >&2
      run_one "$host" "$tool" "$rep"
    done
  done
done

# ---- summary ----------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
summaries=$(cat "$WORK"/*-lrscan-*.summary 2>/dev/null | head -n 20 || true)
bench_py - "$RUNS" "$OUT" "$REPS" "$FAILED" "$(info clean TGT_ADDR)" "$(info lossy TGT_ADDR)" "$SCANNER" \
  "$("$NMAP" --version | head -n 1)" \
  "$([ "$SCANNER" = lrscan ] && "$LRSCAN" --version 2>/dev/null | head -n 1 || echo "nmap in lrscan's slot")" \
  "$([ -n "$MASSCAN_BIN" ] && "$MASSCAN_BIN" --version 2>/dev/null | grep -m1 -i 'masscan version' || true)" \
  "$MASSCAN_NOTE" "$MASSCAN_RATE" "$summaries" <<'PY'
import json, os, statistics, sys
from scan_score import med, write_json
(runs_path, out_path, reps, failed, tgt_clean, tgt_lossy, scanner, nmap_version, lrscan_version,
 masscan_version, masscan_note, masscan_rate, summaries) = sys.argv[1:14]
reps, failed = int(reps), failed == "1"
runs = [json.loads(line) for line in open(runs_path) if line.strip()]
KEYS = ("wall_s", "cpu_s", "peak_rss_mib", "probes_per_s")
hosts = {}
for host in ("clean", "lossy"):
    tools = {}
    for t in ("lrscan", "nmap", "masscan"):
        mine = [r for r in runs if r["host"] == host and r["tool"] == t]
        if not mine:
            continue
        ok = [r for r in mine if r["ok"]]
        d = {k: med(r.get(k) for r in ok) for k in KEYS}
        d.update(runs=len(mine), finished=len(ok), exact_runs=sum(1 for r in ok if r.get("exact")),
                 exact=all(r["ok"] and r.get("exact") for r in mine),
                 open_found=med(r.get("open_found") for r in ok),
                 open_found_min=min((r["open_found"] for r in ok), default=None),
                 open_found_max=max((r["open_found"] for r in ok), default=None),
                 filtered_found=med(r.get("filtered_found") for r in ok),
                 closed_found=med(r.get("closed_found") for r in ok))
        tools[t] = d
    speedups = {}
    for peer in ("nmap", "masscan"):
        pairs = []
        for rep in range(1, reps + 1):
            lr = [r for r in runs if r["host"] == host and r["tool"] == "lrscan" and r["rep"] == rep and r["ok"]]
            pe = [r for r in runs if r["host"] == host and r["tool"] == peer and r["rep"] == rep and r["ok"]]
            if lr and pe and lr[0].get("wall_s") and pe[0].get("wall_s"):
                pairs.append(pe[0]["wall_s"] / lr[0]["wall_s"])
        if pairs:
            speedups[peer] = {"median": statistics.median(pairs), "pairs": pairs}
    hosts[host] = {"target": tgt_clean if host == "clean" else tgt_lossy, "tools": tools, "speedup": speedups}
open_n = {"clean": 100, "lossy": 30}
def goal_met(host):
    h = hosts[host]
    s = h["speedup"].get("nmap", {}).get("median")
    t = h["tools"]
    return (s is not None and s >= 2.0 and t.get("lrscan", {}).get("exact", False)
            and t.get("nmap", {}).get("exact", False))
doc = {
    "benchmark": "scan_syn", "host": os.uname().nodename, "cpus": os.cpu_count(), "reps": reps,
    "ports": 65535, "statistic": "median", "rss_unit": "MiB (GNU time %M / 1024)", "failed": failed,
    "scanner_in_lrscan_slot": scanner,
    "labs": {"clean": {"open": 100, "filtered": 20, "drop_percent": 0},
             "lossy": {"open": 30, "filtered": 20, "drop_percent": 1}},
    "commands": {"lrscan": "lrscan -sS -p- -n -Pn TGT --no-progress -oX FILE" if scanner == "lrscan"
                 else "nmap -sS -T4 -p- -n -Pn TGT -oX FILE (SCANNER=nmap)",
                 "nmap": "nmap -sS -T4 -p- -n -Pn TGT -oX FILE",
                 "masscan": f"masscan -p1-65535 --rate {masscan_rate} TGT -e IF --adapter-ip A --adapter-mac M "
                            "--router-mac M -oL FILE (default --wait 10; a wake-up datagram every 0.5 s)"},
    "versions": {"nmap": nmap_version, "lrscan": lrscan_version, "masscan": masscan_version or None},
    "masscan_note": masscan_note or None,
    "lrscan_summary_lines": [l for l in summaries.splitlines() if l],
    "hosts": hosts,
    "goal": {"text": "lrscan.md §7: lrscan -sS (default timing) at least 2x faster than nmap -sS -T4 with "
                     "identical results, on clean and lossy targets",
             "min_speedup": 2.0, "met_clean": goal_met("clean"), "met_lossy": goal_met("lossy"),
             "informational": True},
    "runs": runs,
}
write_json(out_path, doc)
def g(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)
label = {"lrscan": "lrscan -sS" if scanner == "lrscan" else "(nmap as lrscan)", "nmap": "nmap -sS -T4",
         "masscan": f"masscan {int(masscan_rate) // 1000}k"}
for host in ("clean", "lossy"):
    h = hosts[host]
    desc = "100 open, 20 filtered" if host == "clean" else "30 open, 20 filtered, 1 % loss each way"
    print(f"SYN scan of 65535 ports, {host} host ({h['target']}, {desc}), medians of {reps} runs per tool")
    print(f"{'tool':<18}{'wall s':>8}{'CPU s':>8}{'RSS MiB':>9}{'probes/s':>10}{'open':>10}{'filt':>6}{'closed':>8}{'exact':>8}")
    for t, d in h["tools"].items():
        ex = f"{'yes' if d['exact'] else 'NO'} {d['exact_runs']}/{d['runs']}"
        if d["open_found_min"] is not None and d["open_found_min"] != d["open_found_max"]:
            op = f"{d['open_found_min']}-{d['open_found_max']}/{open_n[host]}"
        else:
            op = f"{g(d['open_found'], '{:.0f}')}/{open_n[host]}"
        print(f"{label[t]:<18}{g(d['wall_s']):>8}{g(d['cpu_s']):>8}{g(d['peak_rss_mib'], '{:.1f}'):>9}"
              f"{g(d['probes_per_s'], '{:.0f}'):>10}{op:>10}{g(d['filtered_found'], '{:.0f}'):>6}"
              f"{g(d['closed_found'], '{:.0f}'):>8}{ex:>8}")
    for peer, s in h["speedup"].items():
        print(f"  speedup vs {label[peer]} ({peer} wall / lrscan wall, median of pairs): {s['median']:.2f}x"
              f"  (pairs: {', '.join(f'{p:.2f}' for p in s['pairs'])})")
    print(f"  goal (informational, lrscan.md §7: >= 2x nmap -sS -T4, identical results): "
          f"{'met' if goal_met(host) else 'NOT met'}")
if masscan_note:
    print(f"masscan: {masscan_note}")
print(f"JSON: {out_path}")
PY

if [ "$FAILED" = 1 ]; then
  KEEP_WORK=1
  echo "scan_syn.sh: at least one run failed or was inexact (see above)" >&2
  exit 1
fi
