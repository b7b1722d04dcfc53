#!/usr/bin/env python3
"""Strict checker for the Prometheus text exposition format 0.0.4.

Usage: prom_check.py [--file FILE] [--expect 'NAME{l="v",...}OP VALUE' ...]
       (reads the exposition from stdin without --file)

Two independent readings of the same text:
  1. our own line-by-line parser, strict where the format is strict:
     - every line is "# HELP name text", "# TYPE name type", another comment, a
       blank line, or a sample: name [{label="value",...}] value [timestamp];
     - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
       [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__");
     - label values escape only backslash, double quote and newline (\\ \" \n);
       HELP text escapes only backslash and newline;
     - values are Go floats (incl. NaN, +Inf, -Inf), timestamps integers;
     - every sample's family has exactly one HELP and one TYPE line, both
       before its first sample; a family's lines form one group;
     - no series (name + label set) appears twice;
     - histograms: per label set, buckets with strictly increasing "le", counts
       cumulative (non-decreasing), an le="+Inf" bucket equal to _count, and a
       _sum; counters are named *_total and are not negative;
     - lines end in "\n" (no CR), the text ends with a newline.
  2. prometheus_client.parser.text_string_to_metric_families (the reference
     parser): it must accept the text and see the same samples and values.
Then each --expect is checked against our reading; OP is one of = == >= <= > <
and the label set must match exactly.

Prints "ok   CHECK" / "FAIL CHECK: why" per check, then "N passed, M failed";
exits 0 when nothing failed, 1 otherwise, 2 for a usage error.
"""

import argparse
import math
import re
import sys

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN")
TIMESTAMP = re.compile(r"-?\d+")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
MAX_ERRORS_SHOWN = 5


class Checks:
    """Named checks, each collecting its failures."""

    def __init__(self):
        self.order = []
        self.failures = {}

    def declare(self, name):
        if name not in self.failures:
            self.order.append(name)
            self.failures[name] = []

    def fail(self, name, why):
        self.declare(name)
        self.failures[name].append(why)

    def report(self):
        passed = failed = 0
        for name in self.order:
            errs = self.failures[name]
            if errs:
                failed += 1
                shown = "; ".join(errs[:MAX_ERRORS_SHOWN])
                more = f" (+{len(errs) - MAX_ERRORS_SHOWN} more)" if len(errs) > MAX_ERRORS_SHOWN else ""
                print(f"FAIL {name}: {shown}{more}")
            else:
                passed += 1
                print(f"ok   {name}")
        print(f"{passed} passed, {failed} failed")
        return failed


SYNTAX = "line syntax of text format 0.0.4"
NAMES = "metric and label names"
ESCAPES = "label value and HELP escaping"
VALUES = "values are floats, timestamps integers"
META = "one HELP and one TYPE per family, before its samples"
GROUPED = "each family is one group of lines"
DUPLICATES = "no duplicate series"
HISTOGRAMS = "histogram buckets cumulative, le=+Inf == _count"
COUNTERS = "counters end in _total and are not negative"
REFERENCE = "prometheus_client parses it and agrees"


def parse_float(text):
    if not FLOAT.fullmatch(text):
        return None
    if text.endswith("Inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == "NaN":
        return math.nan
    return float(text)


def unescape_label_value(raw, checks, where):
    """raw: the characters between the quotes (already split off)."""
    out = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\":
            if i + 1 >= len(raw):
                checks.fail(ESCAPES, f"{where}: dangling backslash in a label value")
                return None
            n = raw[i + 1]
            if n == "\\":
                out.append("\\")
            elif n == '"':
                out.append('"')
            elif n == "n":
                out.append("\n")
            else:
                checks.fail(ESCAPES, f"{where}: invalid escape \\{n} in a label value")
                return None
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_labels(text, pos, checks, where):
    """text[pos] == '{'. Returns (dict, position after '}') or (None, None)."""
    labels = {}
    i = pos + 1
    first = True
    while True:
        if i < len(text) and text[i] == "}":
            return labels, i + 1
        if not first:
            if i >= len(text) or text[i] != ",":
                checks.fail(SYNTAX, f"{where}: expected ',' or '}}' in the label set")
                return None, None
            i += 1
            if i < len(text) and text[i] == "}":  # a trailing comma is allowed
                return labels, i + 1
        first = False
        m = re.compile(r"[^=]*").match(text, i)
        name = m.group(0)
        if not LABEL_NAME.fullmatch(name):
            checks.fail(NAMES, f"{where}: bad label name {name!r}")
            return None, None
        if name.startswith("__"):
            checks.fail(NAMES, f"{where}: label name {name!r} is reserved")
            return None, None
        i = m.end()
        if text[i:i + 2] != '="':
            checks.fail(SYNTAX, f"{where}: expected =\" after label {name}")
            return None, None
        i += 2
        start = i
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            checks.fail(ESCAPES, f"{where}: unterminated label value for {name}")
            return None, None
        value = unescape_label_value(text[start:i], checks, where)
        if value is None:
            return None, None
        i += 1
        if name in labels:
            checks.fail(SYNTAX, f"{where}: label {name} given twice")
            return None, None
        labels[name] = value
        if i < len(text) and text[i] not in ",}":
            checks.fail(ESCAPES, f"{where}: junk after the value of label {name} (an unescaped quote?)")
            return None, None


def family_of(name, types):
    """The family a sample name belongs to, given the TYPEs declared so far."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if types.get(base) in ("histogram", "summary") and (suffix != "_bucket" or types[base] == "histogram"):
                return base
    return name


def check_help_text(text, checks, where):
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "\\n":
                checks.fail(ESCAPES, f"{where}: invalid escape in HELP text")
                return
            i += 2
        else:
            i += 1


def parse(text, checks):
    """Our strict reading: list of samples (name, labels dict, value, family)."""
    if "\r" in text:
        checks.fail(SYNTAX, "carriage return in the text (lines end in \\n only)")
    if text and not text.endswith("\n"):
        checks.fail(SYNTAX, "the text does not end with a newline")
    helps, types, samples = {}, {}, []
    seen_samples_of = set()
    group_order = []  # family of each group of consecutive lines, in order
    for no, line in enumerate(text.split("\n"), 1):
        where = f"line {no}"
        line = line.rstrip("\r")
        if line.strip() == "":
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                kind, name = parts[1], parts[2]
                rest = parts[3] if len(parts) > 3 else ""
                if not METRIC_NAME.fullmatch(name):
                    checks.fail(NAMES, f"{where}: bad metric name {name!r} in # {kind}")
                    continue
                if not group_order or group_order[-1] != name:
                    group_order.append(name)
                if name in seen_samples_of:
                    checks.fail(META, f"{where}: # {kind} {name} after its samples")
                table = helps if kind == "HELP" else types
                if name in table:
                    checks.fail(META, f"{where}: second # {kind} for {name}")
                if kind == "TYPE":
                    if rest.strip() not in TYPES:
                        checks.fail(SYNTAX, f"{where}: unknown type {rest!r} for {name}")
                    table[name] = rest.strip()
                else:
                    check_help_text(rest, checks, where)
                    table[name] = rest
            continue  # other comments are allowed
        m = METRIC_NAME.match(line)
        if not m:
            checks.fail(NAMES, f"{where}: a sample must start with a metric name: {line[:60]!r}")
            continue
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, checks, where)
            if labels is None:
                continue
        rest = line[i:]
        if not rest.startswith(" "):
            checks.fail(SYNTAX, f"{where}: expected a space before the value: {line[:60]!r}")
            continue
        fields = rest.split()
        if len(fields) not in (1, 2):
            checks.fail(SYNTAX, f"{where}: expected 'value [timestamp]' after the name: {rest.strip()[:60]!r}")
            continue
        value = parse_float(fields[0])
        if value is None:
            checks.fail(VALUES, f"{where}: value {fields[0]!r} is not a float")
            continue
        if len(fields) == 2 and not TIMESTAMP.fullmatch(fields[1]):
            checks.fail(VALUES, f"{where}: timestamp {fields[1]!r} is not an integer")
            continue
        fam = family_of(name, types)
        if fam not in types:
            checks.fail(META, f"{where}: {name} has no # TYPE line before it")
        if fam not in helps:
            checks.fail(META, f"{where}: {name} has no # HELP line before it")
        seen_samples_of.add(fam)
        if not group_order or group_order[-1] != fam:
            group_order.append(fam)
        samples.append((name, labels, value, fam))
    seen_groups = set()
    for fam in group_order:
        if fam in seen_groups:
            checks.fail(GROUPED, f"the lines of {fam} are split into more than one group")
        seen_groups.add(fam)
    return helps, types, samples


def series_key(name, labels):
    return (name, tuple(sorted(labels.items())))


def check_semantics(types, samples, checks):
    seen = set()
    for name, labels, _, _ in samples:
        key = series_key(name, labels)
        if key in seen:
            checks.fail(DUPLICATES, f"{name}{format_labels(labels)} appears twice")
        seen.add(key)
    for fam, typ in types.items():
        mine = [s for s in samples if s[3] == fam]
        if typ == "counter":
            if not fam.endswith("_total"):
                checks.fail(COUNTERS, f"counter {fam} does not end in _total")
            for name, labels, value, _ in mine:
                if value < 0 or math.isnan(value):
                    checks.fail(COUNTERS, f"counter {name}{format_labels(labels)} = {value}")
        if typ == "histogram":
            check_histogram(fam, mine, checks)


def check_histogram(fam, samples, checks):
    groups = {}
    for name, labels, value, _ in samples:
        rest = {k: v for k, v in labels.items() if k != "le"}
        key = tuple(sorted(rest.items()))
        g = groups.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name == fam + "_bucket":
            if "le" not in labels:
                checks.fail(HISTOGRAMS, f"{fam}_bucket without le")
                continue
            le = parse_float(labels["le"])
            if le is None:
                checks.fail(HISTOGRAMS, f"{fam}_bucket le={labels['le']!r} is not a float")
                continue
            g["buckets"].append((le, value))
        elif name == fam + "_sum":
            g["sum"] = value
        elif name == fam + "_count":
            g["count"] = value
        else:
            checks.fail(HISTOGRAMS, f"{name} is not a bucket, _sum or _count of histogram {fam}")
    if not groups:
        checks.fail(HISTOGRAMS, f"histogram {fam} has no samples")
    for key, g in groups.items():
        where = f"{fam}{format_labels(dict(key))}"
        buckets = g["buckets"]
        if not buckets or buckets[-1][0] != math.inf:
            checks.fail(HISTOGRAMS, f"{where}: the last bucket is not le=\"+Inf\"")
        for (le_a, n_a), (le_b, n_b) in zip(buckets, buckets[1:]):
            if not le_b > le_a:
                checks.fail(HISTOGRAMS, f"{where}: le {le_b} does not increase after {le_a}")
            if n_b < n_a:
                checks.fail(HISTOGRAMS, f"{where}: bucket le={le_b} count {n_b} < le={le_a} count {n_a} (not cumulative)")
        if g["count"] is None:
            checks.fail(HISTOGRAMS, f"{where}: no _count")
        elif buckets and buckets[-1][0] == math.inf and buckets[-1][1] != g["count"]:
            checks.fail(HISTOGRAMS, f"{where}: le=\"+Inf\" {buckets[-1][1]} != _count {g['count']}")
        if g["sum"] is None:
            checks.fail(HISTOGRAMS, f"{where}: no _sum")


def format_labels(labels):
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def check_reference(text, samples, checks):
    checks.declare(REFERENCE)
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError as e:  # python3-prometheus-client is a test dependency
        checks.fail(REFERENCE, f"cannot import prometheus_client: {e}")
        return
    try:
        theirs = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                theirs[series_key(s.name, s.labels)] = s.value
    except Exception as e:  # noqa: BLE001 - any parser refusal is the finding
        checks.fail(REFERENCE, f"prometheus_client refused it: {type(e).__name__}: {e}")
        return
    ours = {series_key(n, l): v for n, l, v, _ in samples}
    for key, v in ours.items():
        if key not in theirs:
            checks.fail(REFERENCE, f"prometheus_client did not see {key[0]}{format_labels(dict(key[1]))}")
        elif not (v == theirs[key] or (math.isnan(v) and math.isnan(theirs[key]))):
            checks.fail(REFERENCE, f"{key[0]}{format_labels(dict(key[1]))}: ours {v}, prometheus_client {theirs[key]}")
    for key in theirs:
        if key not in ours:
            checks.fail(REFERENCE, f"only prometheus_client saw {key[0]}{format_labels(dict(key[1]))}")


EXPECT = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s*(>=|<=|==|=|>|<)\s*(\S+)\s*")
OPS = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def check_expect(spec, samples):
    """(name of the check, failure or None); a bad spec is a usage error."""
    m = EXPECT.fullmatch(spec)
    if not m:
        raise ValueError(f"bad --expect {spec!r}: want NAME{{labels}}OP VALUE")
    name, label_text, op, want_text = m.groups()
    labels = {}
    if label_text:
        scratch = Checks()
        labels, end = parse_labels(label_text, 0, scratch, "--expect")
        if labels is None or end != len(label_text):
            raise ValueError(f"bad labels in --expect {spec!r}")
    want = parse_float(want_text)
    if want is None:
        raise ValueError(f"bad value in --expect {spec!r}")
    title = f"expect {name}{format_labels(labels)} {op} {want_text}"
    for n, l, v, _ in samples:
        if n == name and l == labels:
            return title, None if OPS[op](v, want) else f"got {v:g}"
    return title, "no such series"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", help="exposition file (default: stdin)")
    ap.add_argument("--expect", action="append", default=[], metavar="SPEC")
    args = ap.parse_args()
    if args.file:
        with open(args.file, encoding="utf-8", newline="") as f:
            text = f.read()
    else:
        text = sys.stdin.buffer.read().decode("utf-8", errors="strict")
    checks = Checks()
    for name in (SYNTAX, NAMES, ESCAPES, VALUES, META, GROUPED, DUPLICATES, HISTOGRAMS, COUNTERS):
        checks.declare(name)
    if not text.strip():
        checks.fail(SYNTAX, "empty exposition")
    _, types, samples = parse(text, checks)
    check_semantics(types, samples, checks)
    check_reference(text, samples, checks)
    for spec in args.expect:
        try:
            title, why = check_expect(spec, samples)
        except ValueError as e:
            print(f"usage: {e}", file=sys.stderr)
            return 2
        checks.declare(title)
        if why:
            checks.fail(title, why)
    return 1 if checks.report() else 0


if __name__ == "__main__":
    sys.exit(main())
