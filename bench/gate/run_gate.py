#!/usr/bin/env python3
"""bench/gate/run_gate.py — the callgrind instruction-count regression gate.

Runs every case of gate_driver under callgrind, counting only the instructions
executed inside lr_gate_measure() (--toggle-collect), so process start-up and
the driver's warm-up are excluded. Compares each count (Ir) with the baseline:

  * more than --threshold % (default 5) above the baseline  -> FAIL (exit 1)
  * more than --threshold % below                           -> note: run `make bench-baseline`
  * case missing from the baseline                          -> FAIL: run `make bench-baseline`
  * baseline entry with no such case                        -> warning

Instruction counts are deterministic on this VM (wall time is not, STYLE.md §6).
They do depend on the compiler, glibc (memchr/memcpy variant picked for the CPU
valgrind reports) and OpenSSL, so the baseline records the compiler version.

  --update      rewrite the baseline with the measured counts (on purpose only)
  --json OUT    also write the measured counts to OUT (for the bench report)

Exit codes: 0 pass, 1 regression or missing baseline entry, 2 usage or tool
error (valgrind missing, driver crashed), 77 driver not built (ctest SKIP).
The last line printed is always "N passed, M failed".
Standard library only.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOGGLE = "*lr_gate_measure*"
NOTE = "instructions (Ir) from callgrind, counted inside lr_gate_measure() only (bench/gate/run_gate.py)"
SKIP = 77


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    return out.splitlines()[0].strip() if out else "unknown"


def list_cases(driver: str) -> list[str]:
    proc = subprocess.run([driver, "--list"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{driver} --list exited {proc.returncode}: {proc.stderr.strip()}")
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def read_ir(path: str) -> int:
    """Total Ir of a callgrind output file: the 'totals:' line, else 'summary:'."""
    totals = summary = None
    events = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("totals:"):
                totals = int(line.split()[1])
            elif line.startswith("summary:"):
                summary = int(line.split()[1])
    if events is not None and (not events or events[0] != "Ir"):
        raise RuntimeError(f"{path}: first event is {events[:1]}, expected Ir")
    value = totals if totals is not None else summary
    if value is None:
        raise RuntimeError(f"{path}: no totals:/summary: line")
    return value


def measure(valgrind: str, driver: str, case: str, tmpdir: str) -> tuple[int, str]:
    out = os.path.join(tmpdir, f"callgrind.{case}.out")
    cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", f"--toggle-collect={TOGGLE}",
           driver, case]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"case {case}: valgrind/driver exited {proc.returncode} (a sanitizer build does "
                           f"not run under valgrind: use the release driver)\n{tail}")
    ir = read_ir(out)
    if ir == 0:
        raise RuntimeError(f"case {case}: 0 instructions collected: --toggle-collect={TOGGLE} matched "
                           "nothing (symbol lr_gate_measure missing or inlined?)")
    return ir, proc.stdout.strip()


def load_baseline(path: str) -> tuple[dict[str, int] | None, dict]:
    if not os.path.exists(path):
        return None, {}
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    cases = data.get("cases", {})
    return {k: int(v) for k, v in cases.items()}, data


def write_json(path: str, obj: dict) -> None:
    text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def cpu_signature() -> str:
    """CPU model plus the vector features that steer glibc's string functions."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = " ".join(value.split())
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    feats = [f for f in ("sse4_2", "avx", "avx2", "bmi2", "erms", "avx512f", "avx512bw", "avx512vl") if f in flags]
    return f"{model} [{' '.join(feats)}]"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", required=True, help="release build of gate_driver")
    ap.add_argument("--baseline", required=True, help="bench/baseline.json")
    ap.add_argument("--update", action="store_true", help="rewrite the baseline with the measured counts")
    ap.add_argument("--json", metavar="OUT", help="write the measured counts to OUT")
    ap.add_argument("--threshold", type=float, default=5.0, help="allowed change in percent (default 5)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="callgrind runs in parallel")
    ap.add_argument("--case", action="append", dest="cases", metavar="NAME",
                    help="measure only this case (repeatable); stale-entry warnings are then off")
    args = ap.parse_args()

    if not os.path.isfile(args.driver) or not os.access(args.driver, os.X_OK):
        print(f"run_gate: driver {args.driver} not found; build it with `make gate-build` "
              "(release preset, target gate_driver). Skipping.")
        return SKIP
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("run_gate: ERROR: valgrind not found in PATH; the perf gate needs it "
              "(scripts/install-deps, Debian package 'valgrind').", file=sys.stderr)
        print("0 passed, 0 failed")
        return 2

    try:
        cases = list_cases(args.driver)
    except (OSError, RuntimeError) as e:
        print(f"run_gate: ERROR: {e}", file=sys.stderr)
        print("0 passed, 0 failed")
        return 2
    if args.cases:
        unknown = sorted(set(args.cases) - set(cases))
        if unknown:
            print(f"run_gate: ERROR: unknown case(s) {', '.join(unknown)}; driver has {', '.join(cases)}",
                  file=sys.stderr)
            print("0 passed, 0 failed")
            return 2
        cases = [c for c in cases if c in args.cases]

    measured: dict[str, int] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lr-gate-") as tmpdir:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {pool.submit(measure, valgrind, args.driver, c, tmpdir): c for c in cases}
            for fut in concurrent.futures.as_completed(futures):
                try:
                    measured[futures[fut]] = fut.result()[0]
                except (OSError, RuntimeError, ValueError) as e:
                    errors.append(str(e))
    if errors:
        for e in errors:
            print(f"run_gate: ERROR: {e}", file=sys.stderr)
        print(f"{len(measured)} passed, {len(errors)} failed")
        return 2

    baseline, base_doc = load_baseline(args.baseline)
    compiler = first_line(["c++", "--version"])
    base_compiler = base_doc.get("compiler")
    cpu = cpu_signature()
    base_cpu = base_doc.get("cpu")
    # glibc picks memchr/memcpy variants by CPU features, so counts from another
    # CPU are not comparable: report them, but do not fail a build on them.
    other_cpu = bool(base_cpu) and base_cpu != cpu and not args.update

    # ---- compare and print the table --------------------------------------------
    failures: list[str] = []
    notes: list[str] = []
    rows = []
    passed = 0
    for c in cases:
        new = measured[c]
        old = baseline.get(c) if baseline is not None else None
        if old is None:
            status = "NEW" if args.update else "FAIL"
            change = "-"
            if not args.update:
                failures.append(f"FAIL {c}: no baseline entry in {args.baseline} "
                                "(new case? run `make bench-baseline` and commit bench/baseline.json)")
        else:
            pct = (new - old) * 100.0 / old if old else float("inf")
            change = f"{pct:+.2f}%"
            if pct > args.threshold:
                status = "FAIL"
                if not args.update:
                    failures.append(f"FAIL {c}: {old} -> {new} instructions ({pct:+.2f}%, "
                                    f"limit +{args.threshold:g}%)")
            elif pct < -args.threshold:
                status = "BETTER"
                if not args.update:
                    notes.append(f"note: {c} improved {old} -> {new} instructions ({pct:+.2f}%); "
                                 "run `make bench-baseline` to lock the gain in")
            else:
                status = "ok"
        if args.update:
            status = "updated"
        if status != "FAIL":
            passed += 1
        rows.append((c, "-" if old is None else str(old), str(new), change, status))

    header = ("case", "baseline Ir", "measured Ir", "change", "status")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    fmt = "  ".join(["{:<%d}" % widths[0]] + ["{:>%d}" % w for w in widths[1:4]] + ["{:<%d}" % widths[4]])
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for r in rows:
        print(fmt.format(*r))
    print()

    if baseline is None and not args.update:
        print(f"run_gate: no baseline file {args.baseline}; run `make bench-baseline` to create it")
    if baseline is not None and not args.cases:
        for stale in sorted(set(baseline) - set(cases)):
            print(f"warning: baseline entry '{stale}' has no case in the driver (removed or renamed?); "
                  "`make bench-baseline` drops it")
    if other_cpu:
        print(f"warning: baseline was measured on '{base_cpu}', this is '{cpu}'; not gating on counts "
              "from another CPU (run `make bench-baseline` on this machine to gate here)")
        for f in failures:
            print(f"(not gating) {f}")
        failures = []
        passed = len(rows)
    if base_compiler and base_compiler != compiler and not args.update:
        print(f"warning: baseline was measured with '{base_compiler}', this is '{compiler}'; "
              "counts may differ for that reason alone")
    for n in notes:
        print(n)
    for f in failures:
        print(f)

    meta = {
        "cpu": cpu,
        "compiler": compiler,
        "valgrind": first_line([valgrind, "--version"]),
        "note": NOTE,
    }
    if args.json:
        write_json(args.json, {**meta, "cases": dict(sorted(measured.items()))})
    if args.update:
        merged = dict(measured)
        if args.cases and baseline is not None:
            # A partial update keeps the other cases' entries.
            merged = {**{k: v for k, v in baseline.items() if k in list_cases(args.driver)}, **measured}
        write_json(args.baseline, {**meta, "cases": dict(sorted(merged.items()))})
        print(f"baseline written: {args.baseline} ({len(merged)} cases)")

    failed = len(rows) - passed
    if args.update:
        failed = 0
        passed = len(rows)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
