#!/usr/bin/env bash
# bench/e2e/scan_connect.sh — full-range TCP connect scan of one lab host: lrscan
# (default timing) vs nmap -sT -T4, speed, CPU, memory and exactness.
#
#   bench/e2e/scan_connect.sh BUILD_DIR
#   env: REPS (default 3) runs per tool; OUT (default BUILD_DIR/bench/scan_connect.json);
#        TIME_BIN (default /usr/bin/time, GNU time); DEADLINE (default 270) seconds
#        for the whole script, lab set-up included.
#
# Needs root: it brings up one scan lab (tests/lab/lab.sh, name lrc<pid>) whose
# target has 150 open TCP ports scattered over 1-65535 (1 and 65535 included) and
# 20 filtered TCP ports (dropped by nftables); every other port is closed. The lab's
# listener set is the ground truth. Then, REPS times, alternating which tool goes
# first every repetition (so machine drift hits both alike), it runs in the
# scanner namespace
#   lrscan -p- TGT --no-progress -oX FILE          (lrscan's default timing)
#   nmap -sT -p- -T4 -n -Pn TGT -oX FILE
# each as `/usr/bin/time -f '%e %U %S %M' timeout 120 TOOL ...` (GNU time around
# timeout, so the rusage of the tool is included).
#
# Per run: wall s (GNU time %e), CPU s (user+sys), peak RSS MiB (%M / 1024),
# probes/s (65535 / wall), and exactness from the XML (both tools write nmap's
# XML; closed ports sit in <extraports>): the open set and the filtered set equal
# the ground truth, and every other port of 1-65535 is reported closed.
# Per tool: medians, and "exact" only if every run of that tool was exact. The
# speedup is the median of the per-repetition ratios nmap wall / lrscan wall (each
# pair ran back to back; STYLE §6: wall time is judged as a ratio to a peer
# measured in the same job). "goal" compares with the spec's goal (lrscan.md §7:
# -sT at least 3x faster than nmap -sT -T4, identical results); informational, it
# does not set the exit status.
#
# Output: a table on stdout and one JSON file. Exit 1 if any run failed or was
# inexact (its work directory, XML included, is then kept and named), 2 on a
# usage/setup error. The lab is taken down on exit (trap) and everything is bounded
# by timeout(1) and by DEADLINE.
set -euo pipefail

die() { echo "scan_connect.sh: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env REPS, OUT, TIME_BIN, DEADLINE)"
BUILD_DIR=$1
REPS=${REPS:-3}
OUT=${OUT:-$BUILD_DIR/bench/scan_connect.json}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
DEADLINE=${DEADLINE:-270}
RUN_LIMIT=120   # timeout(1) of each scan, seconds
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
LAB=$HERE/../../tests/lab/lab.sh
# shellcheck source=bench/e2e/lib.sh
. "$HERE/lib.sh"

[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, got '$REPS'"
[[ $DEADLINE =~ ^[1-9][0-9]*$ ]] || die "DEADLINE must be a positive integer, got '$DEADLINE'"
[ "$(id -u)" = 0 ] || die "needs root (the scan lab uses network namespaces)"
find_lrscan
require_lab_tools

NAME=lrc$(($$ % 100000))
END=$((SECONDS + DEADLINE))
# On exit: stop the running scan, take the lab down (lib.sh).
lab_bench_setup scan_connect.sh "XML, logs and time files of every run" "JOB_PID" "$NAME"

# ---- the lab ----------------------------------------------------------------------
# Ground truth: 150 open ports scattered over 1-65535 with both ends, 20 filtered
# ports among the rest; fixed seeds, so every run scans the same host.
read -r OPEN FILTERED < <(python3 -c '
import random
r = random.Random(6)
opened = {1, 65535} | set(r.sample(range(2, 65535), 148))
r = random.Random(7)
filtered = r.sample(sorted(set(range(2, 65535)) - opened), 20)
print(",".join(map(str, sorted(opened))), ",".join(map(str, sorted(filtered))))')

echo "scan_connect.sh: lab $NAME up: 150 open + 20 filtered TCP ports" >&2
LABS_UP=1   # from here `down` is needed even if `up` fails half-way (it is idempotent)
bench_lab_up "$WORK/up.log" "$NAME" --tcp "$OPEN" --filtered-tcp "$FILTERED"
timeout 10 "$LAB" info "$NAME" >"$WORK/info" || die "lab.sh info $NAME failed"
# shellcheck disable=SC1091
source "$WORK/info"
if ! [ "${TCP_OPEN_COUNT:-}" = 150 ] || ! [ "${FILTERED_TCP_COUNT:-}" = 20 ] || [ -z "${TGT_ADDR:-}" ]; then
  die "the lab's ground truth is not 150 open + 20 filtered TCP ports ($WORK/info)"
fi

# ---- the runs ---------------------------------------------------------------------
FAILED=0
RUNS=$WORK/runs.jsonl
: >"$RUNS"

# run_one TOOL REP: one scan in the scanner namespace, one JSON line in $RUNS.
run_one() {
  local tool=$1 rep=$2 base="$WORK/$1-$2" left limit rc=0 src=0
  local -a cmd
  left=$((END - SECONDS - 20))   # 20 s kept for the summary and `down`
  if ((left < 10)); then
    echo "scan_connect.sh: $tool run $rep skipped: DEADLINE (${DEADLINE}s) reached" >&2
    FAILED=1
    printf '{"tool": "%s", "rep": %d, "ok": false, "error": "skipped: deadline"}\n' "$tool" "$rep" >>"$RUNS"
    return 0
  fi
  limit=$((left < RUN_LIMIT ? left : RUN_LIMIT))
  if [ "$tool" = lrscan ]; then
    cmd=("$LRSCAN" -sT -p- "$TGT_ADDR" --no-progress -oX "$base.xml")
  else
    cmd=("$NMAP" -sT -p- -T4 -n -Pn "$TGT_ADDR" -oX "$base.xml")
  fi
  lab_timed_run "$NAME" "$base" "$limit" "${cmd[@]}" || rc=$?
  # Exit 0: exact; 3: failed or inexact (a JSON line is written either way).
  bench_py - "$tool" "$rep" "$rc" "$base" "$TCP_OPEN_FILE" "$FILTERED_TCP_FILE" >>"$RUNS" <<'PY' || src=$?
import json, sys
from scan_score import gnu_time, tcp_xml_host, tcp_exactness
tool, rep, rc, base, open_file, filt_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:7]
ALL = 65535
want_open = {int(x) for x in open(open_file).read().split()}
want_filt = {int(x) for x in open(filt_file).read().split()}
run = {"tool": tool, "rep": rep, "exit": rc, "ok": False}
def done(error=None):
    if error:
        run["error"] = error
        print(f"    FAILED: {error}", file=sys.stderr)
    else:
        r = run
        print(f"    {r['wall_s']:.2f} s, " + ("exact" if r["exact"] else
              f"INEXACT: open {r['open_found']}/{len(want_open)} (missed {r['missed_open']}, extra {r['extra_open']}), "
              f"filtered {r['filtered_found']}/{len(want_filt)} (missed {r['missed_filtered']}, "
              f"extra {r['extra_filtered']}), closed {r['closed_found']}"), file=sys.stderr)
    print(json.dumps(run))
    sys.exit(0 if run["ok"] and run.get("exact") else 3)
try:
    wall, user, sys_, rss_kb = gnu_time(base)
    run.update(wall_s=wall, cpu_s=user + sys_, user_s=user, sys_s=sys_, peak_rss_mib=rss_kb / 1024.0)
    run["probes_per_s"] = ALL / run["wall_s"] if run["wall_s"] > 0 else None
except (OSError, ValueError) as e:
    done(f"no GNU time figures: {e}")
if rc != 0:
    done("timed out" if rc in (124, 137) else f"exit status {rc}")
try:
    listed, extra, extra_ports = tcp_xml_host(base + ".xml")
except ValueError as e:
    done(str(e))
other = {s: n for s, n in extra.items() if s != "closed"}
for s in listed.values():
    if s not in ("open", "filtered", "closed"):
        other[s] = other.get(s, 0) + 1
run.update(tcp_exactness(listed, extra, extra_ports, want_open, want_filt, ALL))
# Ports in a non-closed <extraports> group without a port list cannot be checked
# one by one; the filtered count then says what the group held.
if any(s != "closed" for s in extra) and not extra_ports:
    run["note"] = "non-closed <extraports> without a port list: " + json.dumps(other)
run["exact"] = run["open_exact"] and run["filtered_exact"] and run["closed_exact"]
run["ok"] = True
done()
PY
  case $src in
    0) ;;
    3) FAILED=1; [ ! -s "$base.err" ] || tail -n 5 "$base.err" >&2 ;;
    *) FAILED=1; echo "scan_connect.sh: $tool run $rep: could not score the run" >&2 ;;
  esac
}

echo "scan_connect.sh: $REPS x {lrscan, nmap -sT -T4}, -p- against $TGT_ADDR (lab $NAME), order alternating" >&2
for ((rep = 1; rep <= REPS; rep++)); do
  if ((rep % 2 == 1)); then order=(lrscan nmap); else order=(nmap lrscan); fi
  for tool in "${order[@]}"; do
    echo "  run $rep/$REPS $tool" >&2
    run_one "$tool" "$rep"
  done
done

# ---- summary ----------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
bench_py - "$RUNS" "$OUT" "$REPS" "$FAILED" "$TGT_ADDR" "$NAME" "$("$NMAP" --version | head -n 1)" \
  "$("$LRSCAN" --version 2>/dev/null | head -n 1 || true)" <<'PY'
import json, os, statistics, sys
from scan_score import med, write_json
runs_path, out_path, reps, failed, tgt, lab, nmap_version, lrscan_version = sys.argv[1:9]
reps, failed = int(reps), failed == "1"
runs = [json.loads(line) for line in open(runs_path) if line.strip()]
TOOLS = ("lrscan", "nmap")
KEYS = ("wall_s", "cpu_s", "peak_rss_mib", "probes_per_s")
tools = {}
for t in TOOLS:
    mine = [r for r in runs if r["tool"] == t]
    ok = [r for r in mine if r["ok"]]
    d = {k: med(r.get(k) for r in ok) for k in KEYS}
    d["runs"] = len(mine)
    d["finished"] = len(ok)
    d["exact_runs"] = sum(1 for r in ok if r.get("exact"))
    # Exact only if every run of this tool finished and was exact.
    d["exact"] = bool(mine) and all(r["ok"] and r.get("exact") for r in mine)
    tools[t] = d
command = {"lrscan": f"lrscan -p- {tgt} --no-progress -oX FILE",
           "nmap": f"nmap -sT -p- -T4 -n -Pn {tgt} -oX FILE"}
pairs = []
for rep in range(1, reps + 1):
    lr = [r for r in runs if r["tool"] == "lrscan" and r["rep"] == rep and r["ok"] and r.get("wall_s")]
    nm = [r for r in runs if r["tool"] == "nmap" and r["rep"] == rep and r["ok"] and r.get("wall_s")]
    if lr and nm:
        pairs.append(nm[0]["wall_s"] / lr[0]["wall_s"])
speedup = statistics.median(pairs) if pairs else None
lw, nw = tools["lrscan"]["wall_s"], tools["nmap"]["wall_s"]
ratio_of_medians = nw / lw if lw and nw else None
def ratio(k):
    a, b = tools["lrscan"][k], tools["nmap"][k]
    return a / b if a is not None and b else None
goal_met = speedup is not None and speedup >= 3.0 and tools["lrscan"]["exact"] and tools["nmap"]["exact"]
doc = {
    "benchmark": "scan_connect", "host": os.uname().nodename, "cpus": os.cpu_count(),
    "target": tgt, "lab": lab, "ports": 65535, "open": 150, "filtered": 20, "reps": reps,
    "statistic": "median", "rss_unit": "MiB (GNU time %M / 1024)", "failed": failed,
    "commands": command, "versions": {"nmap": nmap_version, "lrscan": lrscan_version},
    "tools": tools,
    "speedup": speedup, "speedup_pairs": pairs,
    "speedup_ratio_of_medians": ratio_of_medians,
    "ratio_cpu_s": ratio("cpu_s"), "ratio_peak_rss": ratio("peak_rss_mib"),
    "goal": {"text": "lrscan.md §7: lrscan -sT (default timing) at least 3x faster than nmap -sT -T4, "
                     "identical results", "min_speedup": 3.0, "speedup": speedup, "met": goal_met,
             "informational": True},
    "runs": runs,
}
write_json(out_path, doc)
def g(v, fmt="{:.2f}"):
    return "-" if v is None else fmt.format(v)
print(f"TCP connect scan of 65535 ports ({tgt}, 150 open, 20 filtered), medians of {reps} runs per tool")
print(f"{'tool':<16}{'wall s':>8}{'CPU s':>8}{'RSS MiB':>9}{'probes/s':>10}{'exact':>8}")
for t, label in (("lrscan", "lrscan"), ("nmap", "nmap -sT -T4")):
    d = tools[t]
    ex = f"{'yes' if d['exact'] else 'NO'} {d['exact_runs']}/{d['runs']}"
    print(f"{label:<16}{g(d['wall_s']):>8}{g(d['cpu_s']):>8}{g(d['peak_rss_mib'], '{:.1f}'):>9}"
          f"{g(d['probes_per_s'], '{:.0f}'):>10}{ex:>8}")
print(f"speedup (nmap wall / lrscan wall, median of pairs): {g(speedup, '{:.2f}')}x"
      f"  (pairs: {', '.join(f'{p:.2f}' for p in pairs) or '-'}; ratio of medians {g(ratio_of_medians)}x)")
print(f"lrscan / nmap: CPU {g(ratio('cpu_s'), '{:.3f}')}, peak RSS {g(ratio('peak_rss_mib'), '{:.3f}')}")
print(f"goal (informational, lrscan.md §7: >= 3x faster than nmap -sT -T4, identical results): "
      f"{'met' if goal_met else 'NOT met'}")
print(f"JSON: {out_path}")
PY

if [ "$FAILED" = 1 ]; then
  KEEP_WORK=1
  echo "scan_connect.sh: at least one run failed or was inexact (see above)" >&2
  exit 1
fi
