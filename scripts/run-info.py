#!/usr/bin/env python3
"""Write RUN_DIR/run.json: what ran where (host, QEMU, kernel sources and
whether the series is applied). The reporter reads it; see results/README.md."""
import argparse
import datetime
import json
import os
import platform
import subprocess


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


def kernel_info(build, name, suffix, patches_dir):
    src = os.path.join(build, "src", "baseline")
    kdir = os.path.join(build, "kernels", name + suffix)
    patched = name == "patched"
    patches = sorted(p for p in os.listdir(patches_dir)
                     if p.endswith(".patch") and not p.startswith("0000-")) if patched else []
    return {
        "source_version": _read(os.path.join(src, ".kernelversion")),
        "debian_version": _read(os.path.join(src, ".debian-version")),
        "series_applied": patched,
        "patches": patches,
        "variant": _read(os.path.join(kdir, "variant")) or "release",
        "kernelrelease": _read(os.path.join(kdir, "kernelrelease")),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("run_dir")
    ap.add_argument("--build", required=True)
    ap.add_argument("--patches", required=True)
    ap.add_argument("--kernels", default="baseline patched")
    ap.add_argument("--variant", default="release")
    a = ap.parse_args()
    suffix = "-debug" if a.variant == "debug" else ""
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
        "kernels": {k: kernel_info(a.build, k, suffix, a.patches) for k in a.kernels.split()},
    }
    os.makedirs(a.run_dir, exist_ok=True)
    with open(os.path.join(a.run_dir, "run.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
