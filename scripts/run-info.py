#!/usr/bin/env python3
"""Write RUN_DIR/run.json: what ran where (host, QEMU, kernel sources and
whether the series is applied). The reporter reads it; see results/README.md."""
import argparse
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys


def _out(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _sha256(path):
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


def tree_info(src):
    """Where a kernel's source came from: its git describe and dirty state."""
    if not src or not os.path.isdir(os.path.join(src, ".git")) and \
            not os.path.isfile(os.path.join(src, ".git")):
        return {"path": src or "", "git_describe": "", "git_commit": "", "dirty": False}
    dirty = _out("git", "-C", src, "status", "--porcelain", "--untracked-files=no")
    return {"path": src,
            "git_describe": _out("git", "-C", src, "describe", "--always", "--tags", "--dirty"),
            "git_commit": _out("git", "-C", src, "rev-parse", "HEAD"),
            "dirty": bool(dirty)}


def kernel_info(build, name, suffix, patches_dir, src, with_series=("patched",)):
    base = os.path.join(build, "src", "baseline")
    kdir = os.path.join(build, "kernels", name + suffix)
    # A kernel built from the series (a mutant is the series with one bug)
    # makes the series' claims, such as stage-2 blocks (BLK-1).
    patched = name in with_series
    patches = sorted(p for p in os.listdir(patches_dir)
                     if p.endswith(".patch") and not p.startswith("0000-")) if patched else []
    own_tree = name in ("baseline", "patched")
    return {
        "source_version": _read(os.path.join(base if own_tree else src, ".kernelversion"))
        or _out("make", "-s", "-C", src, "kernelversion"),
        "debian_version": _read(os.path.join(base, ".debian-version")) if own_tree else "",
        "source": "debian-linux-source-6.12" if own_tree else "user tree",
        "tree": tree_info(src),
        "series_applied": patched,
        "patches": patches,
        "variant": _read(os.path.join(kdir, "variant")) or "release",
        "kernelrelease": _read(os.path.join(kdir, "kernelrelease")),
        "config_sha256": _sha256(os.path.join(kdir, ".config")),
        "image_sha256": _sha256(os.path.join(kdir, "arch", "arm64", "boot", "Image")),
    }


def suite_info(top, patches_dir, tree=""):
    """The suite's own version, for certification reports, and the tree it
    was built in (the patched 6.12 tree, or a 6.14+ tree it was applied to)."""
    series = hashlib.sha256()
    for p in sorted(os.listdir(patches_dir)):
        if p.endswith(".patch"):
            with open(os.path.join(patches_dir, p), "rb") as f:
                series.update(f.read())
    return {"commit": _out("git", "-C", top, "rev-parse", "HEAD"),
            "dirty": bool(_out("git", "-C", top, "status", "--porcelain", "--untracked-files=no")),
            "series_sha256": series.hexdigest(),
            "built_in": (f"{tree} ({_out('make', '-s', '-C', tree, 'kernelversion')}) "
                         "with kernel-patch/selftests-6.18"
                         if tree else "the patched tree (kernel-patch/)")}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run_dir")
    ap.add_argument("--build", required=True)
    ap.add_argument("--patches", required=True)
    ap.add_argument("--kernels", default="baseline patched")
    ap.add_argument("--variant", default="release")
    ap.add_argument("--src", action="append", default=[], metavar="NAME=PATH",
                    help="source tree of a kernel (default: BUILD/src/NAME)")
    ap.add_argument("--tests", default="*", help="the TESTS= selection")
    ap.add_argument("--cells", default="", help="the selected cells (empty: all)")
    ap.add_argument("--matrix", default="", help="every cell of the matrix")
    ap.add_argument("--tarball", default="", help="the kselftest tarball")
    ap.add_argument("--suite-tree", default="", help="the 6.14+ tree the suite was built in")
    ap.add_argument("--with-series", default="patched", metavar='"K..."',
                    help="the kernels built from kernel-patch/ (default: patched)")
    a = ap.parse_args()
    srcs = dict(x.split("=", 1) for x in a.src)
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # The same suffix the build and the matrix use ("-debug", "-64k",
    # "-debug-64k"): run.json must describe the kernels that ran.
    sys.path.insert(0, os.path.join(top, "rig"))
    import variants  # noqa: E402
    suffix = variants.suffix(a.variant)
    qemu = _out("qemu-system-aarch64", "--version").splitlines()
    qemu = qemu[0] if qemu else "qemu-system-aarch64 not found"
    info = {
        "run_id": os.path.basename(os.path.normpath(a.run_dir)),
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": {
            "uname": " ".join(platform.uname()),
            "qemu_version": qemu,
            "where": f"{qemu}, TCG on {platform.machine()} ({os.cpu_count()} host CPUs)",
        },
        "kernels": {k: kernel_info(a.build, k, suffix, a.patches,
                                   srcs.get(k, os.path.join(a.build, "src", k)),
                                   a.with_series.split())
                    for k in a.kernels.split()},
        "suite": suite_info(top, a.patches, a.suite_tree),
        "toolchain": {"cc": _out("aarch64-linux-gnu-gcc", "--version").split("\n")[0]},
        "kselftest_tarball_sha256": _sha256(a.tarball) if a.tarball else "",
        "selection": {"tests": a.tests, "cells": a.cells.split() or a.matrix.split(),
                      "matrix": a.matrix.split()},
    }
    os.makedirs(a.run_dir, exist_ok=True)
    with open(os.path.join(a.run_dir, "run.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
