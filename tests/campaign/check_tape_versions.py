#!/usr/bin/env python3
"""Versioned tapes (issue 14): every stored tape is current, stale ones are refused plainly.

"Stored tape" means a tape file with a header (`wsafault-tape N`): everything under corpus/sim/.
The fuzz corpora (corpus/*_fuzzer*/) are raw libFuzzer inputs with no header; they are seeds,
re-interpreted by design whenever the code changes, and their pinned crashes are checked by
replaying them (fuzz-replay ctests), not by a version.

Checks, each able to fail:
  1. every corpus/sim/**/*.tape is in the current format, names its scenario's version and the
     commit, and `wsafault replay` accepts it (exit 0 or 1, never 2);
  2. the same tape rewritten in the old format (no scenario version) exits 2 saying why;
  3. the same tape claiming another scenario version exits 2 with "recorded with scenario vN"
     and "this build runs vM".
"""
import argparse
import glob
import os
import re
import subprocess
import sys


def replay(wsafault, path):
    p = subprocess.run([wsafault, "replay", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wsafault", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tapes = sorted(glob.glob(os.path.join(args.source_dir, "corpus/sim/**/*.tape"), recursive=True))
    if not tapes:
        sys.exit("no stored tapes under corpus/sim/")
    errors = []
    for t in tapes:
        text = open(t).read()
        lines = text.split("\n")
        if lines[0] != "wsafault-tape 2":
            errors.append("%s: header %r, not the current format" % (t, lines[0]))
            continue
        if not any(re.fullmatch(r"scenario-version \d+", l) for l in lines):
            errors.append("%s: no scenario-version line" % t)
        if not any(re.fullmatch(r"commit [0-9a-f]{7,40}", l) for l in lines):
            errors.append("%s: no commit line" % t)
        rc, out = replay(args.wsafault, t)
        if rc == 2:
            errors.append("%s: replay refused it: %s" % (t, out.strip()[-300:]))
    sample = open(tapes[0]).read()
    old = os.path.join(args.out, "old-format.tape")
    with open(old, "w") as f:
        f.write("\n".join(l for l in sample.replace("wsafault-tape 2", "wsafault-tape 1", 1).split("\n")
                          if not l.startswith(("scenario-version ", "commit "))))
    rc, out = replay(args.wsafault, old)
    if rc != 2 or "older or unknown format" not in out:
        errors.append("an old-format tape was not refused with its reason (exit %d): %s" % (rc, out[-300:]))
    current = int(re.search(r"^scenario-version (\d+)$", sample, re.M).group(1))
    stale = os.path.join(args.out, "stale-scenario.tape")
    with open(stale, "w") as f:
        f.write(re.sub(r"^scenario-version \d+$", "scenario-version %d" % (current + 2), sample, flags=re.M))
    rc, out = replay(args.wsafault, stale)
    want = ["recorded with scenario v%d" % (current + 2), "this build runs v%d" % current]
    if rc != 2 or not all(w in out for w in want):
        errors.append("a tape of another scenario version was not refused plainly (exit %d): %s" % (rc, out[-300:]))
    if errors:
        sys.exit("\n".join(errors))
    print("%d stored tapes current; old format and stale scenario version refused with exit 2" % len(tapes))


if __name__ == "__main__":
    main()
