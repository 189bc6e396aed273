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
