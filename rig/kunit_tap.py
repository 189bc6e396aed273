#!/usr/bin/env python3
"""Turn kunit.py's --json result into a rig cell: results.tap (TAP 13, one
result per KUnit case, each traced to KU-1) and cell.json. The reporter then
counts the series' KUnit tests like any other cell.

  kunit_tap.py KUNIT_JSON CELL_DIR --kernel NAME --duration S [--status ok]
               [--cmdline "how kunit.py was run"]
"""
import argparse
import json
import os
import sys

import atomic_write
import cell_record

REQ = "KU-1"


def cases(group, prefix=""):
    """(name, status) for every case of a kunit_json group, depth first."""
    name = f"{prefix}{group.get('name', '')}"
    for case in group.get("test_cases", []):
        yield f"{name}.{case['name']}", case.get("status", "FAIL")
    for sub in group.get("sub_groups", []):
        yield from cases(sub, f"{name}.")


def to_tap(result):
    # The root is kunit.py's "KUnit Test Group": the suites are its children.
    rows = [c for sub in result.get("sub_groups", []) for c in cases(sub)]
    rows += [(c["name"], c.get("status", "FAIL")) for c in result.get("test_cases", [])]
    out = ["# rig-begin", "TAP version 13", f"1..{len(rows)}"]
    for n, (name, status) in enumerate(rows, 1):
        out.append(f"# REQ: {REQ}")
        if status == "PASS":
            out.append(f"ok {n} {name}")
        elif status == "SKIP":
            out.append(f"ok {n} {name} # SKIP skipped by KUnit")
        else:
            out.append(f"not ok {n} {name} # KUnit status {status}")
    out.append("# rig-end")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kunit_json")
    ap.add_argument("cell_dir")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--duration", type=float, default=0.0)
    ap.add_argument("--status", default="ok", help="'ok', or why kunit.py did not finish")
    ap.add_argument("--cmdline", default="tools/testing/kunit/kunit.py run --arch=arm64 "
                    "--kunitconfig=arch/arm64/kvm/.kunitconfig",
                    help="how kunit.py was run, for the record")
    a = ap.parse_args(argv)
    try:
        with open(a.kunit_json) as f:
            result = json.load(f)
        tap = to_tap(result)
    except (OSError, ValueError, KeyError) as e:
        result, tap = None, "TAP version 13\n1..0\n"
        if a.status == "ok":
            a.status = "no-results"
        print(f"kunit_tap: cannot read {a.kunit_json}: {e}", file=sys.stderr)
    os.makedirs(a.cell_dir, exist_ok=True)
    atomic_write.write_text(os.path.join(a.cell_dir, "results.tap"), tap)
    cell_record.write(a.cell_dir, a.kernel, "kunit", "kunit.py's arm64 machine (-cpu max, no EL2)",
                      "kunit", False, a.cmdline, a.duration, "ok" if a.status == "ok" else "no-results",
                      "" if a.status == "ok" else a.status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
