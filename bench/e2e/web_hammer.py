#!/usr/bin/env python3
"""Hammer a btest-pro dashboard with GETs from many threads, bounded in time.

    web_hammer.py BASE_URL --seconds S --threads N [--ip IP] [--json OUT]

Each thread loops over a fixed mix of requests (the visitor's sessions and
quota, /metrics, /api/v1/stats, a session chart, and two bad requests that must
get 400) on one keep-alive connection, until S seconds have passed. Prints (and
writes with --json) requests per second, the status counts and the p50/p99
latency per path. Only the given base URL is contacted (loopback in the benches).
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--json")
    a = ap.parse_args()
    if not 0 < a.seconds <= 120 or not 0 < a.threads <= 256:
        raise SystemExit("web_hammer: --seconds must be in (0, 120] and --threads in 1..256")
    u = urllib.parse.urlsplit(a.base)
    paths = [
        f"/api/v1/ip/{a.ip}/sessions?limit=20",
        f"/api/v1/ip/{a.ip}/quota",
        "/metrics",
        "/api/v1/stats",
        "/api/v1/sessions/1/chart.svg",
        "/api/v1/ip/1'%20OR%201=1/sessions",
        "/api/v1/sessions/99999999999999999999",
    ]
    lat = {p: [] for p in paths}
    codes = {}
    lock = threading.Lock()
    deadline = time.monotonic() + a.seconds

    def worker(k):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        i = k
        mine = {p: [] for p in paths}
        my_codes = {}
        while time.monotonic() < deadline:
            p = paths[i % len(paths)]
            i += 1
            t0 = time.monotonic()
            try:
                conn.request("GET", p)
                r = conn.getresponse()
                r.read()
                code = r.status
            except (OSError, http.client.HTTPException):
                code = "error"
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            mine[p].append(time.monotonic() - t0)
            my_codes[code] = my_codes.get(code, 0) + 1
        conn.close()
        with lock:
            for p in paths:
                lat[p].extend(mine[p])
            for c, n in my_codes.items():
                codes[c] = codes.get(c, 0) + n

    start = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - start
    total = sum(len(v) for v in lat.values())

    def q(v, f):
        if not v:
            return None
        v = sorted(v)
        return round(v[min(len(v) - 1, int(f * len(v)))] * 1000, 2)

    out = {
        "seconds": round(took, 2),
        "threads": a.threads,
        "requests": total,
        "requests_per_s": round(total / took, 1),
        "codes": {str(k): v for k, v in codes.items()},
        "latency_ms": {p: {"p50": q(v, 0.5), "p99": q(v, 0.99), "n": len(v)} for p, v in lat.items()},
        "median_ms_all": round(statistics.median([x for v in lat.values() for x in v]) * 1000, 2) if total else None,
    }
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
