#!/usr/bin/env python3
"""Results where CI looks (issue 14): `wsafault campaign --junit FILE --markdown FILE`.

Runs a short repeatable campaign against a planted bug (so stages find failures) and a two-bug
zoo, validates each JUnit file against tests/campaign/junit.xsd with xmllint, and checks the
content: a testcase per stage, per failure (with its replay command in the failure text) and
per zoo bug, and a Markdown summary with the verdict, the stage table and the replay commands.
The schema must refuse a broken file (a testcase without its name, two outcomes in one
testcase), or the validation proves nothing. Exit 77 (skipped) without xmllint.
"""
import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wsafault", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    xmllint = shutil.which("xmllint")
    if not xmllint:
        print("xmllint absent (Debian libxml2-utils): skipped")
        return 77
    xsd = os.path.join(os.path.dirname(os.path.abspath(__file__)), "junit.xsd")
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    errors = []

    def validate(path):
        p = subprocess.run([xmllint, "--noout", "--schema", xsd, path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        return p.returncode == 0, p.stdout

    def campaign(name, extra):
        out = os.path.join(a.out, name)
        junit, md = os.path.join(out, "junit.xml"), os.path.join(out, "summary.md")
        cmd = [a.wsafault, "campaign", "--seed", "7", "--runs-per-stage", "600", "--time", "20", "--no-fuzz",
               "--no-stress", "--plain", "--source-dir", a.source_dir, "--report", os.path.join(out, "report.html"),
               "--junit", junit, "--markdown", md] + extra
        os.makedirs(out, exist_ok=True)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode not in (0, 1) or not os.path.exists(junit):
            errors.append("%s: campaign exited %d without a JUnit file:\n%s" % (name, p.returncode, p.stdout[-800:]))
            return None, None
        ok, why = validate(junit)
        if not ok:
            errors.append("%s: %s does not validate:\n%s" % (name, junit, why))
        return ET.parse(junit).getroot(), open(md).read()

    root, md = campaign("mutant", ["--mutant", "cancel-check-then-act"])
    if root is not None:
        suites = {s.get("name"): s for s in root.findall("testsuite")}
        stages = suites.get("stages")
        if stages is None or len(stages.findall("testcase")) < 4:
            errors.append("mutant: no testcase per stage")
        fails = suites.get("failures")
        cases = fails.findall("testcase") if fails is not None else []
        if not cases or not all(c.find("failure") is not None and "replay: " in (c.find("failure").text or "")
                                for c in cases):
            errors.append("mutant: each failure must be a failing testcase with its replay command")
        if "## wsafault mutant:" not in md or "| sim random |" not in md or "replay " not in md:
            errors.append("mutant: the Markdown summary lacks the verdict, the stage table or a replay command")
    root, md = campaign("zoo", ["--zoo", "--mutant", "cancel-check-then-act,zero-handle-valid"])
    if root is not None:
        zoo = [s for s in root.findall("testsuite") if s.get("name") == "zoo"]
        names = sorted(c.get("name") for c in zoo[0].findall("testcase")) if zoo else []
        if names != ["cancel-check-then-act", "zero-handle-valid"]:
            errors.append("zoo: a testcase per planted bug expected, got %s" % names)
        if "### Planted bugs" not in md:
            errors.append("zoo: the Markdown summary has no planted-bug table")

    broken = os.path.join(a.out, "broken.xml")
    for bad in ['<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
                '<testcase classname="c"/></testsuite></testsuites>',
                '<testsuites><testsuite name="s" tests="1" failures="1" errors="0"><testcase classname="c" name="n">'
                '<failure message="m"/><skipped/></testcase></testsuite></testsuites>']:
        with open(broken, "w") as f:
            f.write(bad)
        if validate(broken)[0]:
            errors.append("the schema accepted a broken file: " + bad)
    if errors:
        sys.exit("\n".join(errors))
    print("JUnit files validate (testcases per stage, failure and zoo bug); the schema refuses broken ones; "
          "Markdown summaries complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
