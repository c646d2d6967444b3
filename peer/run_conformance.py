#!/usr/bin/env python3
"""Runs the GoogleTest conformance suite (conformance_tests.exe) under a peer and writes one JSON
line per test: {"conformance": "Suite.Test", "verdict": "pass|fail|skip|crashed|timed out",
"ms": N, "message": "..."} (the gtest failure or skip message).

A crash or a hang of the peer is a finding, not the end of the run: the test that was running
is recorded (crashed, with the exception code, or timed out after --test-limit seconds) and the suite is started again
without it and without the tests already done. Bounded: at most --max-restarts restarts, each
run killed after --run-limit seconds, the whole after --time seconds (the tests not reached are
recorded "not run").

  run_conformance.py --exe conformance_tests.exe --out FILE [--wine WINE] [--time S]
                     [--run-limit S] [--test-limit S] [--filter PATTERN]
Exit 0 when the suite ran (whatever its verdicts), 2 when it could not start at all."""
import argparse
import json
import re
import subprocess
import sys
import threading
import time

RUN = re.compile(r"^\[ RUN      \] (\S+)")
END = re.compile(r"^\[ +(OK|FAILED|SKIPPED) +\] (\S+) \((\d+) ms\)")
CRASH = re.compile(r"^\[  CRASH   \] (.*)")


def list_tests(cmd, flt):
    out = subprocess.run(cmd + ["--gtest_list_tests", f"--gtest_filter={flt}"], capture_output=True,
                         text=True, errors="replace", timeout=120).stdout
    tests, suite = [], None
    for line in out.splitlines():
        if not line.strip() or line.startswith("Running main"):
            continue
        if not line.startswith(" "):
            suite = line.split("#")[0].strip()
        else:
            tests.append(suite + line.split("#")[0].strip())
    return tests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--wine", default="")
    ap.add_argument("--time", type=int, default=600)
    ap.add_argument("--run-limit", type=int, default=300)
    ap.add_argument("--test-limit", type=int, default=20)
    ap.add_argument("--max-restarts", type=int, default=20)
    ap.add_argument("--filter", default="*")
    a = ap.parse_args()
    cmd = ([a.wine] if a.wine else []) + [a.exe]
    try:
        tests = list_tests(cmd, a.filter)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"run_conformance.py: could not list the tests: {e}", file=sys.stderr)
        return 2
    if not tests:
        print("run_conformance.py: the suite lists no tests", file=sys.stderr)
        return 2
    results = {}
    deadline = time.time() + a.time
    restarts = 0
    while restarts <= a.max_restarts and time.time() < deadline:
        todo = [t for t in tests if t not in results]
        if not todo:
            break
        # Negative filter: everything of the selection not yet recorded.
        done = [t for t in tests if t in results]
        flt = a.filter + ("-" + ":".join(done) if done else "")
        limit = max(10, min(a.run_limit, int(deadline - time.time())))
        proc = subprocess.Popen(cmd + [f"--gtest_filter={flt}", "--gtest_color=no"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")
        current, lines = None, []
        timed_out = []  # set by the watchdog: a hung peer prints nothing more
        test_started = [time.time()]  # when the running test began (or the run, before one)
        stop = threading.Event()

        def watch(p=proc):
            # One test may take --test-limit seconds, the run --run-limit: a hung test is
            # killed and recorded, the rest of the suite goes on in the next run.
            run_started = time.time()
            while not stop.wait(0.5):
                now = time.time()
                if now - test_started[0] > a.test_limit or now - run_started > limit:
                    timed_out.append(now - test_started[0])
                    p.kill()
                    return
        watchdog = threading.Thread(target=watch, daemon=True)
        watchdog.start()
        try:
            for line in proc.stdout:
                line = line.rstrip("\n")
                m = RUN.match(line)
                if m:
                    current, lines = m.group(1), []
                    test_started[0] = time.time()
                    continue
                m = END.match(line)
                if m and m.group(2) == current:
                    verdict = {"OK": "pass", "FAILED": "fail", "SKIPPED": "skip"}[m.group(1)]
                    msg = "\n".join(l for l in lines if l.strip())
                    results[current] = {"conformance": current, "verdict": verdict,
                                        "ms": int(m.group(3)), "message": msg[-2000:]}
                    current = None
                    continue
                m = CRASH.match(line)
                if m and current:
                    results[current] = {"conformance": current, "verdict": "crashed", "ms": 0,
                                        "message": "the peer crashed: " + m.group(1) + "\n" +
                                                   "\n".join(lines)[-1500:]}
                    current = None
                    continue
                if current:
                    lines.append(line)
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if current and current not in results:
            why = (f"timed out (killed after {timed_out[0]:.0f} s in this test)" if timed_out
                   else f"the peer's process ended (exit {proc.returncode}) inside this test")
            results[current] = {"conformance": current,
                                "verdict": "timed out" if timed_out else "crashed", "ms": 0,
                                "message": why + "\n" + "\n".join(lines)[-1500:]}
        elif not [t for t in tests if t not in results]:
            break
        elif current is None and proc.returncode not in (0, 1):
            # Died between tests: record nothing, but do not loop forever.
            pass
        restarts += 1
    with open(a.out, "a", encoding="utf-8") as f:
        for t in tests:
            r = results.get(t, {"conformance": t, "verdict": "not run", "ms": 0,
                                "message": "the time or restart bound ended the suite first"})
            f.write(json.dumps(r) + "\n")
    counts = {}
    for t in tests:
        v = results.get(t, {"verdict": "not run"})["verdict"]
        counts[v] = counts.get(v, 0) + 1
    print("conformance: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
