#!/usr/bin/env python3
"""bench/report.py — gather one `make bench` run into BUILD_DIR/report.json.

    python3 bench/report.py BUILD_DIR [--baseline bench/baseline.json] [--out FILE]

Inputs (all written by the same `make bench`, so every ratio compares figures
measured on the same machine in the same job, STYLE.md §6):

  BUILD_DIR/micro.json            Google Benchmark JSON (--benchmark_out). With
                                  repetitions, the *_median aggregates are used
                                  (and *_cv as the noise figure); without, the
                                  median of the plain iteration entries.
  BUILD_DIR/bench/btest_tcp.json  bench/e2e/btest_tcp.sh: our btest vs iperf3 on
                                  loopback, medians per direction (optional).
  BUILD_DIR/bench/btest_udp.json  bench/e2e/btest_udp.sh: our btest vs iperf3 -u on
                                  loopback (unlimited with and without offload,
                                  fixed rates), medians, loss and rate accuracy
                                  (optional).
  BUILD_DIR/bench/btest_load.json bench/e2e/btest_load.sh: session rate and
                                  server RSS/fds/threads before, at the peak and
                                  after (top level or under "server") (optional).
  BUILD_DIR/bench/scan_connect.json
                                  bench/e2e/scan_connect.sh: lrscan -p- vs nmap -sT
                                  -T4 against one scan-lab host, medians of wall,
                                  CPU, peak RSS, ports/s, exactness (optional).
  BUILD_DIR/gate.json             bench/gate/run_gate.py --json: callgrind
                                  instruction counts, compared here with the
                                  committed baseline (optional).

Output: BUILD_DIR/report.json
  {"machine": {...}, "micro": [...], "micro_ratios": [...], "e2e": [...] (UDP rows
   also carry "udp": steady state, pps, loss, rate accuracy; the scan row
   carries "scan": wall, CPU, peak RSS, exactness, speedup, goal),
   "load": {...} | null, "gate": {...} | null, "missing": [...], "notes": [...]}
and a short table on stdout. A missing or unreadable optional input is listed
under "missing" and skipped. Exit 1 only when micro.json is missing or
unreadable (the report is still written), else 0: this script reports, the
gate and the e2e scripts judge.

Standard library only.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

# In-process comparisons inside micro_bench: (label, fast, reference). Both ran in
# the same process on the same input, so their ratio is the figure to read; the
# absolute nanoseconds move with the machine's load. Add a row when a benchmark
# gains a baseline twin.
MICRO_RATIOS = [
    ("StatusScanner on 256 KiB of zeros vs the naive byte loop (same buffer)",
     "BM_StatusScanner_AllZero256K", "BM_StatusScanner_ByteLoopBaseline"),
    ("StatusScanner on the interleaved stream vs the byte loop on zeros",
     "BM_StatusScanner_Interleaved256K", "BM_StatusScanner_ByteLoopBaseline"),
    ("relaxed load+store byte counter vs atomic fetch_add",
     "BM_Accounting_RelaxedCounter", "BM_Accounting_AtomicFetchAdd"),
]

TIME_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Google Benchmark's own fields; anything else numeric in an entry is a user counter.
GB_FIELDS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "aggregate_name", "aggregate_unit", "iterations", "real_time",
    "cpu_time", "time_unit", "bytes_per_second", "items_per_second", "label", "error_occurred",
    "error_message",
}


def load_json(path: str, missing: list[str], what: str) -> Any | None:
    if not os.path.exists(path):
        missing.append(f"{what}: {path} not found")
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        missing.append(f"{what}: {path} unreadable ({e})")
        return None


# ---------------------------------------------------------------- machine


def machine_info(micro: dict | None) -> dict:
    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu_model": cpu or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "host": platform.node(),
        "date": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    ctx = (micro or {}).get("context", {})
    if ctx:
        info["micro_date"] = ctx.get("date")
        info["mhz_per_cpu"] = ctx.get("mhz_per_cpu")
        # Load average when micro_bench started: the first thing to look at when a
        # figure looks off (this VM's 2 cores are shared with builds).
        info["load_avg_at_micro"] = ctx.get("load_avg")
        info["benchmark_library_build_type"] = ctx.get("library_build_type")
    return info


# ---------------------------------------------------------------- micro


def micro_entries(doc: dict, notes: list[str]) -> list[dict]:
    benches = [b for b in doc.get("benchmarks", []) if not b.get("error_occurred")]
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred"):
            notes.append(f"micro: {b.get('name')} reported an error: {b.get('error_message')}")

    def ns(b: dict, key: str) -> float:
        return float(b[key]) * TIME_NS.get(b.get("time_unit", "ns"), 1.0)

    def counters(b: dict) -> dict:
        return {k: v for k, v in b.items() if k not in GB_FIELDS and isinstance(v, (int, float))}

    medians = [b for b in benches if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"]
    cvs = {b["run_name"]: b for b in benches
           if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "cv"}
    out: list[dict] = []
    if medians:
        for b in medians:
            e = {
                "name": b["run_name"],
                "statistic": f"median of {b.get('repetitions', '?')} repetitions",
                "real_ns": ns(b, "real_time"),
                "cpu_ns": ns(b, "cpu_time"),
                "items_per_s": b.get("items_per_second"),
                "bytes_per_s": b.get("bytes_per_second"),
            }
            cv = cvs.get(b["run_name"])
            # The cv aggregate stores the ratio in real_time (aggregate_unit "percentage").
            e["cv_percent"] = 100.0 * float(cv["real_time"]) if cv else None
            if counters(b):
                e["counters"] = counters(b)
            out.append(e)
        return out

    # No aggregates (run without --benchmark_repetitions): median of the runs.
    runs: dict[str, list[dict]] = {}
    for b in benches:
        if b.get("run_type", "iteration") == "iteration":
            runs.setdefault(b.get("run_name", b["name"]), []).append(b)
    if runs:
        notes.append("micro: no median aggregates in micro.json (run with --benchmark_repetitions=N); "
                     "using the median of the plain runs")

    def med(bs: list[dict], key: str) -> float | None:
        vals = [float(b[key]) for b in bs if b.get(key) is not None]
        return statistics.median(vals) if vals else None

    for name, bs in runs.items():
        out.append({
            "name": name,
            "statistic": f"median of {len(bs)} run(s)",
            "real_ns": statistics.median(ns(b, "real_time") for b in bs),
            "cpu_ns": statistics.median(ns(b, "cpu_time") for b in bs),
            "items_per_s": med(bs, "items_per_second"),
            "bytes_per_s": med(bs, "bytes_per_second"),
            "cv_percent": None,
        })
    return out


def micro_ratios(entries: list[dict]) -> list[dict]:
    by = {e["name"]: e for e in entries}
    out = []
    for label, fast, ref in MICRO_RATIOS:
        a, b = by.get(fast), by.get(ref)
        if not a or not b or not a["real_ns"]:
            continue
        # Throughput ratio when both report bytes/s (independent of buffer size),
        # else time ratio (same work per iteration by construction).
        if a.get("bytes_per_s") and b.get("bytes_per_s"):
            speedup = a["bytes_per_s"] / b["bytes_per_s"]
        else:
            speedup = b["real_ns"] / a["real_ns"]
        out.append({"what": label, "fast": fast, "reference": ref,
                    "fast_ns": a["real_ns"], "reference_ns": b["real_ns"], "speedup": speedup})
    return out


# ---------------------------------------------------------------- e2e


def e2e_btest_tcp(doc: dict, notes: list[str]) -> list[dict]:
    out = []
    cases = doc.get("cases", {})
    if doc.get("failed"):
        notes.append("e2e btest_tcp: the script reported failed runs; medians use the runs that finished")
    for direction, c in cases.items():
        ours, peer = c.get("ours", {}), c.get("iperf3", {})
        e = {
            "case": f"btest_tcp {direction}",
            "ours": ours.get("total_gbps"),
            "peer": peer.get("total_gbps"),
            "peer_name": "iperf3",
            "ratio": c.get("ratio_gbps"),
            "paired_ratio": c.get("paired_ratio_gbps_median"),
            "unit": "Gbit/s",
            "cpu_s_per_gb": {"ours": ours.get("cpu_s_per_gb"), "peer": peer.get("cpu_s_per_gb"),
                             "ratio": c.get("ratio_cpu_s_per_gb")},
            "runs": {"ours": ours.get("runs"), "peer": peer.get("runs")},
            "statistic": f"median of {doc.get('repeat', '?')} x {doc.get('duration_s', '?')} s",
        }
        if direction == "both":
            e["parts"] = {
                "tx": {"ours": ours.get("tx_gbps"), "peer": peer.get("tx_gbps"), "ratio": c.get("ratio_tx_gbps")},
                "rx": {"ours": ours.get("rx_gbps"), "peer": peer.get("rx_gbps"), "ratio": c.get("ratio_rx_gbps")},
            }
        if not e["runs"]["ours"] or not e["runs"]["peer"]:
            notes.append(f"e2e {e['case']}: no finished run for "
                         + ", ".join(k for k in ("ours", "peer") if not e["runs"][k]))
        out.append(e)
    return out


def e2e_btest_udp(doc: dict, notes: list[str]) -> list[dict]:
    """One e2e row per UDP case: receiver-side Gbit/s (IP level, 1500-byte packets)
    as the headline, plus steady state, packets/s, loss and, for the fixed-rate
    cases, rate accuracy (achieved / target in each tool's own unit)."""
    out = []
    if doc.get("failed"):
        notes.append("e2e btest_udp: the script reported failed runs; medians use the runs that finished")
    for name, c in doc.get("cases", {}).items():
        ours, peer = c.get("ours", {}), c.get("iperf3", {})
        e = {
            "case": f"btest_udp {name}",
            "ours": ours.get("rx_gbps"),
            "peer": peer.get("rx_gbps"),
            "peer_name": "iperf3",
            "ratio": c.get("ratio_gbps"),
            "paired_ratio": c.get("paired_ratio_gbps_median"),
            "unit": "Gbit/s",
            "cpu_s_per_gb": {"ours": ours.get("cpu_s_per_gb"), "peer": peer.get("cpu_s_per_gb"),
                             "ratio": c.get("ratio_cpu_s_per_gb")},
            "runs": {"ours": ours.get("runs"), "peer": peer.get("runs")},
            "statistic": f"median of {doc.get('repeat', '?')} x {doc.get('duration_s', '?')} s",
            "udp": {
                "ours_offload": c.get("ours_offload"),
                "target_bps": c.get("target_bps") or None,
                "steady_gbps": {"ours": ours.get("steady_rx_gbps"), "peer": peer.get("steady_rx_gbps"),
                                "ratio": c.get("ratio_steady_gbps"),
                                "paired_ratio": c.get("paired_ratio_steady_gbps_median")},
                "pps": {"ours": ours.get("rx_pps"), "peer": peer.get("rx_pps"), "ratio": c.get("ratio_pps")},
                "loss_percent": {"ours": ours.get("loss_percent"), "peer": peer.get("loss_percent")},
                "undelivered_percent": {"ours": ours.get("undelivered_percent"),
                                        "peer": peer.get("undelivered_percent")},
                "ours_ramp_s": ours.get("ramp_s"),
            },
        }
        if c.get("target_bps"):
            e["udp"]["rate_accuracy_percent"] = {
                "ours_tx": ours.get("tx_accuracy_percent"), "ours_rx": ours.get("rx_accuracy_percent"),
                "peer_tx": peer.get("tx_accuracy_percent"), "peer_rx": peer.get("rx_accuracy_percent")}
        if not e["runs"]["ours"] or not e["runs"]["peer"]:
            notes.append(f"e2e {e['case']}: no finished run for "
                         + ", ".join(k for k in ("ours", "peer") if not e["runs"][k]))
        out.append(e)
    return out


def e2e_scan_connect(doc: dict, notes: list[str]) -> list[dict]:
    """One e2e row for the full-range connect scan: ports/s (65535 / wall) of lrscan
    and nmap -sT -T4, so the ratio reads like the Gbit/s rows (> 1: lrscan faster);
    the paired ratio is the script's speedup (median of nmap wall / lrscan wall per
    repetition). "scan" holds wall, CPU, peak RSS, exactness and the spec's goal."""
    tools = doc.get("tools", {})
    ours, peer = tools.get("lrscan", {}), tools.get("nmap", {})
    if doc.get("failed"):
        notes.append("e2e scan_connect: the script reported failed or inexact runs; medians use the runs "
                     "that finished")

    def ratio(a: Any, b: Any) -> float | None:
        return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None

    scan: dict[str, Any] = {}
    for key in ("wall_s", "cpu_s", "peak_rss_mib"):
        scan[key] = {"ours": ours.get(key), "peer": peer.get(key), "ratio": ratio(ours.get(key), peer.get(key))}
    scan["exact"] = {"ours": ours.get("exact"), "peer": peer.get("exact")}
    scan["speedup"] = doc.get("speedup")
    scan["goal"] = doc.get("goal")
    e = {
        "case": "scan_connect -p-",
        "ours": ours.get("probes_per_s"),
        "peer": peer.get("probes_per_s"),
        "peer_name": "nmap -sT",
        "ratio": ratio(ours.get("probes_per_s"), peer.get("probes_per_s")),
        "paired_ratio": doc.get("speedup"),
        "unit": "ports/s",
        "cpu_s_per_gb": {"ours": None, "peer": None, "ratio": None},
        "runs": {"ours": ours.get("finished"), "peer": peer.get("finished")},
        "statistic": f"median of {doc.get('reps', '?')} full-range scans",
        "scan": scan,
    }
    if not e["runs"]["ours"] or not e["runs"]["peer"]:
        notes.append(f"e2e {e['case']}: no finished run for "
                     + ", ".join(k for k in ("ours", "peer") if not e["runs"][k]))
    for who, name in (("ours", "lrscan"), ("peer", "nmap")):
        if scan["exact"][who] is False:
            notes.append(f"e2e {e['case']}: {name} was not exact in every run (see {name} in scan_connect.json)")
    return [e]


def load_summary(doc: dict) -> dict:
    """The figures of btest_load.json worth a line; the file itself has the rest.

    Server resource figures are read at the top level or under "server" (the
    script nests them there)."""
    server = doc.get("server") if isinstance(doc.get("server"), dict) else {}

    def get(key: str) -> Any:
        return doc.get(key, server.get(key))

    out: dict[str, Any] = {}
    for key in ("tests", "concurrency", "duration_s", "connections", "direction", "sessions_per_s",
                "attempted", "ok_tests", "failures", "unfinished", "wall_s"):
        if get(key) is not None:
            out[key] = get(key)
    setup = doc.get("setup_ms")
    if isinstance(setup, dict):
        for q in ("p50", "p99"):
            if setup.get(q) is not None:
                out[f"setup_ms_{q}"] = setup[q]
    for key in ("rss_kb", "fds", "threads"):
        for when in ("before", "peak", "after"):
            if get(f"{key}_{when}") is not None:
                out[f"{key}_{when}"] = get(f"{key}_{when}")
        before, after = get(f"{key}_before"), get(f"{key}_after")
        if isinstance(before, (int, float)) and isinstance(after, (int, float)):
            out[f"{key}_delta"] = after - before
    checks = doc.get("checks")
    if isinstance(checks, dict):
        out["failed_checks"] = sorted(k for k, v in checks.items() if not v)
    if "ok" in doc:
        out["ok"] = doc["ok"]
    return out


# ---------------------------------------------------------------- gate


def auth_summary(doc: dict) -> dict:
    """Login rates of btest_auth.json, one row per method and condition, plus the
    peer reference it carries (quoted from an earlier session, not this run)."""
    rows = []
    for method, conds in (doc.get("results") or {}).items():
        for cond, r in (conds or {}).items():
            if not isinstance(r, dict):
                continue
            rows.append({
                "method": method,
                "condition": cond,
                "logins_per_s": r.get("logins_per_s"),
                "p99_ms": (r.get("latency_ms") or {}).get("p99"),
                "failures": r.get("failures"),
                "server_cpu_ms_per_login": r.get("server_cpu_ms_per_login"),
                "client_cpu_ms_per_login": r.get("client_cpu_ms_per_login"),
            })
    return {"rows": rows, "peer_reference": doc.get("peer_reference")}


def gate_summary(doc: dict, baseline_path: str, missing: list[str]) -> dict:
    base = load_json(baseline_path, missing, "gate baseline") or {}
    base_cases = base.get("cases", {})
    rows = []
    for name, ir in sorted(doc.get("cases", {}).items()):
        old = base_cases.get(name)
        rows.append({"case": name, "ir": ir, "baseline_ir": old,
                     "change_percent": (ir - old) * 100.0 / old if old else None})
    return {"cases": rows, "compiler": doc.get("compiler"), "baseline_compiler": base.get("compiler"),
            "threshold_percent": doc.get("threshold_percent", base.get("threshold_percent")),
            "baseline": baseline_path}


# ---------------------------------------------------------------- printing


def si(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    for div, p in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{p}{unit}"
    return f"{v:.3g}{unit}"


def gib(v: float | None) -> str:
    if v is None:
        return "-"
    for div, p in ((1 << 30, "GiB/s"), (1 << 20, "MiB/s"), (1 << 10, "KiB/s")):
        if v >= div:
            return f"{v / div:.3g} {p}"
    return f"{v:.3g} B/s"


def t(v: float) -> str:
    """Nanoseconds, readable: 75,513 / 687.8 / 3.93 / 0.283."""
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.1f}"
    return f"{v:.3g}" if v >= 1 else f"{v:.3f}"


def f(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def print_report(rep: dict, out_path: str) -> None:
    m = rep["machine"]
    print(f"linerate bench report: {m['cpu_model']}, {m['cores']} cores, kernel {m['kernel']}, {m['date']}")
    if m.get("load_avg_at_micro"):
        print("load average when micro_bench started: " + " ".join(f"{x:.2f}" for x in m["load_avg_at_micro"]))

    if rep["micro"]:
        print(f"\nmicro ({rep['micro'][0]['statistic']}; cv = spread of real time across repetitions)")
        w = max(len(e["name"]) for e in rep["micro"])
        print(f"  {'benchmark':<{w}} {'real ns':>11} {'cpu ns':>11} {'items/s':>9} {'bytes/s':>12} {'cv':>7}")
        for e in rep["micro"]:
            cv = f"{e['cv_percent']:.1f}%" if e.get("cv_percent") is not None else "-"
            print(f"  {e['name']:<{w}} {t(e['real_ns']):>11} {t(e['cpu_ns']):>11} {si(e['items_per_s']):>9} "
                  f"{gib(e['bytes_per_s']):>12} {cv:>7}")
    for r in rep["micro_ratios"]:
        print(f"  ratio: {r['what']}: {r['speedup']:.3g}x")

    if rep["e2e"]:
        better = "Gbit/s and ports/s" if any("scan" in e for e in rep["e2e"]) else "Gbit/s"
        print(f"\ne2e (ours and the peer from the same run; ratio = ours / peer: > 1 is better for {better}, "
              "< 1 is better for CPU s/GB)")
        w = max(22, *(len(e["case"]) for e in rep["e2e"]))
        print(f"  {'case':<{w}} {'ours':>8} {'peer':>8} {'peer name':>10} {'ratio':>7} {'paired':>7}"
              f"  {'CPU s/GB ours':>13} {'peer':>6} {'ratio':>6}")
        for e in rep["e2e"]:
            c = e["cpu_s_per_gb"]
            vf = ".0f" if e["unit"] == "ports/s" else ".2f"
            print(f"  {e['case']:<{w}} {f(e['ours'], vf):>8} {f(e['peer'], vf):>8} {e['peer_name']:>10} "
                  f"{f(e['ratio'], '.3f'):>7} {f(e['paired_ratio'], '.3f'):>7}  {f(c['ours'], '.3f'):>13} "
                  f"{f(c['peer'], '.3f'):>6} {f(c['ratio'], '.3f'):>6}")
        stats, units = {}, {}
        for e in rep["e2e"]:
            stats.setdefault(e["case"].split()[0], e["statistic"])
            units.setdefault(e["case"].split()[0], e["unit"])
        if len(set(units.values())) == 1:
            unit = f"unit: {rep['e2e'][0]['unit']}"
        else:
            unit = "units: " + ", ".join(f"{k} {v}" for k, v in units.items())
        print(f"  ({unit}; " + "; ".join(f"{k}: {v}" for k, v in stats.items()) + ")")
        udp = [e for e in rep["e2e"] if "udp" in e]
        if udp:
            print("  UDP (receiver side; steady = last half of each run; loss = receiver's gap count; "
                  "rate = achieved/target %, tx/rx)")
            for e in udp:
                u = e["udp"]
                line = (f"  {e['case']:<{w}} steady {f(u['steady_gbps']['ours'], '.3f')}/"
                        f"{f(u['steady_gbps']['peer'], '.3f')} Gbit/s (x{f(u['steady_gbps']['ratio'], '.2f')}), "
                        f"loss {f(u['loss_percent']['ours'], '.2f')}%/{f(u['loss_percent']['peer'], '.2f')}%")
                acc = u.get("rate_accuracy_percent")
                if acc:
                    line += (f", rate ours {f(acc['ours_tx'], '.1f')}/{f(acc['ours_rx'], '.1f')}%"
                             f" iperf3 {f(acc['peer_tx'], '.1f')}/{f(acc['peer_rx'], '.1f')}%")
                print(line)
        for e in rep["e2e"]:
            sc = e.get("scan")
            if not sc:
                continue

            def yn(v: Any) -> str:
                return "-" if v is None else ("yes" if v else "NO")
            goal = sc.get("goal") or {}
            print(f"  TCP connect scan, lrscan/nmap -sT -T4 (65535 ports): wall {f(sc['wall_s']['ours'], '.2f')}/"
                  f"{f(sc['wall_s']['peer'], '.2f')} s, CPU {f(sc['cpu_s']['ours'], '.2f')}/"
                  f"{f(sc['cpu_s']['peer'], '.2f')} s, peak RSS {f(sc['peak_rss_mib']['ours'], '.1f')}/"
                  f"{f(sc['peak_rss_mib']['peer'], '.1f')} MiB, exact {yn(sc['exact']['ours'])}/"
                  f"{yn(sc['exact']['peer'])}, speedup {f(sc['speedup'], '.2f')}x "
                  f"(goal >= {goal.get('min_speedup', 3):g}x, identical results: "
                  f"{'met' if goal.get('met') else 'not met'}; informational)")

    if rep["load"] is not None:
        ld = rep["load"]
        print("\nload (btest server, bench/e2e/btest_load.sh)")
        print("  " + ", ".join(f"{k} {ld[k]:g}" if isinstance(ld[k], float) else f"{k} {ld[k]}" for k in (
            "tests", "concurrency", "duration_s", "sessions_per_s", "failures", "unfinished",
            "setup_ms_p50", "setup_ms_p99") if k in ld))
        for key, unit in (("rss_kb", " KiB"), ("fds", ""), ("threads", "")):
            if f"{key}_before" in ld:
                def v(when: str, key: str = key, unit: str = unit) -> str:
                    x = ld.get(f"{key}_{when}")
                    return "-" if x is None else f"{x}{unit}"
                print(f"  server {key.split('_')[0]:<8} before {v('before')}, peak {v('peak')}, "
                      f"after {v('after')} (delta {v('delta')})")
        if ld.get("failed_checks"):
            print(f"  FAILED checks: {', '.join(ld['failed_checks'])}")
        elif "ok" in ld:
            print(f"  checks: {'all passed' if ld['ok'] else 'FAILED'}")

    if rep["gate"] is not None:
        g = rep["gate"]
        print(f"\ngate (callgrind Ir vs {os.path.relpath(g['baseline'])}; the gate fails above "
              f"+{g.get('threshold_percent') or 5:g}%)")
        for r in g["cases"]:
            ch = f"{r['change_percent']:+.2f}%" if r["change_percent"] is not None else "new"
            print(f"  {r['case']:<32} {r['ir']:>14,} {ch:>9}")

    if rep.get("auth"):
        print("\nlogins (bench/e2e/btest_auth.sh; 'loaded' = during a full-speed TCP test)")
        print(f"  {'method':<8}{'condition':<10}{'logins/s':>10}{'p99 ms':>9}{'fail':>6}{'srv ms':>8}{'cli ms':>8}")
        for r in rep["auth"]["rows"]:
            print(f"  {r['method']:<8}{r['condition']:<10}{f(r['logins_per_s'], '.1f'):>10}"
                  f"{f(r['p99_ms'], '.2f'):>9}{str(r['failures']):>6}"
                  f"{f(r['server_cpu_ms_per_login'], '.3f'):>8}{f(r['client_cpu_ms_per_login'], '.3f'):>8}")
        ref = rep["auth"].get("peer_reference")
        if ref:
            print(f"  peer reference (not this run): {json.dumps({k: v for k, v in ref.items() if k != 'note'})}")

    for n in rep["notes"]:
        print(f"note: {n}")
    for n in rep["missing"]:
        print(f"missing: {n}")
    print(f"\nreport: {out_path}")


# ---------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir", help="the bench build directory (make bench: build/bench)")
    ap.add_argument("--baseline", default=os.path.join(HERE, "baseline.json"),
                    help="callgrind gate baseline (default: bench/baseline.json)")
    ap.add_argument("--out", help="report file (default BUILD_DIR/report.json)")
    args = ap.parse_args(argv)

    bdir = args.build_dir
    if not os.path.isdir(bdir):
        print(f"report.py: {bdir} is not a directory", file=sys.stderr)
        return 1
    missing: list[str] = []
    notes: list[str] = []

    micro_doc = load_json(os.path.join(bdir, "micro.json"), missing, "micro")
    micro = micro_entries(micro_doc, notes) if isinstance(micro_doc, dict) else []
    if isinstance(micro_doc, dict) and not micro:
        missing.append("micro: micro.json holds no benchmark results")

    e2e: list[dict] = []
    tcp = load_json(os.path.join(bdir, "bench", "btest_tcp.json"), missing, "e2e btest_tcp")
    if isinstance(tcp, dict):
        e2e += e2e_btest_tcp(tcp, notes)
    udp = load_json(os.path.join(bdir, "bench", "btest_udp.json"), missing, "e2e btest_udp")
    if isinstance(udp, dict):
        e2e += e2e_btest_udp(udp, notes)
    scan = load_json(os.path.join(bdir, "bench", "scan_connect.json"), missing, "e2e scan_connect")
    if isinstance(scan, dict):
        e2e += e2e_scan_connect(scan, notes)
    load_doc = load_json(os.path.join(bdir, "bench", "btest_load.json"), missing, "load")
    gate_doc = load_json(os.path.join(bdir, "gate.json"), missing, "gate")

    auth_doc = load_json(os.path.join(bdir, "bench", "btest_auth.json"), missing, "logins")
    known = {"btest_tcp.json", "btest_udp.json", "btest_load.json", "btest_auth.json", "scan_connect.json"}
    edir = os.path.join(bdir, "bench")
    if os.path.isdir(edir):
        for name in sorted(os.listdir(edir)):
            if name.endswith(".json") and name not in known:
                notes.append(f"e2e: {os.path.join(edir, name)} has no reader in bench/report.py yet; not summarised")

    rep = {
        "machine": machine_info(micro_doc if isinstance(micro_doc, dict) else None),
        "micro": micro,
        "micro_ratios": micro_ratios(micro),
        "e2e": e2e,
        "load": load_summary(load_doc) if isinstance(load_doc, dict) else None,
        "auth": auth_summary(auth_doc) if isinstance(auth_doc, dict) else None,
        "gate": gate_summary(gate_doc, args.baseline, missing) if isinstance(gate_doc, dict) else None,
        "missing": missing,
        "notes": notes,
        "inputs": {"build_dir": os.path.abspath(bdir)},
    }
    out_path = args.out or os.path.join(bdir, "report.json")
    with open(out_path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(rep, fh, indent=2)
        fh.write("\n")
    os.replace(out_path + ".tmp", out_path)
    print_report(rep, out_path)
    return 0 if micro else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
