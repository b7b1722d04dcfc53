#!/usr/bin/env bash
# bench/e2e/scan_dryrun.sh — how fast lrscan generates probes and how much memory a
# huge scan needs: `lrscan --dry-run` (the whole probe pipeline, a null sink, no
# socket) over a /16, timed with GNU time.
#
#   bench/e2e/scan_dryrun.sh BUILD_DIR
#   env: REPS (default 3); FULL=1 scans -p- (4.3e9 probes, about 3 minutes per run
#        on a 2-core machine) instead of -p 1-1000 (65.5e6 probes); OUT (default
#        BUILD_DIR/bench/scan_dryrun.json); TIME_BIN (default /usr/bin/time).
#
# Per run: wall s, probes/s (probes / wall), peak RSS MiB. Reports medians and
# compares peak RSS with the goal of lrscan.md §7 / issue 6: under 50 MB for -p-
# over a /16 (the memory of a stateless walk does not depend on the scan's size,
# so the 1000-port default shows the same figure; FULL=1 proves it). No peer: nmap
# and masscan have no equivalent null-sink mode here. Informational: exit 0 unless
# a run failed.
set -euo pipefail
die() { echo "scan_dryrun.sh: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env REPS, FULL, OUT, TIME_BIN)"
BUILD_DIR=$1
REPS=${REPS:-3}
OUT=${OUT:-$BUILD_DIR/bench/scan_dryrun.json}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, got '$REPS'"
LRSCAN=$BUILD_DIR/apps/lrscan/lrscan
[ -x "$LRSCAN" ] || die "lrscan is missing: $LRSCAN (cmake --build --preset bench --target lrscan)"
"$TIME_BIN" -f '%e' -o /dev/null true 2>/dev/null || die "GNU time not usable at $TIME_BIN (Debian package 'time')"
if [ "${FULL:-0}" = 1 ]; then PORTS=-p-; LIMIT=900; else PORTS=-p1-1000; LIMIT=120; fi
TARGET=10.0.0.0/16
WORK=$(mktemp -d /tmp/scan_dryrun.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$OUT")"

for ((r = 1; r <= REPS; r++)); do
  echo "  run $r/$REPS: lrscan --dry-run $PORTS $TARGET" >&2
  timeout -k 5 "$LIMIT" "$TIME_BIN" -f '%e %M' -o "$WORK/time.$r" \
    "$LRSCAN" -sT --dry-run --no-progress "$PORTS" "$TARGET" -oN /dev/null >/dev/null 2>"$WORK/err.$r" ||
    die "run $r failed: $(tail -1 "$WORK/err.$r")"
done

python3 - "$WORK" "$REPS" "$PORTS" "$TARGET" "$OUT" <<'PY'
import json, re, statistics, sys
work, reps, ports, target, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
runs = []
for r in range(1, reps + 1):
    wall, rss_kb = open(f"{work}/time.{r}").read().split()[-2:]
    m = re.search(r"dry run: (\d+) probes generated", open(f"{work}/err.{r}").read())
    probes = int(m.group(1))
    runs.append({"wall_s": float(wall), "peak_rss_mib": int(rss_kb) / 1024, "probes": probes,
                 "probes_per_s": probes / float(wall)})
med = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "peak_rss_mib", "probes_per_s")}
print(f"lrscan --dry-run {ports} {target}: {runs[0]['probes']} probes, medians of {reps} runs")
print(f"  wall {med['wall_s']:.2f} s   {med['probes_per_s'] / 1e6:.1f} M probes/s   peak RSS {med['peak_rss_mib']:.1f} MiB")
goal = med["peak_rss_mib"] < 50 * 1e6 / 2**20
print(f"  goal (informational, issue 6: peak RSS for -p- over a /16 under 50 MB): {'met' if goal else 'NOT met'}")
json.dump({"bench": "scan_dryrun", "ports": ports, "target": target, "runs": runs, "median": med,
           "goal_rss_under_50mb": goal}, open(out, "w"), indent=2)
print(f"JSON: {out}")
PY
