#!/usr/bin/env python3
"""A planted crash in the table (decode-unchecked: handle decoding without its bounds check) is a
finding of the simulation, and its tape replays the crash exactly (issue 11).

  check_crash_mutant.py --wsafault BIN --out DIR [--tape FILE]...

1. `wsafault sim --mutant decode-unchecked` dies of the crash (SIGSEGV; under ASan its report
   and exit status), after printing CRASH with the tape it wrote and the replay command;
2. `wsafault replay` of that tape, and of every stored crash tape (--tape), dies the same way and
   says so (CRASH during the replay), instead of dying silently;
3. the unmutated table replays the same tape with mutant none cleanly (no crash, no violation): the crash is the
   planted bug's.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def run(cmd):
    env = dict(os.environ)
    env.pop("WSAFAULT_TEST_CRASH_AT_RUN", None)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=240)
    return p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wsafault", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tape", action="append", default=[])
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    errors = []
    rc, out = run([a.wsafault, "sim", "--mutant", "decode-unchecked", "--time", "60", "--seed", "1", "--quiet",
                   "--out", a.out])
    # "CRASH: SIGSEGV inside ..." or, where UBSan sees the null chunk first, "CRASH: a sanitizer
    # report inside ...".
    m = re.search(r"CRASH: (.+?) inside a simulated run; its tape \(the run up to the crash\): (\S+)\n"
                  r"replay: wsafault replay (\S+)", out)
    tapes = list(a.tape)
    if rc == 0 or not m:
        errors.append("sim: expected a crash with its CRASH line (exit %d):\n%s" % (rc, out[-1500:]))
    else:
        tapes.insert(0, m.group(2))
    for tape in tapes:
        if not os.path.exists(tape):
            errors.append("no tape %s" % tape)
            continue
        rrc, rout = run([a.wsafault, "replay", tape])
        if rrc == 0 or "CRASH: " not in rout or "during the replay of " + tape not in rout:
            errors.append("replay of %s: expected the crash again, reported (exit %d):\n%s" % (tape, rrc, rout[-1500:]))
        clean = os.path.join(a.out, "unmutated-" + os.path.basename(tape))
        with open(tape) as f:
            text = re.sub(r"^mutant \S+$", "mutant none", f.read(), flags=re.M)
        with open(clean, "w") as f:
            f.write(text)
        crc, cout = run([a.wsafault, "replay", clean])
        if crc != 0 or "CRASH" in cout:
            errors.append("replay of %s without the mutant was not clean (exit %d):\n%s" % (clean, crc, cout[-800:]))
    if errors:
        sys.exit("\n".join(errors))
    print("decode-unchecked: crash found, its tape written; %d crash tape(s) replay the crash and say so; "
          "clean without the mutant" % len(tapes))


if __name__ == "__main__":
    main()
