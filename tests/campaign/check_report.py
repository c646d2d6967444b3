#!/usr/bin/env python3
"""The campaign's report, opened in a real browser.

Runs a short `wsafault campaign` against a planted bug, then loads report.html in headless
Chromium with every network path closed (a dead proxy, a resolver that maps every name to
NOTFOUND, background networking off) and dumps the DOM as it stands after the page's script
ran. Asserts on that DOM, not on the file: the figures table and the stage chart, the coverage
matrix with the cell count the page script computed, and a failure with its invariant, shrunk
tape, replay command and timeline picture (an SVG with one lane per thread).

Exit status: 0 pass, 1 fail, 77 skipped (no chromium; ctest SKIP_RETURN_CODE).
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class Dom(html.parser.HTMLParser):
    """A minimal element tree: enough to ask for ids, classes, descendants and text."""

    VOID = {"br", "hr", "img", "input", "meta", "link", "col", "area", "base", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes = []  # (tag, attrs, parent index)
        self.text = []   # text per node (own text only)
        self.stack = []

    def handle_starttag(self, tag, attrs):
        parent = self.stack[-1] if self.stack else -1
        self.nodes.append((tag, dict(attrs), parent))
        self.text.append("")
        if tag not in self.VOID:
            self.stack.append(len(self.nodes) - 1)

    def handle_startendtag(self, tag, attrs):
        parent = self.stack[-1] if self.stack else -1
        self.nodes.append((tag, dict(attrs), parent))
        self.text.append("")

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.nodes[self.stack[i]][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.stack:
            self.text[self.stack[-1]] += data

    def by_id(self, ident):
        for i, (_, attrs, _) in enumerate(self.nodes):
            if attrs.get("id") == ident:
                return i
        return None

    def classes(self, i):
        return (self.nodes[i][1].get("class") or "").split()

    def inside(self, i, ancestor):
        while i >= 0:
            if i == ancestor:
                return True
            i = self.nodes[i][2]
        return False

    def find(self, tag=None, cls=None, within=None):
        out = []
        for i, (t, _, _) in enumerate(self.nodes):
            if tag is not None and t != tag:
                continue
            if cls is not None and cls not in self.classes(i):
                continue
            if within is not None and (i == within or not self.inside(i, within)):
                continue
            out.append(i)
        return out

    def all_text(self, i):
        return self.text[i] + "".join(self.text[j] for j in range(i + 1, len(self.nodes)) if self.inside(j, i))


def find_chromium():
    env = os.environ.get("WSAFAULT_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    for path in BROWSERS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def run_campaign(args):
    os.makedirs(args.out, exist_ok=True)
    report = os.path.join(args.out, "report.html")
    cmd = [args.wsafault, "campaign", "--time", str(args.time), "--mutant", args.mutant, "--seed", "1",
           "--plain", "--report", report, "--source-dir", args.source_dir]
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=args.time + 90)
    print(proc.stdout[-4000:])
    if proc.returncode != 1:
        raise AssertionError(f"campaign against {args.mutant} exited {proc.returncode}, wanted 1 (violation found)")
    return report


def dump_dom(browser, report):
    profile = tempfile.mkdtemp(prefix="wsafault-chromium-")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-default-apps", "--disable-extensions", "--proxy-server=http://127.0.0.1:9",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + profile,
           "--dump-dom", "file://" + os.path.abspath(report)]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=90)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0 or "<html" not in proc.stdout:
        raise AssertionError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout


def check(dom, data, raw):
    def need(cond, what):
        if not cond:
            raise AssertionError(what)
        print("ok   " + what)

    body = dom.find("body")
    need(body and dom.nodes[body[0]][1].get("data-rendered") == "yes", "the page script ran (body data-rendered)")
    # Figures.
    figures = dom.by_id("figures")
    need(figures is not None, "the figures table is there")
    rows = dom.find("tr", "stage", within=figures)
    need(len(rows) == len(data["stages"]) and len(rows) >= 2, f"one figures row per stage ({len(rows)})")
    need(dom.by_id("stage-sim-random") is not None, "the sim random stage has its row")
    chart = dom.by_id("stage-chart")
    need(chart is not None and dom.find("rect", "stage-bar", within=chart), "the stage chart drew bars")
    # Coverage against time: a line per simulation stage that ran, ending at its stage's figure.
    sim_ran = [s for s in data["stages"] if s["coverage_series"]]
    cchart = dom.by_id("coverage-chart")
    lines = dom.find("polyline", "coverage-line", within=cchart) if cchart is not None else []
    need(sim_ran and len(lines) == len(sim_ran), f"one coverage line per simulation stage ({len(lines)} of {len(sim_ran)})")
    for s in sim_ran:
        cells = [c for _, c in s["coverage_series"]]
        need(cells == sorted(cells), f"{s['id']}: its coverage never falls: {cells[:20]}")
    # Coverage matrix.
    cov = data["coverage"]
    cells = dom.find("td", "cell")
    total = cov["call_cells_total"] + cov["transitions_total"] + cov["message_errors_total"]
    need(len(cells) == total, f"every coverage cell is in the page ({len(cells)} of {total})")
    hits = dom.find("td", "hit")
    need(len(hits) == cov["call_cells_hit"] + cov["transitions_hit"] + cov["message_errors_hit"] and hits,
         f"hit cells match report.json ({len(hits)})")
    summary = dom.by_id("cov-js-summary")
    need(summary is not None and re.match(rf"{len(hits)} of {total} ", dom.all_text(summary)),
         "the page script counted the cells: " + (dom.all_text(summary) if summary is not None else "-"))
    for ident in ("cov-call-WSACancelAsyncRequest", "cov-call-WSAAsyncGetXByY", "cov-transitions",
                  "cov-message-errors"):
        need(dom.by_id(ident) is not None, f"matrix {ident} rendered")
    # Every failure has a section, its invariant and a replay command; which stage finds the bug first
    # depends on the machine (stress+ASan often wins on a busy one), so the tape and the timeline are
    # checked on the first failure that has a tape (a simulation's).
    need(data["failures"], "report.json lists the failure")
    for n, f in enumerate(data["failures"], 1):
        sec = dom.by_id(f"failure-{n}")
        need(sec is not None, f"failure {n} has its section")
        if sec is None:
            continue
        inv = dom.find("td", "invariant", within=sec)
        need(inv and dom.all_text(inv[0]).strip() == f["invariant"],
             f"failure {n} names the invariant broken: " + (dom.all_text(inv[0]) if inv else "-"))
        replay = dom.by_id(f"failure-{n}-replay")
        text = dom.all_text(replay).strip() if replay is not None else ""
        need(text and text == f["replay"].strip(),
             f"failure {n} gives its replay command: {text[:90] or '-'}")
    sims = [n for n, f in enumerate(data["failures"], 1) if f["tape_bytes"]]
    need(sims, "a simulation failure with a tape is listed")
    n = sims[0] if sims else 1
    replay = dom.by_id(f"failure-{n}-replay")
    need(replay is not None and " replay " in dom.all_text(replay),
         f"failure {n} (a simulation's) replays its tape with `wsafault replay`")
    tape = dom.by_id(f"failure-{n}-tape")
    need(tape is not None and re.fullmatch(r"[0-9a-f]+", dom.all_text(tape).strip()), "it shows the shrunk tape in hex")
    timeline = dom.by_id(f"failure-{n}-timeline")
    need(timeline is not None, "it has a timeline picture")
    svgs = dom.find("svg", within=timeline) if timeline is not None else []
    need(svgs, "the timeline is an inline SVG")
    lanes = dom.find("g", "lanes", within=svgs[0]) if svgs else []
    lane_rects = dom.find("rect", within=lanes[0]) if lanes else []
    need(len(lane_rects) >= 2, f"the timeline has lanes ({len(lane_rects)})")
    need(svgs and (dom.find(None, "violation-line", within=svgs[0]) or dom.find(None, "violation-mark", within=svgs[0])),
         "the violating step is marked")
    # Self-contained: the only URL is the SVG namespace.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", raw)) - {"http://www.w3.org/2000/svg"}
    need(not urls and "<link" not in raw and "@import" not in raw, f"no external reference ({sorted(urls)[:3]})")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wsafault", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--time", type=int, default=20)
    p.add_argument("--mutant", default="never-already")
    args = p.parse_args()
    browser = find_chromium()
    if browser is None:
        print("SKIP: no chromium (Debian package `chromium`: apt-get install chromium); the report was not "
              "checked in a browser")
        return SKIP
    try:
        report = run_campaign(args)
        with open(os.path.join(os.path.dirname(report), "report.json")) as f:
            data = json.load(f)
        with open(report) as f:
            raw = f.read()
        dom_text = dump_dom(browser, report)
        with open(os.path.join(args.out, "dom.html"), "w") as f:
            f.write(dom_text)
        dom = Dom()
        dom.feed(dom_text)
        check(dom, data, raw)
    except (AssertionError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        print(f"FAIL: {e}")
        return 1
    print(f"PASS: {report} renders in {browser}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
