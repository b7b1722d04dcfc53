#!/usr/bin/env bash
# tests/integration/lrscan_discovery_lab_test.sh — lrscan's host discovery in the
# scan lab (tests/lab): -sn finds exactly the lab addresses that exist, over IPv4
# and IPv6, with nmap's reasons; ARP and IPv6 neighbour discovery (-PR, part of
# the default) find hosts that drop every IP packet, where ICMP alone (-PE) finds
# none and nmap -sn agrees;
# -PS/-PA name their reasons; a default port scan skips hosts that are down;
# --exclude holds for discovery probes too (per-address nft counters).
#
#   tests/integration/lrscan_discovery_lab_test.sh PATH/TO/lrscan
# Exit 0 pass, 1 fail, 77 skip (not root / no network namespaces). 20-50 s.
set -uo pipefail
LRSCAN=$(readlink -f "${1:?usage: $0 PATH/TO/lrscan}")
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
LAB=$HERE/../lab/lab.sh
# shellcheck source=tests/lab/lrscan_test_lib.sh
source "$HERE/../lab/lrscan_test_lib.sh"
lr_require nmap nft python3 ip timeout
lr_require_netns "lrdprobe$$"
NAME=lrd$(($$ % 100000))
LABS=("$NAME")
lr_work lrscan_disc

scan() { timeout 60 "$LAB" exec "$NAME" scan "$@"; }
# up_hosts FILE: "ADDR REASON" per host line of an -oJ file, sorted.
up_hosts() {
  python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for o in sorted((o for o in rows if o["type"] == "host"), key=lambda o: o["ip"]):
    print(o["ip"], o["reason"])' "$1"
}

# Four target addresses (.2-.5 and ::2-::5); .6-.9 and ::6-::9 do not exist.
lab_up "$NAME" --tcp 22,443 --addrs 4 --count-addrs
K=$("$LAB" info "$NAME" | sed -n 's/^LAB_K=//p')
R4="10.213.$K.2-9"
R6="fd13:$K::/125"   # ::0-::7: ::2-::5 exist (::1 is the scanner itself)
WANT4=$(printf '10.213.%s.%s\n' "$K" 2 "$K" 3 "$K" 4 "$K" 5)
WANT6=$(printf 'fd13:%s::%s\n' "$K" 2 "$K" 3 "$K" 4 "$K" 5)

# ---- a. -sn finds exactly the hosts that exist ----------------------------------------
scan "$LRSCAN" -sn --no-progress "$R4" "$R6" -oJ "$WORK/a.jsonl" -oG "$WORK/a.gnmap" >/dev/null 2>"$WORK/a.err"
rc=$?
check "[a] -sn exits 0 (got $rc)" test "$rc" = 0
up_hosts "$WORK/a.jsonl" >"$WORK/a.up"
check "[a] -sn IPv4: exactly .2-.5 up ($(awk '{print $1}' "$WORK/a.up" | grep -c '\.' ) found)" \
  test "$(awk '{print $1}' "$WORK/a.up" | grep '\.')" = "$WANT4"
check "[a] -sn IPv6: exactly ::2-::5 up" test "$(awk '{print $1}' "$WORK/a.up" | grep ':')" = "$WANT6"
check "[a] -sn: every reason is one of nmap's (arp-response, echo-reply, reset, syn-ack, timestamp-reply)" \
  bash -c "! awk '{print \$2}' '$WORK/a.up' | grep -vxE 'arp-response|echo-reply|reset|syn-ack|timestamp-reply'"
check "[a] -sn -oG: 8 'Status: Up' lines and no port lists" \
  bash -c "[ \$(grep -c 'Status: Up' '$WORK/a.gnmap') = 8 ] && ! grep -q 'Ports:' '$WORK/a.gnmap'"
check "[a] the footer counts 8 of 16 hosts up" grep -q '"hosts_up":8,"hosts_total":16' "$WORK/a.jsonl"

# ---- b. specific probes and their reasons ----------------------------------------------
scan "$LRSCAN" -sn -PS22 --no-progress "$R4" -oJ "$WORK/b1.jsonl" >/dev/null 2>&1
check "[b] -PS22 (open): 4 hosts up, reason syn-ack" \
  test "$(up_hosts "$WORK/b1.jsonl" | awk '$2 == "syn-ack"' | wc -l)" = 4
scan "$LRSCAN" -sn -PA80 --no-progress "$R6" -oJ "$WORK/b2.jsonl" >/dev/null 2>&1
check "[b] -PA80 over IPv6: 4 hosts up, reason reset" \
  test "$(up_hosts "$WORK/b2.jsonl" | awk '$2 == "reset"' | wc -l)" = 4
scan "$LRSCAN" -sn -PE --no-progress "$R4" -oJ "$WORK/b3.jsonl" >/dev/null 2>&1
check "[b] -PE: 4 hosts up, reason echo-reply" \
  test "$(up_hosts "$WORK/b3.jsonl" | awk '$2 == "echo-reply"' | wc -l)" = 4

# ---- c. exclusions hold for discovery --------------------------------------------------
"$LAB" counters "$NAME" >"$WORK/c0.txt" 2>/dev/null
scan "$LRSCAN" -sn --no-progress "$R4" --exclude "10.213.$K.3" -oJ "$WORK/c.jsonl" >/dev/null 2>&1
"$LAB" counters "$NAME" >"$WORK/c1.txt" 2>/dev/null
delta() { python3 -c '
import sys
def load(p):
    return {a: int(n) for a, n in (l.split() for l in open(p) if len(l.split()) == 2)}
a, b = load(sys.argv[1]), load(sys.argv[2])
print(b.get(sys.argv[3], 0) - a.get(sys.argv[3], 0))' "$WORK/c0.txt" "$WORK/c1.txt" "$1"; }
check "[c] the excluded address got no packet ($(delta "10.213.$K.3"))" test "$(delta "10.213.$K.3")" = 0
check "[c] the others got discovery probes ($(delta "10.213.$K.2"), $(delta "10.213.$K.4"))" \
  bash -c "[ $(delta "10.213.$K.2") -gt 0 ] && [ $(delta "10.213.$K.4") -gt 0 ]"
check "[c] the excluded address is not listed" bash -c "! grep -q '\"10.213.$K.3\"' '$WORK/c.jsonl'"

# ---- d. a default port scan goes only to hosts that are up ------------------------------
scan "$LRSCAN" -p 22,443 --no-progress "$R4" -oJ "$WORK/d.jsonl" >/dev/null 2>&1
check "[d] default (discovery first): ports of the 4 up hosts only, 8 results" \
  test "$(grep -c '"type":"port"' "$WORK/d.jsonl")" = 8

# ---- e. ARP finds hosts that drop every IP packet ---------------------------------------
# Every IP packet is dropped on arrival, except IPv6 Neighbor Solicitations (ND is
# how IPv6 resolves addresses; ARP is not IP and passes).
ip netns exec "$NAME-tgt" nft add table inet lrdblock &&
  ip netns exec "$NAME-tgt" nft add chain inet lrdblock pre '{ type filter hook prerouting priority -400 ; policy drop ; }' &&
  ip netns exec "$NAME-tgt" nft add rule inet lrdblock pre icmpv6 type nd-neighbor-solicit accept
ip netns exec "$NAME-scan" ip neigh flush all
scan "$LRSCAN" -sn --no-progress "$R4" -oJ "$WORK/e1.jsonl" >/dev/null 2>&1
check "[e] IP blocked: -sn still finds .2-.5, reason arp-response" \
  test "$(up_hosts "$WORK/e1.jsonl")" = "$(echo "$WANT4" | sed 's/$/ arp-response/')"
scan "$LRSCAN" -sn -PE --no-progress "$R4" -oJ "$WORK/e2.jsonl" >/dev/null 2>&1
check "[e] IP blocked: -sn -PE finds none" test "$(up_hosts "$WORK/e2.jsonl" | wc -l)" = 0
scan "$LRSCAN" -sn --no-progress "$R6" -oJ "$WORK/e4.jsonl" >/dev/null 2>&1
check "[e] IPv6 blocked but ND: -sn finds ::2-::5, reason nd-response" \
  test "$(up_hosts "$WORK/e4.jsonl")" = "$(echo "$WANT6" | sed 's/$/ nd-response/')"
scan "$LRSCAN" -sn -PE --no-progress "$R6" -oJ "$WORK/e5.jsonl" >/dev/null 2>&1
check "[e] IPv6 blocked: -sn -PE finds none" test "$(up_hosts "$WORK/e5.jsonl" | wc -l)" = 0
nmap_up=$(scan nmap -sn -n "$R4" 2>/dev/null | grep -c 'Host is up')
check "[e] nmap -sn agrees: 4 hosts up (got $nmap_up)" test "$nmap_up" = 4
scan "$LRSCAN" -p 22 --no-progress "$R4" -oJ "$WORK/e3.jsonl" >/dev/null 2>&1
check "[e] IP blocked, default scan: 4 hosts up by ARP, port 22 filtered on each" \
  test "$(grep -c '"state":"filtered"' "$WORK/e3.jsonl")" = 4

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
