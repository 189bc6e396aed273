"""Find kernel splats in a raw console log (serial 0).

The guest init already reports splats that happen while a test binary runs
("# SPLAT:" in the results stream); those fail that binary's cases. What is
left here happened outside any test (boot, teardown, a panic) and fails the
whole cell.
"""
import re

# First lines of kernel reports. Case matters: boot messages mention
# "kasan:" and "oops=panic" harmlessly.
_SPLAT = re.compile(
    r"WARNING:|BUG:|\bOops\b|KASAN:|UBSAN:|Kernel panic|Unable to handle kernel"
    r"|possible circular locking|possible recursive locking|inconsistent lock state"
    r"|suspicious RCU usage|INFO: lockdep")
_TIMESTAMP = re.compile(r"^\s*\[\s*\d+\.\d+\]\s*")


def _clean(line):
    return _TIMESTAMP.sub("", line.rstrip("\r\n")).strip()


def find_splats(lines):
    """First line of every kernel report, timestamps removed, in order."""
    return [_clean(l) for l in lines if _SPLAT.search(l)]


def unattributed(console_lines, reported):
    """Splats in the console that no "# SPLAT:" line already reported."""
    reported = [_clean(r) for r in reported if r.strip()]
    left = []
    for splat in find_splats(console_lines):
        if not any(splat in r or r in splat for r in reported) and splat not in left:
            left.append(splat)
    return left


def read_console(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readlines()
    except FileNotFoundError:
        return None
