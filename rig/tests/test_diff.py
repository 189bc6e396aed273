"""report.py diff RUN_A RUN_B on two synthetic runs."""
from conftest import binary_tap, framed, write_cell, write_run
from test_cli import cli

import diff_runs
import results


def _run(path, memslot_result, exec_result, extra_cell=False):
    run_dir = write_run(path)
    tap = framed(binary_tap("kvm:pfnmap_memslot_test", [("memslot.nc", "MS-2", memslot_result),
                                                        ("memslot.dirty", "MS-3", "ok")]),
                 binary_tap("kvm:pfnmap_exec_test", [("exec.device", "X-1", exec_result)]))
    write_cell(run_dir, "patched", "max-vhe", tap)
    if extra_cell:
        write_cell(run_dir, "patched", "n1-vhe", tap, cpu="neoverse-n1")
    return run_dir


def test_diff_model(tmp_path):
    a = results.load_run(_run(tmp_path / "a", "ok", "not ok"))
    b = results.load_run(_run(tmp_path / "b", "not ok", "ok", extra_cell=True))
    d = diff_runs.diff(a, b)
    assert ("MS-2", "patched", "pass", "fail") in d.requirements
    assert ("X-1", "patched", "fail", "pass") in d.requirements
    assert ("patched-max-vhe", "kvm:pfnmap_memslot_test: memslot.nc", "pass", "fail") in d.cases
    assert ("patched-max-vhe", "kvm:pfnmap_exec_test: exec.device", "fail", "pass") in d.cases
    assert ("patched-n1-vhe", diff_runs.GONE, "ok") in d.cells
    assert not [c for c in d.cases if c[1].endswith("memslot.dirty")]  # unchanged
    assert diff_runs.diff(a, a).empty


def test_diff_cli(tmp_path):
    a, b = _run(tmp_path / "a", "ok", "ok"), _run(tmp_path / "b", "not ok", "ok")
    r = cli("diff", a, b)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "diff a -> b"
    assert "  MS-2 patched: pass -> fail" in lines
    assert "  patched-max-vhe: kvm:pfnmap_memslot_test: memslot.nc: pass -> fail" in lines
    same = cli("diff", a, a)
    assert same.returncode == 0 and "no change" in same.stdout
    assert cli("diff", a, tmp_path / "missing").returncode == 2
