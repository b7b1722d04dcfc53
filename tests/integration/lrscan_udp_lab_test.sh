#!/usr/bin/env bash
# tests/integration/lrscan_udp_lab_test.sh — lrscan's raw UDP scan (-sU, alone and
# with -sS) against the scan lab (tests/lab), spec lrscan.md §3, §6, §7:
#   a. ICMP limits off: a host with UDP services on 7 (echo), 53 (DNS) and 123 and two
#      dropped (filtered) UDP ports; -sU -p 1-1024 over IPv4 then IPv6. -oJ and -oX
#      give exactly the open set (udp-response), closed / port-unreach for every
#      other unfiltered port and open|filtered / no-response for the dropped ones;
#      the XML validates against nmap's DTD; nmap -sU --reason of the same ports in
#      the same run gives the same state and reason for every port; the target's ICMP
#      counters show it limited nothing (the lab is what the test assumes).
#   b. ICMP limits on (Linux's default: a burst of 6 port unreachables, then 1 a
#      second per destination): -sU -p 1-1024 over IPv4 and IPv6 returns within 60 s;
#      the services are found open; every port reported closed has no listener and is
#      not dropped, and their number equals the port unreachables the target sent;
#      every other port is open|filtered with reason icmp-ratelimit in -oX and -oJ;
#      the stderr line "lrscan: N UDP ports are open|filtered (reason icmp-ratelimit)"
#      is printed and N is the number of such ports in the output.
#   c. Combined: -sS -sU -p T:22,80,U:53,54 (and -sSU) gives both protocols in one
#      output: open/closed TCP and UDP with nmap's reasons, -oG and -oX (validated
#      against nmap's DTD, one <scaninfo> per protocol), the same as nmap's.
#   d. Hostile: a host that drops every UDP port (no ICMP ever comes): -sU -p 1-1024
#      returns with every port open|filtered / no-response and no icmp-ratelimit line;
#      -oX reports what -oJ reports (nmap -Pn lists such a host with 1024
#      open|filtered ports).
#
#   tests/integration/lrscan_udp_lab_test.sh PATH/TO/lrscan
#   env SCANNER=nmap (debugging aid): run every check that nmap can do with nmap
#       instead of lrscan (-oJ -> -oX converted to lrscan's JSON lines, -6 added for
#       IPv6 targets, -T4 added). It proves the lab, the ground truth and the scoring;
#       checks nmap has no equivalent for (the summary lines, and b: nmap has no
#       icmp-ratelimit verdict, and with its default retries it needs minutes for
#       1,024 rate-limited ports, spec §7) are reported as "skip".
#       PATH/TO/lrscan is then ignored. nmap needs ~22 s for d.
# The lab's --icmp-ratelimit off lowers only the per-destination limits; the target
# namespace's global ICMP budget (net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50,
# which IPv6 shares) still caps a 1,024-port burst at ~50 port unreachables. a and c
# therefore also raise those two sysctls in the lab's own target namespace.
# Exit 0 pass, 1 fail, 77 skip (not root / no network namespaces). A missing nmap,
# nft, xmllint, nstat or python3 is a failure (run scripts/install-deps).
# About 50 s on the 2-core VM.
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
lr_require nmap nft xmllint nstat python3 ip timeout
[ -x "$LRSCAN" ] || { echo "FAIL: $LRSCAN is not executable"; exit 1; }
[ -f /usr/share/nmap/nmap.dtd ] || { echo "FAIL: /usr/share/nmap/nmap.dtd is missing (nmap-common)"; exit 1; }
lr_require_netns "lrudprobe$$"

ID=$(($$ % 10000000))
OFF="lrud${ID}a"   # <= 12 characters
ON="lrud${ID}b"
HOSTILE="lrud${ID}c"
LABS=("$OFF" "$ON" "$HOSTILE")
lr_work lrscan_udp_lab
T0=$(now)

# ---- the checker: parsers and scoring, one python file -----------------------------
cat >"$WORK/udpcheck.py" <<'PY'
"""Parsers and scoring for lrscan_udp_lab_test.sh (the shared parsers: tests/lab/
lrscan_score.py). Verdict commands print lines "PASS name || detail" /
"MISS name || detail" (the shell turns each into an ok/FAIL check) or "INFO text";
the others print plain data."""
import re
import xml.etree.ElementTree as ET
from lrscan_score import addr, ports_of, xml_rows, json_rows, verdict, diff_detail, main
import lrscan_score

def gnmap_rows(path):
    """(addr, proto, port, state) of every listed port of a -oG file."""
    return [(a, pr, p, s) for a, items, _ in lrscan_score.gnmap_hosts(path) for p, s, pr in items]

def by_port(rows, a, proto="udp"):
    per = {}
    for r in rows:
        if r[0] == a and r[1] == proto:
            per.setdefault(r[2], []).append((r[3], r[4]))
    return per

def cmd_exact(argv):
    """exact LABEL ADDR PORTS OPEN FILTERED JSONL XML: ICMP off, every port exact."""
    label, a, ports, o, f, jpath, xpath = argv
    a, ports = addr(a), ports_of(ports)
    want_open, want_filt = ports_of(o) & ports, ports_of(f) & ports
    want_closed = ports - want_open - want_filt
    for fmt, rows in (("-oJ", json_rows(jpath)), ("-oX", xml_rows(xpath))):
        per = by_port(rows, a)
        dup = [p for p, v in per.items() if len(v) > 1]
        verdict(set(per) == ports and not dup, "[%s] %s: one UDP result for every port (%d of %d)"
                % (label, fmt, len(per), len(ports)), "duplicates %s, %s" % (dup[:6], diff_detail(set(per), ports)))
        for state, reason, want in (("open", "udp-response", want_open), ("closed", "port-unreach", want_closed),
                                    ("open|filtered", "no-response", want_filt)):
            got = {p for p, v in per.items() if (state, reason) in v}
            other = {p for p, v in per.items() if any(s == state and r != reason for s, r in v)}
            verdict(got == want and not other, "[%s] %s: %s / %s exactly for the %s (%d of %d)"
                    % (label, fmt, state, reason, {"open": "UDP services", "closed": "other ports",
                                                   "open|filtered": "dropped ports"}[state], len(got), len(want)),
                    "%s; %s with another reason: %s" % (diff_detail(got, want), state, sorted(other)[:6]))

def cmd_ratelimited(argv):
    """ratelimited LABEL ADDR PORTS OPEN FILTERED JSONL XML SUMMARY_N ICMP_SENT: ICMP limits on."""
    label, a, ports, o, f, jpath, xpath, summary_n, icmp_sent = argv
    a, ports = addr(a), ports_of(ports)
    want_open, want_filt = ports_of(o) & ports, ports_of(f) & ports
    really_closed = ports - want_open - want_filt
    counts = {}
    for fmt, rows in (("-oJ", json_rows(jpath)), ("-oX", xml_rows(xpath))):
        per = by_port(rows, a)
        dup = [p for p, v in per.items() if len(v) > 1]
        verdict(set(per) == ports and not dup, "[%s] %s: one UDP result for every port (%d of %d)"
                % (label, fmt, len(per), len(ports)), "duplicates %s, %s" % (dup[:6], diff_detail(set(per), ports)))
        st = {p: v[0] for p, v in per.items()}
        got_open = {p for p, v in st.items() if v == ("open", "udp-response")}
        closed = {p for p, v in st.items() if v[0] == "closed"}
        limited = {p for p, v in st.items() if v == ("open|filtered", "icmp-ratelimit")}
        other = {p: v for p, v in st.items() if p not in got_open | closed | limited}
        verdict(got_open == want_open, "[%s] %s: the UDP services are found open / udp-response (%s)"
                % (label, fmt, ",".join(map(str, sorted(got_open)))), diff_detail(got_open, want_open))
        verdict(closed <= really_closed and all(st[p][1] == "port-unreach" for p in closed),
                "[%s] %s: every port reported closed has no listener and is not dropped, reason port-unreach "
                "(%d closed)" % (label, fmt, len(closed)),
                "not really closed: %s; reasons %s" % (sorted(closed - really_closed)[:8],
                                                      sorted({st[p][1] for p in closed})))
        verdict(not other and limited == ports - got_open - closed,
                "[%s] %s: every other port is open|filtered / icmp-ratelimit (%d)" % (label, fmt, len(limited)),
                "other states: %s" % sorted(other.items())[:6])
        counts[fmt] = (len(closed), len(limited))
    verdict(counts["-oJ"] == counts["-oX"], "[%s] -oJ and -oX agree (closed, icmp-ratelimit) = %s"
            % (label, counts["-oJ"]), "-oX %s" % (counts["-oX"],))
    closed_n, limited_n = counts["-oJ"]
    if summary_n != "skip":
        verdict(summary_n == str(limited_n), "[%s] the stderr line counts the icmp-ratelimit ports (says %s, "
                "output has %d)" % (label, summary_n, limited_n))
    verdict(icmp_sent == str(closed_n), "[%s] closed exactly for the ports whose port unreachable arrived "
            "(target sent %s, %d closed)" % (label, icmp_sent, closed_n))
    print("INFO %s: %d open, %d closed, %d open|filtered (icmp-ratelimit)" % (label, len(want_open), closed_n,
                                                                            limited_n))

def cmd_rows(argv):
    """rows FMT FILE [PORTS]: 'addr proto port state reason' sorted (xml or json)."""
    fmt, path = argv[:2]
    keep = ports_of(argv[2]) if len(argv) > 2 else None
    rows = xml_rows(path) if fmt == "xml" else json_rows(path)
    for r in sorted(set(rows), key=lambda r: (r[0], r[1], r[2])):
        if keep is None or r[2] in keep:
            print("%s %s %d %s %s" % r)

def cmd_grows(argv):
    """grows FILE: 'addr proto port state' of a -oG file, sorted."""
    for r in sorted(set(gnmap_rows(argv[0]))):
        print("%s %s %d %s" % r)

def cmd_scaninfo(argv):
    """scaninfo XML: 'type/protocol/services' of every <scaninfo>, one per line."""
    for s in ET.parse(argv[0]).getroot().iter("scaninfo"):
        print("%s/%s/%s" % (s.get("type"), s.get("protocol"), s.get("services")))

def cmd_summary(argv):
    """summary STDERR-FILE: 'HAS_UDP_LINE RATELIMIT_N': 1/0 for the 'lrscan: udp scan:'
    line, and N of 'lrscan: N UDP ports are open|filtered (reason icmp-ratelimit)' or '-'."""
    text = open(argv[0], errors="replace").read()
    has = any(l.startswith("lrscan: udp scan:") for l in text.splitlines())
    m = re.search(r"^lrscan: (\d+) UDP ports are open\|filtered \(reason icmp-ratelimit\)", text, re.M)
    print(1 if has else 0, m.group(1) if m else "-")

main({"exact": cmd_exact, "ratelimited": cmd_ratelimited, "rows": cmd_rows, "grows": cmd_grows,
      "scaninfo": cmd_scaninfo, "summary": cmd_summary})
PY
ck() { ck_py "$WORK/udpcheck.py" "$@"; }
# (sc, the scanner under test, and verdicts and same: tests/lab/lrscan_test_lib.sh)
# nmap_ref LAB ADDR XML ARGS...: nmap, the reference, in LAB's scanner namespace.
nmap_ref() {
  local lab=$1 a=$2 xml=$3; shift 3
  local -a six=()
  [[ $a == *:* ]] && six=(-6)
  timeout -k 5 60 "$LAB" exec "$lab" scan nmap "${six[@]}" -T4 -n -Pn --reason "$@" "$a" -oX "$xml" >/dev/null 2>&1
}
# icmp_out LAB FAMILY: port unreachables the target has sent so far (4 or 6), and
# icmp_limited LAB: the target's ICMP rate-limit counters, "global/host/host6".
icmp_out() {
  local key=IcmpOutDestUnreachs
  [ "$2" = 6 ] && key=Icmp6OutDestUnreachs
  timeout 10 "$LAB" exec "$1" tgt nstat -asz "$key" | awk -v k="$key" '$1 == k { print $2 }'
}
icmp_limited() {
  timeout 10 "$LAB" exec "$1" tgt nstat -asz IcmpOutRateLimitGlobal IcmpOutRateLimitHost Icmp6OutRateLimitHost |
    awk '{ v[$1] = $2 } END { printf "%d/%d/%d\n", v["IcmpOutRateLimitGlobal"], v["IcmpOutRateLimitHost"], v["Icmp6OutRateLimitHost"] }'
}

# ---- ground truth and the labs ------------------------------------------------------------
# UDP services 7 (echo), 53 (DNS) and 123 (echoed; lrscan and nmap send NTP there);
# two dropped ports and, for c, TCP 22 open (80 closed). Fixed seed, disjoint sets.
U_OPEN=7,53,123
read -r U_FILT B_FILT < <(python3 - <<'EOF'
import random
r = random.Random(5101)
pool = sorted(set(range(2, 1025)) - {7, 53, 54, 123})
j = lambda s: ",".join(map(str, sorted(s)))
print(j(r.sample(pool, 2)), j(r.sample(pool, 2)))
EOF
)
T_OPEN=22
PORTS=1-1024
echo "ground truth: UDP open $U_OPEN, dropped $U_FILT (limits off) / $B_FILT (limits on); scanner $SCANNER"

lab_up "$OFF" --udp "$U_OPEN" --filtered-udp "$U_FILT" --tcp "$T_OPEN" --icmp-ratelimit off
lab_up "$ON" --udp "$U_OPEN" --filtered-udp "$B_FILT" --icmp-ratelimit on
lab_up "$HOSTILE" --filtered-udp 1-65535
# The global ICMP budget of OFF's target namespace (see the header): no limit at all.
timeout 10 "$LAB" exec "$OFF" tgt sysctl -qw net.ipv4.icmp_msgs_per_sec=100000000 net.ipv4.icmp_msgs_burst=100000000 ||
  { echo "FAIL: cannot lift the global ICMP limit in $OFF-tgt"; exit 1; }
addr_of() { "$LAB" info "$1" | sed -n "s/^$2=//p"; }
OFF4=$(addr_of "$OFF" TGT_ADDR); OFF6=$(addr_of "$OFF" TGT_ADDR6)
ON4=$(addr_of "$ON" TGT_ADDR); ON6=$(addr_of "$ON" TGT_ADDR6)
H4=$(addr_of "$HOSTILE" TGT_ADDR)

# ---- a. ICMP limits off, exact, IPv4 and IPv6 ----------------------------------------------
for fam in 4 6; do
  echo "== a. IPv$fam (at $(elapsed "$T0" "$(now)") s)"
  if [ "$fam" = 4 ]; then addr=$OFF4; else addr=$OFF6; fi
  base=$WORK/a$fam
  t0=$(now)
  sc "$OFF" -sU -p "$PORTS" -n -Pn --reason "$addr" -oJ "$base.jsonl" -oX "$base.xml" >"$base.out" 2>"$base.err"
  rc=$?
  t1=$(now)
  nmap_ref "$OFF" "$addr" "$base-nmap.xml" -sU -p "$PORTS"
  nrc=$?
  echo "     wall: $SCANNER -sU -p $PORTS $(elapsed "$t0" "$t1") s, nmap -sU -T4 $(elapsed "$t1" "$(now)") s (same lab and run; not a benchmark)"
  check "[a IPv$fam] $SCANNER -sU exits 0 (got $rc)" test "$rc" = 0
  [ "$rc" = 0 ] || sed 's/^/     stderr: /' "$base.err" | tail -5
  if is_nmap; then skip "[a IPv$fam] the 'lrscan: udp scan:' summary line"; else
    read -r has lim < <(ck summary "$base.err")
    grep -m1 '^lrscan: udp scan:' "$base.err" | sed 's/^/     /'
    check "[a IPv$fam] stderr has the 'lrscan: udp scan:' summary and no icmp-ratelimit line (ratelimit count: $lim)" \
      bash -c "[ '$has' = 1 ] && [ '$lim' = - ]"
  fi
  ck exact "a IPv$fam" "$addr" "$PORTS" "$U_OPEN" "$U_FILT" "$base.jsonl" "$base.xml" >"$base.verdicts" 2>&1
  verdicts "$base.verdicts"
  check "[a IPv$fam] -oX validates against nmap's DTD" \
    xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$base.xml"
  check "[a IPv$fam] nmap -sU -T4 (the reference) exits 0 (got $nrc)" test "$nrc" = 0
  ck rows xml "$base.xml" >"$base.got" 2>&1
  ck rows xml "$base-nmap.xml" >"$base.nmap" 2>&1
  check "[a IPv$fam] $SCANNER: the same state and reason as nmap -sU --reason for all $(wc -l <"$base.nmap") ports" \
    same "$base.got" "$base.nmap" "$SCANNER vs nmap"
done
lim=$(icmp_limited "$OFF")
check "[a] the target limited no ICMP error during a (nstat global/host/host6: $lim)" test "$lim" = 0/0/0

# ---- b. ICMP limits on (Linux defaults) -----------------------------------------------------
for fam in 4 6; do
  echo "== b. IPv$fam (at $(elapsed "$T0" "$(now)") s)"
  if is_nmap; then skip "[b IPv$fam] -sU -p $PORTS against rate-limited ICMP (nmap has no icmp-ratelimit verdict, spec §7)"; continue; fi
  if [ "$fam" = 4 ]; then addr=$ON4; else addr=$ON6; fi
  base=$WORK/b$fam
  icmp0=$(icmp_out "$ON" "$fam")
  t0=$(now)
  SC_LIMIT=70 sc "$ON" -sU -p "$PORTS" -n -Pn --reason "$addr" -oJ "$base.jsonl" -oX "$base.xml" >"$base.out" 2>"$base.err"
  rc=$?
  t1=$(now)
  icmp1=$(icmp_out "$ON" "$fam")
  wall=$(elapsed "$t0" "$t1")
  echo "     wall $wall s"
  grep -m1 '^lrscan: udp scan:' "$base.err" | sed 's/^/     /'
  check "[b IPv$fam] -sU -p $PORTS exits 0 (got $rc) within 60 s (took $wall s)" \
    bash -c "[ $rc = 0 ] && [ $(((t1 - t0) / 1000000000)) -lt 60 ]"
  [ "$rc" = 0 ] || sed 's/^/     stderr: /' "$base.err" | tail -5
  read -r has lim < <(ck summary "$base.err")
  check "[b IPv$fam] stderr has the 'lrscan: udp scan:' summary and the icmp-ratelimit line" \
    bash -c "[ '$has' = 1 ] && [ '$lim' != - ]"
  ck ratelimited "b IPv$fam" "$addr" "$PORTS" "$U_OPEN" "$B_FILT" "$base.jsonl" "$base.xml" "$lim" \
    "$((icmp1 - icmp0))" >"$base.verdicts" 2>&1
  verdicts "$base.verdicts"
  check "[b IPv$fam] -oX validates against nmap's DTD" \
    xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$base.xml"
done
if ! is_nmap; then
  lim=$(icmp_limited "$ON")
  check "[b] the target's ICMP rate limit was active (nstat global/host/host6: $lim)" \
    bash -c "[ '$lim' != 0/0/0 ]"
fi

# ---- c. combined -sS -sU -------------------------------------------------------------------
echo "== c. (at $(elapsed "$T0" "$(now)") s)"
C_PORTS=T:22,80,U:53,54
for form in "-sS -sU" "-sSU"; do
  base=$WORK/c${form//[ -]/}
  # shellcheck disable=SC2086  # the scan-type flags split on purpose
  sc "$OFF" $form -p "$C_PORTS" -n -Pn --reason "$OFF4" -oG "$base.gnmap" -oX "$base.xml" -oJ "$base.jsonl" \
    >"$base.out" 2>"$base.err"
  rc=$?
  check "[c $form] exits 0 (got $rc)" test "$rc" = 0
  [ "$rc" = 0 ] || sed 's/^/     stderr: /' "$base.err" | tail -5
  check "[c $form] -oX validates against nmap's DTD" xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$base.xml"
  if [ "$form" = "-sS -sU" ]; then
    nmap_ref "$OFF" "$OFF4" "$WORK/c-nmap.xml" -sS -sU -p "$C_PORTS"
    check "[c] nmap -sS -sU (the reference) exits 0 (got $?)" test -s "$WORK/c-nmap.xml"
    printf '%s\n' "$OFF4 tcp 22 open syn-ack" "$OFF4 tcp 80 closed reset" "$OFF4 udp 53 open udp-response" \
      "$OFF4 udp 54 closed port-unreach" >"$WORK/c.want"
    ck rows xml "$WORK/c-nmap.xml" >"$WORK/c-nmap.rows" 2>&1
    check "[c] nmap gives the documented states and reasons (the oracle is sane)" \
      same "$WORK/c-nmap.rows" "$WORK/c.want" "nmap vs documented"
    ck scaninfo "$WORK/c-nmap.xml" >"$WORK/c-nmap.scaninfo" 2>&1
  fi
  ck rows xml "$base.xml" >"$base.xrows" 2>&1
  ck rows json "$base.jsonl" >"$base.jrows" 2>&1
  check "[c $form] -oX: both protocols, the same states and reasons as nmap" same "$base.xrows" "$WORK/c.want" "-oX vs nmap"
  check "[c $form] -oJ: the same as -oX" same "$base.jrows" "$WORK/c.want" "-oJ vs nmap"
  cut -d' ' -f1-4 "$WORK/c.want" >"$WORK/c.gwant"
  ck grows "$base.gnmap" >"$base.grows" 2>&1
  check "[c $form] -oG: both protocols on the host's Ports: line" same "$base.grows" "$WORK/c.gwant" "-oG vs nmap"
  ck scaninfo "$base.xml" >"$base.scaninfo" 2>&1
  check "[c $form] -oX: one <scaninfo> per protocol, as nmap's ($(paste -sd' ' "$base.scaninfo"))" \
    same "$base.scaninfo" "$WORK/c-nmap.scaninfo" "scaninfo vs nmap"
done

# ---- d. hostile: every UDP port dropped -------------------------------------------------------
echo "== d. (at $(elapsed "$T0" "$(now)") s)"
base=$WORK/d
icmp0=$(icmp_out "$HOSTILE" 4)
t0=$(now)
sc "$HOSTILE" -sU -p "$PORTS" -n -Pn --reason "$H4" -oJ "$base.jsonl" -oX "$base.xml" >"$base.out" 2>"$base.err"
rc=$?
t1=$(now)
icmp1=$(icmp_out "$HOSTILE" 4)
echo "     wall $(elapsed "$t0" "$t1") s; $(grep -m1 '^lrscan: udp scan:' "$base.err" || true)"
check "[d] -sU against a host that drops all UDP exits 0 (got $rc)" test "$rc" = 0
check "[d] the target sent no ICMP ($((icmp1 - icmp0)) port unreachables)" test "$((icmp1 - icmp0))" = 0
ck rows json "$base.jsonl" >"$base.jrows" 2>&1
python3 -c "
import sys
for p in range(1, 1025):
    print('%s udp %d open|filtered no-response' % (sys.argv[1], p))" "$H4" | sort >"$base.want"
sort "$base.jrows" -o "$base.jrows"
check "[d] -oJ: all 1024 ports open|filtered / no-response" same "$base.jrows" "$base.want" "-oJ vs all open|filtered"
if is_nmap; then skip "[d] no icmp-ratelimit line"; else
  read -r has lim < <(ck summary "$base.err")
  check "[d] the 'lrscan: udp scan:' summary and no icmp-ratelimit line (ratelimit count: $lim)" \
    bash -c "[ '$has' = 1 ] && [ '$lim' = - ]"
fi
check "[d] -oX validates against nmap's DTD" xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$base.xml"
ck rows xml "$base.xml" | sort >"$base.xrows" 2>&1
check "[d] -oX reports what -oJ reports (the -Pn host with its 1024 open|filtered ports; $(wc -l <"$base.xrows") rows)" \
  same "$base.xrows" "$base.jrows" "-oX vs -oJ"

echo "total $(elapsed "$T0" "$(now)") s; $passed passed, $failed failed, $skipped skipped"
test "$failed" = 0
