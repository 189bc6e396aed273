"""Shared fixtures: the reporter's modules sit flat in rig/, as they do in
the kselftest tarball, so put rig/ first on the import path."""
import json
import os
import shutil
import sys

import pytest

RIG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(RIG, "tests", "data")
sys.path.insert(0, RIG)


def data(name):
    return os.path.join(DATA, name)


def read(name):
    with open(data(name), encoding="utf-8") as f:
        return f.readlines()


@pytest.fixture
def sample_run(tmp_path):
    """A copy of the two-kernel, four-cell sample run; tests may edit it."""
    dst = tmp_path / "results" / "20250301-120000"
    shutil.copytree(data("sample-run"), dst)
    return dst


def add_cell(run_dir, kernel, cell, tap=None, console=None, **meta):
    """Add a cell to a run dir from saved sample files."""
    d = os.path.join(run_dir, "cells", f"{kernel}-{cell}")
    os.makedirs(d, exist_ok=True)
    info = {"kernel": kernel, "cell": cell, "cpu": "max", "mode": "vhe", "mte": True,
            "qemu_cmdline": "qemu-system-aarch64 -M virt -cpu max", "duration_s": 10.0,
            "status": "ok", "status_detail": ""} | meta
    with open(os.path.join(d, "cell.json"), "w") as f:
        json.dump(info, f)
    if tap:
        shutil.copyfile(data(tap), os.path.join(d, "results.tap"))
    if console:
        shutil.copyfile(data(console), os.path.join(d, "console.log"))
    return d


def write_run(run_dir, qemu=None, **extra):
    """A run.json; qemu=None makes it a hardware run (no matrix to compare with)."""
    os.makedirs(os.path.join(run_dir, "cells"), exist_ok=True)
    host = {"uname": "test", "qemu_version": qemu,
            "where": f"{qemu}, TCG" if qemu else "hardware: test machine"}
    info = {"run_id": os.path.basename(str(run_dir)), "started": "2025-03-01T12:00:00+00:00",
            "host": host, "kernels": {}} | extra
    with open(os.path.join(run_dir, "run.json"), "w") as f:
        json.dump(info, f)
    return run_dir


def binary_tap(binary, cases, env="cap=1 mte=1 s2view=yes"):
    """One kselftest-harness binary as run_kselftest.sh prints it.
    cases: (name, "REQ IDS", "ok" | "not ok" | "ok ... # SKIP why" suffix)."""
    collection, test = binary.split(":")
    lines = ["TAP version 13", "1..1", "# timeout set to 300",
             f"# selftests: {collection}: {test}", "# TAP version 13", f"# 1..{len(cases)}",
             f"# # ENV: {env}"]
    failed = False
    for n, (name, ids, result) in enumerate(cases, 1):
        ok, _, directive = result.partition(" # ")
        failed |= ok == "not ok"
        lines += [f"# #  RUN           {name} ...", f"# # REQ: {ids}"]
        if ok == "not ok" and not directive:
            # What the harness prints for a failed EXPECT/ASSERT.
            lines.append(f"# # {test}.c:{40 + n}:{name}:Expected 0 (0) == err (22)")
        lines.append(f"# {ok} {n} {name}" + (f" # {directive}" if directive else ""))
    lines.append(("not ok" if failed else "ok") + f" 1 selftests: {collection}: {test}"
                 + (" # exit=1" if failed else ""))
    return lines


def framed(*binaries, env=("mte=1",)):
    """A results.tap: rig-begin, init ENV lines, the binaries, rig-end."""
    lines = ["# rig-begin"] + [f"# ENV: {e}" for e in env]
    for b in binaries:
        lines += b
    return "\n".join(lines + ["# rig-end"]) + "\n"


def write_cell(run_dir, kernel, cell, tap_text=None, **meta):
    d = add_cell(run_dir, kernel, cell, **meta)
    if tap_text is not None:
        with open(os.path.join(d, "results.tap"), "w") as f:
            f.write(tap_text)
    return d
