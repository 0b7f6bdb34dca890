#!/usr/bin/env python3
"""regress/bench/report.py -- the Markdown report and SVG figures of compare.sh

Reads what decode.sh and e2e.sh wrote (runs.tsv and decode.meta; throughput.tsv,
latency.tsv, lifetimes.tsv, lat/*.txt, e2e.meta, debezium.properties,
relay.config) and writes OUT/report.md and OUT/figures/*.svg.  Standard
library only: the SVG is written by hand.

Every figure is a median over repetitions with the min and max beside it;
ratios are taken within each repetition (the two systems ran back to back)
and then summarised the same way.  Nothing here judges the numbers beyond the
targets' met / not met lines.

Usage: report.py --out DIR [--decode DIR] [--e2e DIR] [--meta FILE]
"""

import argparse
import csv
import math
import os
import statistics
import sys

SYSTEM_NAME = {"wal2avro": "wal2avro-relay", "wal2avro-json": "wal2avro-relay JSON",
               "wal2avro-registry": "wal2avro-relay registry",
               "wal2avro-confluent": "wal2avro-relay own Avro, registry", "debezium": "Debezium"}
COLOURS = {"wal2avro": "#1b6ca8", "wal2avro-json": "#4b9cd3", "wal2avro-registry": "#0b3c68",
           "wal2avro-confluent": "#6a51a3",
           "debezium": "#d95f02",
           "test_decoding": "#7f7f7f", "wal2json": "#66a61e", "pgoutput": "#e7298a"}
PART_NAME = {"bulk": "bulk insert", "wide": "wide updates", "toast": "TOAST-heavy update",
             "oltp": "OLTP"}
DECODE_PART = {"a": "bulk insert", "b": "one-row transactions", "c": "wide updates",
               "d": "OLTP", "e": "TOAST-heavy update"}

TARGET_THROUGHPUT = 5.0     # wal2avro rows/s >= 5x Debezium's
TARGET_P99 = 10.0           # wal2avro p99 <= 1/10 of Debezium's
TARGET_MEMORY = 10.0        # wal2avro peak RSS <= 1/10 of Debezium's
TARGET_REGISTRY = 0.9       # registry mode rows/s within 10% of the Avro path's
# (system, peer) pairs the targets above are checked for, when both ran
TARGET_PAIRS = (("wal2avro", "debezium"), ("wal2avro-json", "debezium"))


# ------------------------------------------------------------------ reading

def read_meta(path):
    meta = {}
    if path and os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def read_tsv(path):
    if not os.path.exists(path):
        return []
    return list(csv.DictReader(open(path), delimiter="\t"))


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ numbers

def pct(xs, p):
    """Nearest-rank percentile of a sorted list."""
    if not xs:
        return None
    k = max(1, math.ceil(len(xs) * p / 100.0))
    return xs[min(k, len(xs)) - 1]


def spread(values):
    """(median, min, max) of the values that are not None, or None."""
    vs = [v for v in values if v is not None]
    if not vs:
        return None
    return statistics.median(vs), min(vs), max(vs)


def fmt_n(x, digits=0):
    if x is None:
        return "n/a"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def fmt_auto(x):
    """A number with about three significant digits."""
    if x is None:
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_spread(s, f=fmt_auto, bold=False):
    if s is None:
        return "n/a"
    m, lo, hi = s
    core = f"**{f(m)}**" if bold else f(m)
    if lo == hi:
        return core
    return f"{core} [{f(lo)} - {f(hi)}]"


def fmt_ratio(x):
    if x is None:
        return "n/a"
    return f"{x:.1f}x" if x < 100 else f"{x:,.0f}x"


def fmt_ratio_spread(s, bold=True):
    if s is None:
        return "n/a"
    m, lo, hi = s
    core = f"**{fmt_ratio(m)}**" if bold else fmt_ratio(m)
    return core if lo == hi else f"{core} [{fmt_ratio(lo)} - {fmt_ratio(hi)}]"


# ------------------------------------------------------------------ SVG

def esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


class Svg:
    def __init__(self, width, height, title):
        self.w, self.h = width, height
        self.items = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
                      self.text(width / 2, 22, title, size=15, anchor="middle", weight="bold")]

    @staticmethod
    def text(x, y, s, size=11, anchor="start", weight="normal", rotate=None, fill="#222"):
        tr = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate is not None else ""
        return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                f'font-weight="{weight}" fill="{fill}"{tr}>{esc(s)}</text>')

    def add(self, s):
        self.items.append(s)

    def line(self, x1, y1, x2, y2, stroke="#222", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{stroke}" stroke-width="{width}"{d}/>')

    def rect(self, x, y, w, h, fill, title=None):
        t = f"<title>{esc(title)}</title>" if title else ""
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
                 f'fill="{fill}">{t}</rect>')

    def polyline(self, pts, stroke, width=2):
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.add(f'<polyline points="{p}" fill="none" stroke="{stroke}" stroke-width="{width}"/>')

    def save(self, path):
        with open(path, "w") as f:
            f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" '
                    f'viewBox="0 0 {self.w} {self.h}" font-family="DejaVu Sans, Arial, sans-serif">\n')
            f.write("\n".join(self.items))
            f.write("\n</svg>\n")


def nice_max(v):
    """A round axis maximum at or above v."""
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v:
            return m * e
    return 10 * e


def axis_label(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def bar_panels(path, title, ylabel, panels, series, names, note=None):
    """Small multiples of bars with min/max whiskers.

    panels: [(panel title, {series: (median, min, max) or None})]; each panel
    has its own linear scale from 0; names: the legend's name of each series."""
    pw, ph, top, left = 190, 250, 60, 70
    width = left + pw * len(panels) + 20
    height = top + ph + 95
    svg = Svg(width, height, title)
    svg.add(Svg.text(16, top + ph / 2, ylabel, size=11, anchor="middle", rotate=-90))
    for i, (ptitle, vals) in enumerate(panels):
        x0 = left + i * pw
        hi = max([v[2] for v in vals.values() if v] + [0])
        ymax = nice_max(hi * 1.05)
        plot_h = ph - 30
        y_of = lambda v: top + 20 + plot_h * (1 - v / ymax)
        svg.add(Svg.text(x0 + pw / 2 - 10, top + 8, ptitle, size=12, anchor="middle", weight="bold"))
        for t in range(5):
            v = ymax * t / 4
            y = y_of(v)
            svg.line(x0 + 25, y, x0 + pw - 25, y, stroke="#ddd")
            svg.add(Svg.text(x0 + 22, y + 4, axis_label(v), size=9, anchor="end", fill="#555"))
        svg.line(x0 + 25, y_of(0), x0 + pw - 25, y_of(0))
        n = len(series)
        slot = (pw - 60) / max(n, 1)
        for j, s in enumerate(series):
            v = vals.get(s)
            bx = x0 + 30 + j * slot
            bw = slot * 0.7
            if not v:
                svg.add(Svg.text(bx + bw / 2, y_of(0) - 4, "n/a", size=9, anchor="middle"))
                continue
            m, lo, hi_ = v
            svg.rect(bx, y_of(m), bw, y_of(0) - y_of(m), COLOURS.get(s, "#888"),
                     title=f"{s}: median {m:,.0f} (min {lo:,.0f}, max {hi_:,.0f})")
            cx = bx + bw / 2
            svg.line(cx, y_of(lo), cx, y_of(hi_), width=1.5)
            svg.line(cx - 5, y_of(lo), cx + 5, y_of(lo), width=1.5)
            svg.line(cx - 5, y_of(hi_), cx + 5, y_of(hi_), width=1.5)
            svg.add(Svg.text(cx, y_of(hi_) - 5, axis_label(round(m, -int(math.floor(math.log10(m))) + 1)
                                                             if m > 0 else 0), size=9, anchor="middle"))
    ly = top + ph + 10
    lx = left
    for s in series:
        svg.rect(lx, ly, 12, 12, COLOURS.get(s, "#888"))
        svg.add(Svg.text(lx + 16, ly + 10, names.get(s, s), size=11))
        lx += 30 + 7 * len(names.get(s, s))
    svg.add(Svg.text(left, ly + 32, "bars: median over repetitions; whiskers: min and max", size=10,
                     fill="#555"))
    if note:
        svg.add(Svg.text(left, ly + 48, note, size=10, fill="#555"))
    svg.save(path)


TAIL = 3                    # the CDF's y axis reaches p99.9


def cdf_panels(path, title, panels, series):
    """Latency CDFs, one panel per offered load: log-scale x, and a y axis
    stretched towards the tail (-log10(1 - fraction)), so p50, p90, p99 and
    p99.9 are evenly spaced.

    panels: [(panel title, {series: sorted latencies ms})]."""
    pw, ph, top, left = 300, 260, 60, 60
    width = left + pw * len(panels) + 20
    height = top + ph + 90
    svg = Svg(width, height, title)
    svg.add(Svg.text(14, top + ph / 2, "fraction of records at or below", size=11, anchor="middle",
                     rotate=-90))
    allv = [max(1, v) for _, d in panels for xs in d.values() for v in xs[-1:]]
    xmax_exp = math.ceil(math.log10(max(allv + [10])))
    xmax_exp = max(xmax_exp, 2)
    for i, (ptitle, data) in enumerate(panels):
        x0 = left + i * pw
        pl, pr = x0 + 20, x0 + pw - 15
        pt, pb = top + 20, top + ph - 20
        x_of = lambda v: pl + (pr - pl) * math.log10(max(v, 1)) / xmax_exp
        y_of = lambda f: pb - (pb - pt) * min(-math.log10(max(1 - f, 10 ** -TAIL)), TAIL) / TAIL
        svg.add(Svg.text((pl + pr) / 2, top + 8, ptitle, size=12, anchor="middle", weight="bold"))
        for e in range(xmax_exp + 1):
            x = x_of(10 ** e)
            svg.line(x, pt, x, pb, stroke="#ddd")
            svg.add(Svg.text(x, pb + 14, axis_label(10 ** e), size=9, anchor="middle", fill="#555"))
        for f in (0.5, 0.9, 0.99, 0.999):
            y = y_of(f)
            svg.line(pl, y, pr, y, stroke="#bbb", dash="3,3")
            svg.add(Svg.text(pl - 3, y + 3, f"p{100 * f:g}", size=8, anchor="end", fill="#555"))
        svg.add(Svg.text(pl - 3, pb + 3, "0", size=8, anchor="end", fill="#555"))
        svg.line(pl, pb, pr, pb)
        svg.line(pl, pt, pl, pb)
        svg.add(Svg.text((pl + pr) / 2, pb + 30, "commit -> broker append, ms (log scale)", size=10,
                         anchor="middle"))
        for s in series:
            xs = data.get(s)
            if not xs:
                continue
            n = len(xs)
            # one step per distinct value: (value, fraction below), (value, fraction at or below)
            pts = []
            k = 0
            while k < n:
                v = xs[k]
                j = k
                while j < n and xs[j] == v:
                    j += 1
                pts.append((x_of(v), y_of(k / n)))
                pts.append((x_of(v), y_of(j / n)))
                k = j
            svg.polyline(pts, COLOURS.get(s, "#888"))
    ly = top + ph + 35
    lx = left
    for s in series:
        svg.line(lx, ly + 6, lx + 16, ly + 6, stroke=COLOURS.get(s, "#888"), width=3)
        svg.add(Svg.text(lx + 20, ly + 10, SYSTEM_NAME.get(s, s), size=11))
        lx += 40 + 7 * len(SYSTEM_NAME.get(s, s))
    svg.add(Svg.text(left, ly + 30, "all repetitions pooled; latencies below 1 ms drawn at 1 ms; the y axis "
                     "is stretched towards the tail and ends at p99.9 (the max is in the tables)", size=10,
                     fill="#555"))
    svg.save(path)


# ------------------------------------------------------------------ sections

def e2e_throughput(e2e_dir):
    """{part: {system: [per-rep dict]}} with derived values."""
    rows = read_tsv(os.path.join(e2e_dir, "throughput.tsv"))
    out = {}
    for r in rows:
        n = int(r["rows"])
        t0 = float(r["t0"])
        t_last = float(r["t_last_ms"]) / 1000
        t_first = float(r["t_first_ms"]) / 1000
        t_k = float(r["t_k_ms"]) / 1000
        frac = float(r["k_frac"])
        wall = t_last - t0
        d = {
            "rep": int(r["rep"]),
            "rows": n,
            "wall": wall,
            "rate": n / wall if wall > 0 else None,
            "steady": n * (1 - frac) / (t_last - t_k) if t_last > t_k else None,
            "first": t_first - t0,
            "write": num(r["write_s"]),
            "cpu": num(r["cpu_consumer_s"]),
            "ws": num(r["cpu_walsender_s"]),
            "broker": num(r["cpu_broker_s"]),
            "hwm_mb": int(r["hwm_kb"]) / 1024,
            "bytes_row": int(r["kafka_bytes"]) / n,
        }
        out.setdefault(r["part"], {}).setdefault(r["system"], []).append(d)
    return out


def per_rep_ratio(a_runs, b_runs, key, invert=False):
    """Ratio a/b (or b/a) of KEY within each repetition both ran."""
    a = {r["rep"]: r[key] for r in a_runs if r.get(key)}
    b = {r["rep"]: r[key] for r in b_runs if r.get(key)}
    out = []
    for rep in sorted(set(a) & set(b)):
        if invert:
            out.append(b[rep] / a[rep] if a[rep] else None)
        else:
            out.append(a[rep] / b[rep] if b[rep] else None)
    return spread(out)


def latency_runs(e2e_dir):
    """{rate: {system: [per-rep dict]}}"""
    out = {}
    for r in read_tsv(os.path.join(e2e_dir, "latency.tsv")):
        path = os.path.join(e2e_dir, "lat", f"{r['system']}.{r['rate']}.{r['rep']}.txt")
        xs = sorted(int(l) for l in open(path) if l.strip()) if os.path.exists(path) else []
        if len(xs) != int(r["records"]):
            sys.exit(f"report.py: {path} holds {len(xs)} latencies, latency.tsv says {r['records']}")
        secs = float(r["secs"])
        d = {
            "rep": int(r["rep"]),
            "lat": xs,
            "p50": pct(xs, 50), "p90": pct(xs, 90), "p99": pct(xs, 99), "max": xs[-1] if xs else None,
            "mean": sum(xs) / len(xs) if xs else None,
            "tx": int(r["tx"]), "tps": num(r["tps"]), "lag": num(r["lag_ms"]),
            "records": int(r["records"]),
            "cpu": num(r["cpu_consumer_s"]), "ws": num(r["cpu_walsender_s"]),
            "broker": num(r["cpu_broker_s"]), "secs": secs,
        }
        out.setdefault(int(r["rate"]), {}).setdefault(r["system"], []).append(d)
    return out


def decode_section(decode_dir, figdir, out):
    runs = read_tsv(os.path.join(decode_dir, "runs.tsv"))
    meta = read_meta(os.path.join(decode_dir, "decode.meta"))
    if not runs:
        return None
    plugins = []
    for r in runs:
        if r["plugin"] not in plugins:
            plugins.append(r["plugin"])
    parts = meta.get("parts", "a b c d e").split()
    by = {}
    for r in runs:
        n = int(r["rows"])
        cpu = num(r["cpu_s"])
        by.setdefault(r["part"], {}).setdefault(r["plugin"], []).append({
            "rep": int(r["rep"]), "rate": n / float(r["wall_s"]), "cpu": cpu,
            "rate_cpu": n / cpu if cpu else None, "bpr": int(r["bytes"]) / n, "rows": n})
    out.append("## Plugin level: decoding the same WAL (decode.sh)")
    out.append("")
    out.append(f"PostgreSQL {meta.get('server', '?')}, logical_decoding_work_mem = {meta.get('ldwm', '?')}; "
               f"{meta.get('reps', '?')} interleaved repetitions (for each repetition, for each part, every "
               f"plugin in turn); load average {meta.get('load', '?')}. Each run decodes one part's WAL range "
               f"with `pg_recvlogical` from a fresh copy of a slot created before the workload.")
    out.append("")
    for p in parts:
        if f"desc_{p}" in meta:
            wal = meta.get(f"wal_{p}")
            out.append(f"- {meta[f'desc_{p}']}" + (f" ({int(wal) / 1048576:.0f} MB of WAL)" if wal else ""))
    out.append("")
    out.append("| part | plugin | rows/s | walsender CPU s | rows per CPU-s | output bytes/row | "
               "wal2avro rows/s ÷ this plugin's, per repetition |")
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for p in parts:
        if p not in by:
            continue
        for pl in plugins:
            rs = by[p].get(pl, [])
            if not rs:
                continue
            ratio = "" if pl == "wal2avro" else fmt_ratio_spread(
                per_rep_ratio(by[p].get("wal2avro", []), rs, "rate"), bold=False)
            out.append(f"| {p} {DECODE_PART.get(p, '')} | {pl} | "
                       f"{fmt_spread(spread(r['rate'] for r in rs), fmt_n)} | "
                       f"{fmt_spread(spread(r['cpu'] for r in rs))} | "
                       f"{fmt_spread(spread(r['rate_cpu'] for r in rs), fmt_n)} | "
                       f"{statistics.median(r['bpr'] for r in rs):.1f} | {ratio} |")
    out.append("")
    out.append("Median [min - max] over repetitions. rows/s = the part's rows / wall time of pg_recvlogical "
               "(connection included); walsender CPU = user+system seconds of the walsender process; rows per "
               "CPU-s = rows / that, which waiting for a busy CPU does not inflate; output bytes/row = the "
               "capture's size / rows (pg_recvlogical's newline per message and the BEGIN/COMMIT/relation "
               "messages included). wal2json runs with format-version 2, pgoutput with proto_version 1 and a "
               "publication FOR ALL TABLES (what Debezium uses).")
    out.append("")
    panels = []
    for p in parts:
        if p in by:
            panels.append((f"{p}: {DECODE_PART.get(p, p)}",
                           {pl: spread(r["rate"] for r in by[p].get(pl, [])) for pl in plugins}))
    bar_panels(os.path.join(figdir, "decode-throughput.svg"),
               "Plugin decode throughput over the same WAL (rows/s, higher is better)", "rows/s",
               panels, plugins, {p: p for p in plugins})
    out.append("![plugin decode throughput](figures/decode-throughput.svg)")
    out.append("")
    return meta


def target_rows(ws, ds, parts, rates, tp, lat, life):
    """The Targets table's rows for system ws against its peer ds."""
    out = []
    names = f"{SYSTEM_NAME[ws]} | {SYSTEM_NAME[ds]}"
    for p in parts:
        w, d = tp[p].get(ws, []), tp[p].get(ds, [])
        r = per_rep_ratio(w, d, "rate")
        met = r is not None and r[0] >= TARGET_THROUGHPUT
        out.append(f"| rows/s >= 5x the peer's | {PART_NAME[p]} | {names} | "
                   f"{fmt_spread(spread(x['rate'] for x in w), fmt_n)} | "
                   f"{fmt_spread(spread(x['rate'] for x in d), fmt_n)} | {fmt_ratio_spread(r)} | "
                   f"{'met' if met else 'not met'} |")
    for rate in rates:
        w, d = lat[rate].get(ws, []), lat[rate].get(ds, [])
        r = per_rep_ratio(w, d, "p99", invert=True)
        met = r is not None and r[0] >= TARGET_P99
        out.append(f"| p99 latency <= 1/10 of the peer's | {rate:,} tx/s offered | {names} | "
                   f"{fmt_spread(spread(x['p99'] for x in w), fmt_n)} ms | "
                   f"{fmt_spread(spread(x['p99'] for x in d), fmt_n)} ms | {fmt_ratio_spread(r)} | "
                   f"{'met' if met else 'not met'} |")
    # peak RSS per repetition: the largest VmHWM of any run of that repetition
    peak = {}
    for p in parts:
        for s in (ws, ds):
            for x in tp[p].get(s, []):
                k = (s, x["rep"])
                peak[k] = max(peak.get(k, 0), x["hwm_mb"])
    for l in life:
        if l["system"] not in (ws, ds):
            continue
        k = (l["system"], int(l["rep"]))
        peak[k] = max(peak.get(k, 0), int(l["hwm_kb"]) / 1024)
    wp = [{"rep": rep, "m": v} for (s, rep), v in peak.items() if s == ws]
    dp = [{"rep": rep, "m": v} for (s, rep), v in peak.items() if s == ds]
    r = per_rep_ratio(wp, dp, "m", invert=True)
    met = r is not None and r[0] >= TARGET_MEMORY
    out.append(f"| peak RSS <= 1/10 of the peer's | largest VmHWM of any run in a repetition | {names} | "
               f"{fmt_spread(spread(x['m'] for x in wp), fmt_n)} MB | "
               f"{fmt_spread(spread(x['m'] for x in dp), fmt_n)} MB | {fmt_ratio_spread(r)} | "
               f"{'met' if met else 'not met'} |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--decode")
    ap.add_argument("--e2e")
    ap.add_argument("--meta")
    a = ap.parse_args()
    figdir = os.path.join(a.out, "figures")
    os.makedirs(figdir, exist_ok=True)
    cmeta = read_meta(a.meta)
    emeta = read_meta(os.path.join(a.e2e, "e2e.meta")) if a.e2e else {}
    mach = emeta or read_meta(os.path.join(a.decode, "decode.meta") if a.decode else None)

    tp = e2e_throughput(a.e2e) if a.e2e else {}
    lat = latency_runs(a.e2e) if a.e2e else {}
    life = read_tsv(os.path.join(a.e2e, "lifetimes.tsv")) if a.e2e else []
    systems = emeta.get("systems", "wal2avro debezium").split()
    parts = [p for p in emeta.get("parts", "").split() if p in tp]
    rates = sorted(lat)
    both = "wal2avro" in systems and "debezium" in systems

    out = []
    out.append("# wal2avro against Debezium: cost to the database and speed of delivery")
    out.append("")
    out.append(f"Generated by `regress/bench/compare.sh` on {mach.get('date', '?')}"
               + (f" in {cmeta['duration']}" if cmeta.get("duration") else "") + ". "
               "Both systems ran on this one machine, one after the other (A B A B ...), against the same "
               "PostgreSQL cluster and the same Kafka broker; each figure is the median over repetitions "
               "with [min - max]; every ratio is taken within a repetition and then summarised the same way.")
    out.append("")
    if cmeta.get("command"):
        out.append(f"Reproduce: `{cmeta['command']}`")
        out.append("")

    # ---------------------------------------------------------- targets
    if both and (tp or lat):
        out.append("## Targets")
        out.append("")
        out.append("Reported, never asserted. A target is met when the median of the per-repetition ratios "
                   "reaches it.")
        out.append("")
        out.append("| target | workload | system | peer | system's | peer's | ratio (per repetition) | met? |")
        out.append("|---|---|---|---|---:|---:|---:|---|")
        for ws, ds in TARGET_PAIRS:
            if ws in systems and ds in systems:
                out.extend(target_rows(ws, ds, parts, rates, tp, lat, life))
        for reg in ("wal2avro-confluent", "wal2avro-registry"):
            if reg not in systems or "wal2avro" not in systems:
                continue
            for p in parts:
                w, d = tp[p].get(reg, []), tp[p].get("wal2avro", [])
                r = per_rep_ratio(w, d, "rate")
                met = r is not None and r[0] >= TARGET_REGISTRY
                out.append(f"| rows/s within 10% of the Avro path's | {PART_NAME[p]} | "
                           f"{SYSTEM_NAME[reg]} | {SYSTEM_NAME['wal2avro']} | "
                           f"{fmt_spread(spread(x['rate'] for x in w), fmt_n)} | "
                           f"{fmt_spread(spread(x['rate'] for x in d), fmt_n)} | {fmt_ratio_spread(r)} | "
                           f"{'met' if met else 'not met'} |")
        out.append("")
        out.append("Ratios: rows/s of the system ÷ its peer's; p99 and RSS of the peer ÷ the system's "
                   "(so higher is better for wal2avro everywhere). The registry rows compare the relay writing "
                   "through a schema registry (the test registry, ids cached) with its own Avro and schema "
                   "topic: its own records in Confluent's wire format (own Avro, registry: the cost of the "
                   "wire format alone), and Debezium's Avro (registry: the wire format and Debezium's "
                   "larger record together); their target is a ratio of at least 0.9.")
        if parts:
            out.append("The throughput rows count everything from the release of the backlog (t0), the "
                       "decoding of its first transaction included; with the first 20% of each workload's records "
                       "left out (steady rows/s, see below) the per-repetition ratios are: " + "; ".join(
                           f"{PART_NAME[p]} {fmt_ratio_spread(per_rep_ratio(tp[p].get('wal2avro', []), tp[p].get('debezium', []), 'steady'), bold=False)}"
                           for p in parts) + ".")
        out.append("")

    # ---------------------------------------------------------- machine
    out.append("## Machine and versions")
    out.append("")
    out.append(f"- Machine: {mach.get('cores', '?')} cores ({mach.get('cpu', '?')}), {mach.get('mem', '?')} RAM, "
               f"{mach.get('os', '?')}, {mach.get('kernel', '?')}. Load average (1, 5, 15 min): "
               f"{emeta.get('load', '?')}" + (f"; decode runs: {cmeta.get('decode_load')}" if cmeta.get('decode_load') else "")
               + ". Everything shares the cores: PostgreSQL, the consumer under test, the broker's JVM, "
               "pgbench and the samplers.")
    out.append(f"- PostgreSQL {mach.get('postgresql', '?')} (`fsync = off`, `autovacuum = off`, "
               f"`logical_decoding_work_mem` = {emeta.get('ldwm', '?')}, the server default); wal2json "
               f"{mach.get('wal2json', '?')}; pgbench {emeta.get('pgbench', '?')}; wal2avro.so "
               f"{mach.get('plugin', '?')}; repository at {mach.get('git', '?')}.")
    if emeta:
        out.append(f"- Apache Kafka {emeta.get('kafka', '?')}: one broker (KRaft, combined broker and "
                   f"controller, `regress/lib/kafka.sh`: 512 MB heap, replication factor 1, its log on the "
                   f"same disk; the broker's defaults otherwise), every data topic with one partition and "
                   f"`message.timestamp.type=LogAppendTime`.")
        out.append(f"- {emeta.get('relay', 'wal2avro-relay')}: `{emeta.get('relay_path', '?')}`, "
                   f"{emeta.get('relay_bin', '?')}; "
                   f"librdkafka {mach.get('librdkafka', '?')}; kcat {mach.get('kcat', '?')}.")
        out.append(f"- Debezium {emeta.get('debezium', '?')} (debezium-embedded + debezium-connector-postgres, "
                   f"from Maven Central) with kafka-clients {emeta.get('kafka_clients', '?')} and pgjdbc "
                   f"{emeta.get('pgjdbc', '?')}, on {mach.get('java', '?')}; JVM options: "
                   f"`{emeta.get('dbz_java_opts') or 'none'}` (max heap {emeta.get('java_heap_max', '?')}, "
                   f"{emeta.get('java_gc', '?')}, the JVM's own sizing).")
    out.append("")

    # ---------------------------------------------------------- e2e throughput
    if tp:
        out.append("## End to end: throughput of a backlog through a running consumer (e2e.sh)")
        out.append("")
        out.append(f"{emeta.get('reps', '?')} repetitions, the systems alternating: in each repetition each "
                   "system gets one consumer process on its own slot, advanced to the current WAL position "
                   f"first (both start from the same slot state). After a warm-up (one record per table, "
                   f"then {emeta.get('warm_secs', '?')} s of the OLTP load at 1,000 tx/s, all delivered), each "
                   "workload is written while the slot's walsender is stopped (SIGSTOP), so it waits as a "
                   "backlog of the same shape for both systems, and is released (SIGCONT) at t0. The same "
                   "process then serves the latency runs.")
        out.append("")
        for p in parts:
            out.append(f"- **{PART_NAME[p]}**: {emeta.get('desc_' + p, '')}")
        out.append("")
        out.append("| workload | system | rows/s | steady rows/s | first record s | consumer CPU s | "
                   "consumer CPU us/row | walsender CPU s | broker CPU s | peak RSS MB | Kafka bytes/row |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p in parts:
            for s in systems:
                rs = tp[p].get(s, [])
                if not rs:
                    continue
                out.append(
                    f"| {PART_NAME[p]} ({fmt_n(rs[0]['rows'])} rows) | {SYSTEM_NAME[s]} | "
                    f"{fmt_spread(spread(r['rate'] for r in rs), fmt_n, bold=True)} | "
                    f"{fmt_spread(spread(r['steady'] for r in rs), fmt_n)} | "
                    f"{fmt_spread(spread(r['first'] for r in rs))} | "
                    f"{fmt_spread(spread(r['cpu'] for r in rs))} | "
                    f"{fmt_spread(spread((r['cpu'] / r['rows'] * 1e6) if r['cpu'] is not None else None for r in rs))} | "
                    f"{fmt_spread(spread(r['ws'] for r in rs))} | "
                    f"{fmt_spread(spread(r['broker'] for r in rs))} | "
                    f"{fmt_spread(spread(r['hwm_mb'] for r in rs), fmt_n)} | "
                    f"{statistics.median(r['bytes_row'] for r in rs):,.0f} |")
            for ws, ds in TARGET_PAIRS:
                if ws not in systems or ds not in systems:
                    continue
                w, d = tp[p].get(ws, []), tp[p].get(ds, [])
                out.append(f"| {PART_NAME[p]} | **{SYSTEM_NAME[ws]} ÷ {SYSTEM_NAME[ds]}** (per repetition) | "
                           f"{fmt_ratio_spread(per_rep_ratio(w, d, 'rate'))} | "
                           f"{fmt_ratio_spread(per_rep_ratio(w, d, 'steady'), bold=False)} | | "
                           f"CPU: {fmt_ratio_spread(per_rep_ratio(w, d, 'cpu', invert=True), bold=False)} less | | | | "
                           f"{fmt_ratio_spread(per_rep_ratio(w, d, 'hwm_mb', invert=True), bold=False)} less | |")
        out.append("")
        out.append(
            "What the columns mean: **rows/s** = the workload's rows / (append time of the last record in "
            "Kafka - t0). Everything after t0 is in: the walsender reading the workload's WAL and decoding it "
            "(pgoutput for Debezium, wal2avro for the relay), the consumer converting and producing, the "
            "broker appending and acknowledging. **first record s** = t0 -> first record appended (for the bulk "
            "insert mostly the walsender reading the one big transaction and spilling it to disk, which no "
            "change can leave before). **steady rows/s** leaves out the first 20% of the records of the "
            "workload's main table (bulk, wide, toast_docs, orders). **consumer CPU s** = user+system seconds "
            "of the relay or the JVM (all threads: librdkafka's, or GC and JIT) from t0 until every record was "
            "seen in Kafka (polled every 0.1 s); **walsender CPU s** and **broker CPU s** over the same "
            "interval. **peak RSS** = the consumer's VmHWM after the workload, a high-water mark over the "
            "process's life so far (the bulk insert runs first). **Kafka bytes/row** = growth of the topics' log segment files on "
            "the broker's disk / rows (record batches, headers, keys and values). Every run is checked: the "
            "topics grew by exactly the workload's rows.")
        out.append("")
        panels = [(PART_NAME[p], {s: spread(r["rate"] for r in tp[p].get(s, [])) for s in systems})
                  for p in parts]
        bar_panels(os.path.join(figdir, "e2e-throughput.svg"),
                   "End to end: rows/s from the backlog's release to the last record in Kafka (higher is better)",
                   "rows/s", panels, systems, SYSTEM_NAME)
        out.append("![end-to-end throughput](figures/e2e-throughput.svg)")
        out.append("")
        panels = [(PART_NAME[p], {s: spread((r["cpu"] or 0) / r["rows"] * 1e6 for r in tp[p].get(s, []))
                                  for s in systems}) for p in parts]
        bar_panels(os.path.join(figdir, "e2e-cpu.svg"),
                   "Consumer CPU per row, microseconds (lower is better)", "CPU us per row", panels, systems,
                   SYSTEM_NAME, note="relay: all threads incl. librdkafka; Debezium: the whole JVM incl. GC and JIT")
        out.append("![consumer CPU per row](figures/e2e-cpu.svg)")
        out.append("")

    # ---------------------------------------------------------- latency
    if lat:
        out.append("## End to end: latency at fixed offered loads (e2e.sh)")
        out.append("")
        out.append(
            f"pgbench -R RATE -T {emeta.get('lat_secs', '?')} with {emeta.get('clients', '?')} clients (-j 2) of "
            f"the OLTP transaction (INSERT an order, INSERT its 3 items in one statement, UPDATE a random "
            f"customer out of {emeta.get('customers', '?')}: 5 records), through the consumer process that "
            f"served the throughput runs of the same repetition, each rate once, all its records delivered "
            f"before the next.")
        out.append("")
        out.append("| offered tx/s | system | achieved tx/s | records | p50 ms | p99 ms | max ms | "
                   "consumer CPU s | walsender CPU s | broker CPU s | p99 Debezium ÷ wal2avro |")
        out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for rate in rates:
            for s in systems:
                rs = lat[rate].get(s, [])
                if not rs:
                    continue
                ratio = ""
                if both and s == "debezium":
                    ratio = fmt_ratio_spread(per_rep_ratio(lat[rate].get("wal2avro", []), rs, "p99",
                                                           invert=True))
                out.append(
                    f"| {rate:,} | {SYSTEM_NAME[s]} | {fmt_spread(spread(r['tps'] for r in rs), fmt_n)} | "
                    f"{fmt_n(statistics.median(r['records'] for r in rs))} | "
                    f"{fmt_spread(spread(r['p50'] for r in rs), fmt_n)} | "
                    f"{fmt_spread(spread(r['p99'] for r in rs), fmt_n, bold=True)} | "
                    f"{fmt_spread(spread(r['max'] for r in rs), fmt_n)} | "
                    f"{fmt_spread(spread(r['cpu'] for r in rs))} | {fmt_spread(spread(r['ws'] for r in rs))} | "
                    f"{fmt_spread(spread(r['broker'] for r in rs))} | {ratio} |")
        out.append("")
        out.append(
            "What the columns mean: latency = the broker's append time of a record (LogAppendTime) - the "
            "commit time of its transaction carried in the record (wal2avro: the header "
            "`wal2avro.commit_ts_ms`; Debezium: `payload.source.ts_ms` of the JSON value; both PostgreSQL's "
            "commit timestamp truncated to ms, so each value is +-1 ms). Every record of the window counts "
            "(the count is checked against pgbench's transactions x 5). p50/p99/max are nearest-rank per run, "
            "then median [min - max] over repetitions. **achieved tx/s** is pgbench's: below the offered rate, "
            "PostgreSQL plus everything else on the machine could not go faster. It can differ between the "
            "systems at the same offered rate: a consumer that keeps up makes its walsender decode during the "
            "window, taking CPU from PostgreSQL and pgbench on the shared cores, while one that falls behind "
            "defers that work (its walsender waits for it). When a system cannot keep up, its latency grows over the window, "
            "so a longer window gives larger numbers. CPU seconds are over the window plus the wait until every "
            "record arrived. Debezium's defaults put a floor under its latency at low rates: when the replication "
            "stream has nothing pending its streaming thread sleeps `poll.interval.ms` (500 ms) before reading "
            "again, and the engine hands a batch over when it holds `max.batch.size` (2,048) records or after "
            "`poll.interval.ms`; together up to about 1 s. A smaller `poll.interval.ms` (through `DBZ_PROPS`) "
            "is a tuning this comparison does not apply.")
        out.append("")
        panels = []
        for rate in rates:
            d = {}
            for s in systems:
                d[s] = sorted(v for r in lat[rate].get(s, []) for v in r["lat"])
            ach = spread(r["tps"] for s in systems for r in lat[rate].get(s, []))
            panels.append((f"{rate:,} tx/s offered" + (f" ({ach[0]:,.0f} achieved)" if ach else ""), d))
        cdf_panels(os.path.join(figdir, "latency-cdf.svg"),
                   "Commit -> Kafka append latency, CDF (further left is better)", panels, systems)
        out.append("![latency CDFs](figures/latency-cdf.svg)")
        out.append("")
        if life:
            out.append("Per consumer process (one per system and repetition, serving the warm-up, every "
                       "throughput run and every rate): start-up = launch -> slot active; peak RSS = VmHWM when "
                       "it stopped; CPU = its whole life, start-up and warm-up included.")
            out.append("")
            out.append("| system | start-up s | peak RSS MB | CPU s, whole life |")
            out.append("|---|---:|---:|---:|")
            for s in systems:
                ls = [l for l in life if l["system"] == s]
                if ls:
                    out.append(f"| {SYSTEM_NAME[s]} | {fmt_spread(spread(num(l['startup_s']) for l in ls))} | "
                               f"{fmt_spread(spread(int(l['hwm_kb']) / 1024 for l in ls), fmt_n)} | "
                               f"{fmt_spread(spread(num(l['cpu_total_s']) for l in ls))} |")
            out.append("")

    # ---------------------------------------------------------- decode
    if a.decode:
        decode_section(a.decode, figdir, out)

    # ---------------------------------------------------------- settings
    if a.e2e:
        out.append("## Settings of both systems")
        out.append("")
        out.append("Both connect to PostgreSQL over TCP on 127.0.0.1 and produce to the same broker with "
                   "`acks=all` and idempotence on; neither is tuned below its documented durability defaults."
                   + (f" Both producers compress their batches with {emeta['compression']} (`COMPRESSION`)."
                      if emeta.get("compression", "none") != "none" else
                      " Neither compresses its batches (`COMPRESSION=none`, Kafka's default)."))
        out.append("")
        out.append(f"- **wal2avro-relay**: its defaults (`--snapshot-mode=never`, as the slot already exists; "
                   f"`-X reconnect.backoff.max.ms=500` from the test harness). Producer: librdkafka with "
                   f"`enable.idempotence=true`, `acks=all`, `message.timeout.ms=0` (never give up), "
                   f"`linger.ms={emeta.get('relay_linger') or '?'}`"
                   + (f", `compression.codec={emeta['compression']}`"
                      if emeta.get("compression", "none") != "none" else "")
                   + f", librdkafka's defaults otherwise; it confirms "
                   f"a position to PostgreSQL only once every record up to it is acknowledged. Avro values with "
                   f"the single-object header; schemas on `_wal2avro_schemas`.")
        out.append("- **Debezium**: the embedded engine (`DebeziumEngine`, its default async implementation) "
                   "with the PostgreSQL connector and `plugin.name=pgoutput`, `snapshot.mode=no_data` (stream "
                   "from the slot's position: both start from the same slot state), offsets in a file flushed "
                   "every second (`offset.flush.interval.ms=1000`; the slot advances at offset flush), "
                   "Debezium's JSON conversion (Kafka's JsonConverter, `schemas.enable=true`: the default of "
                   "Kafka Connect and of Debezium's engine) for keys and values. A batch handler "
                   "(`regress/bench/debezium/`) sends every record of a batch with a KafkaProducer "
                   "(`acks=all`, `enable.idempotence=true`, Kafka's defaults otherwise: `linger.ms=5`, "
                   "`batch.size=16384`), flushes, checks every send and only then marks the batch processed. "
                   "Debezium's defaults otherwise, among them `max.batch.size=2048`, `max.queue.size=8192` and "
                   "`poll.interval.ms=500` (a batch is handed over when it is full or 500 ms have passed, "
                   "which sets a floor under its latency at low rates)."
                   + (f" Extra properties given: `{emeta['dbz_props']}`." if emeta.get("dbz_props") else ""))
        out.append("")
        for name, title in (("debezium.properties", "Debezium engine properties, as given"),
                            ("relay.config", "wal2avro-relay --print-config, as run")):
            path = os.path.join(a.e2e, name)
            if os.path.exists(path):
                out.append(f"<details><summary>{title}</summary>")
                out.append("")
                out.append("```")
                out.extend(l.rstrip("\n") for l in open(path))
                out.append("```")
                out.append("")
                out.append("</details>")
                out.append("")

    out.append("## Caveats")
    out.append("")
    out.append("- Two cores for everything: a consumer that needs more CPU (the JVM's JIT and GC threads, the "
               "broker receiving bigger records) competes with PostgreSQL and the broker, which is part of its "
               "cost to the machine but makes the numbers specific to this size of machine. Other work on the "
               "machine shows up directly; the load average is printed above.")
    out.append("- `fsync = off` on PostgreSQL and Kafka's page-cache writes: upper bounds for the software, "
               "not for a durable disk. Both systems pay the same broker.")
    out.append("- Debezium runs with the JVM's default heap sizing (a quarter of RAM): its RSS is what the JVM "
               "takes without a limit. A smaller `-Xmx` (`DBZ_JAVA_OPTS`) lowers RSS and may cost throughput.")
    out.append("- Stopping the walsender (SIGSTOP) while a workload is written is a benchmark device: it makes "
               "the workload a backlog that both systems start on in the same state, and puts all of its "
               "decoding after t0. A live system decodes while the workload runs; the latency runs show that "
               "case.")
    out.append("- The warm-up is short: Debezium's JIT may still be compiling during the first workload (the "
               "bulk insert); the steady column and the later workloads show the warmer rate.")
    out.append("- Formats differ: wal2avro writes Avro with a schema fingerprint, Debezium's default JSON "
               "carries the full schema in every record; Kafka bytes/row shows what that costs on the broker.")
    out.append("- Unchanged TOAST columns: wal2avro sends its `UNCHANGED` marker, Debezium the string "
               "`__debezium_unavailable_value`; neither reads the old value.")
    out.append("")
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
