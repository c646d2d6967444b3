#!/usr/bin/env python3
"""Writes the peer probe's report (report.md, report.json, report.html) from wsafault-peer's
JSON lines, and with --expect-wine-defects checks that every Wine 8.0 defect of issue 12 is
still reported (the known-answer test: exit 1 naming what a blinded checker missed)."""
import argparse
import html
import json
import sys

# The defects issue 12 lists, and the case result that reports each.
WINE_DEFECTS = [
    ("cancel-stub", "WSACancelAsyncRequest returns 0 while the worker still writes the buffer and posts",
     "cancel-pending", ("violated",), "buffer was written"),
    ("sixteen-bit-handles", "handles are LOWORD of a counter and repeat",
     "handles-unique", ("violated",), "repeated"),
    ("delivery-after-cleanup", "messages keep coming after the last WSACleanup",
     "cleanup-cancels", ("violated",), "after the last WSACleanup"),
    ("never-already", "WSAEALREADY is never returned",
     "cancel-queued", ("violated",), "not WSAEALREADY"),
    ("null-name-crash", "a NULL name crashes it",
     "null-name", ("crashed",), "crashes on"),
]


# The known answer of the conformance suite under Wine 8.0 (checked when the suite ran): the
# test, the verdict it must keep, the defect it shows.
WINE_CONFORMANCE = [
    ("CancelTest.CancelQueuedFailsEAlreadyAndMessageStillDeliveredOnce", "fail", "WSAEALREADY never returned"),
    ("StartupTest.EverythingBeforeStartupFailsNotInitialised", "crashed", "a start before WSAStartup, NULL argument: crash"),
]


def load(path):
    cases, stress, conformance = [], [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"report.py: {path}:{n}: not JSON ({e})")
            if "conformance" in rec:
                conformance.append(rec)
            else:
                (stress if rec.get("stress") else cases).append(rec)
    return cases, stress, conformance


def conformance_counts(conformance):
    counts = {}
    for t in conformance:
        counts[t["verdict"]] = counts.get(t["verdict"], 0) + 1
    return counts


def conformance_md(conformance):
    if not conformance:
        return ["", "## Conformance suite (GoogleTest, tests/conformance)", "", "Not run."]
    counts = conformance_counts(conformance)
    L = ["", "## Conformance suite (GoogleTest, tests/conformance)", "",
         "The same suite that judges wsafault, built with mingw-w64 against the peer's ws2_32. A test that",
         "needs a control only wsafault has is skipped with the control named; a test of one of",
         "wsafault's Decisions (for example any thread pumping any window) that fails is a difference of",
         "model, not by itself a Winsock violation: read the message.", "",
         "Totals: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())), "",
         "| test | verdict | ms | message (failures: the gtest message) |", "|---|---|---|---|"]
    for t in conformance:
        msg = t.get("message", "").replace("|", "\\|").replace("\n", "<br>")
        if t["verdict"] == "pass":
            msg = ""
        L.append(f"| {t['conformance']} | **{t['verdict']}** | {t.get('ms', 0)} | {msg} |")
    return L


def defects(cases):
    by_case = {c["case"]: c for c in cases}
    out = []
    for key, text, case, verdicts, needle in WINE_DEFECTS:
        c = by_case.get(case)
        seen = bool(c and c["verdict"] in verdicts and needle in c["detail"])
        out.append({"defect": key, "text": text, "case": case, "reported": seen,
                    "detail": c["detail"] if c else "case not run",
                    "rerun": f"scripts/probe-peer wine --case {case}"})
    return out


def stress_rerun(s):
    return f"scripts/probe-peer wine --stress {s['seed']}:{s['threads']}:{s['ops']}"


def write_md(path, peer, seconds, cases, stress, found, conformance):
    L = [f"# Peer probe: {peer}", "",
         f"Probe time {seconds} s. Every DNS query went to wsafault's own server on 127.0.0.1:53 inside a",
         "private network namespace (peer/ns-run). A Decision of wsafault's that the peer does not share is",
         "\"differs from wsafault's choice\", not a violation.", "",
         "## Rules", "", "| case | rule (SPEC.md section) | verdict | what was seen | rerun |", "|---|---|---|---|---|"]
    for c in cases:
        L.append(f"| {c['case']} | {c['rule']} ({c['section']}) | **{c['verdict']}** | {c['detail']} | "
                 f"`scripts/probe-peer wine --case {c['case']}` |")
    L += ["", "## First violating request of each broken rule", ""]
    for c in cases:
        if c["verdict"] in ("violated", "crashed", "differs from wsafault's choice") and c["history"]:
            L.append(f"### {c['case']}: {c['detail']}")
            L.append("```")
            L += c["history"]
            L.append("```")
    L += ["", "## Stress (real threads, online checker)", "",
          "| seed | threads | ops/thread | ms | violations | first broken rule | rerun |", "|---|---|---|---|---|---|---|"]
    for s in stress:
        if "error" in s:
            L.append(f"| - | - | - | - | - | could not run: {s['error']} | |")
            continue
        L.append(f"| {s['seed']} | {s['threads']} | {s['ops']} | {s['ms']} | {s['violations']} | "
                 f"{s['first_rule'] or '-'} {s['first_detail']} | `{stress_rerun(s)}` |")
    for s in stress:
        if s.get("history"):
            L += ["", f"Stress seed {s['seed']}, {s['threads']} threads, first violation ({s['first_rule']}):", "```"]
            L += s["history"]
            L.append("```")
            break
    if stress and "rules" in stress[0]:
        L += ["", "| stress rule | checked | violations |", "|---|---|---|"]
        totals = {}
        for s in stress:
            for r in s.get("rules", []):
                t = totals.setdefault(r["rule"], [0, 0])
                t[0] += r["checked"]
                t[1] += r["violations"]
        for rule, (checked, bad) in totals.items():
            L.append(f"| {rule} | {checked} | {bad} |")
    L += conformance_md(conformance)
    L += ["", "## Wine 8.0 defects named in issue 12", "", "| defect | reported | case | seen |", "|---|---|---|---|"]
    for d in found:
        L.append(f"| {d['text']} | {'yes' if d['reported'] else '**NO**'} | {d['case']} | {d['detail']} |")
    L += ["", "## What the peer does right", ""]
    for c in cases:
        if c["verdict"] == "held":
            L.append(f"- {c['rule']}: {c['detail']}")
    skipped = [c for c in cases if c["verdict"] == "skipped"]
    if skipped:
        L += ["", "## Not judged", ""]
        L += [f"- {c['case']}: {c['detail']}" for c in skipped]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


def write_html(path, peer, seconds, cases, stress, found, conformance):
    e = html.escape
    rows = "".join(
        f"<tr class='{e(c['verdict'].split()[0])}'><td>{e(c['case'])}</td><td>{e(c['rule'])}</td>"
        f"<td>{e(c['verdict'])}</td><td>{e(c['detail'])}<pre>{e(chr(10).join(c['history']))}</pre></td>"
        f"<td><code>scripts/probe-peer wine --case {e(c['case'])}</code></td></tr>" for c in cases)
    srows = "".join(
        f"<tr><td>{s.get('seed')}</td><td>{s.get('threads')}</td><td>{s.get('ops')}</td><td>{s.get('violations')}</td>"
        f"<td>{e(str(s.get('first_rule', '')))} {e(str(s.get('first_detail', s.get('error', ''))))}</td></tr>"
        for s in stress)
    crows = "".join(
        f"<tr class='{e(t['verdict'].split()[0])}'><td>{e(t['conformance'])}</td><td>{e(t['verdict'])}</td>"
        f"<td>{t.get('ms', 0)}</td><td><pre>{e('' if t['verdict'] == 'pass' else t.get('message', ''))}</pre></td></tr>"
        for t in conformance)
    ctotal = e(", ".join(f"{n} {v}" for v, n in sorted(conformance_counts(conformance).items())) or "not run")
    drows = "".join(f"<tr><td>{e(d['text'])}</td><td>{'yes' if d['reported'] else 'NO'}</td>"
                    f"<td>{e(d['detail'])}</td></tr>" for d in found)
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>Peer probe: {e(peer)}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}
table{{border-collapse:collapse}}.violated,.crashed{{background:#fdd}}.held{{background:#dfd}}
.differs,.skip{{background:#ffd}}.fail,.timed{{background:#fdd}}.pass{{background:#dfd}}pre{{font-size:85%;margin:0}}</style></head><body>
<h1>Peer probe: {e(peer)}</h1><p>Probe time {seconds} s; DNS only from our server on 127.0.0.1:53 in a private namespace.</p>
<h2>Rules</h2><table><tr><th>case</th><th>rule</th><th>verdict</th><th>seen</th><th>rerun</th></tr>{rows}</table>
<h2>Stress</h2><table><tr><th>seed</th><th>threads</th><th>ops</th><th>violations</th><th>first</th></tr>{srows}</table>
<h2>Conformance suite (GoogleTest)</h2><p>{ctotal}</p>
<table><tr><th>test</th><th>verdict</th><th>ms</th><th>message</th></tr>{crows}</table>
<h2>Wine 8.0 defects of issue 12</h2><table><tr><th>defect</th><th>reported</th><th>seen</th></tr>{drows}</table>
</body></html>"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--peer", default="peer")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--expect-wine-defects", action="store_true")
    a = ap.parse_args()
    cases, stress, conformance = load(a.results)
    if not cases:
        sys.exit("report.py: no case results in " + a.results)
    found = defects(cases)
    report = {"peer": a.peer, "seconds": a.seconds, "cases": cases, "stress": stress,
              "wine_defects": found, "conformance": conformance,
              "conformance_totals": conformance_counts(conformance),
              "held": [c["case"] for c in cases if c["verdict"] == "held"]}
    with open(f"{a.out}/report.json", "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    write_md(f"{a.out}/report.md", a.peer, a.seconds, cases, stress, found, conformance)
    write_html(f"{a.out}/report.html", a.peer, a.seconds, cases, stress, found, conformance)
    if a.expect_wine_defects:
        missing = [d for d in found if not d["reported"]]
        for d in missing:
            print(f"report.py: NOT REPORTED: {d['text']} ({d['case']}: {d['detail']})", file=sys.stderr)
        for d in found:
            if d["reported"]:
                print(f"reported: {d['text']} ({d['case']}: {d['detail']})")
        if conformance:
            by_test = {t["conformance"]: t for t in conformance}
            for test, verdict, text in WINE_CONFORMANCE:
                t = by_test.get(test)
                if t is None:
                    continue  # not selected by this run's filter
                if t["verdict"] != verdict:
                    print(f"report.py: NOT REPORTED by the conformance suite: {text} ({test} is "
                          f"{t['verdict']}, not {verdict})", file=sys.stderr)
                    missing.append(test)
                else:
                    print(f"reported by the conformance suite: {text} ({test}: {verdict})")
        return 1 if missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
