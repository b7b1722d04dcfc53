"""bench/e2e/scan_score.py — figures and scoring shared by the python parts of the
scan benchmarks (bench/e2e/scan_*.sh run them with `bench_py` from lib.sh, which puts
this folder on PYTHONPATH). Standard library only."""
import json
import os
import statistics
import xml.etree.ElementTree as ET


def gnu_time(base):
    """(wall s, user s, sys s, peak RSS kB) of BASE.time, written by GNU time -f
    '%e %U %S %M' (its last line: -o may hold a "Command exited with non-zero status"
    line first). Raises OSError or ValueError."""
    wall, user, sys_, rss_kb = open(base + ".time").read().strip().splitlines()[-1].split()
    return float(wall), float(user), float(sys_), int(rss_kb)


def tcp_xml_host(path):
    """The TCP ports of the one <host> of an nmap-style XML: (listed {port: state} of
    its <port>s, extra {state: count} of its <extraports>, extra_ports {port: state}
    of the ports nmap >= 7.80 and lrscan name in <extrareasons ports=...>). Raises
    ValueError with the run's error text."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise ValueError(f"unreadable XML: {e}")
    hosts = root.findall("host")
    if len(hosts) != 1:
        raise ValueError(f"{len(hosts)} <host> elements in the XML, expected 1")
    listed, extra, extra_ports = {}, {}, {}
    for p in hosts[0].iter("port"):
        if p.get("protocol") == "tcp":
            listed[int(p.get("portid"))] = p.find("state").get("state")
    for e in hosts[0].iter("extraports"):
        extra[e.get("state")] = extra.get(e.get("state"), 0) + int(e.get("count"))
        for r in e.iter("extrareasons"):
            for tok in (r.get("ports") or "").split(","):
                if tok:
                    lo, _, hi = tok.partition("-")
                    for q in range(int(lo), int(hi or lo) + 1):
                        extra_ports[q] = e.get("state")
    return listed, extra, extra_ports


def tcp_exactness(listed, extra, extra_ports, want_open, want_filt, all_ports):
    """The run's exactness figures against the ground truth: the open and filtered
    sets equal it and every other of all_ports ports is closed (listed closed ports
    plus the <extraports state="closed"> count)."""
    states = dict(extra_ports)
    states.update(listed)
    got_open = {q for q, s in states.items() if s == "open"}
    got_filt = {q for q, s in states.items() if s == "filtered"}
    closed = sum(1 for s in listed.values() if s == "closed") + extra.get("closed", 0)
    return dict(
        open_found=len(got_open), filtered_found=len(got_filt), closed_found=closed,
        open_exact=got_open == want_open, filtered_exact=got_filt == want_filt,
        closed_exact=closed == all_ports - len(want_open) - len(want_filt),
        missed_open=sorted(want_open - got_open)[:20], extra_open=sorted(got_open - want_open)[:20],
        missed_filtered=sorted(want_filt - got_filt)[:20], extra_filtered=sorted(got_filt - want_filt)[:20],
        extraports=dict(extra),
    )


def med(vals):
    """The median of the values that are not None; None when there are none."""
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def write_json(path, doc):
    """doc as indented JSON at path, replaced atomically."""
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
