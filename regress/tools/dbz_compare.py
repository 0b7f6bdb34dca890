#!/usr/bin/env python3
"""dbz_compare.py -- compare two JSONL captures of Debezium-format records

  dbz_compare.py [options] EXPECTED.jsonl ACTUAL.jsonl

The captures are what regress/tools/kafka_dump.py writes: one record a line,
{"topic", "partition", "offset", "key", "value", "headers"}.  EXPECTED is
Debezium's, ACTUAL the one under test (later wal2avro-relay's drop-in).

Records are paired per topic and partition in offset order (the n-th record
of a partition with the n-th), or with --by-key per topic and key (the n-th
record of a key with the n-th: for captures whose partitioning differs).
Each pair is compared field by field, key, value and headers, schema and
payload alike: every missing, extra or different field is a difference, and
so is a different JSON type (1 is not 1.0, true is not 1).  A topic or a
record that only one side has is a difference too.

The allow-list names the fields that must differ, or may: a path pattern
(* matches anything, dots and brackets included; a [N] index
in a path also matches the pattern written with []) whose values may differ as long
as both sides have the field with the same JSON type.  The default list is
the processing timestamps of the envelope and of transaction records, and
the connector version:

  value.payload.ts_ms  value.payload.ts_us  value.payload.ts_ns
  value.payload.source.version  headers.__debezium.context.runId

--allow PATTERN adds one (repeatable); --no-default-allow drops the default.
--no-headers leaves the headers out of the comparison.
--header NAME compares only the headers named (repeatable), on both sides:
for a capture whose other headers are its own (wal2avro-relay's wal2avro.*).
--quirk "WHERE PATH" names one field of one record that may differ in
anything, presence and type too: WHERE is the expected record as the
output names it (TOPIC[PARTITION]@OFFSET), PATH a path pattern as for
--allow; both may use *.  For Debezium's own quirks, each listed in
doc/debezium.md; counted as allowed.
--prefix EXP=ACT says ACT's topic prefix stands for EXP's: ACT's topic
names, schema names (name fields starting with "ACT."), source.name and
the header __debezium.context.connectorLogicalName are read as EXP's
before comparing.

  dbz_compare.py --list CAPTURE.jsonl

prints one line a record instead: topic, partition, offset, op=X, tx=BEGIN
or END, or tombstone, and the key's payload.

Output: one line a difference, "TOPIC[PARTITION]@OFFSET(/ACTUAL OFFSET) PATH:
expected X, actual Y" (at most --max-diffs, default 50, then a count), then
with --show-allowed the allowed differences counted per path, then a
summary.  Exit status 0 when the captures match modulo the allow-list, 1
when not, 2 on bad usage or input.
"""

import argparse
import json
import re
import sys
from collections import Counter, OrderedDict

DEFAULT_ALLOW = [
    "value.payload.ts_ms",
    "value.payload.ts_us",
    "value.payload.ts_ns",
    "value.payload.source.version",
    "headers.__debezium.context.runId",
]

MISSING = object()


def load(path):
    recs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                raise SystemExit("dbz_compare: %s line %d: %s" % (path, n, e))
            for k in ("topic", "partition", "offset"):
                if k not in r:
                    raise SystemExit("dbz_compare: %s line %d: no \"%s\"" % (path, n, k))
            recs.append(r)
    return recs


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def show(v):
    if v is MISSING:
        return "(absent)"
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= 200 else s[:197] + "..."


class Prefix:
    """Reads ACT's topic prefix as EXP's."""

    def __init__(self, spec):
        self.exp, self.act = spec.split("=", 1) if spec else (None, None)

    def header(self, name, v):
        if (self.act is not None and name == "__debezium.context.connectorLogicalName"
                and v == self.act):
            return self.exp
        return v

    def topic(self, t):
        if self.act is not None and t.startswith(self.act + "."):
            return self.exp + t[len(self.act):]
        return t

    def rewrite(self, v, path=""):
        if self.act is None:
            return v
        if isinstance(v, dict):
            out = OrderedDict()
            for k, x in v.items():
                p = path + "." + k if path else k
                if (k == "name" and isinstance(x, str)
                        and x.startswith(self.act + ".")):
                    x = self.exp + x[len(self.act):]
                elif p.endswith("payload.source.name") and x == self.act:
                    x = self.exp
                else:
                    x = self.rewrite(x, p)
                out[k] = x
            return out
        if isinstance(v, list):
            return [self.rewrite(x, path + "[]") for x in v]
        return v


def glob_rx(pat):
    return re.compile("^" + re.escape(pat).replace("\\*", ".*") + "$")


class Comparer:
    def __init__(self, allow, max_diffs, quirks=()):
        self.allow = allow
        self.quirks = [(glob_rx(w), glob_rx(p), w + " " + p)
                       for w, p in (q.split(" ", 1) for q in quirks)]
        self.max_diffs = max_diffs
        self.diffs = []
        self.ndiffs = 0
        self.allowed = Counter()

    def allowed_path(self, path):
        bare = re.sub(r"\[\d+\]", "[]", path)
        for pat in self.allow:
            rx = re.compile("^" + re.escape(pat).replace("\\*", ".*") + "$")
            if rx.match(path) or rx.match(bare):
                return pat
        return None

    def report(self, where, path, exp, act):
        self.ndiffs += 1
        if len(self.diffs) < self.max_diffs:
            self.diffs.append("%s %s: expected %s, actual %s" % (where, path or "(record)", show(exp), show(act)))

    def quirk(self, where, path):
        rec = where.split("/", 1)[0]
        bare = re.sub(r"\[\d+\]", "[]", path)
        for w, p, name in self.quirks:
            if w.match(rec) and (p.match(path) or p.match(bare)):
                return name
        return None

    def value(self, where, path, exp, act):
        q = self.quirk(where, path) if self.quirks else None
        if q is not None:
            if exp != act:
                self.allowed[q] += 1
            return
        if exp is MISSING or act is MISSING or jtype(exp) != jtype(act):
            self.report(where, path, exp, act)
            return
        if isinstance(exp, dict):
            for k in exp:
                self.value(where, path + "." + k, exp[k], act.get(k, MISSING))
            for k in act:
                if k not in exp:
                    self.value(where, path + "." + k, MISSING, act[k])
            return
        if isinstance(exp, list):
            for i in range(max(len(exp), len(act))):
                self.value(where, "%s[%d]" % (path, i),
                           exp[i] if i < len(exp) else MISSING,
                           act[i] if i < len(act) else MISSING)
            return
        if exp != act:
            pat = self.allowed_path(path)
            if pat is not None:
                self.allowed[pat] += 1
            else:
                self.report(where, path, exp, act)

    def record(self, where, exp, act):
        for field in ("key", "value"):
            self.value(where, field, exp.get(field, MISSING), act.get(field, MISSING))
        self.headers(where, exp.get("headers") or [], act.get("headers") or [])

    def headers(self, where, exp, act):
        """Header names in order; a value's path is headers.NAME."""
        seen = Counter()
        for i in range(max(len(exp), len(act))):
            e = exp[i] if i < len(exp) else [MISSING, MISSING]
            a = act[i] if i < len(act) else [MISSING, MISSING]
            if e[0] != a[0]:
                self.report(where, "headers[%d] name" % i, e[0], a[0])
                continue
            seen[e[0]] += 1
            path = "headers." + e[0] + ("" if seen[e[0]] == 1 else "[%d]" % (seen[e[0]] - 1))
            self.value(where, path, e[1], a[1])


def group(recs, prefix, by_key):
    out = OrderedDict()
    for r in sorted(recs, key=lambda r: (prefix.topic(r["topic"]), r["partition"], r["offset"])):
        r = dict(r, key=prefix.rewrite(r.get("key")), value=prefix.rewrite(r.get("value")),
                 headers=[[k, prefix.header(k, v)] for k, v in r.get("headers") or []])
        t = prefix.topic(r["topic"])
        if by_key:
            k = r["key"]
            if isinstance(k, dict) and "payload" in k:
                k = k["payload"]
            g = (t, json.dumps(k, sort_keys=True))
        else:
            g = (t, r["partition"])
        out.setdefault(g, []).append(r)
    return out


def compare(expected, actual, allow=None, prefix=None, by_key=False, max_diffs=50, quirks=()):
    """Compare two lists of records; returns the Comparer (diffs, ndiffs, allowed)."""
    cmp = Comparer(DEFAULT_ALLOW if allow is None else allow, max_diffs, quirks)
    pe = Prefix(None)
    pa = Prefix(prefix)
    ge, ga = group(expected, pe, by_key), group(actual, pa, by_key)
    for g in list(ge) + [g for g in ga if g not in ge]:
        es, as_ = ge.get(g, []), ga.get(g, [])
        label = "%s[%s]" % (g[0], g[1] if not by_key else "key " + g[1])
        if not es or not as_:
            cmp.report(label, "(topic)" if not by_key else "(key)",
                       "%d records" % len(es), "%d records" % len(as_))
            continue
        for i in range(max(len(es), len(as_))):
            e = es[i] if i < len(es) else None
            a = as_[i] if i < len(as_) else None
            off = e["offset"] if e else "-"
            where = "%s@%s" % (label, off)
            if a is not None and e is not None and a["offset"] != e["offset"]:
                where += "/%s" % a["offset"]
            if e is None or a is None:
                cmp.report(where, "(record %d)" % i, "a record" if e else MISSING,
                           "a record" if a else MISSING)
                continue
            cmp.record(where, e, a)
    return cmp


def listing(recs):
    """One line a record: topic, partition, offset, what it is, its key."""
    out = []
    for r in sorted(recs, key=lambda r: (r["topic"], r["partition"], r["offset"])):
        v = r.get("value")
        p = v.get("payload") if isinstance(v, dict) else None
        if v is None:
            what = "tombstone"
        elif isinstance(p, dict) and "op" in p:
            what = "op=" + str(p["op"])
        elif isinstance(p, dict) and "status" in p:
            what = "tx=" + str(p["status"])
        else:
            what = "?"
        k = r.get("key")
        if isinstance(k, dict) and "payload" in k:
            k = k["payload"]
        out.append("%s %d %d %s %s" % (r["topic"], r["partition"], r["offset"], what,
                                       json.dumps(k, sort_keys=True)))
    return out


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if len(argv) == 2 and argv[0] == "--list":
        for line in listing(load(argv[1])):
            print(line)
        return 0
    ap = argparse.ArgumentParser(description="compare two JSONL captures of Debezium-format records")
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--allow", action="append", default=[], metavar="PATTERN")
    ap.add_argument("--no-default-allow", action="store_true")
    ap.add_argument("--prefix", metavar="EXP=ACT")
    ap.add_argument("--by-key", action="store_true")
    ap.add_argument("--max-diffs", type=int, default=50)
    ap.add_argument("--show-allowed", action="store_true")
    ap.add_argument("--no-headers", action="store_true")
    ap.add_argument("--header", action="append", default=[], metavar="NAME")
    ap.add_argument("--quirk", action="append", default=[], metavar="WHERE PATH")
    a = ap.parse_args(argv)
    if a.prefix and "=" not in a.prefix:
        ap.error("--prefix wants EXP=ACT")
    allow = ([] if a.no_default_allow else list(DEFAULT_ALLOW)) + a.allow
    exp, act = load(a.expected), load(a.actual)
    if a.no_headers and a.header:
        ap.error("--no-headers and --header exclude each other")
    if a.no_headers:
        for r in exp + act:
            r["headers"] = []
    if a.header:
        for r in exp + act:
            r["headers"] = [h for h in r.get("headers") or [] if h[0] in a.header]
    cmp = compare(exp, act, allow, a.prefix, a.by_key, a.max_diffs, a.quirk)
    for d in cmp.diffs:
        print(d)
    if cmp.ndiffs > len(cmp.diffs):
        print("... and %d more differences" % (cmp.ndiffs - len(cmp.diffs)))
    if a.show_allowed:
        for pat, n in sorted(cmp.allowed.items()):
            print("allowed: %s differs in %d records" % (pat, n))
    print("dbz_compare: %d expected records, %d actual, %d differences, %d allowed"
          % (len(exp), len(act), cmp.ndiffs, sum(cmp.allowed.values())))
    return 1 if cmp.ndiffs else 0


if __name__ == "__main__":
    sys.exit(main())
