#!/usr/bin/env python3
"""The one place a kernel build variant's names and slow-down live.

A variant is "release" or "debug" (KASAN, lockdep, DEBUG_VM), optionally
with "-64k" (64 KiB pages). Its suffix names the kernels, initramfs and
providers built for it (build/kernels/patched-debug-64k); its timeout
scale multiplies every test and cell timeout, since debug kernels run the
same tests several times slower (RIG_DEBUG_TIMEOUT_SCALE, default 3).

  python3 rig/variants.py suffix debug-64k    ->  -debug-64k
  python3 rig/variants.py scale debug         ->  3
  python3 rig/variants.py names               ->  release debug release-64k debug-64k
"""
import os
import sys

VARIANTS = ("release", "debug", "release-64k", "debug-64k")


def check(variant):
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant '{variant}' (one of {', '.join(VARIANTS)})")
    return variant


def suffix(variant):
    check(variant)
    base, _, pages = variant.partition("-")
    return ("-debug" if base == "debug" else "") + (f"-{pages}" if pages else "")


def page_size(variant):
    """The kernel's page size: "4k", or "64k" for a -64k variant."""
    check(variant)
    return "64k" if variant.endswith("-64k") else "4k"


def timeout_scale(variant):
    check(variant)
    if variant.startswith("debug"):
        return int(os.environ.get("RIG_DEBUG_TIMEOUT_SCALE", "3"))
    return 1


def main(argv):
    if argv == ["names"]:
        print(" ".join(VARIANTS))
        return 0
    if len(argv) != 2 or argv[0] not in ("suffix", "scale"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        print(suffix(argv[1]) if argv[0] == "suffix" else timeout_scale(argv[1]))
    except ValueError as e:
        print(f"variants: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
