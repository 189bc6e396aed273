"""A run that stopped halfway is still reported, and outputs are written
atomically."""
import json
import os
import shutil

import pytest
from conftest import data, write_cell, write_run
from test_cli import cli

import atomic_write
import output_json
import results


@pytest.fixture
def partial_run(sample_run):
    """The sample run with one cell.json gone and one cut mid-write."""
    (sample_run / "cells" / "patched-max-vhe" / "cell.json").unlink()
    cut = sample_run / "cells" / "baseline-max-vhe" / "cell.json"
    cut.write_text(cut.read_text()[:40])
    return sample_run


def test_missing_and_truncated_cell_json(partial_run):
    run = results.load_run(partial_run)
    cells = {c.key: c for c in run.cells}
    assert set(cells) == {"baseline-cortex-a76-vhe", "baseline-max-vhe",
                          "patched-cortex-a76-vhe", "patched-max-vhe"}
    gone, cut = cells["patched-max-vhe"], cells["baseline-max-vhe"]
    assert gone.status == cut.status == "error"
    assert gone.status_detail.startswith("no cell.json")
    assert cut.status_detail.startswith("cell.json is truncated or invalid")
    # What the cell's stream holds is still reported.
    assert gone.count("pass") == 28 and cut.count("fail") == 7
    assert cells["patched-cortex-a76-vhe"].status == "ok"
    assert run.verdicts["patched"].verdict == "incomplete"
    assert any(m.startswith("patched-max-vhe did not run to the end: error: no cell.json")
               for m in run.mismatches)


def test_cell_json_without_kernel(tmp_path):
    run_dir = write_run(tmp_path / "r", kernels={"patched": {}})
    d = write_cell(run_dir, "patched", "max-vhe")
    with open(os.path.join(d, "cell.json"), "w") as f:
        json.dump(["not", "an", "object"], f)
    (cell,) = results.load_run(run_dir).cells
    assert (cell.kernel, cell.cell, cell.status) == ("patched", "max-vhe", "error")


def test_cli_writes_every_output_for_a_partial_run(partial_run):
    r = cli("report", partial_run)
    assert r.returncode == 1, r.stderr
    for name in ("summary.json", "junit.xml", "report.html"):
        assert (partial_run / name).stat().st_size > 0
    s = json.loads((partial_run / "summary.json").read_text())
    assert {c["status"] for c in s["cells"]} == {"ok", "error"}
    assert not [f for f in os.listdir(partial_run) if f.endswith(".tmp")]


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    path.write_text("old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        atomic_write.write_text(path, "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["summary.json"]


def test_outputs_go_through_a_rename(sample_run, monkeypatch):
    renamed = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (renamed.append(b), real(a, b)))
    output_json.write(results.load_run(sample_run), sample_run / "summary.json")
    assert renamed == [str(sample_run / "summary.json")]


def test_latest_symlink_is_replaced(sample_run, tmp_path):
    other = sample_run.parent / "older"
    shutil.copytree(data("sample-run"), other)
    assert cli("report", other).returncode == 3  # incomplete: NV-3 skipped
    assert cli("report", sample_run).returncode == 3
    latest = sample_run.parent / "latest"
    assert os.readlink(latest) == sample_run.name
    assert not [f for f in os.listdir(sample_run.parent) if ".tmp" in f]
