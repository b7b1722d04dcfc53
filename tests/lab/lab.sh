#!/usr/bin/env bash
# The scan lab (spec lrscan.md section 6): two network namespaces joined by a veth
# pair, a listener with a known set of open ports in the target, nftables drops
# for filtered ports, ICMP rejects, optional random loss, optional tbf shaping.
# See tests/lab/README.md. Needs root.
#
#   lab.sh up NAME [--tcp PORTS] [--udp PORTS] [--filtered-tcp PORTS]
#                  [--filtered-udp PORTS] [--reject-tcp PORTS] [--unreach-tcp PORTS]
#                  [--addrs N] [--tbf RATE] [--drop-percent P]
#                  [--icmp-ratelimit on|off] [--count-addrs]
#   lab.sh down NAME
#   lab.sh exec NAME scan|tgt CMD [ARGS...]
#   lab.sh info NAME
#   lab.sh counters NAME        # ADDR PACKETS per target address (--count-addrs)
#
# PORTS: comma list of ports and ranges, e.g. 1,22,80,1000-1010,65535.
# Exit codes: 0 ok, 1 failure (up undoes what it created), 2 bad usage.
set -uo pipefail

HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
STATE_ROOT=${LRLAB_STATE_ROOT:-/run/linerate-lab}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || echo /usr/bin/python3)
T=10                  # timeout for each ip/nft/tc/sysctl command, seconds
READY_TIMEOUT=${LRLAB_READY_TIMEOUT:-30}
SCAN_IF=lrs0          # scanner end of the veth pair (in NAME-scan)
TGT_IF=lrt0           # target end (in NAME-tgt)

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "lab.sh: $*" >&2; exit 1; }
bad() { echo "lab.sh: $*" >&2; exit 2; }
t() { timeout "$T" "$@"; }

check_name() {
  [[ ${1:-} =~ ^[a-z0-9-]{1,12}$ ]] || bad "bad lab name '${1:-}': must match [a-z0-9-]{1,12}"
}
ns_exists() { [ -e "/run/netns/$1" ]; }   # where `ip netns` keeps its names

# ---------------------------------------------------------------- down
# alive PID: running and not a zombie (our parent may be a slow reaper as PID 1).
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }
do_down() {  # do_down NAME; quiet, idempotent; returns 1 only if something is left
  local name=$1 dir="$STATE_ROOT/$1" rc=0 pid ns p
  if [ -f "$dir/listener.pid" ]; then
    pid=$(cat "$dir/listener.pid" 2>/dev/null)
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" &&
       grep -q listener.py "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 60); do alive "$pid" || break; sleep 0.05; done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
  fi
  for ns in "$name-scan" "$name-tgt"; do
    ns_exists "$ns" || continue
    # Whatever still runs in the namespace (listener, commands from `exec`) goes.
    for p in $(t ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 20); do [ -z "$(t ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
    for p in $(t ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    t ip netns del "$ns" 2>/dev/null
    if ns_exists "$ns"; then echo "lab.sh: could not delete namespace $ns" >&2; rc=1; fi
  done
  rm -rf -- "$dir"
  return $rc
}

# ---------------------------------------------------------------- ports
# normalize_ports KEY SPEC...: validates and prints KEY=compact,merged,spec lines;
# fails (exit 2) naming the bad token; refuses a port that is in two of the
# sets of one protocol (open, filtered, reject, unreach). Also writes
# one-port-per-line files.
normalize_ports() {  # normalize_ports OUTDIR tcp udp ftcp fudp rtcp utcp
  "$PY" - "$@" <<'PYEOF'
import itertools, os, re, sys
keys = ("TCP_OPEN", "UDP_OPEN", "FILTERED_TCP", "FILTERED_UDP", "REJECT_TCP", "UNREACH_TCP")
outdir, specs = sys.argv[1], dict(zip(keys, sys.argv[2:8]))
opt = {"TCP_OPEN": "--tcp", "UDP_OPEN": "--udp", "FILTERED_TCP": "--filtered-tcp", "FILTERED_UDP": "--filtered-udp",
       "REJECT_TCP": "--reject-tcp", "UNREACH_TCP": "--unreach-tcp"}
sets = {}
for key, spec in specs.items():
    ports = set()
    if spec != "":
        for tok in spec.split(","):
            m = re.fullmatch(r"([0-9]{1,5})(?:-([0-9]{1,5}))?", tok)
            lo = hi = None
            if m:
                lo = int(m.group(1)); hi = int(m.group(2)) if m.group(2) else lo
            if not m or not (1 <= lo <= hi <= 65535):
                sys.stderr.write("lab.sh: bad port '%s' in %s %s\n" % (tok, opt[key], spec)); sys.exit(2)
            ports.update(range(lo, hi + 1))
    sets[key] = ports
disjoint = (("TCP_OPEN", "FILTERED_TCP", "REJECT_TCP", "UNREACH_TCP"), ("UDP_OPEN", "FILTERED_UDP"))
for group in disjoint:
    for a, b in itertools.combinations(group, 2):
        both = sets[a] & sets[b]
        if both:
            sys.stderr.write("lab.sh: port(s) both in %s and %s: %s\n" % (opt[a], opt[b], ",".join(map(str, sorted(both)[:10])))); sys.exit(2)
def compact(ports):
    out, p = [], sorted(ports)
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and p[j + 1] == p[j] + 1: j += 1
        out.append(str(p[i]) if i == j else "%d-%d" % (p[i], p[j]))
        i = j + 1
    return ",".join(out)
for key, ports in sets.items():
    with open(os.path.join(outdir, key.lower() + ".txt"), "w") as f:
        f.write("".join("%d\n" % x for x in sorted(ports)))
    print("%s=%s" % (key, ",".join(map(str, sorted(ports)))))
    print("%s_SPEC=%s" % (key, compact(ports)))
    print("%s_COUNT=%d" % (key, len(ports)))
PYEOF
}

# tbf burst in bytes for RATE: 20 ms worth of data, at least 32 KiB.
tbf_burst() {
  "$PY" - "$1" <<'PYEOF'
import re, sys
m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([kmgt]?)(bit|bps)?", sys.argv[1].lower())
if not m or float(m.group(1)) <= 0: sys.exit(2)
mult = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}[m.group(2)]
bps = float(m.group(1)) * mult * (8 if m.group(3) == "bps" else 1)   # bits/s ("bit" is tc's default unit)
print(max(32768, int(bps / 8 * 0.02)))
PYEOF
}

# nft set of ports NAME from SPEC (nothing when SPEC is empty).
port_set() {  # port_set NAME SPEC
  [ -n "$2" ] || return 0
  printf '  set %s {\n    type inet_service; flags interval;\n    elements = { %s }\n  }\n' "$1" "${2//,/, }"
}
# Name of the per-address counter of a target address: 10.213.K.N -> v4_N,
# fd13:K::N -> v6_N.
addr_counter() {  # addr_counter ADDR
  case $1 in *:*) echo "v6_${1##*:}" ;; *) echo "v4_${1##*.}" ;; esac
}

# ---------------------------------------------------------------- up
UP_NAME=""
UP_DONE=0
up_cleanup() {
  if [ -n "$UP_NAME" ] && [ "$UP_DONE" = 0 ]; then
    echo "lab.sh: up $UP_NAME failed; removing what was created" >&2
    do_down "$UP_NAME" || true
  fi
}
step() {  # step DESCRIPTION CMD...: run CMD, abort `up` naming DESCRIPTION on failure
  local what=$1; shift
  if [ "${LRLAB_FAIL_AT:-}" = "$what" ]; then echo "lab.sh: injected failure at '$what'" >&2; exit 1; fi
  local err
  if ! err=$("$@" 2>&1); then die "up: $what failed: ${err:-exit status $?}"; fi
}

do_up() {
  local name=$1; shift
  local tcp="" udp="" ftcp="" fudp="" rtcp="" utcp="" addrs=1 tbf="" drop=0 icmp_rl="" count_addrs=0
  while [ $# -gt 0 ]; do
    case $1 in
      --tcp|--udp|--filtered-tcp|--filtered-udp|--reject-tcp|--unreach-tcp|--addrs|--tbf|--drop-percent|--icmp-ratelimit)
        [ $# -ge 2 ] || bad "$1 needs a value"
        case $1 in
          --tcp) tcp=$2 ;; --udp) udp=$2 ;; --filtered-tcp) ftcp=$2 ;; --filtered-udp) fudp=$2 ;;
          --reject-tcp) rtcp=$2 ;; --unreach-tcp) utcp=$2 ;;
          --addrs) addrs=$2 ;; --tbf) tbf=$2 ;; --drop-percent) drop=$2 ;; --icmp-ratelimit) icmp_rl=$2 ;;
        esac
        shift 2 ;;
      --count-addrs) count_addrs=1; shift ;;
      *) bad "up: unknown option '$1'" ;;
    esac
  done
  [[ $addrs =~ ^[0-9]{1,3}$ ]] && [ "$addrs" -ge 1 ] && [ "$addrs" -le 253 ] || bad "--addrs must be 1..253, not '$addrs'"
  [[ $drop =~ ^[0-9]{1,3}$ ]] && [ "$drop" -le 100 ] || bad "--drop-percent must be an integer 0..100, not '$drop'"
  case $icmp_rl in ""|on|off) ;; *) bad "--icmp-ratelimit must be on or off" ;; esac
  local burst=""
  if [ -n "$tbf" ]; then burst=$(tbf_burst "$tbf") || bad "bad --tbf rate '$tbf' (e.g. 100mbit, 1gbit, 500kbit)"; fi

  [ "$(id -u)" = 0 ] || die "up: needs root (network namespaces)"
  local tool
  for tool in ip timeout setsid flock; do command -v "$tool" >/dev/null || die "up: $tool not found"; done
  [ -x "$PY" ] || die "up: python3 not found"
  local need_nft=0
  if [ -n "$ftcp$fudp$rtcp$utcp" ] || [ "$drop" != 0 ] || [ "$count_addrs" = 1 ]; then need_nft=1; command -v nft >/dev/null ||
    die "up: nft not found (filtered/reject/unreach ports, --drop-percent and --count-addrs need nftables; run scripts/install-deps)"; fi
  if [ -n "$tbf" ]; then command -v tc >/dev/null || die "up: tc not found (iproute2)"; fi

  local scan_ns="$name-scan" tgt_ns="$name-tgt" dir="$STATE_ROOT/$name"
  mkdir -p "$STATE_ROOT" || die "up: cannot create $STATE_ROOT"
  local tmp; tmp=$(mktemp -d "$STATE_ROOT/.new-$name.XXXXXX") || die "up: mktemp"
  local ports
  if ! ports=$(normalize_ports "$tmp" "$tcp" "$udp" "$ftcp" "$fudp" "$rtcp" "$utcp"); then rm -rf "$tmp"; exit 2; fi

  # Allocate K under a lock: the hash of NAME, probing past the K of labs that are up.
  local k
  exec 9>"$STATE_ROOT/.lock"
  timeout "$T" flock 9 || { rm -rf "$tmp"; die "up: could not lock $STATE_ROOT/.lock"; }
  if [ -e "$dir" ] || ns_exists "$scan_ns" || ns_exists "$tgt_ns"; then
    exec 9>&-; rm -rf "$tmp"
    die "up: lab '$name' already exists (state $dir or namespace $scan_ns/$tgt_ns); run: lab.sh down $name"
  fi
  local used=" " f
  for f in "$STATE_ROOT"/*/k; do [ -f "$f" ] && used+="$(cat "$f") "; done
  k=$(( $(printf '%s' "$name" | cksum | cut -d' ' -f1) % 256 ))
  for _ in $(seq 0 255); do
    [[ $used == *" $k "* ]] || break
    k=$(( (k + 1) % 256 ))
  done
  mv "$tmp" "$dir" || { exec 9>&-; rm -rf "$tmp"; die "up: cannot create $dir"; }
  echo "$k" >"$dir/k"
  exec 9>&-

  # From here on a failure removes everything this `up` created.
  UP_NAME=$name
  trap up_cleanup EXIT
  trap 'exit 130' INT TERM

  local scan4="10.213.$k.1" scan6="fd13:$k::1" tgt4="10.213.$k.2" tgt6="fd13:$k::2"
  local tgt4s="$tgt4" tgt6s="$tgt6" n
  for ((n = 3; n <= addrs + 1; n++)); do tgt4s+=",10.213.$k.$n"; tgt6s+=",fd13:$k::$n"; done

  step "ip netns add $scan_ns" t ip netns add "$scan_ns"
  step "ip netns add $tgt_ns" t ip netns add "$tgt_ns"
  local ns
  for ns in "$scan_ns" "$tgt_ns"; do
    # No DAD (addresses usable at once), no router solicitations.
    step "sysctl in $ns" t ip netns exec "$ns" sysctl -qw \
      net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
  done
  case $icmp_rl in
    # "off" also lifts the namespace-wide budget (icmp_msgs_per_sec/burst, shared
    # by IPv4 and IPv6), which the per-destination limits do not cover. 0 there
    # would mean no ICMP at all, so it is raised instead.
    off) step "ICMP rate limits off" t ip netns exec "$tgt_ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
           net.ipv4.icmp_msgs_per_sec=10000000 net.ipv4.icmp_msgs_burst=10000000 ;;
    on)  step "ICMP rate limits on" t ip netns exec "$tgt_ns" sysctl -qw net.ipv4.icmp_ratelimit=1000 net.ipv6.icmp.ratelimit=1000 ;;
  esac
  step "veth pair" t ip link add "$SCAN_IF" netns "$scan_ns" type veth peer name "$TGT_IF" netns "$tgt_ns"
  # Addresses, links and static neighbours: one `ip -batch` per namespace.
  # Static neighbours mean no ARP/ND on the link, so --drop-percent loses only data.
  local mac_s mac_t a
  mac_s=$(t ip netns exec "$scan_ns" cat "/sys/class/net/$SCAN_IF/address") || die "up: MAC of $SCAN_IF"
  mac_t=$(t ip netns exec "$tgt_ns" cat "/sys/class/net/$TGT_IF/address") || die "up: MAC of $TGT_IF"
  {
    echo "link set lo up"
    echo "addr add $scan4/24 dev $SCAN_IF"
    echo "addr add $scan6/64 dev $SCAN_IF nodad"
    echo "link set $SCAN_IF up"
    for a in ${tgt4s//,/ } ${tgt6s//,/ }; do echo "neigh replace $a lladdr $mac_t dev $SCAN_IF nud permanent"; done
  } >"$dir/ip-scan.batch"
  {
    echo "link set lo up"
    for a in ${tgt4s//,/ }; do echo "addr add $a/24 dev $TGT_IF"; done
    for a in ${tgt6s//,/ }; do echo "addr add $a/64 dev $TGT_IF nodad"; done
    echo "link set $TGT_IF up"
    for a in "$scan4" "$scan6"; do echo "neigh replace $a lladdr $mac_s dev $TGT_IF nud permanent"; done
  } >"$dir/ip-tgt.batch"
  step "addresses, links, neighbours in $scan_ns" t ip -n "$scan_ns" -batch "$dir/ip-scan.batch"
  step "addresses, links, neighbours in $tgt_ns" t ip -n "$tgt_ns" -batch "$dir/ip-tgt.batch"

  # Filtered, rejected and unreachable ports, random loss and per-address
  # counters: nft tables in the target namespace.
  local ftcp_spec fudp_spec rtcp_spec utcp_spec
  ftcp_spec=$(sed -n 's/^FILTERED_TCP_SPEC=//p' <<<"$ports")
  fudp_spec=$(sed -n 's/^FILTERED_UDP_SPEC=//p' <<<"$ports")
  rtcp_spec=$(sed -n 's/^REJECT_TCP_SPEC=//p' <<<"$ports")
  utcp_spec=$(sed -n 's/^UNREACH_TCP_SPEC=//p' <<<"$ports")
  if [ "$need_nft" = 1 ]; then
    {
      echo "table inet lrlab {"
      port_set filtered_tcp "$ftcp_spec"
      port_set filtered_udp "$fudp_spec"
      port_set reject_tcp "$rtcp_spec"
      port_set unreach_tcp "$utcp_spec"
      echo "  chain input {"
      echo "    type filter hook input priority -10; policy accept;"
      [ -n "$ftcp_spec" ] && echo "    iifname \"$TGT_IF\" tcp dport @filtered_tcp counter drop"
      [ -n "$fudp_spec" ] && echo "    iifname \"$TGT_IF\" udp dport @filtered_udp counter drop"
      # icmpx: ICMP type 3 code 13 / code 1 over IPv4, ICMPv6 type 1 code 1 /
      # code 3 over IPv6. The kernel's ICMP rate limits apply to these replies.
      [ -n "$rtcp_spec" ] && echo "    iifname \"$TGT_IF\" tcp dport @reject_tcp counter reject with icmpx type admin-prohibited"
      [ -n "$utcp_spec" ] && echo "    iifname \"$TGT_IF\" tcp dport @unreach_tcp counter reject with icmpx type host-unreachable"
      echo "  }"
      echo "}"
      if [ "$count_addrs" = 1 ]; then
        # Every packet that reaches the target's veth, by destination address,
        # before the random loss (priority -20 < -10): what the scanner sent.
        # One named counter per address; anything else lands in "other".
        echo "table netdev lrlab_count {"
        for a in ${tgt4s//,/ } ${tgt6s//,/ }; do echo "  counter $(addr_counter "$a") {}"; done
        echo "  counter other {}"
        echo "  chain ingress {"
        echo "    type filter hook ingress device \"$TGT_IF\" priority -20; policy accept;"
        for a in ${tgt4s//,/ }; do echo "    ip daddr $a counter name \"$(addr_counter "$a")\" accept"; done
        for a in ${tgt6s//,/ }; do echo "    ip6 daddr $a counter name \"$(addr_counter "$a")\" accept"; done
        echo "    counter name \"other\""
        echo "  }"
        echo "}"
      fi
      if [ "$drop" != 0 ]; then
        echo "table netdev lrlab_loss {"
        echo "  chain ingress {"
        echo "    type filter hook ingress device \"$TGT_IF\" priority -10; policy accept;"
        echo "    numgen random mod 100 < $drop counter drop"
        echo "  }"
        echo "  chain egress {"
        echo "    type filter hook egress device \"$TGT_IF\" priority -10; policy accept;"
        echo "    numgen random mod 100 < $drop counter drop"
        echo "  }"
        echo "}"
      fi
    } >"$dir/ruleset.nft"
    step "nft ruleset in $tgt_ns" t ip netns exec "$tgt_ns" nft -f "$dir/ruleset.nft"
  fi
  if [ -n "$tbf" ]; then
    step "tbf $tbf on $TGT_IF" t ip netns exec "$tgt_ns" tc qdisc add dev "$TGT_IF" root tbf rate "$tbf" burst "$burst" latency 50ms
  fi

  # Links up (veth: both ends up => carrier).
  local ok=0
  for _ in $(seq 1 100); do
    if t ip -n "$scan_ns" link show "$SCAN_IF" | grep -q LOWER_UP && t ip -n "$tgt_ns" link show "$TGT_IF" | grep -q LOWER_UP; then ok=1; break; fi
    sleep 0.05
  done
  [ "$ok" = 1 ] || die "up: veth carrier did not come up"

  # The listener: detached (own session, no inherited stdio), writes its pid and READY.
  local tcp_spec udp_spec
  tcp_spec=$(sed -n 's/^TCP_OPEN_SPEC=//p' <<<"$ports")
  udp_spec=$(sed -n 's/^UDP_OPEN_SPEC=//p' <<<"$ports")
  [ "${LRLAB_FAIL_AT:-}" = listener ] && die "up: injected failure at 'listener'"
  setsid -w ip netns exec "$tgt_ns" "$PY" "$HERE/listener.py" --tcp "$tcp_spec" --udp "$udp_spec" \
    --ready "$dir/listener.ready" --pidfile "$dir/listener.pid" </dev/null >"$dir/listener.log" 2>&1 &
  local lpid=$! deadline=$((SECONDS + READY_TIMEOUT))
  while [ ! -f "$dir/listener.ready" ]; do
    kill -0 "$lpid" 2>/dev/null || die "up: listener exited: $(tail -n 5 "$dir/listener.log")"
    [ $SECONDS -lt $deadline ] || die "up: listener not ready after ${READY_TIMEOUT}s: $(tail -n 5 "$dir/listener.log")"
    sleep 0.05
  done
  disown "$lpid" 2>/dev/null

  {
    echo "LAB_NAME=$name"
    echo "LAB_K=$k"
    echo "STATE_DIR=$dir"
    echo "SCAN_NS=$scan_ns"
    echo "TGT_NS=$tgt_ns"
    echo "SCAN_IF=$SCAN_IF"
    echo "TGT_IF=$TGT_IF"
    echo "SCAN_ADDR=$scan4"
    echo "SCAN_ADDR6=$scan6"
    echo "TGT_ADDR=$tgt4"
    echo "TGT_ADDR6=$tgt6"
    echo "TGT_ADDRS=$tgt4s"
    echo "TGT_ADDRS6=$tgt6s"
    echo "TGT_NET=10.213.$k.0/24"
    echo "TGT_NET6=fd13:$k::/64"
    echo "$ports"
    echo "TCP_OPEN_FILE=$dir/tcp_open.txt"
    echo "UDP_OPEN_FILE=$dir/udp_open.txt"
    echo "FILTERED_TCP_FILE=$dir/filtered_tcp.txt"
    echo "FILTERED_UDP_FILE=$dir/filtered_udp.txt"
    echo "REJECT_TCP_FILE=$dir/reject_tcp.txt"
    echo "UNREACH_TCP_FILE=$dir/unreach_tcp.txt"
    echo "COUNT_ADDRS=$count_addrs"
    echo "DROP_PERCENT=$drop"
    echo "TBF=$tbf"
    echo "ICMP_RATELIMIT=${icmp_rl:-default}"
    echo "LISTENER_PID=$(cat "$dir/listener.pid")"
  } >"$dir/info.tmp" && mv "$dir/info.tmp" "$dir/info" || die "up: cannot write $dir/info"
  UP_DONE=1
  trap - EXIT INT TERM
  echo "lab $name up: scanner $scan_ns ($scan4, $scan6) -> target $tgt_ns ($tgt4, $tgt6; $addrs address(es))"
}

# ---------------------------------------------------------------- counters
# "ADDR PACKETS" for every target address (v4 then v6), then "other PACKETS".
do_counters() {  # do_counters NAME
  local name=$1 dir="$STATE_ROOT/$1" list a names=""
  [ -f "$dir/info" ] || die "counters: lab '$name' is not up"
  grep -qx 'COUNT_ADDRS=1' "$dir/info" || die "counters: lab '$name' was not started with --count-addrs"
  [ "$(id -u)" = 0 ] || die "counters: needs root"
  list=$(t ip netns exec "$name-tgt" nft list counters table netdev lrlab_count) ||
    die "counters: nft list counters failed in $name-tgt"
  for a in $(sed -n 's/^TGT_ADDRS6\{0,1\}=//p' "$dir/info" | tr ',' ' '); do names+="$a=$(addr_counter "$a") "; done
  # nft prints "counter NAME {" and, a line later, "packets P bytes B".
  awk -v names="${names}other=other" '
    $1 == "counter" { c = $2; next }
    $1 == "packets" && c != "" { n[c] = $2; c = "" }
    END {
      k = split(names, pairs, " ")
      for (i = 1; i <= k; i++) {
        split(pairs[i], f, "=")
        if (!(f[2] in n)) { print "lab.sh: counters: no counter " f[2] > "/dev/stderr"; bad = 1 }
        print f[1], n[f[2]]
      }
      exit bad
    }' <<<"$list"
}

# ---------------------------------------------------------------- main
cmd=${1:-}
[ $# -ge 2 ] || usage
name=$2
check_name "$name"
shift 2
case $cmd in
  up)
    do_up "$name" "$@" ;;
  down)
    [ $# = 0 ] || bad "down takes no options"
    [ "$(id -u)" = 0 ] || die "down: needs root"
    do_down "$name" ;;
  info)
    [ -f "$STATE_ROOT/$name/info" ] || die "info: lab '$name' is not up"
    cat "$STATE_ROOT/$name/info" ;;
  counters)
    [ $# = 0 ] || bad "counters takes no options"
    do_counters "$name" ;;
  exec)
    [ $# -ge 2 ] || bad "usage: lab.sh exec NAME scan|tgt CMD [ARGS...]"
    case $1 in scan|tgt) ns="$name-$1" ;; *) bad "exec: namespace must be scan or tgt, not '$1'" ;; esac
    shift
    ns_exists "$ns" || die "exec: namespace $ns does not exist (lab '$name' not up)"
    if [ -n "${LRLAB_EXEC_TIMEOUT:-}" ]; then exec timeout "$LRLAB_EXEC_TIMEOUT" ip netns exec "$ns" "$@"; fi
    exec ip netns exec "$ns" "$@" ;;
  *) usage ;;
esac
