#!/usr/bin/env python3
"""What a `meson test` run did, from its meson-logs/testlog.json, for a person and for CI.

    summary.py BUILD_DIR [--not-run SUITE...]

Prints each test that skipped with the reason it gave (its "SKIP..." line), each test that
passed with a part skipped ("SKIP (part): ..."), the suites this tier left out (--not-run),
and last the line CI counts: "N passed, N failed" (meson's Ok; Fail, Timeout and errors).
Exit 1 when nothing ran at all (no log: the build failed).
"""
import json
import os
import re
import sys

FAILED = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"}


def suite_of(test):
    # Meson 1.0 logs no "suite" field: the name is then "project:suite / test".
    suites = test.get("suite") or [test["name"].split(" / ")[0]]
    return ",".join(s.split(":")[-1] for s in suites)


def reason(output, pattern):
    for line in (output or "").splitlines():
        if re.match(pattern, line.strip()):
            return line.strip()
    return ""


def main():
    build = sys.argv[1]
    not_run = sys.argv[3:] if len(sys.argv) > 2 and sys.argv[2] == "--not-run" else []
    path = os.path.join(build, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        print("no test ran (the build failed?)")
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    lines = []
    for raw in open(path):
        t = json.loads(raw)
        result = t.get("result")
        name = f"{t['name'].split(' / ')[-1]} ({suite_of(t)})"
        output = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
            part = reason(output, r"^SKIP \(part\)")
            if part:
                lines.append(f"partly skipped: {name}: {part[len('SKIP (part): '):]}")
        elif result in FAILED:
            failed += 1
        elif result == "SKIP":
            why = reason(output, r"^(SKIP|\[  SKIPPED \])") or "no reason given"
            lines.append(f"skipped: {name}: {re.sub(r'^SKIP:? *', '', why)}")
    for line in lines:
        print(line)
    if not_run:
        print(f"not run in this tier: {', '.join(not_run)} (./dev test --all runs them)")
    print(f"{passed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
