#!/usr/bin/env python3
"""The workflow files are valid YAML and do what issue 14 asks (no CI runner can run here).

ci.yml runs the README's test command (.ci/run, which runs scripts/run-tests); nightly.yml runs
a long campaign with --junit and --markdown, the race hunt and the nightly fuzzing, uploads the
report and the tapes as artifacts, and fails the job on a violation. A file that does not parse
fails; so does one that lost any of these. Exit 77 without python3-yaml.
"""
import os
import sys

try:
    import yaml
except ImportError:
    print("python3-yaml absent: skipped")
    sys.exit(77)


def load(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or "jobs" not in doc:
        sys.exit("%s: not a workflow (no jobs)" % path)
    # YAML 1.1 reads the key `on` as True.
    if "on" not in doc and True not in doc:
        sys.exit("%s: no trigger" % path)
    return doc


def steps_text(doc):
    return "\n".join(str(step) for job in doc["jobs"].values() for step in job.get("steps", []))


def main():
    root = sys.argv[1]
    wf = os.path.join(root, ".github", "workflows")
    ci = steps_text(load(os.path.join(wf, "ci.yml")))
    nightly_doc = load(os.path.join(wf, "nightly.yml"))
    nightly = steps_text(nightly_doc)
    needs = {"ci.yml": (ci, ["bash .ci/run", "CI"]),
             "nightly.yml": (nightly, ["scripts/run-main", "--junit", "--markdown", "GITHUB_STEP_SUMMARY",
                                       "scripts/race-hunt", "scripts/nightly-fuzz", "upload-artifact",
                                       "report.html", "tapes", "exit $status"])}
    missing = ["%s lacks %r" % (name, w) for name, (text, words) in needs.items() for w in words if w not in text]
    if "schedule" not in str(nightly_doc.get("on", nightly_doc.get(True))):
        missing.append("nightly.yml has no schedule")
    if missing:
        sys.exit("\n".join(missing))
    print("ci.yml and nightly.yml parse and carry their steps")


if __name__ == "__main__":
    main()
