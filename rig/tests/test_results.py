"""Aggregation, verdicts and SPEC expectations on run directories."""
import json
import os

import pytest
from conftest import add_cell

import requirements as reqs
import results


def test_aggregate_rules():
    assert reqs.aggregate(["pass", "fail", "skip"]) == "fail"
    assert reqs.aggregate(["skip", "pass"]) == "pass"
    assert reqs.aggregate(["skip"]) == "skip"
    assert reqs.aggregate([]) == "not-run"


def test_spec_ids_are_all_known():
    assert len(reqs.TITLES) == 37  # SPEC's table, S2-8 S2-9 BLK-2 BLK-3 DBG-1 PRV-1 KU-1 included
    assert set(reqs.BASELINE_MUST_FAIL) | set(reqs.BASELINE_MUST_PASS) <= set(reqs.TITLES)


def test_sample_run_meets_expectations(sample_run):
    run = results.load_run(sample_run)
    assert [c.key for c in run.cells] == ["baseline-cortex-a76-vhe", "baseline-max-vhe",
                                          "patched-cortex-a76-vhe", "patched-max-vhe"]
    assert run.requirements["S2-1"] == {"baseline": "fail", "patched": "pass"}
    assert run.requirements["CMO-3"] == {"baseline": "skip", "patched": "skip"}
    assert run.requirements["BLK-1"] == {"baseline": "not-run", "patched": "not-run"}
    base, patched = run.verdicts["baseline"], run.verdicts["patched"]
    assert base.verdict == "non-conformant"
    assert {"SEC-1", "S2-1", "CAP-1", "COW-1", "MTE-2", "NV-1"} <= set(base.deciding)
    # Nothing failed, but BLK-1 never ran and NV-3 only skipped: incomplete.
    assert patched.verdict == "incomplete" and patched.deciding == []
    assert "BLK-1 never ran" in patched.incomplete
    assert any(i.startswith("NV-3 skipped: no plain vfio-pci device") for i in patched.incomplete)
    assert patched.not_applicable == {
        "CMO-3": "the calibration probe shows no Alignment fault for Device memory in any cell",
        "DBG-1": "no debug (KASAN, lockdep) kernel in this run"}
    assert patched.skipped == ["CMO-3", "NV-3"]
    assert patched.not_run == ["BLK-1", "S2-8", "BLK-2", "S2-9", "BLK-3", "DBG-1", "PRV-1",
                               "KU-1"]
    assert run.expectations_met, run.mismatches
    assert run.totals() == {"passed": 91, "failed": 12, "skipped": 21, "todo": 0,
                            "expected_failures": 12}


def test_baseline_that_cannot_show_a_failure_is_a_mismatch(sample_run):
    for cell in ("baseline-max-vhe", "baseline-cortex-a76-vhe"):
        p = os.path.join(sample_run, "cells", cell, "results.tap")
        text = open(p).read()
        # As if the nvgrace test skipped: NV-1 no longer fails on the baseline.
        text = text.replace("# not ok 1 nvgrace.usemem.fault_attr",
                            "# ok 1 nvgrace.usemem.fault_attr # SKIP no nvgrace device")
        text = text.replace("not ok 1 selftests: vfio: nvgrace_kvm_test # exit=1",
                            "ok 1 selftests: vfio: nvgrace_kvm_test")
        open(p, "w").write(text)
    run = results.load_run(sample_run)
    assert run.requirements["NV-1"]["baseline"] == "skip"
    assert any(m.startswith("baseline NV-1: skip, expected fail")
               and "could not show the baseline failure" in m for m in run.mismatches)


def test_baseline_control_failing_is_a_mismatch(sample_run):
    p = os.path.join(sample_run, "cells", "baseline-max-vhe", "results.tap")
    text = open(p).read().replace("# ok 4 memslot.dirty_log.create",
                                  "# # t.c:1:create:Expected 22 (22) == err (0)\n"
                                  "# not ok 4 memslot.dirty_log.create")
    open(p, "w").write(text)
    run = results.load_run(sample_run)
    assert "baseline MS-3: fail, expected pass (a control: the baseline must pass it)" \
        in run.mismatches


def test_patched_failures_and_crashed_cells(sample_run):
    add_cell(sample_run, "patched", "max-nvhe", tap="crash.tap", mode="nvhe")
    add_cell(sample_run, "patched", "neoverse-n1-vhe", status="boot-timeout",
             status_detail="init not reached within 180s", cpu="neoverse-n1")
    run = results.load_run(sample_run)
    v = run.verdicts["patched"]
    assert v.verdict == "non-conformant"
    assert "MS-2" in v.deciding and "BLK-1" in v.deciding
    # A cell that did not boot leaves the kernel incomplete, not failed
    # (SPEC); it still fails the expectations: a selected cell never ran.
    assert "neoverse-n1-vhe: boot-timeout: init not reached within 180s" in v.incomplete
    assert not run.expectations_met
    assert ("patched-neoverse-n1-vhe did not run to the end: boot-timeout: init not reached "
            "within 180s") in run.mismatches


def test_truncated_stream_and_console_splat_fail_the_cell(tmp_path):
    run_dir = tmp_path / "r"
    os.makedirs(run_dir)
    (run_dir / "run.json").write_text(json.dumps({"run_id": "r", "kernels": {}}))
    add_cell(run_dir, "patched", "max-vhe", tap="truncated.tap",
             console="truncated-console.log", status="panic",
             status_detail="Kernel panic - not syncing: Oops: Fatal exception")
    add_cell(run_dir, "patched", "max-nvhe", tap="splat.tap", console="console-splat.log")
    run = results.load_run(run_dir)
    cut, splat = run.cells[1], run.cells[0]
    assert cut.cell == "max-vhe" and not cut.stream_complete
    assert any("results stream truncated" in p for p in cut.problems)
    assert any("Unable to handle kernel paging request" in p for p in cut.problems)
    assert splat.problems == [
        "kernel splat outside tests: WARNING: possible circular locking dependency detected"]
    assert run.verdicts["patched"].verdict == "non-conformant"


def test_unknown_ids_are_reported(tmp_path):
    run_dir = tmp_path / "r"
    os.makedirs(run_dir)
    (run_dir / "run.json").write_text(json.dumps({"run_id": "r"}))
    d = add_cell(run_dir, "patched", "max-vhe")
    with open(os.path.join(d, "results.tap"), "w") as f:
        f.write("# rig-begin\nTAP version 13\n1..1\n# REQ: S2-99\nok 1 t\n# rig-end\n")
    run = results.load_run(run_dir)
    assert "S2-99" in run.requirements
    assert run.warnings and "S2-99" in run.warnings[0]


def test_unreadable_input(tmp_path):
    with pytest.raises(results.InputError):
        results.load_run(tmp_path)
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(results.InputError):
        results.load_run(tmp_path)
