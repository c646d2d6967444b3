#!/usr/bin/env python3
"""Turns wsafault_bench's JSON into docs/bench/latest.md and SVG plots.

    bench/report.py RESULTS.json [MORE.json ...] OUT_DIR [--merged PATH] [--note TEXT]
                    [--command TEXT]

Several result files (scripts/bench runs the suite in a few processes, so that every group
starts with a fresh task table) are merged; --merged writes the merged JSON.

Standard library only: the plots are SVG written by hand, so the report needs nothing but
python3 on a fresh machine. Medians are taken over the repetitions (the JSON of
--benchmark_report_aggregates_only); a run of one repetition is used as it is.

Times are wall-clock (every benchmark uses real time): ours, glibc and libuv hand work to
threads of their own, and a per-thread CPU clock would not see it. The CPU-time view of the
calling thread is shown beside it, because on a shared machine it moves less with the load.
"""
import argparse
import json
import math
import os
import sys
from html import escape

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

OURS = "BM_WsafStartCancel_Pair"
OURS_BOUNDED = "BM_WsafStartCancel_Bounded"
# Our two variants: unbounded (the table may grow while the resolver lags) and capped.
OUR_VARIANTS = [("ours", OURS), ("ours, table capped at 65,536", OURS_BOUNDED)]
PEERS = [
    ("glibc getaddrinfo_a", "BM_GlibcGaiStartCancel_Pair"),
    ("libuv uv_getaddrinfo", "BM_LibuvGetaddrinfoCancel_Pair"),
    ("mutex + hash map", "BM_BaselineMutexMap_Pair"),
    ("lock-free slot (floor)", "BM_FloorLockfreeSlot_Pair"),
]
# (peer label, peer benchmark, ratio direction, target, text)
TARGETS = [
    ("glibc", "BM_GlibcGaiStartCancel_Pair", "peer/ours", 5.0, ">= 5x faster than glibc"),
    ("libuv", "BM_LibuvGetaddrinfoCancel_Pair", "peer/ours", 10.0, ">= 10x faster than libuv"),
    ("floor", "BM_FloorLockfreeSlot_Pair", "ours/peer", 5.0, "within 5x of the floor"),
]
FLAT_LIMIT = 1.5  # "flat": the cost at N outstanding within 1.5x of the cost at 1


# --- Loading ------------------------------------------------------------------------------

def parse_run_name(run_name):
    parts = run_name.split("/")
    params = {}
    for p in parts[1:]:
        if ":" in p:
            k, v = p.split(":", 1)
            if k not in ("min_time", "iterations", "repeats"):
                params[k] = v
    return parts[0], params


def merge(paths):
    """One JSON document out of several runs: the first context, every benchmark, and the load
    average each process started at."""
    merged = {"context": {}, "benchmarks": []}
    loads = []
    for path in paths:
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:  # a run that crashed leaves its JSON unfinished
            merged["benchmarks"].append({"name": os.path.basename(path), "error_occurred": True,
                                         "error_message": f"results unreadable: {e}"})
            continue
        ctx = data.get("context", {})
        if not merged["context"]:
            merged["context"] = dict(ctx)
        loads.append(ctx.get("load_avg", []))
        merged["benchmarks"].extend(data.get("benchmarks", []))
    merged["context"]["load_avg_per_process"] = loads
    return merged


class Results:
    def __init__(self, data):
        self.context = data.get("context", {})
        self.runs = {}    # (base, frozenset(params)) -> {"median": entry, "cv": entry}
        self.errors = []  # (run_name, message)
        for b in data.get("benchmarks", []):
            run_name = b.get("run_name", b["name"])
            if b.get("error_occurred"):
                self.errors.append((run_name, b.get("error_message", "?")))
                continue
            base, params = parse_run_name(run_name)
            key = (base, frozenset(params.items()))
            slot = self.runs.setdefault(key, {})
            if b.get("run_type") == "aggregate":
                slot[b.get("aggregate_name")] = b
            else:
                slot.setdefault("single", b)

    def get(self, base, **params):
        want = frozenset((k, str(v)) for k, v in params.items())
        for (b, p), slot in self.runs.items():
            if b == base and want <= p and len(p) == len(want):
                return slot.get("median") or slot.get("single")
        return None

    def cv(self, base, **params):
        want = frozenset((k, str(v)) for k, v in params.items())
        for (b, p), slot in self.runs.items():
            if b == base and want <= p and len(p) == len(want) and "cv" in slot:
                return slot["cv"].get("real_time")
        return None

    def values(self, base):
        """[(params, entry)] for every run of `base`, in file order."""
        out = []
        for (b, p), slot in self.runs.items():
            if b == base:
                e = slot.get("median") or slot.get("single")
                if e is not None:
                    out.append((dict(p), e))
        return out


def ns_per_item(e):
    if e is None or not e.get("items_per_second"):
        return None
    return 1e9 / e["items_per_second"]


def cpu_ns_per_item(e):
    """CPU time of the calling thread per item (single-threaded benchmarks only)."""
    real_item = ns_per_item(e)
    if real_item is None or not e.get("real_time"):
        return None
    unit = UNIT_NS[e.get("time_unit", "ns")]
    return e["cpu_time"] * unit * real_item / (e["real_time"] * unit)


# --- Formatting ---------------------------------------------------------------------------

def fmt_ns(x):
    if x is None:
        return "—"
    if x < 1e3:
        return f"{x:.1f} ns" if x < 100 else f"{x:.0f} ns"
    if x < 1e6:
        return f"{x / 1e3:.2f} µs"
    if x < 1e9:
        return f"{x / 1e6:.2f} ms"
    return f"{x / 1e9:.2f} s"


def fmt_rate(x):
    if x is None:
        return "—"
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:.2f} {unit}/s"
    return f"{x:.0f} /s"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def fmt_frac(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def fmt_bytes(x):
    if x is None:
        return "—"
    if abs(x) < 10:
        return f"{x:.2f} B"
    if abs(x) < 1e4:
        return f"{x:.0f} B"
    if abs(x) < 1e7:
        return f"{x / 1024:.1f} KiB"
    return f"{x / 1048576:.1f} MiB"


def fmt_cv(x):
    return "" if x is None else f" ±{100 * x:.0f}%"


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


# --- SVG ----------------------------------------------------------------------------------

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


class Svg:
    def __init__(self, width, height):
        self.w, self.h = width, height
        self.items = []

    def add(self, s):
        self.items.append(s)

    def text(self, x, y, s, size=12, anchor="start", rotate=None, weight="normal"):
        tr = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                 f'font-weight="{weight}"{tr}>{escape(s)}</text>')

    def line(self, x1, y1, x2, y2, color="#000", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                 f'stroke="{color}" stroke-width="{width}"{d}/>')

    def rect(self, x, y, w, h, color, title=None):
        t = f"<title>{escape(title)}</title>" if title else ""
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
                 f'fill="{color}">{t}</rect>')

    def save(self, path):
        with open(path, "w") as f:
            f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" '
                    f'viewBox="0 0 {self.w} {self.h}" font-family="sans-serif">\n')
            f.write(f'<rect width="{self.w}" height="{self.h}" fill="white"/>\n')
            f.write("\n".join(self.items))
            f.write("\n</svg>\n")


def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    t = math.floor(lo / step) * step
    out = []
    while t <= hi + step * 1e-9:
        out.append(t)
        t += step
    return out


class Axes:
    """A plot area with linear or log scales. Margins leave room for labels and a legend."""

    def __init__(self, svg, title, xlabel, ylabel, xlog=False, ylog=False, left=80, right=190,
                 top=40, bottom=55):
        self.svg, self.xlog, self.ylog = svg, xlog, ylog
        self.x0, self.x1 = left, svg.w - right
        self.y0, self.y1 = svg.h - bottom, top
        svg.text(svg.w / 2 - (right - left) / 2, 22, title, size=15, anchor="middle", weight="bold")
        svg.text((self.x0 + self.x1) / 2, svg.h - 12, xlabel, anchor="middle")
        svg.text(18, (self.y0 + self.y1) / 2, ylabel, anchor="middle", rotate=-90)
        self.legend_y = top + 10

    def set_range(self, xlo, xhi, ylo, yhi):
        self.xr, self.yr = (xlo, xhi), (ylo, yhi)

    def _map(self, v, lo, hi, a, b, log):
        if log:
            v, lo, hi = math.log10(v), math.log10(lo), math.log10(hi)
        return a + (v - lo) / (hi - lo) * (b - a) if hi != lo else (a + b) / 2

    def X(self, v):
        return self._map(v, *self.xr, self.x0, self.x1, self.xlog)

    def Y(self, v):
        return self._map(v, *self.yr, self.y0, self.y1, self.ylog)

    def frame(self, xticks=None, xlabels=None, yfmt=None):
        s = self.svg
        s.line(self.x0, self.y0, self.x1, self.y0)
        s.line(self.x0, self.y0, self.x0, self.y1)
        if self.ylog:
            lo, hi = math.floor(math.log10(self.yr[0])), math.ceil(math.log10(self.yr[1]))
            yt = [10 ** e for e in range(lo, hi + 1) if self.yr[0] <= 10 ** e <= self.yr[1]]
        else:
            yt = nice_ticks(*self.yr)
        for t in yt:
            y = self.Y(t)
            s.line(self.x0, y, self.x1, y, color="#ddd")
            s.text(self.x0 - 6, y + 4, (yfmt or str)(t), size=11, anchor="end")
        last_x = None
        for i, t in enumerate(xticks or []):
            x = self.X(t)
            s.line(x, self.y0, x, self.y0 + 4)
            label = xlabels[i] if xlabels else str(t)
            if last_x is not None and x - last_x < 7 * len(label):
                continue  # would overlap the previous label
            s.text(x, self.y0 + 18, label, size=11, anchor="middle")
            last_x = x

    def legend(self, label, color):
        x = self.x1 + 15
        self.svg.rect(x, self.legend_y - 9, 12, 12, color)
        self.svg.text(x + 18, self.legend_y + 1, label, size=11)
        self.legend_y += 18


def plot_lines(path, title, xlabel, ylabel, series, xlog=False, ylog=False, xfmt=str, yfmt=None,
               ymin0=True):
    """series: [(label, [(x, y)])]."""
    pts = [(x, y) for _, s in series for x, y in s if y is not None]
    if not pts:
        return False
    svg = Svg(760, 380)
    ax = Axes(svg, title, xlabel, ylabel, xlog=xlog, ylog=ylog)
    xs = sorted({x for x, _ in pts})
    ys = [y for _, y in pts]
    xlo, xhi = (xs[0], xs[-1]) if len(xs) > 1 else (xs[0] * 0.5, xs[0] * 1.5)
    if xlog:
        xlo, xhi = xlo / 2, xhi * 2
    else:
        pad = (xhi - xlo) * 0.08
        xlo, xhi = xlo - pad, xhi + pad
    if ylog:
        ylo, yhi = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
    else:
        ylo, yhi = (0 if ymin0 else min(ys) * 0.9), max(ys) * 1.15
    ax.set_range(xlo, xhi, ylo, yhi)
    ax.frame(xs, [xfmt(x) for x in xs], yfmt)
    for i, (label, s) in enumerate(series):
        color = COLORS[i % len(COLORS)]
        s = [(x, y) for x, y in s if y is not None]
        for (xa, ya), (xb, yb) in zip(s, s[1:]):
            svg.line(ax.X(xa), ax.Y(ya), ax.X(xb), ax.Y(yb), color=color, width=2)
        for x, y in s:
            svg.add(f'<circle cx="{ax.X(x):.1f}" cy="{ax.Y(y):.1f}" r="4" fill="{color}">'
                    f"<title>{escape(label)}: {y:.4g}</title></circle>")
        ax.legend(label, color)
    svg.save(path)
    return True


def plot_grouped_bars(path, title, ylabel, groups, labels, values, ylog=True, yfmt=None):
    """values[g][i]: bar i of group g (None: missing)."""
    flat = [v for row in values for v in row if v]
    if not flat:
        return False
    svg = Svg(760, 400)
    ax = Axes(svg, title, "", ylabel, ylog=ylog)
    lo = 10 ** math.floor(math.log10(min(flat))) if ylog else 0
    hi = 10 ** math.ceil(math.log10(max(flat))) if ylog else max(flat) * 1.15
    ax.set_range(0, len(groups), lo, hi)
    ax.frame([], [], yfmt)
    width = (ax.x1 - ax.x0) / len(groups)
    bar = width * 0.8 / len(labels)
    for g, name in enumerate(groups):
        gx = ax.x0 + g * width + width * 0.1
        svg.text(gx + width * 0.4, ax.y0 + 18, name, size=11, anchor="middle")
        for i, v in enumerate(values[g]):
            if not v:
                continue
            y = ax.Y(v)
            svg.rect(gx + i * bar, y, bar * 0.9, ax.y0 - y, COLORS[i % len(COLORS)],
                     title=f"{labels[i]} {name}: {fmt_ns(v)}")
    for i, l in enumerate(labels):
        ax.legend(l, COLORS[i % len(COLORS)])
    svg.save(path)
    return True


def plot_stacked_mix(path, title, rows):
    """rows: [(label, canceled, too_late, already_done)] as fractions."""
    if not rows:
        return False
    height = 70 + 26 * len(rows)
    svg = Svg(760, height)
    svg.text(300, 22, title, size=15, anchor="middle", weight="bold")
    x0, x1 = 260, 600
    parts = [("canceled", "#2ca02c"), ("too late", "#ff7f0e"), ("already done", "#d62728")]
    for r, (label, *fracs) in enumerate(rows):
        y = 40 + r * 26
        svg.text(x0 - 8, y + 14, label, size=11, anchor="end")
        x = x0
        for (name, color), f in zip(parts, fracs):
            w = (x1 - x0) * (f or 0)
            svg.rect(x, y, w, 18, color, title=f"{label}: {name} {fmt_frac(f)}")
            x += w
    for i, (name, color) in enumerate(parts):
        svg.rect(x1 + 20, 40 + i * 18, 12, 12, color)
        svg.text(x1 + 38, 50 + i * 18, name, size=11)
    svg.text(x0, height - 10, "0%", size=10)
    svg.text(x1, height - 10, "100% of cancels", size=10, anchor="end")
    svg.save(path)
    return True


# --- The report ---------------------------------------------------------------------------

def section_pairs(res, out):
    batches = [1, 64, 1024]
    out.append("## Start + cancel pairs (single thread)\n")
    out.append("Median wall-clock time per start+cancel pair (`1e9 / items_per_second`); ± is the "
               "coefficient of variation over the repetitions. `batch` = requests started before "
               "the first cancel. \"ours, table capped\" runs first with the task table limited "
               "to 65,536 slots (a start that finds no free slot yields and retries): the rate the "
               "resolver sustains with bounded memory. \"ours\" runs unbounded: the application "
               "thread may run ahead of the resolver's reclaiming, and the table grows instead "
               "(see its slot count below).\n")
    variants = OUR_VARIANTS + PEERS
    headers = ["batch"] + [l for l, _ in variants]
    rows, cpu_rows = [], []
    for b in batches:
        row, crow = [b], [b]
        for _, name in variants:
            e = res.get(name, batch=b)
            row.append(fmt_ns(ns_per_item(e)) + fmt_cv(res.cv(name, batch=b)))
            crow.append(fmt_ns(cpu_ns_per_item(e)))
        rows.append(row)
        cpu_rows.append(crow)
    out.append(table(headers, rows) + "\n")
    out.append("Ratios (wall clock): how many times slower the peer is than ours "
               "(> 1: ours is faster); for the floor, how many times slower ours is.\n")
    rrows = []
    for b in batches:
        for our_label, our_name in OUR_VARIANTS:
            ours = ns_per_item(res.get(our_name, batch=b))
            row = [b, our_label]
            for label, name in PEERS:
                peer = ns_per_item(res.get(name, batch=b))
                row.append(fmt_ratio(ratio(ours, peer) if "floor" in label else ratio(peer, ours)))
            rrows.append(row)
    out.append(table(["batch", "variant", "glibc / ours", "libuv / ours", "mutex map / ours",
                      "ours / floor"], rrows) + "\n")
    out.append("CPU time of the calling thread per pair (work handed to other threads — our "
               "resolver, glibc's and libuv's pools — is not in it; shown because it moves less "
               "with the machine's load):\n")
    out.append(table(headers, cpu_rows) + "\n")
    rt = ns_per_item(res.get("BM_FloorCrossCore_RoundTrip", threads="2"))
    if rt is not None:
        out.append("One cache line to the other core and back (`BM_FloorCrossCore_RoundTrip`: two "
                   "threads take turns on one atomic word; nothing else): %s. A pair whose request the "
                   "resolver reaches before the cancel pays at least that; the mutex map and the floor "
                   "have no second thread.\n" % fmt_ns(rt))
    section_decomposition(res, out, batches)
    out.append("![ns per pair](pairs.svg)\n")


def section_decomposition(res, out, batches):
    """Ours taken apart, each part measured alone in the same run (issue 13's analysis)."""
    names = [("table alone", "BM_WsafTableOnly_Pair"), ("+ API, no resolver", "BM_WsafNoResolver_Pair"),
             ("ours", OURS), ("mutex map", "BM_BaselineMutexMap_Pair"),
             ("floor", "BM_FloorLockfreeSlot_Pair"), ("floor + ring hand-off", "BM_FloorRingHandoff_Pair")]
    if all(res.get(names[0][1], batch=b) is None for b in batches):
        return
    out.append("Where our pair's time goes, each part measured alone: `BM_WsafTableOnly_Pair` is "
               "`TaskTable::Start` and `Cancel` with no API above them and no resolver; "
               "`BM_WsafNoResolver_Pair` the same pairs through the API in an engine without a "
               "resolver (nobody takes a request); ours minus that is the hand-off to the resolver. "
               "`BM_FloorRingHandoff_Pair` is the floor plus the cheapest hand-off to a second "
               "thread we know (a ring of entries, tombstones for canceled ones, an eventfd sleep): "
               "what a hand-off need cost.\n")
    rows = []
    for b in batches:
        v = [ns_per_item(res.get(n, batch=b)) for _, n in names]
        table_ns, api_ns, ours_ns = v[0], v[1], v[2]
        api = api_ns - table_ns if api_ns is not None and table_ns is not None else None
        hand = ours_ns - api_ns if ours_ns is not None and api_ns is not None else None
        ring = v[5] - v[4] if v[5] is not None and v[4] is not None else None
        rows.append([b] + [fmt_ns(x) for x in v] +
                    [fmt_ns(api), fmt_ns(hand), fmt_ns(ring)])
    out.append(table(["batch"] + [l for l, _ in names] +
                     ["API's share", "our hand-off's share", "ring hand-off's share"], rows) + "\n")


def section_mix(res, out, mix_rows):
    out.append("## Outcome mix and memory per canceled request\n")
    out.append("canceled: the cancel won. too late: the request was being processed (glibc "
               "EAI_NOTCANCELED, libuv UV_EBUSY — libuv does not tell running from finished —, "
               "ours WSAEALREADY with the slot COMPLETING). already done: it had finished (glibc "
               "EAI_ALLDONE, ours WSAEALREADY with the message queued). Memory: heap and RSS growth "
               "over the final run divided by the cancels that won.\n")
    rows = []
    for label, name in OUR_VARIANTS + PEERS:
        for b in (1, 64, 1024):
            e = res.get(name, batch=b)
            if e is None:
                continue
            rows.append([label, b, fmt_frac(e.get("canceled")), fmt_frac(e.get("too_late")),
                         fmt_frac(e.get("already_done")), fmt_bytes(e.get("heap_B_per_cancel")),
                         fmt_bytes(e.get("rss_B_per_cancel")),
                         f"{int(e['table_slots']):,}" if "table_slots" in e else "",
                         f"{e['would_block_per_pair']:.4f}" if "would_block_per_pair" in e else ""])
            mix_rows.append((f"{label} batch {b}", e.get("canceled"), e.get("too_late"),
                             e.get("already_done")))
    out.append(table(["implementation", "batch", "canceled", "too late", "already done",
                      "heap B / cancel", "RSS B / cancel", "our table's slots",
                      "WSAEWOULDBLOCK retries / pair"], rows) + "\n")


def section_load(res, out, mix_rows):
    out.append("## Cancel under load (threads)\n")
    out.append("Threads 2k and 2k+1 are a starter and a canceler joined by a 16-deep ring; the "
               "canceler cancels every handle, the resolver completes whatever it reaches first "
               "(numeric names). The baseline's starter commits each request 4 starts later "
               "in place of a resolver. Pairs per second over all threads (wall clock).\n")
    rows = []
    series = {"ours": [], "mutex map": []}
    for t in (2, 4):
        ours = res.get("BM_WsafCancel_UnderLoad", threads=t)
        base = res.get("BM_BaselineMutexMap_UnderLoad", threads=t)
        for label, e in (("ours", ours), ("mutex map", base)):
            if e is None:
                continue
            won, lost = e.get("won", 0), e.get("lost", 0)
            rows.append([label, t, fmt_rate(e.get("items_per_second")),
                         f"{int(won):,}", f"{int(lost):,}",
                         fmt_frac(won / (won + lost) if won + lost else None),
                         fmt_frac(e.get("too_late")), fmt_frac(e.get("already_done"))])
            series[label].append((t, e.get("items_per_second")))
            mix_rows.append((f"{label} under load, {t} threads", e.get("canceled"),
                             e.get("too_late"), e.get("already_done")))
    out.append(table(["implementation", "threads", "pairs/s", "cancels won", "cancels lost",
                      "won", "too late", "already done"], rows) + "\n")
    out.append("![pairs per second against threads](threads.svg)\n")
    return series


def section_occupancy(res, out):
    out.append("## Cancel cost against occupancy\n")
    out.append("A start+cancel pair on top of N − 1 requests already outstanding. "
               "`Occupancy` holds them QUEUED (completed into windows nobody pumps, 10,000 a "
               "window): the table holds every slot, c-ares none — this is the table's "
               "occupancy. `OccupancyPending` holds them PENDING in c-ares (queries to an "
               "embedded server in drop mode, 60 s timeout), capped at 50,000 because c-ares "
               "1.18's cost to start a query grows with the queries it holds.\n")
    rows = []
    series = []
    verdicts = []
    for label, name in (("queued", "BM_WsafCancel_Occupancy"),
                        ("pending in c-ares", "BM_WsafCancel_OccupancyPending")):
        pts = []
        for p, e in sorted(res.values(name), key=lambda pe: int(pe[0]["outstanding"])):
            n = int(p["outstanding"])
            pts.append((n, ns_per_item(e), cpu_ns_per_item(e)))
            rows.append([label, f"{n:,}", fmt_ns(ns_per_item(e)) +
                         fmt_cv(res.cv(name, outstanding=n)), fmt_ns(cpu_ns_per_item(e)),
                         fmt_frac(e.get("canceled")), f"{int(e.get('table_slots', 0)):,}",
                         f"{e.get('would_block_per_pair', 0):.4f}"])
        if pts:
            series.append((label, [(n, r) for n, r, _ in pts]))
            first, last = pts[0], pts[-1]
            verdicts.append((label, last[0], ratio(last[1], first[1]), ratio(last[2], first[2])))
    out.append("The table is capped at N + 65,536 slots (whole chunks) during the pairs, so that "
               "they price the cancel path rather than the resolver's backlog; a start that finds "
               "the table full yields and retries (last column).\n")
    out.append(table(["held as", "outstanding", "ns / pair (wall)", "ns / pair (CPU)", "canceled",
                      "table slots", "WSAEWOULDBLOCK retries / pair"], rows) + "\n")
    for label, n, r_wall, r_cpu in verdicts:
        out.append(f"- {label}: cost at {n:,} outstanding is {fmt_ratio(r_wall)} the cost at 1 "
                   f"(wall), {fmt_ratio(r_cpu)} (CPU).\n")
    out.append("\n![ns per pair against outstanding requests](occupancy.svg)\n")
    return series, verdicts


def section_dispatch(res, out):
    out.append("## Dispatch: messages through a window\n")
    rows = []
    for b in (1, 64, 1024):
        ours = res.get("BM_Window_PostPeek", batch=b)
        base = res.get("BM_BaselineMutexDeque_PostPeek", batch=b)
        rows.append([b, fmt_rate(ours and ours.get("items_per_second")),
                     fmt_rate(base and base.get("items_per_second")),
                     fmt_ratio(ratio(ns_per_item(ours), ns_per_item(base)))])
    out.append("PostMessage then PeekMessage(PM_REMOVE), one thread, `batch` posted before the "
               "first peek; baseline: a std::mutex + std::deque + condition variable.\n")
    out.append(table(["batch", "ours (msgs/s)", "mutex deque (msgs/s)", "ours / baseline (time)"],
                     rows) + "\n")
    cross = res.get("BM_Window_PostGetMessage", threads=2)
    if cross:
        out.append(f"One thread posting, another in GetMessage: "
                   f"{fmt_rate(cross.get('items_per_second'))} messages.\n")


def section_e2e(res, out):
    out.append("## End to end against the embedded DNS server\n")
    out.append("`host1.test` from the embedded server on 127.0.0.1, 32 lookups in flight. Ours: "
               "through the API and a window; raw c-ares: one channel driven by poll() in the "
               "benchmark thread, lookups \"b\" (DNS only: the floor) and \"fb\" (the hosts file "
               "first, as our resolver's channel is configured).\n")
    floor = res.get("BM_RawCares_Lookups")
    rows = []
    for label, e in (("ours, 0% canceled", res.get("BM_EndToEnd_Lookups", cancel_pct=0)),
                     ("ours, 10% canceled", res.get("BM_EndToEnd_Lookups", cancel_pct=10)),
                     ("raw c-ares, lookups \"b\" (floor)", floor),
                     ("raw c-ares, lookups \"fb\"", res.get("BM_RawCares_LookupsHostsFirst"))):
        if e is None:
            continue
        rows.append([label, fmt_rate(e.get("items_per_second")),
                     fmt_ratio(ratio(floor and floor.get("items_per_second"),
                                     e.get("items_per_second"))),
                     fmt_frac(e.get("canceled")) if "canceled" in e else "",
                     f"{int(e.get('errors', 0))}"])
    out.append(table(["", "lookups/s", "floor / this (time)", "cancels won", "errors"], rows) +
               "\n")


def section_memory(res, out):
    out.append("## Memory\n")
    rows = []
    for p, e in res.values("BM_WsafMemory_Outstanding"):
        held = "pending in c-ares" if p.get("pending") == "1" else "queued in windows"
        rows.append([held, f"{int(p['outstanding']):,}", fmt_bytes(e.get("table_B_per_slot")),
                     fmt_bytes(e.get("total_B_per_outstanding")),
                     fmt_bytes(e.get("rss_B_per_outstanding"))])
    if rows:
        out.append("Bytes per outstanding request: the table slot (measured on a fresh table as "
                   "one chunk's heap growth / its slots), and everything together (slot + c-ares "
                   "query or queued message).\n")
        out.append(table(["held as", "requests", "table slot", "total heap / request",
                          "RSS growth / request"], rows) + "\n")
    rows = []
    for p, e in sorted(res.values("BM_WsafMemory_Canceled"),
                       key=lambda pe: int(pe[0]["canceled"])):
        rows.append([f"{int(p['canceled']):,}", fmt_bytes(e.get("heap_growth_B")),
                     fmt_bytes(e.get("rss_growth_B")), fmt_bytes(e.get("heap_B_per_cancel")),
                     f"{int(e.get('table_slots_added', 0)):,}"])
    if rows:
        out.append("Growth after N start+cancel pairs (after a 100,000-pair warm-up, once the "
                   "resolver caught up):\n")
        out.append(table(["canceled", "heap growth", "RSS growth", "heap / cancel",
                          "table slots added"], rows) + "\n")


def section_targets(res, out, occupancy_verdicts):
    out.append("## Targets (issue 13)\n")
    rows = []

    def add(text, case, r, ok):
        if r is None:
            rows.append([text, case, "not measured", "?"])
        else:
            rows.append([text, case, fmt_ratio(r), "met" if ok(r) else "**missed**"])

    for b in (1, 64, 1024):
        ours = ns_per_item(res.get(OURS, batch=b))
        glibc = ns_per_item(res.get("BM_GlibcGaiStartCancel_Pair", batch=b))
        mutex = ns_per_item(res.get("BM_BaselineMutexMap_Pair", batch=b))
        floor = ns_per_item(res.get("BM_FloorLockfreeSlot_Pair", batch=b))
        want_glibc = 3.0 if b == 1 else 10.0
        add(f">= {want_glibc:g}x faster than glibc (glibc / ours)", f"pair, batch {b}",
            ratio(glibc, ours), lambda r, w=want_glibc: r >= w)
        want_mutex = 2.0 if b == 1 else 1.0
        add(f"ours / mutex map <= {want_mutex:g}", f"pair, batch {b}", ratio(ours, mutex),
            lambda r, w=want_mutex: r <= w)
        if b != 1:
            add("ours / floor <= 5", f"pair, batch {b}", ratio(ours, floor), lambda r: r <= 5.0)
    rates = {}
    for t in (2, 4):
        ours = res.get("BM_WsafCancel_UnderLoad", threads=t)
        base = res.get("BM_BaselineMutexMap_UnderLoad", threads=t)
        rates[t] = ours and ours.get("items_per_second")
        add(">= 2x the mutex map's pairs/s (ours / mutex map)", f"under load, {t} threads",
            ratio(rates[t], base and base.get("items_per_second")), lambda r: r >= 2.0)
    add("4 threads >= 2 threads (ours, pairs/s 4 / 2)", "under load", ratio(rates[4], rates[2]),
        lambda r: r >= 1.0)
    e2e = res.get("BM_EndToEnd_Lookups", cancel_pct=0)
    fb = res.get("BM_RawCares_LookupsHostsFirst")
    add("end to end within 1.2x of raw c-ares \"fb\" (time: ours / raw)", "32 lookups in flight",
        ratio(fb and fb.get("items_per_second"), e2e and e2e.get("items_per_second")),
        lambda r: r <= 1.2)
    canceled = sorted(res.values("BM_WsafMemory_Canceled"),
                      key=lambda pe: int(pe[0]["canceled"]))
    if canceled:
        p, e = canceled[-1]
        per = e.get("heap_B_per_cancel", 0)
        rows.append(["zero growth per canceled request", f"{int(p['canceled']):,} cancels",
                     fmt_bytes(per), "met" if abs(per) < 1 else "**missed**"])
    bursts = sorted(res.values("BM_WsafMemory_Burst"), key=lambda pe: int(pe[0].get("outstanding", 0)))
    burst = bursts[-1][1] if bursts else None
    if burst and burst.get("rss_before_B"):
        r = burst["rss_after_B"] / burst["rss_before_B"]
        rows.append(["RSS after 1,000,000 outstanding drain <= 2x before",
                     f"burst of {int(burst.get('table_slots_peak', 0)):,} slots",
                     f"{fmt_bytes(burst['rss_before_B'])} before, {fmt_bytes(burst['rss_peak_B'])} peak, "
                     f"{fmt_bytes(burst['rss_after_B'])} after ({fmt_ratio(r)})",
                     "met" if r <= 2.0 else "**missed**"])
    else:
        rows.append(["RSS after 1,000,000 outstanding drain <= 2x before", "burst", "not measured", "?"])
    for label, n, r_wall, r_cpu in occupancy_verdicts:
        if r_wall is None:
            continue
        ok = r_wall <= FLAT_LIMIT
        rows.append([f"flat cost to {n:,} outstanding ({label}; issue 6)", f"≤ {FLAT_LIMIT}× of 1",
                     f"{fmt_ratio(r_wall)} wall, {fmt_ratio(r_cpu)} CPU",
                     "met" if ok else "**missed**"])
    out.append(table(["target", "case", "measured", "verdict"], rows) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="+")
    ap.add_argument("out_dir")
    ap.add_argument("--merged", help="write the merged results here")
    ap.add_argument("--note", default="", help="a line about the run (load, options)")
    ap.add_argument("--command", default="", help="the command that produced the results")
    args = ap.parse_args()
    data = merge(args.results)
    os.makedirs(args.out_dir, exist_ok=True)
    if args.merged:
        with open(args.merged, "w") as f:
            json.dump(data, f, indent=1)
    res = Results(data)
    ctx = res.context

    out = ["# wsafault benchmarks: latest run\n"]
    out.append("Generated by `scripts/bench` (bench/report.py); raw medians in "
               "[latest.json](latest.json), console output in [latest.log](latest.log). Every "
               "number comes from one invocation of one binary per group of benchmarks (ours and "
               "its peers side by side in the same process), so the ratios compare like with "
               "like; absolute times drift on shared machines.\n")
    cpu = f"{ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz"
    loads = ctx.get("load_avg_per_process") or [ctx.get("load_avg", [])]
    load = "; ".join(", ".join(f"{x:.2f}" for x in la) for la in loads)
    out.append(table(["", ""], [
        ["date", ctx.get("date", "?")], ["host", f"{ctx.get('host_name', '?')}, {cpu}"],
        ["load average (1, 5, 15 min) at the start of each process", load or "?"],
        ["c-ares / glibc / libuv", f"{ctx.get('c-ares', '?')} / {ctx.get('glibc', '?')} / "
                                   f"{ctx.get('libuv', '?')}"],
        ["wsafault build measured", ctx.get("wsafault_build", "? (a binary from before issue 13)")],
        ["Google Benchmark library build", ctx.get("library_build_type", "?")],
        ["command", f"`{args.command}`" if args.command else "?"],
        ["note", args.note or ""]]) + "\n")
    if os.path.exists(os.path.join(args.out_dir, "analysis.md")):
        out.append("What limits us where we miss a target, the profiles behind it, and the library "
                   "bugs the suite ran into: [analysis.md](analysis.md) (written by hand, not "
                   "regenerated).\n")
    if res.errors:
        out.append("**Benchmarks that reported an error:**\n")
        for name, msg in res.errors:
            out.append(f"- `{name}`: {msg}")
        out.append("")

    body = []
    mix_rows = []
    section_pairs(res, body)
    section_mix(res, body, mix_rows)
    load_series = section_load(res, body, mix_rows)
    occ_series, occ_verdicts = section_occupancy(res, body)
    section_dispatch(res, body)
    section_e2e(res, body)
    section_memory(res, body)
    targets = []
    section_targets(res, targets, occ_verdicts)
    out.extend(targets)
    out.extend(body)

    # Plots.
    groups = ["batch 1", "batch 64", "batch 1024"]
    labels = [l for l, _ in OUR_VARIANTS + PEERS]
    values = [[ns_per_item(res.get(n, batch=b)) for _, n in OUR_VARIANTS + PEERS]
              for b in (1, 64, 1024)]
    made = []
    if plot_grouped_bars(os.path.join(args.out_dir, "pairs.svg"),
                         "Start + cancel pair (wall clock, log scale)", "ns per pair", groups,
                         labels, values, yfmt=lambda v: fmt_ns(v)):
        made.append("pairs.svg")
    if plot_lines(os.path.join(args.out_dir, "occupancy.svg"),
                  "Pair cost against outstanding requests", "outstanding requests (log)",
                  "ns per pair (wall)", occ_series, xlog=True, xfmt=lambda x: f"{x:,}",
                  yfmt=lambda v: f"{v:.0f}"):
        made.append("occupancy.svg")
    if plot_lines(os.path.join(args.out_dir, "threads.svg"), "Pairs per second against threads",
                  "threads (starter + canceler pairs)", "pairs per second",
                  [(k, v) for k, v in load_series.items()],
                  yfmt=lambda v: fmt_rate(v).replace("/s", "")):
        made.append("threads.svg")
    if plot_stacked_mix(os.path.join(args.out_dir, "outcomes.svg"), "Outcome of each cancel",
                        mix_rows):
        made.append("outcomes.svg")
    out.append("## Plots\n")
    for m in made:
        out.append(f"- [{m}]({m})")
    out.append("")
    if "outcomes.svg" in made:
        out.append("![outcome mix](outcomes.svg)\n")

    path = os.path.join(args.out_dir, "latest.md")
    with open(path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")
    print(f"wrote {path} and {', '.join(made) or 'no plots'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
