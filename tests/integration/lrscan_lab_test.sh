#!/usr/bin/env bash
# tests/integration/lrscan_lab_test.sh — lrscan against the scan lab (tests/lab):
# a full 1-65535 connect scan of a host with ~150 open ports scattered over the
# range (1 and 65535 included) and 20 filtered ports must equal the ground truth
# exactly, in every output format; the XML must validate against nmap's DTD, and
# ndiff must find no difference between lrscan's XML and nmap's own scan of the
# same host in the same run. Also: IPv6, exclusions and a scan of several
# addresses. Prints both tools' wall times (figures belong to bench/, not here).
#
#   tests/integration/lrscan_lab_test.sh PATH/TO/lrscan
# Exit 0 pass, 1 fail, 77 skip (not root / no network namespaces).
set -uo pipefail
LRSCAN=$(readlink -f "${1:?usage: $0 PATH/TO/lrscan}")
HERE=$(cd "$(dirname "$0")" && pwd)
LAB=$HERE/../lab/lab.sh
# shellcheck source=tests/lab/lrscan_test_lib.sh
source "$HERE/../lab/lrscan_test_lib.sh"
lr_require nmap xmllint ndiff python3
NAME=lrl$(( $$ % 100000 ))
LABS=("$NAME")
lr_work lrscan_lab

# Ground truth: 150 open ports, deterministic and scattered, with both ends of the range.
OPEN=$(python3 -c "
import random
r = random.Random(6)
ports = {1, 65535, 22, 80, 443} | set(r.sample(range(2, 65535), 145))
print(','.join(map(str, sorted(ports))))")
FILTERED=$(python3 -c "
import random
open_ = set(map(int, '$OPEN'.split(',')))
r = random.Random(7)
print(','.join(map(str, sorted(r.sample([p for p in range(2, 65535) if p not in open_], 20)))))")

if ! timeout 60 "$LAB" up "$NAME" --tcp "$OPEN" --filtered-tcp "$FILTERED" --addrs 3 >"$WORK/up.log" 2>&1; then
  if grep -qiE 'not root|namespace' "$WORK/up.log" && ! ip netns add "lrlprobe$$" 2>/dev/null; then
    echo "SKIP: cannot create network namespaces"; exit 77
  fi
  ip netns del "lrlprobe$$" 2>/dev/null
  echo "FAIL: lab.sh up"; cat "$WORK/up.log"; exit 1
fi
"$LAB" info "$NAME" >"$WORK/info" || { echo "FAIL: lab.sh info"; exit 1; }
# shellcheck disable=SC1091
source "$WORK/info"
scan() { timeout 120 "$LAB" exec "$NAME" scan "$@"; }

# ---- full range, IPv4, every output format ------------------------------------------
start=$(date +%s.%N)
scan "$LRSCAN" -sT -p- "$TGT_ADDR" --reason --no-progress -oA "$WORK/lr" -oJ "$WORK/lr.jsonl" >"$WORK/lr.out" 2>"$WORK/lr.err"
rc=$?
lr_s=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
check "lrscan -p- exits 0" test "$rc" = 0
start=$(date +%s.%N)
scan nmap -sT -p- -T4 -n -Pn "$TGT_ADDR" -oX "$WORK/nmap.xml" >/dev/null 2>&1
nm_s=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
echo "wall: lrscan ${lr_s}s, nmap -sT -T4 ${nm_s}s (same lab, same run; not a benchmark)"

python3 - "$WORK" "$OPEN" "$FILTERED" <<'PY' >"$WORK/verdicts" 2>&1
import json, re, sys, xml.etree.ElementTree as ET
work, open_s, filt_s = sys.argv[1:4]
want_open = set(map(int, open_s.split(',')))
want_filt = set(map(int, filt_s.split(',')))
out = []
def verdict(name, ok, detail=''):
    out.append(f"{'PASS' if ok else 'MISS'} {name} {detail}")
# grepable: listed ports and the ignored state
g = open(f'{work}/lr.gnmap').read()
m = re.search(r'Ports: (.*?)(\t|$)', g)
listed = {}
for item in (m.group(1).split(', ') if m else []):
    f = item.split('/')
    listed[int(f[0])] = f[1]
ig = re.search(r'Ignored State: (\S+) \((\d+)\)', g)
g_open = {p for p, s in listed.items() if s == 'open'}
g_filt = {p for p, s in listed.items() if s == 'filtered'}
verdict('grepable open set == truth', g_open == want_open, f'{len(g_open)} vs {len(want_open)}')
verdict('grepable filtered set == truth', g_filt == want_filt, f'{sorted(g_filt ^ want_filt)[:5]}')
verdict('grepable ignores the rest as closed', bool(ig) and ig.group(1) == 'closed' and int(ig.group(2)) == 65535 - len(want_open) - len(want_filt))
# XML
root = ET.parse(f'{work}/lr.xml').getroot()
states = {}
for port in root.iter('port'):
    states[int(port.get('portid'))] = port.find('state').get('state')
extra = {e.get('state'): int(e.get('count')) for e in root.iter('extraports')}
x_open = {p for p, s in states.items() if s == 'open'}
x_filt = {p for p, s in states.items() if s == 'filtered'}
verdict('XML open set == truth', x_open == want_open)
verdict('XML filtered set == truth', x_filt == want_filt)
verdict('XML closed count == truth', extra.get('closed') == 65535 - len(want_open) - len(want_filt), str(extra))
# JSON lines: one object per port, all 65535 of them
ports = {}
for line in open(f'{work}/lr.jsonl'):
    o = json.loads(line)
    if o.get('type') == 'port':
        ports[o['port']] = o['state']
verdict('JSON has every port once', len(ports) == 65535, str(len(ports)))
verdict('JSON open set == truth', {p for p, s in ports.items() if s == 'open'} == want_open)
verdict('JSON filtered set == truth', {p for p, s in ports.items() if s == 'filtered'} == want_filt)
# normal output
n = open(f'{work}/lr.nmap').read()
verdict('normal output lists every open port', all(re.search(rf'^{p}/tcp\s+open\s', n, re.M) for p in want_open))
print('\n'.join(out))
PY
cat "$WORK/verdicts"
check "every format equals the ground truth" bash -c "! grep -q '^MISS' '$WORK/verdicts' && grep -q '^PASS' '$WORK/verdicts'"
check "XML validates against nmap's DTD" xmllint --noout --dtdvalid /usr/share/nmap/nmap.dtd "$WORK/lr.xml"
ndiff "$WORK/nmap.xml" "$WORK/lr.xml" >"$WORK/ndiff.out" 2>&1; nd=$?
check "ndiff finds no port difference between nmap's and lrscan's scan (exit $nd)" \
  bash -c "test $nd = 0 || ! grep -E '^[-+] *[0-9]+/tcp' '$WORK/ndiff.out'"
[ "$nd" = 2 ] && cat "$WORK/ndiff.out"

# ---- IPv6 ---------------------------------------------------------------------------
scan "$LRSCAN" -sT -p "$TCP_OPEN_SPEC,$FILTERED_TCP_SPEC,2-40" "$TGT_ADDR6" --no-progress -oG "$WORK/v6.gnmap" >/dev/null 2>&1
check "IPv6 scan finds the open ports" python3 -c "
import re
g = open('$WORK/v6.gnmap').read()
m = re.search(r'Ports: (.*?)(\t|\$)', g)
got = {int(i.split('/')[0]) for i in m.group(1).split(', ') if i.split('/')[1] == 'open'}
assert got == set(map(int, '$TCP_OPEN'.replace(' ', ',').split(','))), sorted(got)[:10]
"

# ---- several addresses and an exclusion -----------------------------------------------
read -r -a ADDRS <<<"${TGT_ADDRS//,/ }"
scan "$LRSCAN" -sT -p 1,22,80,443,65535 "${ADDRS[0]}-$(echo "${ADDRS[-1]}" | awk -F. '{print $4}')" \
  --exclude "${ADDRS[1]}" --no-progress -oG "$WORK/multi.gnmap" >/dev/null 2>&1
check "an excluded address is never in the results" bash -c "! grep -q 'Host: ${ADDRS[1]} ' '$WORK/multi.gnmap'"
check "the other addresses are scanned" bash -c "grep -q 'Host: ${ADDRS[0]} ' '$WORK/multi.gnmap' && grep -q 'Host: ${ADDRS[2]} ' '$WORK/multi.gnmap'"

echo "$passed passed, $failed failed"
test "$failed" = 0
