#!/usr/bin/env python3
"""A crash in the code under test is a finding (issue 11).

WSAFAULT_TEST_CRASH_AT_RUN=N makes the simulation raise SIGSEGV after the 8th decision of run N
(core/cli/campaign_crash.h), standing for a segfault in the table. Checks:
  1. `wsafault sim` dies of the signal but first writes the crashing run's tape (current format)
     and prints CRASH with the replay command; `wsafault replay` accepts the tape (exit 0);
  2. the campaign reports the crash as a failure (exit 1) with its tape and replay command,
     skips the later simulation stages with the reason, and still writes its reports;
  3. the same commands without the variable are clean: the checks above are caused by it.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys


def run(cmd, crash_at=None):
    env = dict(os.environ)
    env.pop("WSAFAULT_TEST_CRASH_AT_RUN", None)
    if crash_at is not None:
        env["WSAFAULT_TEST_CRASH_AT_RUN"] = str(crash_at)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    return p.returncode, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wsafault", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    errors = []
    sim_out = os.path.join(a.out, "sim")
    sim = [a.wsafault, "sim", "--runs", "60", "--seed", "3", "--quiet", "--out", sim_out]
    rc, out = run(sim, crash_at=20)
    m = re.search(r"CRASH: SIGSEGV inside a simulated run; its tape \(the run up to the crash\): (\S+)\n"
                  r"replay: wsafault replay (\S+)", out)
    if rc != -signal.SIGSEGV or not m:
        errors.append("sim: expected death by SIGSEGV after a CRASH line (exit %d):\n%s" % (rc, out[-800:]))
    else:
        tape = m.group(1)
        text = open(tape).read() if os.path.exists(tape) else ""
        if not text.startswith("wsafault-tape 2\n") or not re.search(r"^tape [0-9a-f]{16,}$", text, re.M):
            errors.append("sim: the crash tape %s is missing or empty:\n%s" % (tape, text))
        rrc, rout = run([a.wsafault, "replay", tape])
        if rrc != 0:
            errors.append("sim: replaying the crash tape exited %d:\n%s" % (rrc, rout[-500:]))
    rc, out = run(sim)
    if rc != 0:
        errors.append("sim without the crash trigger exited %d:\n%s" % (rc, out[-500:]))

    camp_out = os.path.join(a.out, "campaign")
    camp = [a.wsafault, "campaign", "--seed", "5", "--runs-per-stage", "200", "--time", "30", "--no-fuzz",
            "--no-stress", "--plain", "--source-dir", a.source_dir, "--report", os.path.join(camp_out, "report.html")]
    rc, out = run(camp, crash_at=30)
    report = os.path.join(camp_out, "report.json")
    if rc != 1 or not os.path.exists(report):
        errors.append("campaign: expected exit 1 and a report after the crash (exit %d):\n%s" % (rc, out[-800:]))
    else:
        j = json.load(open(report))
        # The first in-process stage (POS) crashes; where the tsan build exists, the TSan lane's
        # child (same trigger) crashes too: each crash is a failure with its tape and replay.
        crashes = [f for f in j["failures"] if f["invariant"] == "crash (SIGSEGV)"]
        own = [f for f in crashes if f["stage"] == "sim-pos"]
        if len(own) != 1 or any(f["stage"] not in ("sim-pos", "sim-tsan") for f in crashes):
            errors.append("campaign: expected one crash of sim-pos (and at most the TSan lane's): %s"
                          % j["failures"])
        for f in crashes:
            if "replay" not in f["replay"] or not f["tape_hex"]:
                errors.append("campaign: crash of %s without tape or replay in report.json: %s" % (f["stage"], f))
            elif not os.path.exists(f["tape_path"]):
                errors.append("campaign: the crash tape %s was not written" % f["tape_path"])
        later = [s for s in j["stages"] if s["id"] in ("sim-random", "sim-pct")]
        if len(later) != 2 or any(s["state"] != "skipped" or "crashed" not in s["note"] for s in later):
            errors.append("campaign: the later sim stages were not skipped with the reason: %s" % later)
    rc, out = run(camp)
    if rc != 0:
        errors.append("campaign without the crash trigger exited %d:\n%s" % (rc, out[-800:]))
    if errors:
        sys.exit("\n".join(errors))
    print("sim and campaign: the crashing run's tape written, reported with its replay command; clean without")


if __name__ == "__main__":
    main()
