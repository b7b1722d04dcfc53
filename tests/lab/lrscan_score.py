"""tests/lab/lrscan_score.py — parsers and verdict helpers shared by the python checkers
of the lrscan lab tests (tests/integration/lrscan_*lab*_test.sh). Each test keeps its
own scoring commands in its checker and imports this module (lrscan_test_lib.sh's ck_py
puts this folder on PYTHONPATH). Standard library only.

A row is (addr, proto, port, state, reason), the address normalised by addr(), so the
rows of -oX, -oJ and -oG of lrscan and of nmap compare directly."""
import ipaddress
import json
import re
import sys
import xml.etree.ElementTree as ET


def addr(a):
    return str(ipaddress.ip_address(a))


def ports_of(spec):
    """The set of ports of a comma list of ports and ranges ("1,22,1000-1010")."""
    out = set()
    for tok in filter(None, spec.split(",")):
        lo, _, hi = tok.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def xml_rows(path, expand=True):
    """Rows of every <port> of an nmap-style XML, and with expand the ports of
    <extraports> named in <extrareasons ports=... proto=...> (nmap >= 7.80, lrscan;
    proto '?' when the element has none)."""
    rows = []
    for host in ET.parse(path).getroot().iter("host"):
        a = addr(next(x.get("addr") for x in host.iter("address") if x.get("addrtype") in ("ipv4", "ipv6")))
        for p in host.iter("port"):
            st = p.find("state")
            rows.append((a, p.get("protocol"), int(p.get("portid")), st.get("state"), st.get("reason")))
        if not expand:
            continue
        for e in host.iter("extraports"):
            for r in e.iter("extrareasons"):
                for q in ports_of(r.get("ports") or ""):
                    rows.append((a, r.get("proto") or "?", q, e.get("state"), r.get("reason")))
    return rows


def json_rows(path, default_proto="?"):
    """Rows of the "type":"port" objects of a -oJ file (proto default_proto where an
    object has none, reason "" likewise); a line that is not JSON ends the checker."""
    rows = []
    for n, line in enumerate(open(path), 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            raise SystemExit("%s:%d: not JSON: %s" % (path, n, e))
        if o.get("type") == "port":
            rows.append((addr(o["ip"]), o.get("proto", default_proto), int(o["port"]), o["state"],
                         o.get("reason", "")))
    return rows


def gnmap_hosts(path):
    """(addr, [(port, state, proto), ...], (ignored state, count) or None) for every
    'Host: ... Ports: ...' line of a -oG file."""
    for line in open(path):
        m = re.match(r"Host: (\S+) \(\S*\)\tPorts: ([^\t]*)", line)
        if not m:
            continue
        items = [item.split("/") for item in filter(None, m.group(2).split(", "))]
        ig = re.search(r"\tIgnored State: (\S+) \((\d+)\)", line)
        yield (addr(m.group(1)), [(int(f[0]), f[1], f[2]) for f in items],
               (ig.group(1), int(ig.group(2))) if ig else None)


def verdict(ok, name, detail=""):
    """One "PASS name" / "MISS name || detail" line (lrscan_test_lib.sh's verdicts)."""
    print("%s %s%s" % ("PASS" if ok else "MISS", name, (" || " + detail) if detail else ""))


def diff_detail(got, want):
    return "missing %s, extra %s" % (sorted(want - got)[:8], sorted(got - want)[:8])


def cmd_nmap2json(argv):
    """nmap2json XML JSONL: nmap's XML as lrscan's -oJ port objects (SCANNER=nmap)."""
    xpath, jpath = argv
    with open(jpath, "w") as f:
        f.write(json.dumps({"type": "scan", "scanner": "nmap"}) + "\n")
        for a, pr, p, s, r in sorted(xml_rows(xpath), key=lambda r: (r[0], r[1], r[2])):
            f.write(json.dumps({"type": "port", "ip": a, "family": 6 if ":" in a else 4, "port": p, "proto": pr,
                                "state": s, "reason": r}) + "\n")
        f.write(json.dumps({"type": "summary"}) + "\n")


def main(cmds):
    """Run the command sys.argv[1] of cmds (nmap2json included) on sys.argv[2:]."""
    {"nmap2json": cmd_nmap2json, **cmds}[sys.argv[1]](sys.argv[2:])
