#!/usr/bin/env python3
"""Folded call stacks -> flame graph SVG, and `perf script` -> folded stacks.

    scripts/flamegraph.py collapse [PERF_SCRIPT_TEXT] > stacks.folded
    scripts/flamegraph.py render [FOLDED] -o flame.svg [--title T] [--width PX]

Used by scripts/profile cpu; standalone so it also works on a perf.data copied
from elsewhere (`perf script -F comm,tid,ip,sym,dso -i perf.data | ... collapse`).
No dependencies beyond the Python 3 standard library. Reads stdin when no file
is given (or the file is "-").

Folded format: one line per distinct stack, frames root first, separated by
';', then a space and the sample count ("btest;main;run;send 42"). Kernel
frames carry the suffix "_[k]" so the renderer can colour them apart.

The SVG is a flame graph, not a flame chart: siblings are merged by name and
sorted alphabetically, so the x axis is share of samples, not time. Width of a
frame = share of samples in which it was on the stack. Hover shows name,
samples and percentage; click zooms into a frame (its ancestors stay visible,
greyed), click the background or "Reset zoom" to go back. Colours are a hash of
the function name, so the same function has the same colour in every graph.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import re
import sys
from typing import Iterable, TextIO

# ---------------------------------------------------------------- collapse

# A perf script frame line: "\t    55d5c8a0 sym+0x12 (/path/dso)". Symbol may
# contain spaces and parentheses (C++ signatures), so the dso is taken from the
# last " (" and the address is the first token.
_FRAME = re.compile(r"^\s+([0-9a-fA-F]+)\s+(.*?)\s+\((.*)\)\s*$")
_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")


def _frame_name(sym: str, dso: str) -> str:
    sym = _OFFSET.sub("", sym.strip())
    base = dso.rsplit("/", 1)[-1] if dso else "?"
    if not sym or sym == "[unknown]":
        sym = f"[{base}]"
    # ';' separates frames in the folded format; it never occurs in C or C++
    # symbols but may in odd JIT names.
    sym = sym.replace(";", ":")
    if dso.startswith("[kernel") or dso.endswith(".ko"):
        sym += "_[k]"
    return sym


def collapse(lines: Iterable[str], include_comm: bool = True) -> dict[str, int]:
    """Group `perf script` samples into folded stacks with counts."""
    counts: dict[str, int] = {}
    comm: str | None = None
    frames: list[str] = []

    def flush() -> None:
        nonlocal comm, frames
        if comm is not None:
            stack = list(reversed(frames))  # perf prints the leaf first
            if include_comm:
                stack.insert(0, comm)
            if stack:
                key = ";".join(stack)
                counts[key] = counts.get(key, 0) + 1
        comm, frames = None, []

    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            flush()
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t":
            m = _FRAME.match(line)
            if m:
                frames.append(_frame_name(m.group(2), m.group(3)))
            continue
        # Sample header: "comm  tid ..." (comm itself may contain spaces, the
        # first all-digit token after it is the pid/tid).
        flush()
        toks = line.split()
        name = []
        for t in toks:
            if re.fullmatch(r"\d+(/\d+)?", t):
                break
            name.append(t)
        comm = "-".join(name) if name else "?"
    flush()
    return counts


# ---------------------------------------------------------------- render


class Node:
    __slots__ = ("name", "value", "children")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0
        self.children: dict[str, Node] = {}


def parse_folded(lines: Iterable[str]) -> Node:
    root = Node("all")
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        stack, _, count = line.rpartition(" ")
        try:
            n = int(float(count))
        except ValueError:
            continue
        if n <= 0 or not stack:
            continue
        node = root
        node.value += n
        for fr in stack.split(";"):
            child = node.children.get(fr)
            if child is None:
                child = node.children[fr] = Node(fr)
            child.value += n
            node = child
    return root


def _depth(node: Node) -> int:
    return 1 + max((_depth(c) for c in node.children.values()), default=0)


def _colour(name: str) -> str:
    h = hashlib.md5(name.encode()).digest()
    a, b, c = h[0] / 255, h[1] / 255, h[2] / 255
    if name.endswith("_[k]"):  # kernel: orange-brown
        return f"rgb({int(200 + 40 * a)},{int(110 + 50 * b)},{int(40 + 30 * c)})"
    if name.startswith("[") and name.endswith("]"):  # unresolved: grey
        v = int(170 + 40 * a)
        return f"rgb({v},{v},{int(v * 0.95)})"
    if name.startswith("std::") or name.startswith("__") or ".so" in name:  # libraries: yellow
        return f"rgb({int(215 + 40 * a)},{int(190 + 50 * b)},{int(50 + 40 * c)})"
    return f"rgb({int(220 + 35 * a)},{int(80 + 110 * b)},{int(40 + 40 * c)})"  # ours: red-orange


_JS = """
<![CDATA[
var W = %(width)d, PAD = %(pad)d, FS = %(fs)d;
function frames() { return document.querySelectorAll('g.f'); }
function fit(g, x, w) {
  var r = g.querySelector('rect'), t = g.querySelector('text');
  r.setAttribute('x', x); r.setAttribute('width', Math.max(w, 0));
  t.setAttribute('x', x + 3);
  var name = g.getAttribute('data-n'), room = Math.floor((w - 6) / (FS * 0.6));
  t.textContent = room < 3 ? '' : (name.length <= room ? name : name.slice(0, room - 2) + '..');
}
function zoom(g) {
  var x0 = +g.getAttribute('data-x'), w0 = +g.getAttribute('data-w'), d0 = +g.getAttribute('data-d');
  var scale = (W - 2 * PAD) / w0;
  frames().forEach(function (f) {
    var x = +f.getAttribute('data-x'), w = +f.getAttribute('data-w'), d = +f.getAttribute('data-d');
    var inside = x >= x0 - 1e-9 && x + w <= x0 + w0 + 1e-9;
    var above = x <= x0 + 1e-9 && x + w >= x0 + w0 - 1e-9 && d < d0;
    if (d >= d0 && inside) { f.style.display = ''; f.style.opacity = 1; fit(f, PAD + (x - x0) * scale, w * scale); }
    else if (above) { f.style.display = ''; f.style.opacity = 0.5; fit(f, PAD, W - 2 * PAD); }
    else { f.style.display = 'none'; }
  });
  document.getElementById('reset').style.display = '';
}
function reset() {
  frames().forEach(function (f) {
    f.style.display = ''; f.style.opacity = 1;
    fit(f, +f.getAttribute('data-x'), +f.getAttribute('data-w'));
  });
  document.getElementById('reset').style.display = 'none';
}
document.addEventListener('click', function (e) {
  var g = e.target.closest ? e.target.closest('g.f') : null;
  if (g) { zoom(g); } else if (e.target.id === 'reset' || e.target.id === 'bg') { reset(); }
});
]]>
"""


def render(root: Node, title: str, width: int = 1200, min_px: float = 0.1) -> str:
    fs, fh, pad, top = 12, 17, 10, 42
    depth = _depth(root)
    height = top + depth * fh + pad + 20
    total = root.value or 1
    scale = (width - 2 * pad) / total
    out: list[str] = []
    esc = html.escape

    def emit(node: Node, x: float, d: int) -> None:
        w = node.value * scale
        if w < min_px:
            return
        y = height - pad - 20 - (d + 1) * fh
        pct = 100.0 * node.value / total
        label = node.name
        room = int((w - 6) // (fs * 0.6))
        text = "" if room < 3 else (label if len(label) <= room else label[: room - 2] + "..")
        out.append(
            f'<g class="f" data-n="{esc(label)}" data-x="{x:.3f}" data-w="{w:.3f}" data-d="{d}">'
            f"<title>{esc(label)} ({node.value} samples, {pct:.2f}%)</title>"
            f'<rect x="{x:.3f}" y="{y}" width="{w:.3f}" height="{fh - 1}" rx="2" fill="{_colour(label)}"/>'
            f'<text x="{x + 3:.3f}" y="{y + fh - 5}">{esc(text)}</text></g>'
        )
        cx = x
        for name in sorted(node.children):
            child = node.children[name]
            emit(child, cx, d + 1)
            cx += child.value * scale

    emit(root, float(pad), 0)
    head = [
        '<?xml version="1.0" standalone="no"?>',
        f'<svg version="1.1" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        "<style>text{font-family:monospace;font-size:%dpx;fill:#000;pointer-events:none}"
        "g.f:hover rect{stroke:#000;stroke-width:0.6;cursor:pointer}"
        "#reset{cursor:pointer;fill:#06c}</style>" % fs,
        f"<script type=\"text/ecmascript\">{_JS % {'width': width, 'pad': pad, 'fs': fs}}</script>",
        f'<rect id="bg" x="0" y="0" width="{width}" height="{height}" fill="#f8f8f4"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" style="font-size:16px">{esc(title)}</text>',
        f'<text x="{pad}" y="{height - 8}">{total} samples; width = share of samples on stack; '
        "click a frame to zoom</text>",
        f'<text id="reset" x="{width - pad}" y="22" text-anchor="end" style="display:none;'
        'pointer-events:auto">Reset zoom</text>',
    ]
    return "\n".join(head + out + ["</svg>", ""])


# ---------------------------------------------------------------- main


def _open(path: str | None) -> TextIO:
    if path in (None, "-"):
        return sys.stdin
    return open(path, encoding="utf-8", errors="replace")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collapse", help="perf script text -> folded stacks (stdout)")
    c.add_argument("input", nargs="?", help="perf script output (default stdin)")
    c.add_argument("--no-comm", action="store_true", help="do not put the thread name at the root")
    r = sub.add_parser("render", help="folded stacks -> SVG")
    r.add_argument("input", nargs="?", help="folded stacks (default stdin)")
    r.add_argument("-o", "--output", required=True, help="SVG file to write")
    r.add_argument("--title", default="Flame graph")
    r.add_argument("--width", type=int, default=1200)
    args = ap.parse_args(argv)

    with _open(args.input) as f:
        if args.cmd == "collapse":
            counts = collapse(f, include_comm=not args.no_comm)
            for stack in sorted(counts):
                sys.stdout.write(f"{stack} {counts[stack]}\n")
            return 0 if counts else 1
        root = parse_folded(f)
    if root.value == 0:
        print("flamegraph.py: no samples in input", file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8") as out:
        out.write(render(root, args.title, width=args.width))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
