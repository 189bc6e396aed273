#!/usr/bin/env python3
"""Check that a cell's timeout leaves room for every test the cell runs.

The guest init runs each selected kselftest (kselftest-list.txt, filtered by
rig.tests=) with the rig's own timeout for it (rig/test-timeouts) or else its
collection's settings timeout, times the debug scale; QEMU is killed when the
cell timeout expires. A cell timeout below the sum
cuts a slow but healthy run short, and the report then blames the kernel's
cell for it.

Exit status: 0 the cell timeout is enough; 1 it is not (one line on stderr
says by how much and why); 2 unreadable input.
"""
import argparse
import fnmatch
import os
import re
import sys

# kselftest's runner.sh: a collection without a settings file gets 45 s.
DEFAULT_TIMEOUT = 45
RIG_TIMEOUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-timeouts")
_TIMEOUT = re.compile(r"^\s*timeout\s*=\s*(\d+)\s*$")


def read_timeout(collection_dir):
    """The collection's settings timeout, in seconds."""
    try:
        with open(os.path.join(collection_dir, "settings"), encoding="utf-8") as f:
            for line in f:
                m = _TIMEOUT.match(line)
                if m:
                    return int(m.group(1))
    except FileNotFoundError:
        pass
    return DEFAULT_TIMEOUT


def read_rig_timeouts(path=RIG_TIMEOUTS):
    """[(glob, seconds)] from rig/test-timeouts, in file order."""
    rules = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if fields and not fields[0].startswith("#"):
                rules.append((fields[0], int(fields[1])))
    return rules


def read_list(path):
    """'collection:test' entries of a kselftest-list.txt."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and ":" in line]


def required_seconds(entries, settings_dir, scale=1, tests="*", rules=()):
    """(total seconds, {group: (tests selected, timeout each)}): a group is
    the rig/test-timeouts glob that gives the timeout, else the collection."""
    per = {}
    for entry in entries:
        # rig.tests= is a list of globs, comma (or, as given, space) separated
        if not any(fnmatch.fnmatchcase(entry, g) for g in re.split(r"[,\s]+", tests) if g):
            continue
        rule = next(((g, s) for g, s in rules if fnmatch.fnmatchcase(entry, g)), None)
        if rule:
            group, base = rule
        else:
            group = entry.split(":", 1)[0]
            base = read_timeout(os.path.join(settings_dir, group))
        count, each = per.get(group, (0, base * scale))
        per[group] = (count + 1, each)
    return sum(n * each for n, each in per.values()), per


def shortfall(cell_timeout, required, per, boot_timeout=0, scale=1):
    """None when cell_timeout is enough, else the one-line cause."""
    need = required + boot_timeout
    if cell_timeout >= need:
        return None
    parts = [f"{n} {c} test{'s' if n > 1 else ''} x {each}s"
             for c, (n, each) in sorted(per.items())]
    if boot_timeout:
        parts.append(f"boot {boot_timeout}s")
    return (f"cell timeout {cell_timeout}s is {need - cell_timeout}s short of the {need}s its "
            f"tests may take: {' + '.join(parts) or 'nothing selected'} (scale {scale})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings-dir", required=True, metavar="DIR",
                    help="kselftest install dir: kselftest-list.txt and <collection>/settings")
    ap.add_argument("--cell-timeout", required=True, type=int, metavar="N",
                    help="seconds QEMU gets for the whole cell, after any scaling")
    ap.add_argument("--scale", type=int, default=1, metavar="S",
                    help="factor the init applies to each settings timeout (debug kernels)")
    ap.add_argument("--tests", default="*", metavar="GLOB",
                    help="the rig.tests= glob: only matching list entries count")
    ap.add_argument("--list", metavar="FILE", help="default: DIR/kselftest-list.txt")
    ap.add_argument("--rig-timeouts", default=RIG_TIMEOUTS, metavar="FILE",
                    help="the rig's per-test timeouts (default: %(default)s)")
    ap.add_argument("--boot-timeout", type=int, default=0, metavar="B",
                    help="seconds the cell may spend booting before the first test")
    ap.add_argument("--print-required", action="store_true",
                    help="print the smallest cell timeout the tests allow, and exit 0")
    a = ap.parse_args(argv)
    try:
        entries = read_list(a.list or os.path.join(a.settings_dir, "kselftest-list.txt"))
        rules = read_rig_timeouts(a.rig_timeouts)
    except OSError as e:
        print(f"timeouts: cannot read the test list: {e}", file=sys.stderr)
        return 2
    required, per = required_seconds(entries, a.settings_dir, a.scale, a.tests, rules)
    if a.print_required:
        print(required + a.boot_timeout)
        return 0
    cause = shortfall(a.cell_timeout, required, per, a.boot_timeout, a.scale)
    if cause:
        print(f"timeouts: {cause}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
