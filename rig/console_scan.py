"""Find kernel splats in a raw console log (serial 0).

The guest init already reports splats that happen while a test binary runs
("# SPLAT:" in the results stream); those fail that binary's cases. What is
left here happened outside any test (boot, teardown, a panic) and fails the
whole cell.
"""
import os
import re

# The first lines of kernel reports, as the guest init sees them too.
PATTERNS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "splat-patterns")


def _load_patterns(path=PATTERNS_FILE):
    with open(path, encoding="utf-8") as f:
        pats = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    return re.compile("|".join(f"(?:{p})" for p in pats))


_SPLAT = _load_patterns()
_TIMESTAMP = re.compile(r"^\s*\[\s*\d+\.\d+\]\s*")


def _clean(line):
    return _TIMESTAMP.sub("", line.rstrip("\r\n")).strip()


# Written to /dev/kmsg around run_kselftest.sh on hardware (README,
# rig/lava_jobs.py): the kernel log between them is the suite's.
SUITE_BEGIN = "pfnmap-suite: begin"
SUITE_END = "pfnmap-suite: end"


def suite_window(lines):
    """The lines logged between the last SUITE_BEGIN and the SUITE_END after
    it (or the end of the log), or None when the log has no SUITE_BEGIN."""
    begins = [i for i, l in enumerate(lines) if SUITE_BEGIN in l]
    if not begins:
        return None
    start = begins[-1] + 1
    end = next((i for i in range(start, len(lines)) if SUITE_END in lines[i]), len(lines))
    return lines[start:end]


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


# KVM/arm64's init line (arch/arm64/kvm/arm.c): "VHE", "Hyp nVHE", "Hyp
# hVHE" or "Protected nVHE" "mode initialized successfully".
_KVM_MODE = re.compile(r"(?:(Protected|Hyp) )?([nh]?)VHE mode initialized successfully")


def kvm_mode(lines):
    """vhe, nvhe, hvhe or protected from the kernel log, or None."""
    for line in lines:
        m = _KVM_MODE.search(line)
        if m:
            return "protected" if m.group(1) == "Protected" else (m.group(2) + "vhe")
    return None


def read_console(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readlines()
    except FileNotFoundError:
        return None
