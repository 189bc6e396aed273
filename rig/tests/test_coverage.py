"""Verdicts with coverage (SPEC "Profiles and verdicts"): conformant only when
every applicable requirement passed somewhere; not-applicable only for a
feature the platform lacks; filtered runs and lost cells are incomplete."""
import json
import os

import pytest
from conftest import binary_tap, framed, write_cell, write_run
from test_cli import cli

import output_json
import requirements as reqs
import results

QEMU = "QEMU emulator version 7.2.19"
CALIBRATION = "# # calibration on stage-1 Device: DC ZVA esr={esr}, unaligned load esr=0x0"


def all_requirements(results_by_id=None, env="cap=1 mte=1 s2view=yes", init=("mte=1",),
                     calibration=None):
    """A results.tap with one case per SPEC requirement, passing unless told."""
    results_by_id = results_by_id or {}
    cases = [(f"all.{i.lower()}", i, results_by_id.get(i, "ok")) for i in reqs.ORDER]
    lines = binary_tap("kvm:pfnmap_all_test", cases, env)
    if calibration:
        at = lines.index("# # REQ: CMO-3")
        lines.insert(at + 1, CALIBRATION.format(esr=calibration))
    return framed(lines, env=init)


def load(tmp_path, cells, qemu=None, **run_json):
    """cells: {(kernel, cell): (results.tap text, cell.json extras)}. The
    kernels are debug builds unless told, so DBG-1 passes count."""
    run_json.setdefault("kernels", {k: {"variant": "debug"} for k, _ in cells})
    run_dir = write_run(tmp_path / "r", qemu=qemu, **run_json)
    for (kernel, cell), (text, meta) in cells.items():
        write_cell(run_dir, kernel, cell, text, **meta)
    return results.load_run(run_dir)


def test_everything_passing_is_conformant(tmp_path):
    run = load(tmp_path, {("patched", "hw"): (all_requirements(), {})})
    v = run.verdicts["patched"]
    assert (v.verdict, v.deciding, v.incomplete, v.not_applicable) == ("conformant", [], [], {})
    assert run.expectations_met


@pytest.mark.parametrize("variant", ["release", "release-64k", ""])
def test_dbg1_passes_count_only_on_a_debug_kernel(tmp_path, variant):
    """SPEC DBG-1 counts only in a debug cell: a release kernel's pass is
    no evidence (no KASAN to see a use-after-free), but its failure is."""
    run = load(tmp_path, {("patched", "hw"): (all_requirements(), {})},
               kernels={"patched": {"variant": variant}})
    v = run.verdicts["patched"]
    assert run.requirements["DBG-1"]["patched"] == "skip"
    assert v.verdict == "conformant"
    assert v.not_applicable == {"DBG-1": "no debug (KASAN, lockdep) kernel in this run"}
    failed = load(tmp_path / "f", {("patched", "hw"): (all_requirements({"DBG-1": "not ok"}), {})},
                  kernels={"patched": {"variant": variant}})
    assert failed.requirements["DBG-1"]["patched"] == "fail"
    assert failed.verdicts["patched"].verdict == "non-conformant"


def test_not_applicable_names_the_missing_feature(tmp_path):
    skip = "ok # SKIP not here"
    text = all_requirements(
        {"MTE-1": skip, "MTE-2": skip, "MTE-3": skip, "CAP-4": skip, "CMO-3": skip,
         "NV-1": skip, "NV-2": skip, "NV-3": skip, "NV-4": skip},
        env="cap=1 mte=0 s2view=yes", init=("mte=0",), calibration="0x0")
    run = load(tmp_path, {("patched", "hw"): (text, {"mte": False})})
    v = run.verdicts["patched"]
    assert v.verdict == "conformant", v.incomplete
    assert v.not_applicable == {
        "MTE-1": "no cell has MTE", "MTE-2": "no cell has MTE", "MTE-3": "no cell has MTE",
        "CAP-4": "cap = 1 in every cell",
        "CMO-3": "the calibration probe shows no Alignment fault for Device memory "
                 "in any cell",
        "NV-1": "no nvgrace-gpu device in any cell", "NV-2": "no nvgrace-gpu device in any cell",
        "NV-3": "no nvgrace-gpu device in any cell", "NV-4": "no nvgrace-gpu device in any cell"}


def test_a_skip_the_platform_cannot_excuse_is_incomplete(tmp_path):
    skip = "ok # SKIP no plain vfio-pci device"
    text = all_requirements({"NV-3": skip, "CMO-3": "ok # SKIP probe"}, calibration="0x96000021")
    v = load(tmp_path, {("patched", "hw"): (text, {})}).verdicts["patched"]
    # An nvgrace device was there (NV-1 passed) and Device alignment faults
    # are modelled (the probe's ESR is an Alignment fault): both applicable.
    assert v.verdict == "incomplete" and v.not_applicable == {}
    assert v.incomplete == ["CMO-3 skipped: probe", "NV-3 skipped: no plain vfio-pci device"]


@pytest.mark.parametrize("caps, excused", [(("0", "0"), ["CAP-3"]), (("1", "1"), ["CAP-4"]),
                                           (("0", "1"), [])])
def test_cap_requirements_need_the_cap_in_every_cell(tmp_path, caps, excused):
    skip = "ok # SKIP cap says no"
    cells = {("patched", f"c{n}"): (all_requirements({"CAP-3": skip, "CAP-4": skip},
                                                     env=f"cap={cap} mte=1"), {})
             for n, cap in enumerate(caps)}
    v = load(tmp_path, cells).verdicts["patched"]
    assert sorted(v.not_applicable) == excused
    assert v.verdict == ("incomplete" if len(excused) < 2 else "conformant")


def test_provider_that_failed_to_load_is_never_conformant(tmp_path):
    text = all_requirements(init=("mte=1", "provider=failed-to-load"))
    run = load(tmp_path, {("patched", "hw"): (text, {})})
    v = run.verdicts["patched"]
    assert v.verdict == "incomplete"
    assert v.incomplete == ["hw: the test PFNMAP provider module failed to load"]
    assert "patched-hw: the test PFNMAP provider module failed to load" in run.warnings
    assert run.expectations_met


def test_a_failure_is_non_conformant_whatever_the_coverage(tmp_path):
    text = all_requirements({"S2-1": "not ok"}, init=("mte=1", "provider=failed-to-load"))
    v = load(tmp_path, {("patched", "hw"): (text, {})}).verdicts["patched"]
    assert v.verdict == "non-conformant" and v.deciding == ["S2-1"]


def test_cell_that_did_not_boot_leaves_the_kernel_incomplete(tmp_path):
    run = load(tmp_path, {("patched", "a"): (all_requirements(), {}),
                          ("patched", "b"): (None, {"status": "boot-timeout",
                                                    "status_detail": "init not reached"})})
    v = run.verdicts["patched"]
    assert v.verdict == "incomplete" and v.incomplete == ["b: boot-timeout: init not reached"]
    assert run.mismatches == ["patched-b did not run to the end: boot-timeout: init not reached"]


def test_panic_is_a_failure(tmp_path):
    run = load(tmp_path, {("patched", "a"): (all_requirements(), {"status": "panic",
                                                                  "status_detail": "Oops"})})
    assert run.verdicts["patched"].deciding == ["a: panic: Oops"]


ONE_TEST = "rig.tests=kvm:pfnmap_cap_test"


def _cap_test(cap_1_result):
    return framed(binary_tap("kvm:pfnmap_cap_test", [("cap.vm_fd", "CAP-1", cap_1_result),
                                                     ("cap.system_fd", "CAP-2", "ok")]))


def test_one_test_one_cell_run_that_behaves_exits_0(tmp_path):
    cmdline = f"qemu-system-aarch64 -append 'console=ttyAMA0 {ONE_TEST} rig.hugepages=64'"
    run_dir = write_run(tmp_path / "r", qemu=QEMU)
    write_cell(run_dir, "baseline", "max-vhe", _cap_test("not ok"), qemu_cmdline=cmdline)
    write_cell(run_dir, "patched", "max-vhe", _cap_test("ok"), qemu_cmdline=cmdline)
    r = cli("report", run_dir)
    assert r.returncode == 0, r.stdout
    s = json.loads((run_dir / "summary.json").read_text())
    patched = s["verdict"]["patched"]
    assert patched["verdict"] == "incomplete"
    assert patched["incomplete"][:2] == [
        "filtered run: only tests matching 'kvm:pfnmap_cap_test' were selected",
        "cells not run: max-nvhe n1-vhe a57-nvhe a710-vhe v1-vhe max-vhe-q10 max-nvhe-q10"]
    assert s["cells"][0]["tests"] == "kvm:pfnmap_cap_test"
    assert "patched: incomplete (only the selection you asked for: filtered run: " in r.stdout
    # The baseline's CAP-1 failure is the one SPEC asks for.
    assert s["cells"][0]["cases"][0]["expected"].startswith("expected failure")


def test_filtered_run_still_checks_what_ran(tmp_path):
    cmdline = f"qemu-system-aarch64 -append '{ONE_TEST}'"
    run_dir = write_run(tmp_path / "r", qemu=QEMU)
    write_cell(run_dir, "baseline", "max-vhe", _cap_test("ok"), qemu_cmdline=cmdline)
    run = results.load_run(run_dir)
    assert run.mismatches == ["baseline CAP-1: pass, expected fail "
                              "(SPEC says the unpatched baseline must fail it)"]


def test_unfiltered_run_reports_what_never_ran(tmp_path):
    run = load(tmp_path, {("baseline", "hw"): (_cap_test("not ok"), {})})
    assert "baseline S2-8: not-run, expected pass (a control: the baseline must pass it)" \
        in run.mismatches
    assert any(m.startswith("baseline SEC-1: not-run, expected fail") for m in run.mismatches)


def test_selection_recorded_in_run_json(tmp_path):
    run = load(tmp_path, {("patched", "a"): (all_requirements(), {})}, qemu=QEMU,
               selection={"tests": "*", "matrix": ["a", "b"]})
    assert run.verdicts["patched"].incomplete == ["cells not run: b"]


def test_summary_validates_against_the_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    text = all_requirements({"S2-8": "ok # TODO later",
                             "BLK-1": "not ok # TIMEOUT 300 seconds"})
    run = load(tmp_path, {("patched", "hw"): (text, {}),
                          ("baseline", "hw"): (_cap_test("not ok"), {}),
                          ("patched", "gone"): (None, {"status": "qemu-crash"})})
    os.remove(tmp_path / "r" / "cells" / "patched-gone" / "cell.json")
    run = results.load_run(tmp_path / "r")
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "results",
                           "summary.schema.json")) as f:
        schema = json.load(f)
    summary = json.loads(json.dumps(output_json.summary(run)))
    jsonschema.validate(summary, schema)
    (cell,) = [c for c in summary["cells"] if (c["kernel"], c["cell"]) == ("patched", "hw")]
    assert [c["status"] for c in summary["cells"]] == ["ok", "error", "ok"]
    cases = {c["name"]: c for c in cell["cases"]}
    assert cases["all.s2-8"]["result"] == "todo"
    assert cases["all.blk-1"]["error"] == "timeout"
    assert summary["totals"]["todo"] == 1
