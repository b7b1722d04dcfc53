#!/usr/bin/env bash
# tests/integration/lrscan_syn_lab_test.sh — lrscan's raw SYN scan (-sS) against the
# scan lab (tests/lab), spec lrscan.md §3, §5, §6:
#   a. A clean host, IPv4 then IPv6: -p- of a host with 100 open ports scattered over
#      1-65535 (1 and 65535 included) and 20 dropped (filtered) ports. -oG and -oJ give
#      exactly the open set, exactly the filtered set and `closed` for every other port;
#      the XML validates against nmap's DTD and ndiff finds no port difference from
#      nmap -sS's own XML of the same host in the same run.
#   b. A lossy host (lab --drop-percent 1: 1 % random drop each way), 30 open + 20
#      filtered ports: three -p- runs with lrscan's DEFAULT timing, every one exact.
#   c. ICMP: ports rejected with admin-prohibited or host-unreachable are `filtered`
#      with the reason nmap -sS --reason gives them in the same run (and the
#      documented one), next to open, closed and dropped ports; IPv4 and IPv6.
#   d. Shards: --shard 1/3, 2/3, 3/3 with one --seed over 4 addresses x 1-2000: every
#      (address, port) in exactly one shard's -oJ, the union equal to the unsharded
#      scan, and the per-address nft counters show each shard sent about a third.
#   e. Resume: --rate 2000 over 4 addresses x 1-4000 with --resume FILE, SIGINT after
#      ~2 s, then the same command again: the second run sends fewer probes than the
#      whole scan (its summary line), the union of the open ports of both runs is the
#      ground truth, every (address, port) has a result in one of the runs, and FILE
#      is gone once the scan completed.
#   f. Rate: --rate 5000 over 25,000 ports: the send rate measured by sampling the
#      target's nft counter is within ±10 % (the exact figure is printed; bench/ owns
#      the precise numbers).
#   g. Exclusions: --exclude one of 4 addresses (IPv4 and IPv6): its nft counter
#      stays at 0 packets, the others are probed.
#   h. Dry run: -sS --dry-run over 1,000,000 addresses x 2 ports, inside a lab
#      scanner namespace (nothing could leave even if it tried; the lab's counters
#      must not move): exit 0, peak RSS under 100 MB, 2,000,000 probes in its summary.
#   i. Safety: more than 65,536 addresses without --rate is refused, exit 2, with a
#      message naming --rate.
#
#   tests/integration/lrscan_syn_lab_test.sh PATH/TO/lrscan
#   env SCANNER=nmap (debugging aid): run every check that nmap can do with
#       `nmap -sS` instead of lrscan (flags translated: --rate R -> --min-rate R
#       --max-rate R, -oJ -> -oX converted to lrscan's JSON lines, -6 added for IPv6
#       targets, -T4 added; nmap -T4 takes ~17 s per lossy run). It proves the lab, the ground truth and the scoring; checks
#       nmap has no equivalent for (shards, resume, dry run, the --rate refusal, the
#       summary line) are reported as "skip". PATH/TO/lrscan is then ignored.
# Exit 0 pass, 1 fail, 77 skip (not root / no network namespaces). A missing nmap,
# nft, xmllint, ndiff, python3 or GNU time is a failure (run scripts/install-deps).
# About 60 s on the 2-core VM.
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
LAB=$HERE/../lab/lab.sh
# shellcheck source=tests/lab/lrscan_test_lib.sh
source "$HERE/../lab/lrscan_test_lib.sh"
SCANNER=${SCANNER:-lrscan}
case $SCANNER in
  lrscan) LRSCAN=$(readlink -f "${1:?usage: $0 PATH/TO/lrscan   (env SCANNER=nmap: debug the test with nmap)}") ;;
  nmap) LRSCAN=$(command -v nmap || echo nmap) ;;
  *) echo "FAIL: SCANNER must be lrscan or nmap, not '$SCANNER'"; exit 1 ;;
esac
lr_require nmap nft xmllint ndiff python3 ip timeout setsid
[ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null ||
  { echo "FAIL: GNU time (/usr/bin/time) is missing (Debian package 'time')"; exit 1; }
[ -x "$LRSCAN" ] || { echo "FAIL: $LRSCAN is not executable"; exit 1; }
[ -f /usr/share/nmap/nmap.dtd ] || { echo "FAIL: /usr/share/nmap/nmap.dtd is missing (nmap-common)"; exit 1; }
lr_require_netns "lrsyprobe$$"

ID=$(($$ % 10000000))
CLEAN="lrsy${ID}a"   # <= 12 characters
LOSSY="lrsy${ID}b"
ICMP="lrsy${ID}c"
LABS=("$CLEAN" "$LOSSY" "$ICMP")
lr_work lrscan_syn_lab
T0=$(now)

# ---- the checker: parsers and scoring, one python file -----------------------------
cat >"$WORK/syncheck.py" <<'PY'
"""Parsers and scoring for lrscan_syn_lab_test.sh (the shared parsers: tests/lab/
lrscan_score.py). Every command prints verdict lines "PASS name || detail" /
"MISS name || detail" (the shell turns each into an ok/FAIL check) or plain data.
Rows here are TCP only and without the protocol: (addr, port, state, reason)."""
import re
from lrscan_score import addr, ports_of, verdict, diff_detail, main
import lrscan_score

def xml_rows(path):
    return [(a, p, s, r) for a, _, p, s, r in lrscan_score.xml_rows(path)]

def json_rows(path):
    return [(a, p, s, r) for a, pr, p, s, r in lrscan_score.json_rows(path, "tcp") if pr == "tcp"]

def gnmap_hosts(path):
    """addr -> (listed {port: state}, ignored (state, count) or None)."""
    return {a: ({p: s for p, s, _ in items}, ig) for a, items, ig in lrscan_score.gnmap_hosts(path)}

def cmd_full(argv):
    """full LABEL ADDR OPEN FILTERED GNMAP JSONL: a -p- scan of one host, exact."""
    label, a, o, f, gpath, jpath = argv
    a, want_open, want_filt = addr(a), ports_of(o), ports_of(f)
    want_closed = 65535 - len(want_open) - len(want_filt)
    hosts = gnmap_hosts(gpath)
    listed, ig = hosts.get(a, ({}, None))
    g_open = {p for p, s in listed.items() if s == "open"}
    g_filt = {p for p, s in listed.items() if s == "filtered"}
    g_other = {p: s for p, s in listed.items() if s not in ("open", "filtered", "closed")}
    g_closed = sum(1 for s in listed.values() if s == "closed") + (ig[1] if ig and ig[0] == "closed" else 0)
    verdict(g_open == want_open, "[%s] -oG: open set exact (%d of %d)" % (label, len(g_open), len(want_open)),
            "" if g_open == want_open else diff_detail(g_open, want_open))
    verdict(g_filt == want_filt, "[%s] -oG: filtered set exact (%d of %d)" % (label, len(g_filt), len(want_filt)),
            "" if g_filt == want_filt else diff_detail(g_filt, want_filt))
    verdict(g_closed == want_closed and not g_other and (ig is None or ig[0] == "closed"),
            "[%s] -oG: every other port closed (%d of %d)" % (label, g_closed, want_closed),
            "ignored %s, other states %s" % (ig, dict(list(g_other.items())[:5])))
    rows = [r for r in json_rows(jpath) if r[0] == a]
    per = {}
    for r in rows:
        per.setdefault(r[1], []).append(r[2])
    dup = [p for p, s in per.items() if len(s) > 1]
    verdict(len(per) == 65535 and not dup, "[%s] -oJ: one result for every port (%d ports, %d objects)"
            % (label, len(per), len(rows)), "duplicates %s" % dup[:8] if dup else "")
    j_open = {p for p, s in per.items() if "open" in s}
    j_filt = {p for p, s in per.items() if "filtered" in s}
    j_closed = sum(1 for s in per.values() if s == ["closed"])
    verdict(j_open == want_open, "[%s] -oJ: open set exact (%d of %d)" % (label, len(j_open), len(want_open)),
            "" if j_open == want_open else diff_detail(j_open, want_open))
    verdict(j_filt == want_filt, "[%s] -oJ: filtered set exact (%d of %d)" % (label, len(j_filt), len(want_filt)),
            "" if j_filt == want_filt else diff_detail(j_filt, want_filt))
    verdict(j_closed == want_closed, "[%s] -oJ: closed count exact (%d of %d)" % (label, j_closed, want_closed),
            "states %s" % sorted({s for v in per.values() for s in v}))

def cmd_exact(argv):
    """exact LABEL ADDR OPEN FILTERED JSONL: one line, 'exact' or what was wrong."""
    label, a, o, f, jpath = argv
    a, want_open, want_filt = addr(a), ports_of(o), ports_of(f)
    per = {}
    for r in json_rows(jpath):
        if r[0] == a:
            per.setdefault(r[1], []).append(r[2])
    got_open = {p for p, s in per.items() if s == ["open"]}
    got_filt = {p for p, s in per.items() if s == ["filtered"]}
    closed = sum(1 for s in per.values() if s == ["closed"])
    want_closed = 65535 - len(want_open) - len(want_filt)
    ok = got_open == want_open and got_filt == want_filt and closed == want_closed and len(per) == 65535
    print("%s open %d/%d (missed %s, extra %s), filtered %d/%d (missed %s, extra %s), closed %d/%d, %d ports"
          % ("exact" if ok else "INEXACT", len(got_open & want_open), len(want_open), sorted(want_open - got_open)[:6],
             sorted(got_open - want_open)[:6], len(got_filt & want_filt), len(want_filt),
             sorted(want_filt - got_filt)[:6], sorted(got_filt - want_filt)[:6], closed, want_closed, len(per)))

def cmd_rows(argv):
    """rows FMT FILE: 'addr port state reason' sorted (xml or json)."""
    fmt, path = argv
    rows = xml_rows(path) if fmt == "xml" else json_rows(path)
    for r in sorted(set(rows), key=lambda r: (r[0], r[1])):
        print("%s %d %s %s" % r)

def cmd_shards(argv):
    """shards HOSTS PORTS OPEN FULL SHARD1 SHARD2 ...: the shards partition the scan."""
    hosts, ports, o, full = argv[0].split(","), ports_of(argv[1]), ports_of(argv[2]), argv[3]
    shard_files = argv[4:]
    want_pairs = {(addr(h), p) for h in hosts for p in ports}
    seen, states = {}, {}
    for i, path in enumerate(shard_files, 1):
        for a, p, s, _ in json_rows(path):
            seen.setdefault((a, p), []).append(i)
            states[(a, p)] = s
    twice = [k for k, v in seen.items() if len(v) > 1]
    missing = want_pairs - set(seen)
    extra = set(seen) - want_pairs
    sizes = [sum(1 for v in seen.values() if i in v) for i in range(1, len(shard_files) + 1)]
    verdict(not twice and not missing and not extra,
            "[d] every (address, port) in exactly one shard (%d pairs; per shard %s)" % (len(want_pairs), sizes),
            "in two shards %d %s, in none %d %s, outside the scan %d" % (len(twice), twice[:3], len(missing),
                                                                       sorted(missing)[:3], len(extra)))
    fullst = {(a, p): s for a, p, s, _ in json_rows(full)}
    same = fullst == states
    verdict(same, "[d] the union of the shards equals the unsharded scan (%d results)" % len(fullst),
            "differ at %s" % sorted(k for k in set(fullst) | set(states) if fullst.get(k) != states.get(k))[:6])
    want_open = {(addr(h), p) for h in hosts for p in ports & o}
    got_open = {k for k, s in states.items() if s == "open"}
    verdict(got_open == want_open, "[d] the shards' open ports are the ground truth (%d)" % len(want_open),
            "" if got_open == want_open else diff_detail(got_open, want_open))

def cmd_resume(argv):
    """resume HOSTS PORTS OPEN RUN1 RUN2: the union of the open ports of both runs."""
    hosts, ports, o = argv[0].split(","), ports_of(argv[1]), ports_of(argv[2])
    want_open = {(addr(h), p) for h in hosts for p in ports & o}
    r1, r2 = json_rows(argv[3]), json_rows(argv[4])
    got_open = {(a, p) for a, p, s, _ in r1 + r2 if s == "open"}
    verdict(got_open == want_open, "[e] the open ports of both runs together are the ground truth (%d of %d)"
            % (len(got_open & want_open), len(want_open)),
            "" if got_open == want_open else diff_detail(got_open, want_open))
    # A resumed scan is complete: a port probed before the interrupt whose answer
    # had not come (or was never retried) must be probed again, not lost.
    covered = {(a, p) for a, p, _, _ in r1 + r2}
    allp = {(addr(h), p) for h in hosts for p in ports}
    verdict(covered == allp, "[e] every (address, port) has a result in one of the two runs (%d of %d; run 1 %d, "
            "run 2 %d)" % (len(covered & allp), len(allp), len(r1), len(r2)),
            "" if covered == allp else "none for %s" % sorted(allp - covered)[:8])

def cmd_summary(argv):
    """summary STDERR-FILE: 'PROBES RETRIES' from lrscan's 'lrscan: syn scan:' line (or
    the dry run's 'dry run: N probes' line); '- -' when there is none."""
    text = open(argv[0], errors="replace").read()
    line = next((l for l in text.splitlines() if l.startswith("lrscan: syn scan:")), None)
    probes = retries = "-"
    if line is not None:
        m = (re.search(r"(\d[\d,]*)\s+probes", line) or re.search(r"probes[\w ]*?[=: ]+(\d[\d,]*)", line)
             or re.search(r"(\d[\d,]*)\s+(?:sent|SYNs)", line) or re.search(r"sent[=: ]+(\d[\d,]*)", line))
        if m:
            probes = m.group(1).replace(",", "")
        m = re.search(r"(\d[\d,]*)\s+retr", line) or re.search(r"retr\w*[=: ]+(\d[\d,]*)", line)
        if m:
            retries = m.group(1).replace(",", "")
    if probes == "-":
        m = re.search(r"dry run:\s*(\d[\d,]*)\s+probes", text)
        if m:
            probes = m.group(1).replace(",", "")
    print(probes, retries)

def cmd_rate(argv):
    """rate SAMPLES: the send rate from 'T_NS PACKETS' samples: least squares over the
    samples between 10 % and 90 % of the packets counted in the run."""
    pts = [tuple(map(float, l.split())) for l in open(argv[0]) if len(l.split()) == 2]
    if len(pts) < 3:
        print("0 0 0"); return
    c0, c1 = pts[0][1], pts[-1][1]
    total = c1 - c0
    mid = [(t / 1e9, c) for t, c in pts if c0 + 0.1 * total <= c <= c0 + 0.9 * total]
    if len(mid) < 3:
        print("0 %d %d" % (total, len(mid))); return
    n = len(mid)
    mt = sum(t for t, _ in mid) / n
    mc = sum(c for _, c in mid) / n
    slope = sum((t - mt) * (c - mc) for t, c in mid) / sum((t - mt) ** 2 for t, _ in mid)
    print("%.0f %d %d" % (slope, total, n))

main({"full": cmd_full, "exact": cmd_exact, "rows": cmd_rows, "shards": cmd_shards, "resume": cmd_resume,
      "summary": cmd_summary, "rate": cmd_rate})
PY
ck() { ck_py "$WORK/syncheck.py" "$@"; }
# (sc, the scanner under test, and verdicts and same: tests/lab/lrscan_test_lib.sh)
# summary_probes STDERR-FILE: probes sent per the summary line ("-" if none).
summary_probes() { ck summary "$1" | cut -d' ' -f1; }
has_summary() { grep -q '^lrscan: syn scan:' "$1"; }

# ---- ground truth and the labs ------------------------------------------------------------
# Clean host: 100 open ports (1 and 65535 included) and 20 dropped ones. Lossy host:
# 30 open (1 and 65535 included) and 20 dropped. ICMP host: a few ports of each kind.
# Fixed seeds, disjoint sets.
read -r OPEN FILT L_OPEN L_FILT I_OPEN I_DROP I_REJECT I_UNREACH I_CLOSED < <(python3 - <<'EOF'
import random
r = random.Random(4101)
opn = {1, 65535, 22, 80, 443} | set(r.sample(range(2, 65535), 95))
filt = r.sample(sorted(set(range(2, 65535)) - opn), 20)
r = random.Random(4102)
lopn = {1, 65535} | set(r.sample(range(2, 65535), 28))
lfilt = r.sample(sorted(set(range(2, 65535)) - lopn), 20)
r = random.Random(4103)
pick = r.sample(range(2, 65535), 3 + 3 + 6 + 6 + 4)
j = lambda s: ",".join(map(str, sorted(s)))
print(j(opn), j(filt), j(lopn), j(lfilt), j(pick[:3] + [1]), j(pick[3:6]), j(pick[6:12]), j(pick[12:18]), j(pick[18:]))
EOF
)
echo "ground truth: clean host 100 open + 20 filtered; lossy host 30 open + 20 filtered; scanner $SCANNER"

lab_up "$CLEAN" --tcp "$OPEN" --filtered-tcp "$FILT" --addrs 4 --count-addrs
lab_up "$LOSSY" --tcp "$L_OPEN" --filtered-tcp "$L_FILT" --drop-percent 1
lab_up "$ICMP" --tcp "$I_OPEN" --filtered-tcp "$I_DROP" --reject-tcp "$I_REJECT" --unreach-tcp "$I_UNREACH" \
  --icmp-ratelimit off --count-addrs
"$LAB" info "$CLEAN" >"$WORK/info" || { echo "FAIL: lab.sh info"; exit 1; }
# shellcheck disable=SC1091
source "$WORK/info"
read -r -a A4 <<<"${TGT_ADDRS//,/ }"
read -r -a A6 <<<"${TGT_ADDRS6//,/ }"
L_ADDR=$("$LAB" info "$LOSSY" | sed -n 's/^TGT_ADDR=//p')
I_ADDR=$("$LAB" info "$ICMP" | sed -n 's/^TGT_ADDR=//p')
I_ADDR6=$("$LAB" info "$ICMP" | sed -n 's/^TGT_ADDR6=//p')
counters() { timeout 20 "$LAB" counters "$1"; }
# delta BEFORE AFTER: "ADDR PACKETS" per address during a run.
delta() { awk 'NR == FNR { b[$1] = $2; next } { print $1, $2 - b[$1] }' "$1" "$2"; }
count_of() { awk -v a="$1" '$1 == a { print $2 }' "$2"; }
ports_in() {  # ports_in SPEC LO HI: the ports of SPEC within LO..HI, comma list
  tr ',' '\n' <<<"$1" | awk -v lo="$2" -v hi="$3" '$1 >= lo && $1 <= hi' | paste -sd, -
}

# ---- a. clean host, -p-, IPv4 and IPv6 ---------------------------------------------------
for fam in 4 6; do
  echo "== a. IPv$fam (at $(elapsed "$T0" "$(now)") s)"
  if [ "$fam" = 4 ]; then addr=$TGT_ADDR; six=(); else addr=$TGT_ADDR6; six=(-6); fi
  base=$WORK/a$fam
  t0=$(now)
  sc "$CLEAN" -sS -p- -n -Pn --reason "$addr" -oG "$base.gnmap" -oJ "$base.jsonl" -oX "$base.xml" \
    >"$base.out" 2>"$base.err"
  rc=$?
  t1=$(now)
  timeout 120 "$LAB" exec "$CLEAN" scan nmap "${six[@]}" -sS -T4 -p- -n -Pn --reason "$addr" -oX "$base-nmap.xml" \
    >/dev/null 2>&1
  nrc=$?
  echo "     wall: $SCANNER -sS -p- $(elapsed "$t0" "$t1") s, nmap -sS -T4 -p- $(elapsed "$t1" "$(now)") s (same lab and run; not a benchmark)"
  check "[a IPv$fam] $SCANNER -sS -p- exits 0 (got $rc)" test "$rc" = 0
  [ "$rc" = 0 ] || sed 's/^/     stderr: /' "$base.err" | tail -5
  if is_nmap; then skip "[a IPv$fam] the 'lrscan: syn scan:' summary line"; else
    check "[a IPv$fam] stderr has the 'lrscan: syn scan:' summary ($(grep -m1 '^lrscan: syn scan:' "$base.err" || echo none))" \
      has_summary "$base.err"
  fi
  ck full "a IPv$fam" "$addr" "$OPEN" "$FILT" "$base.gnmap" "$base.jsonl" >"$base.verdicts" 2>&1
  verdicts "$base.verdicts"
  check "[a IPv$fam] -oX validates against nmap's DTD" \
    xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$base.xml"
  check "[a IPv$fam] nmap -sS -T4 (the reference) exits 0 (got $nrc)" test "$nrc" = 0
  ndiff "$base-nmap.xml" "$base.xml" >"$base.ndiff" 2>&1; nd=$?
  check "[a IPv$fam] ndiff: no port difference from nmap -sS (ndiff exit $nd)" \
    bash -c "[ $nd = 0 ] || { [ $nd = 1 ] && ! grep -qE '^[-+] *[0-9]+/tcp|^ *[0-9]+/tcp' '$base.ndiff'; }"
  [ "$nd" = 0 ] || grep -E '[0-9]+/tcp|rror' "$base.ndiff" | head -8 | sed 's/^/     ndiff: /'
done

# ---- b. lossy host, default timing, three runs -------------------------------------------------
echo "== b. (at $(elapsed "$T0" "$(now)") s)"
for run in 1 2 3; do
  base=$WORK/b$run
  t0=$(now)
  sc "$LOSSY" -sS -p- -n -Pn --reason "$L_ADDR" -oJ "$base.jsonl" >/dev/null 2>"$base.err"
  rc=$?
  s=$(elapsed "$t0" "$(now)")
  res=$( [ "$rc" = 0 ] && ck exact lossy "$L_ADDR" "$L_OPEN" "$L_FILT" "$base.jsonl" 2>&1 || echo "no result")
  echo "     run $run: $s s; $(grep -m1 '^lrscan: syn scan:' "$base.err" || true)"
  check "[b lossy run $run] exit 0 (got $rc) and exact with the default timing: $res" \
    bash -c "[ $rc = 0 ] && [[ '$res' == exact* ]]"
done
drops=$(timeout 10 "$LAB" exec "$LOSSY" tgt nft list table netdev lrlab_loss | grep -o 'packets [0-9]*' | awk '{print $2}' | paste -sd/ -)
echo "     nft dropped (in/out) over the three runs: $drops"

# ---- c. ICMP verdicts vs nmap -sS --reason ---------------------------------------------------
echo "== c. (at $(elapsed "$T0" "$(now)") s)"
I_LIST=$(tr ',' '\n' <<<"$I_OPEN,$I_DROP,$I_REJECT,$I_UNREACH,$I_CLOSED" | sort -n | paste -sd, -)
# The documented verdicts (nmap -sS --reason; spec §3): ICMP type 3 code 13 / ICMPv6
# type 1 code 1 -> admin-prohibited, type 3 code 1 / ICMPv6 type 1 code 3 -> host-unreach.
want_rows() {  # want_rows ADDR
  python3 - "$1" "$I_OPEN" "$I_DROP" "$I_REJECT" "$I_UNREACH" "$I_CLOSED" <<'EOF'
import ipaddress, sys
a = str(ipaddress.ip_address(sys.argv[1]))
kinds = [("open", "syn-ack"), ("filtered", "no-response"), ("filtered", "admin-prohibited"),
         ("filtered", "host-unreach"), ("closed", "reset")]
rows = []
for spec, (state, reason) in zip(sys.argv[2:7], kinds):
    rows += [(int(p), state, reason) for p in spec.split(",")]
for p, s, r in sorted(rows):
    print("%s %d %s %s" % (a, p, s, r))
EOF
}
for fam in 4 6; do
  if [ "$fam" = 4 ]; then addr=$I_ADDR; six=(); else addr=$I_ADDR6; six=(-6); fi
  base=$WORK/c$fam
  sc "$ICMP" -sS -n -Pn --reason -p "$I_LIST" "$addr" -oX "$base.xml" >/dev/null 2>"$base.err"
  rc=$?
  timeout 60 "$LAB" exec "$ICMP" scan nmap "${six[@]}" -sS -n -Pn --reason -p "$I_LIST" "$addr" \
    -oX "$base-nmap.xml" >/dev/null 2>&1
  want_rows "$addr" >"$base.want"
  ck rows xml "$base.xml" >"$base.got" 2>&1
  ck rows xml "$base-nmap.xml" >"$base.nmap" 2>&1
  check "[c IPv$fam] $SCANNER exits 0 (got $rc)" test "$rc" = 0
  check "[c IPv$fam] nmap -sS --reason gives the documented state and reason (the oracle is sane)" \
    same "$base.nmap" "$base.want" "nmap vs documented"
  check "[c IPv$fam] $SCANNER: the same state and reason as nmap -sS for every port (rejected, unreachable, dropped, open, closed)" \
    same "$base.got" "$base.nmap" "$SCANNER vs nmap"
done

# ---- d. shards -----------------------------------------------------------------------------
echo "== d. (at $(elapsed "$T0" "$(now)") s)"
HOSTS4=$(IFS=,; echo "${A4[*]}")
RANGE4="${A4[0]}-${A4[3]##*.}"
if is_nmap; then skip "[d] --shard 1/3..3/3"; else
  base=$WORK/d
  sc "$CLEAN" -sS -n -Pn -p 1-2000 --seed 7 "$RANGE4" -oJ "$base-full.jsonl" >/dev/null 2>"$base-full.err"
  rc=$?
  check "[d] the unsharded scan exits 0 (got $rc)" test "$rc" = 0
  shard_files=()
  for i in 1 2 3; do
    counters "$CLEAN" >"$base-$i.before"
    sc "$CLEAN" -sS -n -Pn -p 1-2000 --seed 7 --shard "$i/3" "$RANGE4" -oJ "$base-$i.jsonl" >/dev/null 2>"$base-$i.err"
    rc=$?
    counters "$CLEAN" >"$base-$i.after"
    check "[d] --shard $i/3 exits 0 (got $rc)" test "$rc" = 0
    [ "$rc" = 0 ] || sed 's/^/     stderr: /' "$base-$i.err" | tail -3
    delta "$base-$i.before" "$base-$i.after" >"$base-$i.delta"
    shard_files+=("$base-$i.jsonl")
  done
  ck shards "$HOSTS4" 1-2000 "$OPEN" "$base-full.jsonl" "${shard_files[@]}" >"$base.verdicts" 2>&1
  verdicts "$base.verdicts"
  # Packets per shard to the 4 addresses (probes, retries, and the scanner kernel's
  # RSTs after SYN-ACKs): each about a third of all three.
  read -r s1 s2 s3 < <(for i in 1 2 3; do
    awk -v h=",$HOSTS4," 'index(h, "," $1 ",") { n += $2 } END { printf "%d ", n }' "$base-$i.delta"; done)
  tot=$((s1 + s2 + s3))
  echo "     packets per shard (nft, 4 addresses): $s1 $s2 $s3 (total $tot for 8000 pairs)"
  for i in 1 2 3; do
    n=$(eval echo "\$s$i")
    check "[d] shard $i/3 sent about a third of the packets ($n of $tot, 28-39 %)" \
      bash -c "[ $tot -gt 0 ] && [ $((n * 100)) -ge $((tot * 28)) ] && [ $((n * 100)) -le $((tot * 39)) ]"
  done
fi

# ---- e. resume -----------------------------------------------------------------------------
echo "== e. (at $(elapsed "$T0" "$(now)") s)"
if is_nmap; then skip "[e] --resume after SIGINT"; else
  base=$WORK/e
  RES=$WORK/e.resume
  E_ARGS=(-sS -n -Pn -p 1-4000 --rate 2000 --seed 11 "$RANGE4" --resume "$RES")
  # A background job of a non-interactive shell starts with SIGINT ignored; a user's
  # Ctrl-C meets the default disposition, so restore it. One SIGINT, like one Ctrl-C:
  # timeout --foreground passes it to lrscan only (without --foreground timeout also
  # signals its process group, and lrscan would get two).
  env --default-signal=INT timeout --foreground -k 5 30 "$LAB" exec "$CLEAN" scan "$LRSCAN" --no-progress "${E_ARGS[@]}" \
    -oJ "$base-1.jsonl" >/dev/null 2>"$base-1.err" &
  BG_PID=$!
  sleep 2
  kill -INT "$BG_PID" 2>/dev/null   # timeout(1) passes SIGINT on to lrscan
  for _ in $(seq 1 100); do kill -0 "$BG_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$BG_PID"; rc1=$?
  BG_PID=""
  p1=$(summary_probes "$base-1.err")
  echo "     interrupted run: exit $rc1, summary probes $p1; $(grep -m1 '^lrscan: syn scan:' "$base-1.err" || true)"
  check "[e] the interrupted run stopped within 10 s of SIGINT and left the resume file" \
    bash -c "[ $rc1 != 124 ] && [ $rc1 != 137 ] && [ -s '$RES' ]"
  t0=$(now)
  sc "$CLEAN" "${E_ARGS[@]}" -oJ "$base-2.jsonl" >/dev/null 2>"$base-2.err"
  rc2=$?
  p2=$(summary_probes "$base-2.err")
  echo "     resumed run: $(elapsed "$t0" "$(now)") s, exit $rc2; $(grep -m1 '^lrscan: syn scan:' "$base-2.err" || true)"
  check "[e] the resumed run exits 0 (got $rc2)" test "$rc2" = 0
  check "[e] the resumed run sent fewer probes than the whole scan ($p2 < 16000)" \
    bash -c "[[ '$p2' =~ ^[0-9]+$ ]] && [ '$p2' -lt 16000 ] && [ '$p2' -gt 0 ]"
  ck resume "$HOSTS4" 1-4000 "$OPEN" "$base-1.jsonl" "$base-2.jsonl" >"$base.verdicts" 2>&1
  verdicts "$base.verdicts"
  check "[e] the resume file is gone after the completed run" test ! -e "$RES"
fi

# ---- f. rate -------------------------------------------------------------------------------
echo "== f. (at $(elapsed "$T0" "$(now)") s)"
base=$WORK/f
: >"$base.samples"
# Sample the target address's counter every ~0.1 s while the scan runs (at most 300
# samples). `lab.sh counters` reads them all and is slow on a loaded machine, so
# this reads the one nft counter (lab.sh names it v4_<last octet>).
(
  for _ in $(seq 1 300); do
    [ -e "$base.stop" ] && break
    n=$(timeout 5 "$LAB" exec "$CLEAN" tgt nft list counter netdev lrlab_count "v4_${TGT_ADDR##*.}" |
      awk '$1 == "packets" { print $2 }')
    echo "$(date +%s%N) $n" >>"$base.samples"
    sleep 0.1
  done
) &
BG_PID=$!
sleep 0.3
t0=$(now)
sc "$CLEAN" -sS -n -Pn -p 1-25000 --rate 5000 "$TGT_ADDR" -oJ "$base.jsonl" >/dev/null 2>"$base.err"
rc=$?
t1=$(now)
sleep 0.3
touch "$base.stop"; wait "$BG_PID"; BG_PID=""
read -r slope total npts < <(ck rate "$base.samples")
wall=$(elapsed "$t0" "$t1")
echo "     --rate 5000, 25000 ports: wall $wall s, $total packets counted, measured send rate $slope pps" \
  "(least squares over $npts samples between 10 % and 90 %), packets / wall $(python3 -c "print(round($total / max($wall, 0.01)))") pps"
grep -m1 '^lrscan: syn scan:' "$base.err" | sed 's/^/     /'
check "[f] --rate 5000 run exits 0 (got $rc)" test "$rc" = 0
check "[f] the send rate is 5000 pps ±10 % (measured $slope pps)" \
  bash -c "[ '$npts' -ge 3 ] && [ '$slope' -ge 4500 ] && [ '$slope' -le 5500 ]"

# ---- g. exclusions -------------------------------------------------------------------------
echo "== g. (at $(elapsed "$T0" "$(now)") s)"
excl() {  # excl LABEL EXCLUDED TARGET...
  local label=$1 ex=$2; shift 2
  local base=$WORK/g-$label rc a n missed=""
  counters "$CLEAN" >"$base.before"
  sc "$CLEAN" -sS -n -Pn -p 1-1000 "$@" --exclude "$ex" -oG "$base.gnmap" >/dev/null 2>"$base.err"
  rc=$?
  counters "$CLEAN" >"$base.after"
  delta "$base.before" "$base.after" >"$base.delta"
  echo "     packets per address: $(awk '{ printf "%s%s=%s", sep, $1, $2; sep = " " }' "$base.delta")"
  check "[g $label] exit 0 (got $rc)" test "$rc" = 0
  check "[g $label] 0 packets to the excluded address $ex (got $(count_of "$ex" "$base.delta"))" \
    test "$(count_of "$ex" "$base.delta")" = 0
  for a in "$@"; do
    if [[ $a == *-* ]]; then continue; fi
    [ "$a" = "$ex" ] && continue
    n=$(count_of "$a" "$base.delta"); [ "${n:-0}" -gt 0 ] || missed+=" $a"
  done
  check "[g $label] every other target address was probed${missed:+; not:$missed}" test -z "$missed"
  check "[g $label] the excluded address is not in the output" bash -c "! grep -q 'Host: $ex ' '$base.gnmap'"
}
excl v4 "${A4[1]}" "${A4[0]}" "${A4[1]}" "${A4[2]}" "${A4[3]}"
excl v6 "${A6[2]}" "${A6[0]}" "${A6[1]}" "${A6[2]}" "${A6[3]}"

# ---- h. dry run ----------------------------------------------------------------------------
echo "== h. (at $(elapsed "$T0" "$(now)") s)"
if is_nmap; then skip "[h] --dry-run over 1,000,000 addresses"; else
  base=$WORK/h
  # 1,000,000 addresses: 10.0.0.0/12 minus its last 48,576, as CIDR blocks.
  MILLION=(10.0.0.0/13 10.8.0.0/14 10.12.0.0/15 10.14.0.0/16 10.15.0.0/18 10.15.64.0/23 10.15.66.0/26)
  # GNU time around lrscan itself (lab.sh exec execs into it), in the ICMP lab's
  # scanner namespace; the lab's counters must not move.
  counters "$ICMP" >"$base.before"
  timeout -k 5 120 "$LAB" exec "$ICMP" scan /usr/bin/time -v -o "$base.time" "$LRSCAN" --no-progress -sS --dry-run \
    -n -Pn -p 80,443 --rate 10000000 "${MILLION[@]}" -oG /dev/null >/dev/null 2>"$base.err"
  rc=$?
  counters "$ICMP" >"$base.after"
  rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$base.time")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): *//p' "$base.time")
  probes=$(summary_probes "$base.err")
  moved=$(delta "$base.before" "$base.after" | awk '$2 != 0 { printf "%s=%s ", $1, $2 }')
  echo "     dry run: wall $wall, peak RSS $((${rss_kb:-0} / 1024)) MiB, summary probes $probes; $(grep -m1 -E '^lrscan: syn scan:|dry run' "$base.err" || true)"
  check "[h] -sS --dry-run over 1,000,000 addresses x 2 ports exits 0 (got $rc)" test "$rc" = 0
  [ "$rc" = 0 ] || sed 's/^/     stderr: /' "$base.err" | tail -3
  check "[h] its summary counts 2,000,000 probes (got $probes)" test "$probes" = 2000000
  check "[h] peak RSS under 100 MB (got ${rss_kb:-?} kB)" bash -c "[ -n '$rss_kb' ] && [ '$rss_kb' -lt 97656 ]"
  check "[h] no packet reached the lab's target veth during the dry run${moved:+ (moved: $moved)}" test -z "$moved"
fi

# ---- i. safety -----------------------------------------------------------------------------
echo "== i. (at $(elapsed "$T0" "$(now)") s)"
if is_nmap; then skip "[i] > 65,536 addresses without --rate refused"; else
  base=$WORK/i
  # Inside the ICMP lab's scanner namespace, bounded: were it not refused, nothing
  # could leave the lab, and timeout ends it.
  SC_LIMIT=10 sc "$ICMP" -sS -n -Pn --max-retries 0 -p 80 10.0.0.0/15 -oG /dev/null >/dev/null 2>"$base.err"
  rc=$?
  check "[i] 131,072 addresses without --rate: exit 2 (got $rc)" test "$rc" = 2
  check "[i] the message names --rate ($(head -c 160 "$base.err" | head -1))" grep -q -- '--rate' "$base.err"
fi

echo "total $(elapsed "$T0" "$(now)") s; $passed passed, $failed failed, $skipped skipped"
test "$failed" = 0
