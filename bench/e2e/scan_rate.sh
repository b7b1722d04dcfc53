#!/usr/bin/env bash
# bench/e2e/scan_rate.sh — how exactly `lrscan -sS --rate R` holds R (spec lrscan.md
# §2 "--rate PPS (exact send rate)"), and lrscan -sU vs nmap -sU against Linux's
# default ICMP rate limits (spec §7, the UDP paragraph).
#
#   bench/e2e/scan_rate.sh BUILD_DIR
#   env: REPS (default 3) runs per rate and of lrscan -sU; NMAP_UDP_REPS (default 1)
#        runs of nmap -sU (a run that hits its timeout says nothing new the second
#        time); RATES (default "1000 10000 100000 default"); RUN_SECONDS (default 5):
#        each rate run is sized to take this long at its nominal rate;
#        OUT (default BUILD_DIR/bench/scan_rate.json); TIME_BIN (default
#        /usr/bin/time, GNU time); DEADLINE (default 600) seconds for the whole
#        script, lab set-up included; NMAP_UDP_LIMIT (default 120) seconds for nmap
#        -sU; BURST=0 leaves out the capture runs (below).
#
# Needs root. Two scan labs (tests/lab/lab.sh, names lrrb<pid>a and lrrb<pid>b):
#   rate: 40 target addresses, TCP 22 open on each (every other port closed: every
#         probe gets a RST, so no retries), per-address nft counters (--count-addrs);
#   udp:  UDP services on 7 (echo), 53 (DNS) and 123, UDP 161 dropped, every other
#         UDP port closed, the kernel's default ICMP limits (a fresh namespace: IPv4
#         1000 ms per destination, a burst of 6; a global 1000/s, burst 50). The
#         sysctl values go into the JSON.
#
# Rate. For R in RATES ("default" = no --rate; its nominal rate is lrscan's
# kDefaultRawRate, 500,000 pps, src/scan/raw_scan.hpp), REPS runs of
#   lrscan -sS -n -Pn [--rate R] -p 1-P ADDRS --no-progress -oG /dev/null
# with P x |ADDRS| = RUN_SECONDS x R probes: one address and -p 1-(5 R) up to 65,535
# probes, else -p 1-62500 over as many addresses as needed (8 at 100,000 pps, 40 at
# the default). While a run lasts, the sum of the target's per-address nft counters
# (netdev ingress, every packet the target receives) is sampled about every 0.1 s;
# the achieved rate is the least-squares slope of those samples between 10 % and 90 %
# of the run's packets. Also kept: lrscan's own figure (the "at N/s" of its "lrscan:
# syn scan:" line), packets counted / probes, and wall time. Per rate: medians of
# the runs, and the error (achieved - R) / R in %.
# Bursts. Then one more run per rate (BURST=1) with a packet capture on the
# target's veth (an AF_PACKET TPACKET_V3 ring of 4 KiB blocks, retired after 1 ms,
# read by a python loop in the target namespace). Each block's packets are spread
# evenly between its first and its last packet's kernel timestamps (a block holds at
# most ~28 packets and 1 ms), and the largest number of packets in any 10 ms window
# is reported, with R x 10 ms for comparison. The capture costs CPU on this 2-core
# VM, so the rate of that run is reported apart and not in the medians; the ring's
# drop count is reported (a burst figure with drops is a lower bound).
#
# UDP. lrscan -sU -p 1-1024 -n -Pn (REPS runs) and nmap -sU -p 1-1024 -T4
# --max-retries 1 -n -Pn under timeout NMAP_UDP_LIMIT (NMAP_UDP_REPS runs; "did not
# finish" when it hits the timeout) against the udp lab: wall time and the number of
# ports found open / closed / open|filtered (from -oX, <extraports> expanded), and
# for lrscan how many open|filtered ports carry reason icmp-ratelimit and whether
# the open set is exactly the lab's services.
#
# Output: a table on stdout and one JSON file. Exit 1 if a run failed (exit status,
# timeout of lrscan, no figures; nmap -sU hitting its timeout is a finding, not a
# failure); its work directory is then kept. Informational only: no rate error
# fails the script. Exit 2 on a usage/setup error. The labs are taken down on exit
# (trap); everything is bounded by timeout(1), bounded loops and DEADLINE.
set -euo pipefail

die() { echo "scan_rate.sh: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR   (env REPS, NMAP_UDP_REPS, RATES, RUN_SECONDS, OUT, TIME_BIN, DEADLINE, NMAP_UDP_LIMIT, BURST)"
BUILD_DIR=$1
REPS=${REPS:-3}
NMAP_UDP_REPS=${NMAP_UDP_REPS:-1}
RATES=${RATES:-1000 10000 100000 default}
RUN_SECONDS=${RUN_SECONDS:-5}
OUT=${OUT:-$BUILD_DIR/bench/scan_rate.json}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
DEADLINE=${DEADLINE:-600}
NMAP_UDP_LIMIT=${NMAP_UDP_LIMIT:-120}
BURST=${BURST:-1}
DEFAULT_RATE=500000   # kDefaultRawRate in src/scan/raw_scan.hpp
RUN_LIMIT=90          # timeout(1) of each lrscan run, seconds
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
LAB=$HERE/../../tests/lab/lab.sh
# shellcheck source=bench/e2e/lib.sh
. "$HERE/lib.sh"

[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, got '$REPS'"
[[ $NMAP_UDP_REPS =~ ^[0-9]+$ ]] || die "NMAP_UDP_REPS must be a non-negative integer, got '$NMAP_UDP_REPS'"
[[ $RUN_SECONDS =~ ^[1-9][0-9]*$ ]] || die "RUN_SECONDS must be a positive integer, got '$RUN_SECONDS'"
[[ $DEADLINE =~ ^[1-9][0-9]*$ ]] || die "DEADLINE must be a positive integer, got '$DEADLINE'"
[[ $NMAP_UDP_LIMIT =~ ^[1-9][0-9]*$ ]] || die "NMAP_UDP_LIMIT must be a positive integer, got '$NMAP_UDP_LIMIT'"
for r in $RATES; do
  [[ $r =~ ^[1-9][0-9]*$ ]] || [ "$r" = default ] || die "RATES: '$r' is neither a positive integer nor 'default'"
done
[ "$(id -u)" = 0 ] || die "needs root (the scan lab uses network namespaces and raw sockets)"
find_lrscan
require_lab_tools

ID=$(($$ % 10000000))
RLAB=lrrb${ID}a
ULAB=lrrb${ID}b
END=$((SECONDS + DEADLINE))
# On exit: stop the running scan, the sampler and the capture, take the labs down (lib.sh).
lab_bench_setup scan_rate.sh "outputs, logs, samples and time files of every run" "JOB_PID SAMPLER_PID CAP_PID" \
  "$RLAB" "$ULAB"

# ---- the capture (burst runs): one python file, run in the target namespace ----------
cat >"$WORK/capture.py" <<'PY'
"""capture.py IFACE OUT STOPFILE MAX_S: count every packet IFACE receives (not the
ones it sends) until STOPFILE exists or MAX_S pass; write 'PACKETS DROPS SPAN_S
MAX_10MS RATE_10_90 BLOCKS MAX_PER_BLOCK' to OUT. TPACKET_V3 ring of 4 KiB blocks
(retired after 1 ms) with a 'ret #64' BPF filter (a slot is ~150 bytes, so a block
holds at most ~28 packets); per block only the first packet's and the last packet's
kernel timestamps are read (cheap enough to keep up with a few 100k pps), and the
block's packets are spread evenly between them."""
import ctypes, mmap, os, select, socket, struct, sys, time
iface, out, stop, max_s = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
SOL_PACKET, PACKET_RX_RING, PACKET_VERSION, PACKET_STATISTICS, PACKET_IGNORE_OUTGOING = 263, 5, 10, 6, 23
TPACKET_V3, SO_ATTACH_FILTER, ETH_P_ALL = 2, 26, 3
BLOCK, NBLOCKS, RETIRE_MS = 4096, 8192, 1
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
class Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(Insn))]
insns = (Insn * 1)(Insn(0x06, 0, 0, 64))  # BPF_RET|BPF_K 64: keep 64 bytes of every packet
prog = Prog(1, insns)
s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, ctypes.string_at(ctypes.addressof(prog), ctypes.sizeof(prog)))
# struct tpacket_req3: block size, blocks, frame size, frames, retire ms, priv, features.
s.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("7I", BLOCK, NBLOCKS, 2048, BLOCK // 2048 * NBLOCKS,
                                                     RETIRE_MS, 0, 0))
s.bind((iface, 0))
ring = mmap.mmap(s.fileno(), BLOCK * NBLOCKS, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
open(out + ".ready", "w").close()
status = struct.Struct("I").unpack_from        # block_status at +8
numfirst = struct.Struct("II").unpack_from     # num_pkts, offset_to_first_pkt at +12
secnsec = struct.Struct("II").unpack_from      # tp_sec, tp_nsec; ts_last_pkt at +40
blocks, blk = [], 0
poll = select.poll()
poll.register(s, select.POLLIN | select.POLLERR)
end = time.monotonic() + max_s
while time.monotonic() < end:
    off = blk * BLOCK
    if not status(ring, off + 8)[0] & 1:       # TP_STATUS_USER
        if os.path.exists(stop):
            break
        poll.poll(50)
        continue
    num, first = numfirst(ring, off + 12)
    if num:
        # The block's ts_first_pkt is when it was opened: read the first packet's own.
        t0s, t0n = secnsec(ring, off + first + 4)
        t1s, t1n = secnsec(ring, off + 40)
        blocks.append((t0s * 1000000000 + t0n, t1s * 1000000000 + t1n, num))
    struct.pack_into("I", ring, off + 8, 0)   # back to the kernel
    blk = (blk + 1) % NBLOCKS
_, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
ts = []
for a, b, n in blocks:
    if n == 1:
        ts.append(b)
    else:
        step = (b - a) / (n - 1)
        ts.extend(a + step * k for k in range(n))
ts.sort()
best, j = 0, 0
for i in range(len(ts)):
    while ts[i] - ts[j] >= 10000000:
        j += 1
    if i - j + 1 > best:
        best = i - j + 1
span = (ts[-1] - ts[0]) / 1e9 if len(ts) > 1 else 0.0
lo, hi = (len(ts) // 10, len(ts) * 9 // 10) if ts else (0, 0)
rate = (hi - lo) / ((ts[hi] - ts[lo]) / 1e9) if ts and ts[hi] > ts[lo] else 0.0
with open(out, "w") as f:
    f.write("%d %d %.6f %d %.0f %d %d\n" % (len(ts), drops, span, best, rate, len(blocks),
                                            max((n for _, _, n in blocks), default=0)))
PY

# ---- the labs ---------------------------------------------------------------------
echo "scan_rate.sh: labs $RLAB (40 addresses, nft counters) and $ULAB (UDP 7,53,123 open, 161 dropped, default ICMP limits)" >&2
LABS_UP=1   # from here `down` is needed even if `up` fails half-way (it is idempotent)
bench_lab_up "$WORK/up-rate.log" "$RLAB" --tcp 22 --addrs 40 --count-addrs
bench_lab_up "$WORK/up-udp.log" "$ULAB" --udp 7,53,123 --filtered-udp 161
timeout 10 "$LAB" info "$RLAB" >"$WORK/info-rate" || die "lab.sh info $RLAB failed"
timeout 10 "$LAB" info "$ULAB" >"$WORK/info-udp" || die "lab.sh info $ULAB failed"
info() { sed -n "s/^$2=//p" "$WORK/info-$1"; }
read -r -a RADDRS <<<"$(info rate TGT_ADDRS | tr ',' ' ')"
[ "${#RADDRS[@]}" = 40 ] || die "the rate lab has ${#RADDRS[@]} addresses, expected 40"
R_IF=$(info rate TGT_IF)
U_ADDR=$(info udp TGT_ADDR)
ICMP_SYSCTLS=$(timeout 10 "$LAB" exec "$ULAB" tgt sysctl -n net.ipv4.icmp_ratelimit net.ipv4.icmp_msgs_per_sec \
  net.ipv4.icmp_msgs_burst net.ipv6.icmp.ratelimit | paste -sd' ' -) || die "cannot read the udp lab's ICMP sysctls"

# The sampler (own process group): "T_NS PACKETS" about every 0.1 s (plus the time
# nft takes) into BASE.samples until BASE.stop exists, at most 10 per second of LIMIT;
# PACKETS is the sum of the rate lab's per-address counters (every packet to a
# target address).
cat >"$WORK/sampler.sh" <<'SH'
#!/usr/bin/env bash
base=$1 lab=$2 name=$3 limit=$4
for ((i = 0; i < limit * 10; i++)); do
  [ -e "$base.stop" ] && break
  n=$(timeout 5 "$lab" exec "$name" tgt nft list counters table netdev lrlab_count 2>/dev/null |
    awk '$1 == "counter" { c = $2 } $1 == "packets" && c ~ /^v[46]_/ { n += $2 } END { print n + 0 }')
  echo "$(date +%s%N) $n" >>"$base.samples"
  sleep 0.1
done
SH

# ---- rate runs ----------------------------------------------------------------------
FAILED=0
RUNS=$WORK/runs.jsonl
: >"$RUNS"

# run_rate RATE REP KIND: one lrscan -sS run (KIND rate or burst), one JSON line in $RUNS.
run_rate() {
  local rate=$1 rep=$2 kind=$3 base="$WORK/rate-$1-$3-$2" nominal probes naddr ports last left limit rc=0 src=0 i
  local -a rate_args=()
  if [ "$rate" = default ]; then nominal=$DEFAULT_RATE; else nominal=$rate; rate_args=(--rate "$rate"); fi
  probes=$((nominal * RUN_SECONDS))
  if ((probes <= 65535)); then naddr=1; ports=$probes
  else naddr=$(((probes + 62499) / 62500)); ports=62500; fi
  ((naddr <= 40)) || naddr=40
  last=${RADDRS[$((naddr - 1))]}
  left=$((END - SECONDS - 20))   # 20 s kept for the summary and `down`
  if ((left < 15)); then
    echo "scan_rate.sh: rate $rate $kind run $rep skipped: DEADLINE (${DEADLINE}s) reached" >&2
    FAILED=1
    printf '{"kind": "%s", "rate": "%s", "rep": %d, "ok": false, "error": "skipped: deadline"}\n' \
      "$kind" "$rate" "$rep" >>"$RUNS"
    return 0
  fi
  limit=$((left < RUN_LIMIT ? left : RUN_LIMIT))
  echo "  rate $rate ($kind) run $rep: $naddr address(es) x -p 1-$ports" >&2
  rm -f "$base.stop" "$base.cap" "$base.cap.ready"
  if [ "$kind" = burst ]; then
    setsid timeout -k 2 $((limit + 10)) "$LAB" exec "$RLAB" tgt python3 "$WORK/capture.py" "$R_IF" "$base.cap" \
      "$base.stop" $((limit + 5)) </dev/null >"$base.cap.log" 2>&1 &
    CAP_PID=$!
    for ((i = 0; i < 100; i++)); do [ -e "$base.cap.ready" ] && break; sleep 0.1; done
  fi
  : >"$base.samples"
  setsid bash "$WORK/sampler.sh" "$base" "$LAB" "$RLAB" "$limit" </dev/null >/dev/null 2>&1 &
  SAMPLER_PID=$!
  sleep 0.5
  setsid timeout -k 5 $((limit + 15)) "$LAB" exec "$RLAB" scan \
    "$TIME_BIN" -f '%e %U %S %M' -o "$base.time" timeout -k 5 "$limit" \
    "$LRSCAN" -sS -n -Pn "${rate_args[@]}" -p "1-$ports" "${RADDRS[0]}-${last##*.}" --no-progress -oG /dev/null \
    >/dev/null 2>"$base.err" </dev/null &
  JOB_PID=$!
  wait "$JOB_PID" || rc=$?
  JOB_PID=""
  sleep 0.5
  touch "$base.stop"
  for ((i = 0; i < 100; i++)); do kill -0 "$SAMPLER_PID" 2>/dev/null || break; sleep 0.1; done
  stop_group "$SAMPLER_PID"; SAMPLER_PID=""
  if [ -n "$CAP_PID" ]; then
    for ((i = 0; i < 300; i++)); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
    stop_group "$CAP_PID"; CAP_PID=""
  fi
  bench_py - "$kind" "$rate" "$nominal" "$rep" "$rc" "$base" "$((naddr * ports))" "$naddr" "$ports" \
    >>"$RUNS" <<'PY' || src=$?
import json, re, sys
from scan_score import gnu_time
kind, rate, nominal, rep, rc, base, probes, naddr, ports = sys.argv[1:10]
nominal, rep, rc, probes = int(nominal), int(rep), int(rc), int(probes)
run = {"kind": kind, "rate": rate, "nominal_pps": nominal, "rep": rep, "exit": rc, "ok": False,
       "probes": probes, "addresses": int(naddr), "ports": int(ports)}
def done(error=None):
    if error:
        run["error"] = error
        print(f"    FAILED: {error}", file=sys.stderr)
    else:
        burst = ""
        if run.get("max_10ms") is not None:
            burst = (f", max {run['max_10ms']} packets in 10 ms (R x 10 ms = {nominal / 100:.0f}), "
                     f"capture {run['capture_pps']:.0f} pps, {run['capture_drops']} ring drops")
        print(f"    {run['wall_s']:.2f} s, nft {run['nft_pps'] or 0:.0f} pps, lrscan says "
              f"{run['lrscan_pps'] or 0:.0f} pps{burst}", file=sys.stderr)
    print(json.dumps(run))
    sys.exit(0 if run["ok"] else 4)
try:
    wall, user, sys_, rss_kb = gnu_time(base)
    run.update(wall_s=wall, cpu_s=user + sys_, peak_rss_mib=rss_kb / 1024.0)
except (OSError, ValueError) as e:
    done(f"no GNU time figures: {e}")
if rc != 0:
    done("timed out" if rc in (124, 137) else f"exit status {rc}")
err = open(base + ".err", errors="replace").read()
line = next((l for l in err.splitlines() if l.startswith("lrscan: syn scan:")), None)
run["lrscan_summary"] = line
m = re.search(r" at (\d+)/s", line or "")
run["lrscan_pps"] = int(m.group(1)) if m else None
m = re.search(r"(\d+) probes sent \((\d+) retries", line or "")
run["probes_sent"], run["retries_sent"] = (int(m.group(1)), int(m.group(2))) if m else (None, None)
# nft samples: least squares between 10 % and 90 % of the run's packets.
pts = [tuple(map(int, l.split())) for l in open(base + ".samples") if len(l.split()) == 2]
run["samples"] = len(pts)
if len(pts) >= 3:
    c0, c1 = pts[0][1], pts[-1][1]
    total = c1 - c0
    run["nft_packets"] = total
    mid = [(t / 1e9, c) for t, c in pts if c0 + 0.1 * total <= c <= c0 + 0.9 * total]
    run["nft_samples_used"] = len(mid)
    if len(mid) >= 3:
        mt = sum(t for t, _ in mid) / len(mid)
        mc = sum(c for _, c in mid) / len(mid)
        den = sum((t - mt) ** 2 for t, _ in mid)
        run["nft_pps"] = sum((t - mt) * (c - mc) for t, c in mid) / den if den > 0 else None
    else:
        run["nft_pps"] = None
else:
    run["nft_pps"] = None
if run["nft_pps"] is None:
    done(f"too few nft samples in the middle of the run ({len(pts)} samples)")
run["nft_error_pct"] = 100.0 * (run["nft_pps"] - nominal) / nominal
if run["lrscan_pps"] is not None:
    run["lrscan_error_pct"] = 100.0 * (run["lrscan_pps"] - nominal) / nominal
if kind == "burst":
    try:
        n, drops, span, best, crate, nblocks, maxblk = open(base + ".cap").read().split()
        run.update(capture_packets=int(n), capture_drops=int(drops), capture_span_s=float(span),
                   max_10ms=int(best), expected_10ms=nominal / 100.0, burst_ratio=int(best) / (nominal / 100.0),
                   capture_pps=float(crate), capture_blocks=int(nblocks), max_per_block=int(maxblk))
    except (OSError, ValueError) as e:
        done(f"no capture figures: {e}")
run["ok"] = True
done()
PY
  case $src in
    0) ;;
    *) FAILED=1; [ ! -s "$base.err" ] || tail -n 3 "$base.err" >&2 ;;
  esac
}

for rate in $RATES; do
  echo "scan_rate.sh: lrscan -sS ${rate/#default/(default rate)}${rate/#[0-9]*/ pps}: $REPS runs of ~${RUN_SECONDS} s" >&2
  for ((rep = 1; rep <= REPS; rep++)); do run_rate "$rate" "$rep" rate; done
done
if [ "$BURST" = 1 ]; then
  echo "scan_rate.sh: burst runs (a capture on the target's veth), one per rate" >&2
  for rate in $RATES; do run_rate "$rate" 1 burst; done
fi

# ---- UDP ---------------------------------------------------------------------------
# run_udp TOOL REP: one -sU -p 1-1024 scan of the udp lab, one JSON line in $RUNS.
run_udp() {
  local tool=$1 rep=$2 base="$WORK/udp-$1-$2" left limit rc=0 src=0
  local -a cmd
  left=$((END - SECONDS - 20))
  if ((left < 15)); then
    echo "scan_rate.sh: udp $tool run $rep skipped: DEADLINE (${DEADLINE}s) reached" >&2
    FAILED=1
    printf '{"kind": "udp", "tool": "%s", "rep": %d, "ok": false, "error": "skipped: deadline"}\n' \
      "$tool" "$rep" >>"$RUNS"
    return 0
  fi
  case $tool in
    lrscan) limit=$RUN_LIMIT; cmd=("$LRSCAN" -sU -p 1-1024 -n -Pn "$U_ADDR" --no-progress -oX "$base.xml") ;;
    nmap) limit=$NMAP_UDP_LIMIT; cmd=("$NMAP" -sU -p 1-1024 -T4 --max-retries 1 -n -Pn "$U_ADDR" -oX "$base.xml") ;;
  esac
  limit=$((left < limit ? left : limit))
  echo "  udp run $rep/$REPS $tool (limit $limit s)" >&2
  lab_timed_run "$ULAB" "$base" "$limit" "${cmd[@]}" || rc=$?
  bench_py - "$tool" "$rep" "$rc" "$base" "$limit" "$(info udp UDP_OPEN)" >>"$RUNS" <<'PY' || src=$?
import json, re, sys, xml.etree.ElementTree as ET
from scan_score import gnu_time
tool, rep, rc, base, limit, want_open = sys.argv[1:7]
rep, rc, limit = int(rep), int(rc), int(limit)
want_open = {int(p) for p in want_open.split(",")}
run = {"kind": "udp", "tool": tool, "rep": rep, "exit": rc, "ok": False, "limit_s": limit}
def done(error=None):
    if error:
        run["error"] = error
        print(f"    FAILED: {error}", file=sys.stderr)
    elif not run["finished"]:
        print(f"    did not finish in {limit} s", file=sys.stderr)
    else:
        print(f"    {run['wall_s']:.2f} s: {run['open']} open, {run['closed']} closed, {run['open_filtered']} "
              f"open|filtered ({run.get('icmp_ratelimit', 0)} icmp-ratelimit)", file=sys.stderr)
    print(json.dumps(run))
    sys.exit(0 if run["ok"] else 4)
try:
    wall, user, sys_, rss_kb = gnu_time(base)
    run.update(wall_s=wall, cpu_s=user + sys_, peak_rss_mib=rss_kb / 1024.0)
except (OSError, ValueError) as e:
    done(f"no GNU time figures: {e}")
if rc in (124, 137):
    run["finished"] = False
    if tool == "nmap":   # nmap not finishing is the finding (spec §7), not a failure
        run["ok"] = True
        done()
    done("timed out")
if rc != 0:
    done(f"exit status {rc}")
run["finished"] = True
try:
    root = ET.parse(base + ".xml").getroot()
except (OSError, ET.ParseError) as e:
    done(f"unreadable XML: {e}")
states, reasons = {}, {}
for p in root.iter("port"):
    if p.get("protocol") == "udp":
        st = p.find("state")
        states[int(p.get("portid"))] = st.get("state")
        reasons[int(p.get("portid"))] = st.get("reason")
for e in root.iter("extraports"):
    for r in e.iter("extrareasons"):
        for tok in (r.get("ports") or "").split(","):
            if tok:
                lo, _, hi = tok.partition("-")
                for q in range(int(lo), int(hi or lo) + 1):
                    states[q] = e.get("state")
                    reasons[q] = r.get("reason")
got_open = {p for p, s in states.items() if s == "open"}
run.update(ports=len(states), open=len(got_open), closed=sum(1 for s in states.values() if s == "closed"),
           open_filtered=sum(1 for s in states.values() if s == "open|filtered"),
           filtered=sum(1 for s in states.values() if s == "filtered"),
           icmp_ratelimit=sum(1 for p, r in reasons.items() if r == "icmp-ratelimit"),
           open_exact=got_open == want_open, missed_open=sorted(want_open - got_open),
           extra_open=sorted(got_open - want_open)[:20])
err = open(base + ".err", errors="replace").read()
m = re.search(r"^lrscan: udp scan:.*$", err, re.M)
run["lrscan_summary"] = m.group(0) if m else None
run["ok"] = True
done()
PY
  [ "$src" = 0 ] || { FAILED=1; [ ! -s "$base.err" ] || tail -n 3 "$base.err" >&2; }
}

echo "scan_rate.sh: -sU -p 1-1024 against default ICMP limits ($U_ADDR; sysctls $ICMP_SYSCTLS)" >&2
for ((rep = 1; rep <= REPS; rep++)); do run_udp lrscan "$rep"; done
for ((rep = 1; rep <= NMAP_UDP_REPS; rep++)); do run_udp nmap "$rep"; done

# ---- summary ----------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
bench_py - "$RUNS" "$OUT" "$REPS" "$NMAP_UDP_REPS" "$FAILED" "$RATES" "$RUN_SECONDS" "$DEFAULT_RATE" \
  "$ICMP_SYSCTLS" "$NMAP_UDP_LIMIT" "$("$NMAP" --version | head -n 1)" \
  "$("$LRSCAN" --version 2>/dev/null | head -n 1)" "$BURST" <<'PY'
import json, os, sys
from scan_score import med, write_json
(runs_path, out_path, reps, nmap_reps, failed, rates, run_seconds, default_rate, sysctls, nmap_limit,
 nmap_version, lrscan_version, burst) = sys.argv[1:14]
reps, nmap_reps, failed, default_rate = int(reps), int(nmap_reps), failed == "1", int(default_rate)
runs = [json.loads(line) for line in open(runs_path) if line.strip()]
rate_rows = {}
for rate in rates.split():
    mine = [r for r in runs if r.get("kind") == "rate" and r["rate"] == rate]
    ok = [r for r in mine if r["ok"]]
    nominal = default_rate if rate == "default" else int(rate)
    d = {"nominal_pps": nominal, "runs": len(mine), "finished": len(ok),
         "probes": mine[0].get("probes") if mine else None,
         "addresses": mine[0].get("addresses") if mine else None,
         "achieved_pps": med(r.get("nft_pps") for r in ok),
         "lrscan_pps": med(r.get("lrscan_pps") for r in ok),
         "wall_s": med(r.get("wall_s") for r in ok),
         "cpu_s": med(r.get("cpu_s") for r in ok),
         "achieved_pps_runs": [r.get("nft_pps") for r in ok]}
    d["error_pct"] = None if d["achieved_pps"] is None else 100.0 * (d["achieved_pps"] - nominal) / nominal
    d["lrscan_error_pct"] = None if d["lrscan_pps"] is None else 100.0 * (d["lrscan_pps"] - nominal) / nominal
    b = next((r for r in runs if r.get("kind") == "burst" and r["rate"] == rate and r["ok"]), None)
    d["burst"] = None if b is None else {k: b.get(k) for k in (
        "max_10ms", "expected_10ms", "burst_ratio", "capture_pps", "capture_drops", "capture_packets",
        "max_per_block", "nft_pps", "lrscan_pps")}
    rate_rows[rate] = d
udp = {}
for tool in ("lrscan", "nmap"):
    mine = [r for r in runs if r.get("kind") == "udp" and r["tool"] == tool]
    if not mine:
        continue
    fin = [r for r in mine if r["ok"] and r.get("finished")]
    udp[tool] = {"runs": len(mine), "finished": len(fin), "did_not_finish": sum(1 for r in mine if r["ok"] and
                                                                             not r.get("finished")),
                 "limit_s": mine[0].get("limit_s"),
                 **{k: med(r.get(k) for r in fin) for k in ("wall_s", "cpu_s", "open", "closed", "open_filtered",
                                                            "icmp_ratelimit")},
                 "open_exact": all(r.get("open_exact") for r in fin) if fin else None}
doc = {
    "benchmark": "scan_rate", "host": os.uname().nodename, "cpus": os.cpu_count(), "reps": reps,
    "statistic": "median", "failed": failed, "run_seconds": int(run_seconds),
    "method": {"achieved_pps": "least-squares slope of the target's nft counters (sum over the used addresses, "
                               "sampled ~every 0.1 s) between 10 % and 90 % of the run's packets",
               "lrscan_pps": "the 'at N/s' figure of lrscan's 'lrscan: syn scan:' line",
               "burst": "separate run per rate with an AF_PACKET capture on the target veth; max packets in any "
                        "10 ms window (packets spread evenly within each <= 1 ms ring block)" if burst == "1"
                        else "not measured (BURST=0)",
               "default_nominal_pps": default_rate},
    "commands": {"rate": "lrscan -sS -n -Pn [--rate R] -p 1-P ADDRS --no-progress -oG /dev/null",
                 "udp_lrscan": "lrscan -sU -p 1-1024 -n -Pn TGT --no-progress -oX FILE",
                 "udp_nmap": f"nmap -sU -p 1-1024 -T4 --max-retries 1 -n -Pn TGT -oX FILE (timeout {nmap_limit} s)"},
    "versions": {"nmap": nmap_version, "lrscan": lrscan_version},
    "udp_lab": {"open": [7, 53, 123], "dropped": [161],
                "sysctls": dict(zip(("net.ipv4.icmp_ratelimit", "net.ipv4.icmp_msgs_per_sec",
                                     "net.ipv4.icmp_msgs_burst", "net.ipv6.icmp.ratelimit"), sysctls.split()))},
    "rates": rate_rows, "udp": udp, "nmap_udp_reps": nmap_reps, "runs": runs,
}
write_json(out_path, doc)
def g(v, fmt="{:.0f}"):
    return "-" if v is None else fmt.format(v)
print(f"lrscan -sS --rate R: achieved rate (target's nft counters), medians of {reps} runs of ~{run_seconds} s")
print(f"{'rate':<18}{'probes':>9}{'addrs':>6}{'achieved':>10}{'error %':>9}{'lrscan':>9}{'error %':>9}"
      f"{'wall s':>8}{'max/10ms':>10}{'R*10ms':>8}")
for rate, d in rate_rows.items():
    b = d["burst"] or {}
    label = f"default ({d['nominal_pps']})" if rate == "default" else rate
    mx = g(b.get("max_10ms")) + ("*" if b.get("capture_drops") else "")
    print(f"{label:<18}{g(d['probes']):>9}{g(d['addresses']):>6}{g(d['achieved_pps']):>10}"
          f"{g(d['error_pct'], '{:+.2f}'):>9}{g(d['lrscan_pps']):>9}{g(d['lrscan_error_pct'], '{:+.2f}'):>9}"
          f"{g(d['wall_s'], '{:.2f}'):>8}{mx:>10}{g(b.get('expected_10ms')):>8}")
if burst == "1":
    print("  max/10ms: one extra run per rate with a capture on the target (its own rate: "
          + ", ".join(f"{r} {g((d['burst'] or {}).get('capture_pps'))} pps" for r, d in rate_rows.items())
          + "); * = the capture ring dropped packets (a lower bound)")
print(f"UDP -sU -p 1-1024 against default ICMP limits (sysctls {sysctls}), medians")
print(f"{'tool':<34}{'runs':>6}{'wall s':>8}{'open':>6}{'closed':>8}{'open|filt':>10}{'ratelimit':>10}")
for tool, d in udp.items():
    label = "lrscan -sU" if tool == "lrscan" else "nmap -sU -T4 --max-retries 1"
    if d["finished"] == 0:
        print(f"{label:<34}{d['runs']:>6}{'did not finish in ' + str(d['limit_s']) + ' s':>42}")
        continue
    dnf = f" ({d['did_not_finish']} did not finish)" if d["did_not_finish"] else ""
    print(f"{label:<34}{d['runs']:>6}{g(d['wall_s'], '{:.2f}'):>8}{g(d['open']):>6}{g(d['closed']):>8}"
          f"{g(d['open_filtered']):>10}{g(d['icmp_ratelimit']):>10}{dnf}")
print(f"JSON: {out_path}")
PY

if [ "$FAILED" = 1 ]; then
  KEEP_WORK=1
  echo "scan_rate.sh: at least one run failed (see above)" >&2
  exit 1
fi
