#!/usr/bin/env bash
# UDP loss accounting against a real bottleneck (run by CTest as root; skips with
# 77 otherwise). Two network namespaces, a btest server in one and the client in
# the other; the client asks for 60 Mbit/s of 1500-byte datagrams through a link
# shaped to 20 Mbit/s by tbf, so about two thirds of the datagrams are dropped.
# Once per direction the loss btest reports is checked against what the kernel
# counted on the shaped link.
#
# Topology. Two veth pairs join the namespaces:
#   ctl0 (10.200.X.2) <-> ctl0 (10.200.X.1)   unshaped; the TCP control connection
#   dat0              <-> dat0                shaped by tbf on both egresses
# A policy rule in each namespace ("ipproto udp lookup 100") sends UDP, and only
# UDP, to the peer's address over dat0. dat0 has static neighbour entries (no
# ARP) and IPv6 off (no ND/MLD), so every packet on it is a test datagram. The
# kernel counters of dat0 therefore count btest's datagrams exactly: nothing
# else shares the tbf queue (on a single link a TCP status record or ACK that
# met a full queue would be dropped too and blur the drop counter), and no
# packet needs to be subtracted.
#
# What is checked, per direction (sender S, receiver R; counters are deltas):
#   1. tbf(S).sent + tbf(S).dropped == S's tx_datagrams. The sender counts what it
#      handed the kernel; a datagram that tbf drops still counts as sent (UDP
#      without IP_RECVERR does not report the qdisc's ENOBUFS), as it should.
#   2. dat0(S).tx_packets == dat0(R).rx_packets == tbf(S).sent: the link loses
#      nothing besides the qdisc.
#   3. R's rx_datagrams + probes == dat0(R).rx_packets, and no datagram reaches
#      R while its port is closed (Udp NoPorts stays 0: none before it is bound,
#      none after the tail drain). The client sends one empty datagram from its
#      port as soon as it is bound (spec 11.3) and the server holds its first
#      datagram until that arrives, so the head of a client-receive test cannot
#      be lost to an unbound port. probes = 1 when the client transmits (its
#      empty datagram crosses the sender's link and is not data), else 0.
#   4. tail := tbf drops - lost, 0 <= tail <= TAIL_MAX, and
#      tx - rx - lost == head + tail. Loss is counted from sequence gaps, so
#      datagrams dropped after the last one that got through cannot be seen by
#      the receiver. The sender stays above the limit to the end, and it sends in
#      pacer grants of rate/100 (60 Mbit/s, 1500 B: 50 datagrams every 10 ms, one
#      sendmmsg each). Between grants tbf drains ~16.5 datagrams (10 ms at
#      20 Mbit/s of 1514-byte frames), so each grant finds ~16 free slots and the
#      final grant leaves ~33-34 unseen drops: that is what runs measure. A
#      sender that wakes late may send up to three grants back to back (the pacer
#      catches up by up to two intervals before it re-anchors) and the later ones
#      meet a full queue, so the bound is three grants: TAIL_MAX = 150, under
#      1.5 % of the ~10 000 drops, so an error per gap or per batch still shows.
#      A reported loss above the qdisc's drops (tail < 0) always fails.
#   5. the loss is substantial: lost / (rx + lost) >= 30 %, and loss_percent agrees;
#      the side that does not receive reports no datagrams and no loss.
# Usage: btest_udp_loss_netns.sh PATH/TO/btest
set -uo pipefail
BTEST=${1:?usage: btest_udp_loss_netns.sh PATH/TO/btest}
BTEST=$(readlink -f "$BTEST")
SKIP=77

RATE_LIMIT=20mbit     # tbf rate on each dat0 egress
SEND_RATE=60M         # btest -b: 3x the limit
SIZE=1500             # --udp-size (IP packet; payload 1472)
DURATION=3            # seconds per direction
TAIL_MAX=150          # three pacer grants of 60e6 / 8 / 100 / 1500 = 50 datagrams (see 4. above)
MIN_LOSS_PCT=30

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, tc)"; exit $SKIP; }
for tool in ip tc ss timeout python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit $SKIP; }
done
[ -x "$BTEST" ] || { echo "FAIL: $BTEST is not executable"; exit 1; }

X=$(($$ % 250 + 1))
NS_C="lr-udploss-$$-c"
NS_S="lr-udploss-$$-s"
IP_C="10.200.$X.2"
IP_S="10.200.$X.1"
PORT=2000
WORK=$(mktemp -d)
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  # Anything still running in the namespaces (should be nothing) goes too.
  for ns in "$NS_C" "$NS_S"; do
    [ -n "$ns" ] || continue
    for p in $(timeout 5 ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    timeout 10 ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# `ip netns` itself may be unavailable (no CAP_SYS_ADMIN in a container): skip.
if ! timeout 10 ip netns add "$NS_C" 2>"$WORK/err"; then
  echo "SKIP: cannot create a network namespace: $(cat "$WORK/err")"
  NS_C="" NS_S=""
  exit $SKIP
fi
timeout 10 ip netns add "$NS_S" || { echo "FAIL: ip netns add $NS_S"; exit 1; }

fail_setup() { echo "FAIL: setup: $*"; exit 1; }
nsc() { timeout 10 ip netns exec "$NS_C" "$@"; }
nss() { timeout 10 ip netns exec "$NS_S" "$@"; }

for ns in "$NS_C" "$NS_S"; do
  # IPv6 off before the links exist: no router solicitations, DAD or MLD on dat0.
  timeout 10 ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
    fail_setup "disable IPv6 in $ns"
done
timeout 10 ip link add ctl0 netns "$NS_C" type veth peer name ctl0 netns "$NS_S" || fail_setup "veth ctl0"
timeout 10 ip link add dat0 netns "$NS_C" type veth peer name dat0 netns "$NS_S" || fail_setup "veth dat0"
for ns in "$NS_C" "$NS_S"; do
  for dev in lo ctl0 dat0; do
    timeout 10 ip -n "$ns" link set "$dev" up || fail_setup "link $dev up in $ns"
  done
  # Only UDP goes over dat0; the tbf queue sees nothing else.
  timeout 10 ip -n "$ns" rule add pref 100 ipproto udp lookup 100 || fail_setup "ip rule ipproto udp in $ns"
  timeout 10 ip netns exec "$ns" tc qdisc add dev dat0 root tbf rate "$RATE_LIMIT" burst 32kbit latency 50ms ||
    fail_setup "tbf on dat0 in $ns"
done
timeout 10 ip -n "$NS_C" addr add "$IP_C/24" dev ctl0 || fail_setup "address $IP_C"
timeout 10 ip -n "$NS_S" addr add "$IP_S/24" dev ctl0 || fail_setup "address $IP_S"
timeout 10 ip -n "$NS_C" route add "$IP_S/32" dev dat0 src "$IP_C" table 100 || fail_setup "UDP route in $NS_C"
timeout 10 ip -n "$NS_S" route add "$IP_C/32" dev dat0 src "$IP_S" table 100 || fail_setup "UDP route in $NS_S"
MAC_C=$(nsc cat /sys/class/net/dat0/address) || fail_setup "MAC of dat0 in $NS_C"
MAC_S=$(nss cat /sys/class/net/dat0/address) || fail_setup "MAC of dat0 in $NS_S"
timeout 10 ip -n "$NS_C" neigh replace "$IP_S" lladdr "$MAC_S" dev dat0 nud permanent || fail_setup "neighbour in $NS_C"
timeout 10 ip -n "$NS_S" neigh replace "$IP_C" lladdr "$MAC_C" dev dat0 nud permanent || fail_setup "neighbour in $NS_S"
# The policy routing really puts UDP on dat0 and TCP on ctl0.
nsc ip route get "$IP_S" ipproto udp | grep -q "dev dat0" || fail_setup "UDP to $IP_S is not routed over dat0"
nsc ip route get "$IP_S" ipproto tcp | grep -q "dev ctl0" || fail_setup "TCP to $IP_S is not routed over ctl0"

timeout 100 ip netns exec "$NS_S" "$BTEST" -s -P "$PORT" --listen "$IP_S" --udp-ports 2001-2100 2>"$WORK/server.log" &
SERVER_PID=$!
up=0
for _ in $(seq 1 100); do
  if nss ss -Hltn "sport = :$PORT" | grep -q LISTEN; then up=1; break; fi
  sleep 0.05
done
[ "$up" = 1 ] || { cat "$WORK/server.log"; fail_setup "server did not listen on $IP_S:$PORT"; }

# Counter snapshot of one namespace's dat0 as "key value" lines.
snapshot() {  # snapshot NS
  local ns=$1 d=/sys/class/net/dat0/statistics
  timeout 10 ip netns exec "$ns" sh -c "
    tc -s qdisc show dev dat0 | sed -n 's/.*Sent \([0-9]*\) bytes \([0-9]*\) pkt (dropped \([0-9]*\),.*/q_sent \2\nq_drop \3/p'
    tc -s qdisc show dev dat0 | sed -n 's/.*backlog [0-9]*b \([0-9]*\)p.*/q_backlog \1/p'
    for k in tx_packets tx_dropped rx_packets rx_dropped; do echo \"\$k \$(cat $d/\$k)\"; done
    awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) n[i] = \$i; h = 1 } else for (i = 2; i <= NF; i++) print \"udp_\" n[i], \$i }' /proc/net/snmp
  "
}
get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }  # get FILE KEY
delta() { echo $(($(get "$2" "$3") - $(get "$1" "$3"))); }  # delta BEFORE AFTER KEY

passed=0
failed=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

run_direction() {  # run_direction -t|-r
  local flag=$1 tag sender_ns receiver_ns
  if [ "$flag" = -t ]; then tag=client-tx; sender_ns=$NS_C; receiver_ns=$NS_S; else tag=client-rx; sender_ns=$NS_S; receiver_ns=$NS_C; fi
  local ends_before
  ends_before=$(grep -c TEST_END "$WORK/server.log")
  snapshot "$sender_ns" >"$WORK/$tag.s0"; snapshot "$receiver_ns" >"$WORK/$tag.r0"

  timeout 30 ip netns exec "$NS_C" "$BTEST" -c "$IP_S" -P "$PORT" -u "$flag" -b "$SEND_RATE" --udp-size "$SIZE" \
    -d "$DURATION" --json >"$WORK/$tag.json" 2>"$WORK/$tag.err" &
  local cpid=$!
  # Mid-test snapshot: datagrams that reached the receiver's host while no socket
  # was bound (Udp NoPorts) before this point are the head (see 3. above); any
  # after it mean the receiver stopped listening before the tail arrived.
  sleep 1.5
  snapshot "$receiver_ns" >"$WORK/$tag.rm"
  wait "$cpid"
  local rc=$?
  check "[$tag] client exits 0" test "$rc" = 0
  [ "$rc" = 0 ] || { cat "$WORK/$tag.err"; return; }

  # The server logs TEST_END once it has drained its socket; the tbf queue must be empty.
  local ended=0
  for _ in $(seq 1 100); do
    if [ "$(grep -c TEST_END "$WORK/server.log")" -gt "$ends_before" ]; then ended=1; break; fi
    sleep 0.05
  done
  check "[$tag] server logged TEST_END" test "$ended" = 1
  [ "$ended" = 1 ] || { cat "$WORK/server.log"; return; }
  for _ in $(seq 1 40); do
    snapshot "$sender_ns" >"$WORK/$tag.s1"
    [ "$(get "$WORK/$tag.s1" q_backlog)" = 0 ] && break
    sleep 0.05
  done
  snapshot "$receiver_ns" >"$WORK/$tag.r1"

  local line s_tx s_rx s_lost c_tx c_rx c_lost c_pct
  line=$(grep TEST_END "$WORK/server.log" | tail -n 1)
  s_tx=$(sed -n 's/.*udp_tx_datagrams=\([0-9]*\).*/\1/p' <<<"$line")
  s_rx=$(sed -n 's/.*udp_rx_datagrams=\([0-9]*\).*/\1/p' <<<"$line")
  s_lost=$(sed -n 's/.*udp_lost=\([0-9]*\).*/\1/p' <<<"$line")
  read -r c_tx c_rx c_lost c_pct < <(python3 -c "
import json, sys
u = json.load(open(sys.argv[1]))['udp']
print(u['tx_datagrams'], u['rx_datagrams'], u['lost'], u['loss_percent'])" "$WORK/$tag.json")
  check "[$tag] server TEST_END has the UDP counts" test -n "$s_tx" -a -n "$s_rx" -a -n "$s_lost"
  check "[$tag] client --json has the UDP counts" test -n "$c_tx" -a -n "$c_rx" -a -n "$c_lost"
  if [ -z "$s_tx" ] || [ -z "$c_tx" ]; then echo "$line"; cat "$WORK/$tag.json"; return; fi

  local tx rx lost pct
  if [ "$flag" = -t ]; then tx=$c_tx rx=$s_rx lost=$s_lost pct=""; else tx=$s_tx rx=$c_rx lost=$c_lost pct=$c_pct; fi
  local s0=$WORK/$tag.s0 s1=$WORK/$tag.s1 r0=$WORK/$tag.r0 r1=$WORK/$tag.r1
  local q_sent q_drop link_tx link_rx link_txdrop link_rxdrop udp_in udp_noports udp_rcvbuf udp_inerr
  q_sent=$(delta "$s0" "$s1" q_sent); q_drop=$(delta "$s0" "$s1" q_drop)
  link_tx=$(delta "$s0" "$s1" tx_packets); link_txdrop=$(delta "$s0" "$s1" tx_dropped)
  link_rx=$(delta "$r0" "$r1" rx_packets); link_rxdrop=$(delta "$r0" "$r1" rx_dropped)
  udp_in=$(delta "$r0" "$r1" udp_InDatagrams); udp_noports=$(delta "$r0" "$r1" udp_NoPorts)
  udp_rcvbuf=$(delta "$r0" "$r1" udp_RcvbufErrors); udp_inerr=$(delta "$r0" "$r1" udp_InErrors)
  local head late
  head=$(delta "$r0" "$WORK/$tag.rm" udp_NoPorts); late=$(delta "$WORK/$tag.rm" "$r1" udp_NoPorts)
  local unseen=$((tx - rx - lost)) tail=$((q_drop - lost))
  echo "[$tag] btest:  sender tx_datagrams=$tx  receiver rx_datagrams=$rx lost=$lost  unseen(tx-rx-lost)=$unseen"
  echo "[$tag] kernel: tbf sent=$q_sent dropped=$q_drop  dat0 tx_packets=$link_tx tx_dropped=$link_txdrop" \
       " peer dat0 rx_packets=$link_rx rx_dropped=$link_rxdrop  receiver Udp InDatagrams=$udp_in" \
       "NoPorts=$udp_noports (head $head, after mid-test $late) RcvbufErrors=$udp_rcvbuf InErrors=$udp_inerr"
  echo "[$tag] unseen = head $head (arrived before the receiver bound its port) + tail $tail (tbf drops - lost)"
  echo "[$tag] other side: server tx=$s_tx rx=$s_rx lost=$s_lost; client tx=$c_tx rx=$c_rx lost=$c_lost"

  local probes=0
  if [ "$flag" = -t ]; then probes=1; fi
  check "[$tag] tbf sent + dropped == sender's tx_datagrams + probes ($q_sent + $q_drop vs $tx + $probes)" \
    test $((q_sent + q_drop)) = $((tx + probes))
  check "[$tag] the link lost nothing besides tbf (tx $link_tx, rx $link_rx, tbf sent $q_sent)" \
    test "$link_tx" = "$q_sent" -a "$link_rx" = "$q_sent"
  check "[$tag] no datagram arrived after the receiver stopped listening (NoPorts after mid-test: $late)" \
    test "$late" = 0
  check "[$tag] no datagram arrived before the receiver had bound its port (NoPorts in the first 1.5 s: $head)" \
    test "$head" = 0
  check "[$tag] receiver counted every datagram that arrived ($rx + probes $probes == $link_rx; RcvbufErrors $udp_rcvbuf)" \
    test $((rx + probes)) = "$link_rx"
  check "[$tag] reported loss is never above the true loss (lost $lost <= tbf drops $q_drop)" test "$tail" -ge 0
  check "[$tag] tx - rx - lost ($unseen) == head ($head) + tail ($tail = tbf drops - lost), tail <= $TAIL_MAX" \
    test "$tail" -ge 0 -a "$tail" -le "$TAIL_MAX" -a "$unseen" = $((head + tail))
  check "[$tag] loss is substantial (>= $MIN_LOSS_PCT %)" \
    test $((lost * 100)) -ge $((MIN_LOSS_PCT * (rx + lost))) -a "$rx" -gt 0
  if [ -n "$pct" ]; then
    check "[$tag] loss_percent $pct == 100*lost/(rx+lost)" python3 -c "
import sys; p, l, r = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sys.exit(0 if abs(p - 100.0 * l / (r + l)) < 1e-6 else 1)" "$pct" "$lost" "$rx"
  fi
  # The side that did not receive must not invent loss.
  if [ "$flag" = -t ]; then check "[$tag] client (not receiving) reports no loss" test "$c_lost" = 0 -a "$c_rx" = 0
  else check "[$tag] server (not receiving) reports no loss" test "$s_lost" = 0 -a "$s_rx" = 0; fi
}

run_direction -t
run_direction -r

echo "passed=$passed failed=$failed"
[ "$failed" = 0 ]
