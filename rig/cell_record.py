#!/usr/bin/env python3
"""The one writer of a cell's cell.json: how the cell ran (kernel, CPU
model, mode, command line, duration) and how it ended (status). Whether
its tests passed is the reporter's business, not this record's.

boot-cell.sh and run-matrix.sh call it as a program; kunit_tap.py and
`report.py hardware` import write()."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import atomic_write  # noqa: E402

# How a cell can end; the reporter's results.py reads these.
STATUSES = ("ok", "boot-timeout", "cell-timeout", "panic", "qemu-crash", "qemu-killed",
            "no-results")


def write(cell_dir, kernel, cell, cpu, mode, mte, qemu_cmdline="", duration_s=None,
          status="ok", status_detail="", **extra):
    record = {"kernel": kernel, "cell": cell, "cpu": cpu, "mode": mode, "mte": bool(mte),
              "qemu_cmdline": qemu_cmdline.strip(),
              "duration_s": None if duration_s is None else round(float(duration_s), 1),
              "status": status, "status_detail": status_detail}
    record.update(extra)
    os.makedirs(cell_dir, exist_ok=True)
    atomic_write.write_text(os.path.join(cell_dir, "cell.json"), json.dumps(record, indent=1))
    return record


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cell_dir")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--cell", required=True)
    ap.add_argument("--cpu", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--mte", choices=("on", "off"), required=True)
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--duration", type=float, default=0.0)
    ap.add_argument("--status", choices=STATUSES, default="ok")
    ap.add_argument("--detail", default="")
    ap.add_argument("--emulator", default="", help="matrix.tsv's emulator, e.g. qemu-10.0")
    ap.add_argument("--qemu-version", default="", help="what that QEMU's --version said")
    ap.add_argument("--nvgrace", choices=("0", "1"), default=None,
                    help="the rig attached the emulated nvgrace-gpu function")
    a = ap.parse_args(argv)
    extra = {k: v for k, v in (("emulator", a.emulator), ("qemu_version", a.qemu_version))
             if v}
    if a.nvgrace is not None:
        extra["nvgrace"] = a.nvgrace == "1"
    write(a.cell_dir, a.kernel, a.cell, a.cpu, a.mode, a.mte == "on", a.cmdline,
          a.duration, a.status, a.detail, **extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
