#!/usr/bin/env bash
# Self-test of the scan lab (tests/lab/lab.sh), with nmap as the independent oracle.
# Run by CTest as scan_lab_selftest (root). Exit 0 pass, 1 fail, 77 skip (only when
# not root or when network namespaces cannot be created). Missing nmap/nft/ip is a
# failure: run scripts/install-deps.
#
# What it checks (see tests/lab/README.md):
#   - a lab with ~200 open TCP ports scattered over 1-65535 (1 and 65535 included,
#     plus a range), 20 filtered TCP ports, UDP 7/53 open, UDP 161 filtered, 3
#     target addresses: `info` is sourceable and its lists equal what was asked;
#   - nmap -sT -p- (IPv4 and IPv6) finds exactly the open set, exactly the filtered
#     set, and everything else closed; on an extra target address too;
#   - nmap -sU: 7 and 53 open (also from an extra address: replies come from the
#     address asked), 9 closed, 161 open|filtered;
#   - bash /dev/tcp: open port connects, closed port is refused, filtered port times out;
#   - UDP echo returns the payload; port 53 returns a DNS-shaped reply;
#   - a burst of 3000 concurrent connects to the open ports all complete;
#   - a second lab can be up at the same time (own K), with --drop-percent 50,
#     --tbf and --icmp-ratelimit off: the nft numgen rules, tbf and sysctl are in
#     place and ~75 % of UDP echoes are lost;
#   - a third lab with --reject-tcp, --unreach-tcp and --count-addrs: connects get
#     the errno of the ICMP (admin-prohibited: EHOSTUNREACH over IPv4, EACCES over
#     IPv6; host-unreachable: EHOSTUNREACH), and `counters` counts per address;
#   - bad names and duplicate `up` are refused; a failure half-way through `up`
#     leaves nothing behind; `down` removes namespaces, state and listener, and is
#     idempotent.
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
LAB="$HERE/lab.sh"
SKIP=77
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit $SKIP; }
for tool in ip nft nmap timeout tc; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found; run scripts/install-deps"; exit 1; }
done
command -v "$PY" >/dev/null || { echo "FAIL: python3 not found; run scripts/install-deps"; exit 1; }

PROBE="lst-probe-$$"
if ! err=$(timeout 10 ip netns add "$PROBE" 2>&1); then
  echo "SKIP: cannot create a network namespace: $err"
  exit $SKIP
fi
timeout 10 ip netns del "$PROBE"

NAME="lst$$"       # <= 10 characters: pids are at most 7 digits
NAME2="lsu$$"
WORK=$(mktemp -d)
cleanup() {
  "$LAB" down "$NAME" 2>/dev/null
  "$LAB" down "$NAME2" 2>/dev/null
  "$LAB" down "lsf$$" 2>/dev/null
  "$LAB" down "lsr$$" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
check() {  # check NAME CMD...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}
now() { date +%s.%N; }
elapsed() { "$PY" -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }

# ---------------------------------------------------------------- ground truth
# Deterministic scattered ports: 1, 65535, a small range, and multiples of a
# prime modulo 65533; 20 filtered ports from another sequence, disjoint.
read -r TCP_SPEC FILT_SPEC CLOSED_PORT < <("$PY" - <<'EOF'
opn = {1, 65535}
i = 1
while len(opn) < 195:
    opn.add((i * 32749) % 65533 + 2); i += 1
spec = sorted(opn)
spec = [str(p) for p in spec] + ["40000-40004", "40002"]   # a range, and an overlap
opn |= set(range(40000, 40005))
filt = []
i = 1
while len(filt) < 20:
    p = (i * 7919) % 60000 + 2000; i += 1
    if p not in opn and p not in filt: filt.append(p)
filt = sorted(filt)
closed = next(p for p in range(2, 65535) if p not in opn and p not in filt)
print(",".join(spec), ",".join(map(str, filt)), closed)
EOF
)
EXP_OPEN=$(tr ',' '\n' <<<"$TCP_SPEC" | "$PY" -c "
import sys
s = set()
for t in sys.stdin.read().split():
    a, _, b = t.partition('-'); s.update(range(int(a), int(b or a) + 1))
print(','.join(map(str, sorted(s))))")
EXP_FILT=$FILT_SPEC
N_OPEN=$(tr ',' '\n' <<<"$EXP_OPEN" | wc -l)
N_FILT=$(tr ',' '\n' <<<"$EXP_FILT" | wc -l)
echo "ground truth: $N_OPEN open TCP ports (first/last $(cut -d, -f1 <<<"$EXP_OPEN")/${EXP_OPEN##*,}), $N_FILT filtered, closed probe port $CLOSED_PORT"

# ---------------------------------------------------------------- refusals
"$LAB" up "Bad_Name" --tcp 80 >/dev/null 2>&1; rc=$?
check "bad lab name refused with exit 2 (got $rc)" test "$rc" = 2
"$LAB" up "abcdefghijklm" --tcp 80 >/dev/null 2>&1; rc=$?
check "13-character lab name refused with exit 2 (got $rc)" test "$rc" = 2
"$LAB" up "lsf$$" --tcp 80 --filtered-tcp 80 >/dev/null 2>&1; rc=$?
check "a port both open and filtered is refused with exit 2 (got $rc)" test "$rc" = 2
"$LAB" up "lsf$$" --tcp 1-65536 >/dev/null 2>&1; rc=$?
check "port 65536 refused with exit 2 (got $rc)" test "$rc" = 2
for bad in "--tcp 80 --reject-tcp 70-90" "--filtered-tcp 85 --unreach-tcp 85" "--reject-tcp 82 --unreach-tcp 80-82" "--reject-tcp 0"; do
  # shellcheck disable=SC2086  # $bad is a list of options
  "$LAB" up "lsf$$" $bad >/dev/null 2>&1; rc=$?
  check "up $bad refused with exit 2 (got $rc)" test "$rc" = 2
done
LRLAB_FAIL_AT=listener "$LAB" up "lsf$$" --tcp 80 --filtered-tcp 81 --tbf 10mbit >/dev/null 2>&1; rc=$?
check "injected failure half-way through up: exit 1 (got $rc)" test "$rc" = 1
check "... and no namespace or state is left behind" \
  test ! -e "/run/netns/lsf$$-scan" -a ! -e "/run/netns/lsf$$-tgt" -a ! -e "/run/linerate-lab/lsf$$"

# ---------------------------------------------------------------- up
t0=$(now)
if ! timeout 60 "$LAB" up "$NAME" --tcp "$TCP_SPEC" --filtered-tcp "$FILT_SPEC" --udp 7,53 --filtered-udp 161 --addrs 3; then
  echo "FAIL: lab.sh up $NAME"; exit 1
fi
t1=$(now)
echo "TIMING lab up ($N_OPEN TCP ports, 3 addresses): $(elapsed "$t0" "$t1") s"
"$LAB" info "$NAME" >"$WORK/info" || { echo "FAIL: lab.sh info $NAME"; exit 1; }
# shellcheck disable=SC1091
. "$WORK/info"
check "info: SCAN_NS/TGT_NS are $NAME-scan/$NAME-tgt" test "$SCAN_NS" = "$NAME-scan" -a "$TGT_NS" = "$NAME-tgt"
check "info: TCP_OPEN equals the configured open set ($TCP_OPEN_COUNT ports)" test "$TCP_OPEN" = "$EXP_OPEN"
check "info: FILTERED_TCP equals the configured filtered set" test "$FILTERED_TCP" = "$EXP_FILT"
check "info: UDP_OPEN=7,53 FILTERED_UDP=161" test "$UDP_OPEN" = "7,53" -a "$FILTERED_UDP" = "161"
check "info: addresses 10.213.$LAB_K.{1,2} fd13:$LAB_K::{1,2}" \
  test "$SCAN_ADDR" = "10.213.$LAB_K.1" -a "$TGT_ADDR" = "10.213.$LAB_K.2" -a "$SCAN_ADDR6" = "fd13:$LAB_K::1" -a "$TGT_ADDR6" = "fd13:$LAB_K::2"
check "info: 3 target addresses" test "$TGT_ADDRS" = "10.213.$LAB_K.2,10.213.$LAB_K.3,10.213.$LAB_K.4"
check "info: TCP_OPEN_FILE lists the open set" test "$(paste -sd, "$TCP_OPEN_FILE")" = "$EXP_OPEN"
check "listener $LISTENER_PID runs in $TGT_NS" bash -c "timeout 5 ip netns pids '$TGT_NS' | grep -qx '$LISTENER_PID'"
check "duplicate up of a running lab refused (exit 1)" bash -c "! '$LAB' up '$NAME' --tcp 80 >/dev/null 2>&1"
check "... and the running lab is intact" test -f "$STATE_DIR/info" -a -e "/run/netns/$TGT_NS"

scan() { timeout 120 ip netns exec "$SCAN_NS" "$@"; }

# nmap -oG "Ports:" field -> lines "port state proto"
nmap_ports() {  # nmap_ports FILE
  sed -n 's/.*\tPorts: \([^\t]*\).*/\1/p' "$1" | tr ',' '\n' | sed 's/^ *//' | awk -F/ 'NF > 2 { print $1, $2, $3 }'
}
ports_in_state() { nmap_ports "$1" | awk -v s="$2" '$2 == s { print $1 }' | sort -n | paste -sd, -; }
ignored() { sed -n 's/.*Ignored State: \([a-z|]*\) (\([0-9]*\)).*/\1 \2/p' "$1"; }
nmap_secs() { sed -n 's/.*scanned in \([0-9.]*\) seconds.*/\1/p' "$1"; }

full_tcp_scan() {  # full_tcp_scan LABEL ADDR [nmap flags...]
  local label=$1 addr=$2; shift 2
  local out="$WORK/nmap-$label.gnmap" t0 t1
  t0=$(now)
  scan nmap "$@" -sT -n -Pn -p- -T4 "$addr" -oG "$out" >/dev/null 2>"$WORK/nmap-$label.err"
  local rc=$?
  t1=$(now)
  echo "TIMING nmap -sT -n -Pn -p- -T4 $label $addr: wall $(elapsed "$t0" "$t1") s, nmap reports $(nmap_secs "$out") s"
  check "[$label] nmap exits 0 (got $rc)" test "$rc" = 0
  local got_open got_filt other
  got_open=$(ports_in_state "$out" open)
  got_filt=$(ports_in_state "$out" filtered)
  other=$(nmap_ports "$out" | awk '$2 != "open" && $2 != "filtered"' | head -5 | paste -sd' ' -)
  check "[$label] nmap's open set equals the configured open set ($(tr ',' '\n' <<<"$got_open" | grep -c .) of $N_OPEN)" \
    test "$got_open" = "$EXP_OPEN"
  [ "$got_open" = "$EXP_OPEN" ] || diff <(tr ',' '\n' <<<"$EXP_OPEN") <(tr ',' '\n' <<<"$got_open") | head -20
  check "[$label] nmap's filtered set equals the configured filtered set" test "$got_filt" = "$EXP_FILT"
  [ "$got_filt" = "$EXP_FILT" ] || echo "  expected $EXP_FILT; got $got_filt"
  check "[$label] no port in another state listed (${other:-none})" test -z "$other"
  check "[$label] everything else closed: Ignored State: closed ($((65535 - N_OPEN - N_FILT)))" \
    test "$(ignored "$out")" = "closed $((65535 - N_OPEN - N_FILT))"
}

# ---------------------------------------------------------------- nmap oracle, TCP
full_tcp_scan ipv4 "$TGT_ADDR"
full_tcp_scan ipv6 "$TGT_ADDR6" -6
EXTRA=${TGT_ADDRS##*,}
out="$WORK/nmap-extra.gnmap"
scan nmap -sT -n -Pn -T4 -p "$TCP_OPEN_SPEC,$FILTERED_TCP_SPEC,$CLOSED_PORT" "$EXTRA" -oG "$out" >/dev/null 2>&1
check "[extra address $EXTRA] open set equals the configured open set" test "$(ports_in_state "$out" open)" = "$EXP_OPEN"
check "[extra address $EXTRA] filtered set equals the configured filtered set" test "$(ports_in_state "$out" filtered)" = "$EXP_FILT"
check "[extra address $EXTRA] port $CLOSED_PORT closed" test "$(ports_in_state "$out" closed)" = "$CLOSED_PORT"

# ---------------------------------------------------------------- nmap oracle, UDP
for addr in "$TGT_ADDR" "$EXTRA" "$TGT_ADDR6"; do
  fam=""; [[ $addr == *:* ]] && fam=-6
  out="$WORK/nmap-udp-$addr.gnmap"
  t0=$(now)
  scan nmap $fam -sU -n -Pn -p 7,9,53,161 "$addr" -oG "$out" >/dev/null 2>&1
  t1=$(now)
  echo "TIMING nmap -sU -p 7,9,53,161 $addr: wall $(elapsed "$t0" "$t1") s"
  check "[udp $addr] nmap: 7 and 53 open" test "$(ports_in_state "$out" open)" = "7,53"
  check "[udp $addr] nmap: 9 closed" test "$(ports_in_state "$out" closed)" = "9"
  check "[udp $addr] nmap: 161 (nft drop) open|filtered" test "$(ports_in_state "$out" 'open|filtered')" = "161"
done

# ---------------------------------------------------------------- plain sockets
first_open=${TCP_OPEN%%,*}
check "bash /dev/tcp to open port $TGT_ADDR:$first_open connects" \
  scan timeout 5 bash -c "exec 3<>/dev/tcp/$TGT_ADDR/$first_open"
check "bash /dev/tcp to open port [$TGT_ADDR6]:65535 connects" \
  scan timeout 5 bash -c "exec 3<>/dev/tcp/$TGT_ADDR6/65535"
scan timeout 5 bash -c "exec 3<>/dev/tcp/$TGT_ADDR/$CLOSED_PORT" 2>"$WORK/refused.err"; rc=$?
check "bash /dev/tcp to closed port $CLOSED_PORT is refused (rc $rc: $(tr '\n' ' ' <"$WORK/refused.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'Connection refused' '$WORK/refused.err'"
first_filt=${FILTERED_TCP%%,*}
ip netns exec "$SCAN_NS" timeout 2 bash -c "exec 3<>/dev/tcp/$TGT_ADDR/$first_filt" 2>/dev/null; rc=$?
check "bash /dev/tcp to filtered port $first_filt times out (rc $rc, want 124)" test "$rc" = 124

check "UDP echo on 7 (IPv4, IPv6, extra address) returns the payload; 53 answers DNS-shaped" \
  scan "$PY" - "$TGT_ADDR" "$TGT_ADDR6" "$EXTRA" <<'EOF'
import socket, struct, sys
ok = True
for addr in sys.argv[1:]:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2); s.connect((addr, 7))
    s.send(b"lab-echo-\x00\xff"); r = s.recv(100)
    if r != b"lab-echo-\x00\xff": print("echo from", addr, "gave", r); ok = False
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\x00\x00\x01\x00\x01"
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2); s.connect((addr, 53))
    s.send(q); r = s.recv(512)
    if r[:2] != b"\x12\x34" or not (r[2] & 0x80) or r[12:] != q[12:]: print("dns from", addr, "gave", r); ok = False
sys.exit(0 if ok else 1)
EOF

t0=$(now)
check "a burst of 3000 concurrent connects to the open ports all complete" \
  scan "$PY" - "$TGT_ADDR" "$TCP_OPEN" <<'EOF'
import errno, resource, selectors, socket, sys, time
addr, ports = sys.argv[1], [int(p) for p in sys.argv[2].split(",")]
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, max(8192, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
sel = selectors.DefaultSelector(); socks = []
for i in range(3000):
    s = socket.socket(); s.setblocking(False)
    e = s.connect_ex((addr, ports[i % len(ports)]))
    if e not in (0, errno.EINPROGRESS): print("connect", e); sys.exit(1)
    sel.register(s, selectors.EVENT_WRITE); socks.append(s)
done = bad = 0; end = time.time() + 20
while done + bad < 3000 and time.time() < end:
    for k, _ in sel.select(1):
        e = k.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        sel.unregister(k.fileobj)
        if e: bad += 1
        else: done += 1
print("  burst: %d connected, %d failed, %d pending" % (done, bad, 3000 - done - bad))
sys.exit(0 if done == 3000 else 1)
EOF
t1=$(now)
echo "TIMING burst of 3000 connects: $(elapsed "$t0" "$t1") s"

check "nft table in $TGT_NS drops the filtered ports (counters > 0)" \
  bash -c "timeout 5 ip netns exec '$TGT_NS' nft list table inet lrlab | grep -qE 'tcp dport @filtered_tcp counter packets [1-9]'"

# ---------------------------------------------------------------- a second lab in parallel, lossy
if timeout 60 "$LAB" up "$NAME2" --udp 7 --tcp 80 --drop-percent 50 --tbf 20mbit --icmp-ratelimit off >/dev/null; then
  "$LAB" info "$NAME2" >"$WORK/info2"
  K2=$(sed -n 's/^LAB_K=//p' "$WORK/info2"); A2=$(sed -n 's/^TGT_ADDR=//p' "$WORK/info2")
  check "second lab up at the same time with its own K ($K2 vs $LAB_K)" test -n "$K2" -a "$K2" != "$LAB_K"
  check "second lab: --icmp-ratelimit off sets net.ipv4.icmp_ratelimit=0 in the target" \
    test "$("$LAB" exec "$NAME2" tgt sysctl -n net.ipv4.icmp_ratelimit)" = 0
  check "... and only there (scanner keeps the default)" \
    test "$("$LAB" exec "$NAME2" scan sysctl -n net.ipv4.icmp_ratelimit)" != 0
  check "second lab: tbf on the target's veth" bash -c "'$LAB' exec '$NAME2' tgt tc qdisc show dev lrt0 | grep -q 'tbf.*rate 20Mbit'"
  check "second lab: numgen random drop rules on ingress and egress" \
    bash -c "[ \$('$LAB' exec '$NAME2' tgt nft list table netdev lrlab_loss | grep -c 'numgen random mod 100 < 50') = 2 ]"
  check "second lab: ~75 % of 1000 UDP echoes lost (50 % each way)" \
    timeout 60 "$LAB" exec "$NAME2" scan "$PY" - "$A2" <<'EOF'
import socket, sys, time
s = socket.socket(); s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((sys.argv[1], 7))
s.setblocking(False); got = 0
for i in range(1000):
    s.send(b"x%d" % i); time.sleep(0.0005)
    try:
        while True: s.recv(100); got += 1
    except BlockingIOError: pass
end = time.time() + 1
while time.time() < end:
    try: s.recv(100); got += 1
    except BlockingIOError: time.sleep(0.01)
print("  lossy lab: %d of 1000 echoes returned (expect ~250)" % got)
sys.exit(0 if 150 <= got <= 350 else 1)
EOF
  check "first lab unaffected: /dev/tcp to $TGT_ADDR:65535 still connects" \
    scan timeout 5 bash -c "exec 3<>/dev/tcp/$TGT_ADDR/65535"
  "$LAB" down "$NAME2"
  check "second lab down" test ! -e "/run/netns/$NAME2-scan" -a ! -e "/run/netns/$NAME2-tgt"
else
  check "second lab up (--drop-percent 50 --tbf 20mbit)" false
fi

# ---------------------------------------------------------------- ICMP rejects, counters
check "counters on a lab without --count-addrs fails (exit 1)" bash -c "'$LAB' counters '$NAME' >/dev/null 2>&1; [ \$? = 1 ]"
if timeout 60 "$LAB" up "lsr$$" --tcp 80 --reject-tcp 82,83 --unreach-tcp 85 --addrs 2 --count-addrs --icmp-ratelimit off >/dev/null; then
  "$LAB" info "lsr$$" >"$WORK/info3"
  R4=$(sed -n 's/^TGT_ADDR=//p' "$WORK/info3"); R6=$(sed -n 's/^TGT_ADDR6=//p' "$WORK/info3")
  check "reject lab: info has REJECT_TCP=82,83 UNREACH_TCP=85 COUNT_ADDRS=1 and the files" \
    bash -c "grep -qx REJECT_TCP=82,83 '$WORK/info3' && grep -qx UNREACH_TCP=85 '$WORK/info3' &&
             grep -qx COUNT_ADDRS=1 '$WORK/info3' && [ \"\$(paste -sd, \"\$(sed -n 's/^REJECT_TCP_FILE=//p' '$WORK/info3')\")\" = 82,83 ]"
  # Over IPv6 the first ICMPv6 error reaches the socket only with the kernel's SYN
  # retransmission 1 s later (it arrives while connect() still holds the socket).
  check "reject lab: connect() errnos: v4 82/85 EHOSTUNREACH, v6 82 EACCES, v6 85 EHOSTUNREACH, 80 connects" \
    timeout 30 "$LAB" exec "lsr$$" scan "$PY" - "$R4" "$R6" <<'EOF'
import errno, socket, sys
v4, v6 = sys.argv[1], sys.argv[2]
want = [(v4, 82, errno.EHOSTUNREACH), (v4, 85, errno.EHOSTUNREACH), (v6, 82, errno.EACCES),
        (v6, 85, errno.EHOSTUNREACH), (v4, 80, 0), (v6, 80, 0)]
ok = True
for addr, port, err in want:
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.settimeout(3)
    got = s.connect_ex((addr, port))
    print("  connect %s port %d: %s" % (addr, port, errno.errorcode.get(got, got)))
    ok = ok and got == err
sys.exit(0 if ok else 1)
EOF
  check "reject lab: the nft reject rules counted the SYNs" \
    bash -c "'$LAB' exec 'lsr$$' tgt nft list table inet lrlab | grep -qE 'reject_tcp counter packets [1-9].*admin-prohibited' &&
             '$LAB' exec 'lsr$$' tgt nft list table inet lrlab | grep -qE 'unreach_tcp counter packets [1-9].*host-unreachable'"
  "$LAB" counters "lsr$$" >"$WORK/counters3"; rc=$?
  check "reject lab: counters lists 2+2 addresses and other (rc $rc): $(paste -sd' ' "$WORK/counters3")" \
    test "$rc" = 0 -a "$(wc -l <"$WORK/counters3")" = 5
  # shellcheck disable=SC2016  # awk's own $1/$2
  check "reject lab: packets counted for the address used, none for the other one" \
    awk -v a="$R4" -v b="${R4%.*}.3" '$1 == a && $2 > 0 { x++ } $1 == b && $2 == 0 { y++ } END { exit !(x && y) }' "$WORK/counters3"
  "$LAB" down "lsr$$"
else
  check "reject lab up (--reject-tcp --unreach-tcp --count-addrs)" false
fi

# ---------------------------------------------------------------- down
t0=$(now)
"$LAB" down "$NAME"; rc=$?
t1=$(now)
echo "TIMING lab down: $(elapsed "$t0" "$t1") s"
check "down exits 0" test "$rc" = 0
check "namespaces $SCAN_NS and $TGT_NS are gone" \
  bash -c "! ip netns list | awk '{print \$1}' | grep -qx -e '$SCAN_NS' -e '$TGT_NS'"
check "state dir $STATE_DIR is gone" test ! -e "$STATE_DIR"
check "listener $LISTENER_PID is gone" bash -c "! [ -d /proc/$LISTENER_PID ] || grep -q '^State:.*Z' /proc/$LISTENER_PID/status"
"$LAB" down "$NAME"; rc=$?
check "down again (already gone) exits 0 (got $rc)" test "$rc" = 0
check "info after down fails" bash -c "! '$LAB' info '$NAME' >/dev/null 2>&1"

echo "passed=$passed failed=$failed"
[ "$failed" = 0 ]
