"""How junit.xml shows expected failures, errors, time and verdicts."""
import xml.etree.ElementTree as ET

from conftest import add_cell, read, write_cell, write_run

import output_junit
import results



def _case_name(tc):
    """A junit testcase's case name, without the "binary: " it starts with."""
    return tc.get("name").split(": ", 1)[-1]

def _junit(run):
    return ET.fromstring(output_junit.render(run))


def _suite(root, name):
    return next(s for s in root.findall("testsuite") if s.get("name") == name)


def test_baseline_expected_failure_is_a_passing_testcase(sample_run):
    root = _junit(results.load_run(sample_run))
    suite = _suite(root, "baseline-max-vhe")
    (tc,) = [t for t in suite.findall("testcase")
             if _case_name(t) == "pfnmap_s2.normal_wb_nonlinear.fault_attr"]
    assert tc.find("failure") is None and tc.find("skipped") is None
    out = tc.find("system-out").text
    assert out.startswith("expected failure: SPEC says the unpatched baseline must fail")
    assert "S2-1" in out and "SEC-1" in out
    props = {p.get("name"): p.get("value") for p in tc.iter("property")}
    assert props["expected_failure"] == "true" and props["result"] == "fail"
    # Counted as passing: the suite's red failures are only the unexpected ones.
    assert int(suite.get("failures")) == sum(1 for t in suite.findall("testcase")
                                             if t.find("failure") is not None)


def test_unexpected_baseline_failure_stays_red(sample_run):
    p = sample_run / "cells" / "baseline-max-vhe" / "results.tap"
    p.write_text(p.read_text().replace("# ok 4 memslot.dirty_log.create",
                                       "# not ok 4 memslot.dirty_log.create"))
    suite = _suite(_junit(results.load_run(sample_run)), "baseline-max-vhe")
    (tc,) = [t for t in suite.findall("testcase") if _case_name(t) == "memslot.dirty_log.create"]
    assert tc.find("failure") is not None  # MS-3 is a control


def test_crash_timeout_and_cell_errors(tmp_path):
    run_dir = write_run(tmp_path / "r")
    add_cell(run_dir, "patched", "a", tap="splat.tap")
    add_cell(run_dir, "patched", "b", tap="crash.tap", status="qemu-crash",
             status_detail="qemu exited with status 1")
    root = _junit(results.load_run(run_dir))
    a, b = _suite(root, "patched-a"), _suite(root, "patched-b")
    by_name = {_case_name(t): t for t in a.findall("testcase")}
    timeout = by_name["kvm:pfnmap_block_test"]
    assert timeout.find("error").get("type") == "timeout"
    splat = by_name["pfnmap_s2.nc_allow_uncached.fault_attr"]
    assert splat.find("failure") is not None  # a kernel splat is a verdict on the kernel
    crashed = {_case_name(t): t for t in b.findall("testcase")}
    assert crashed["memslot.multi_vma.first_offender"].find("error").get("type") == "crash"
    cell_run = crashed["cell run"].find("error")
    assert cell_run.get("message") == "qemu-crash: qemu exited with status 1"
    errors = [t for t in b.findall("testcase") if t.find("error") is not None]
    assert b.get("errors") == str(len(errors))


def test_every_testcase_has_a_time(tmp_path):
    run_dir = write_run(tmp_path / "r")
    write_cell(run_dir, "patched", "k", "".join(read("ktap-directives.ktap")), duration_s=12.5,
               framed=False)
    root = _junit(results.load_run(run_dir))
    suite = _suite(root, "patched-k")
    assert suite.get("time") == "12.500"
    times = {_case_name(t): t.get("time") for t in root.iter("testcase")}
    assert all(v is not None for v in times.values())
    assert times["unit_time"] == "1.500" and times["diag_time"] == "0.250"
    assert times["first"] == "0.000"


def test_todo_is_neither_failure_nor_skip(tmp_path):
    run_dir = write_run(tmp_path / "r")
    write_cell(run_dir, "patched", "k", "".join(read("ktap-directives.ktap")), framed=False)
    root = _junit(results.load_run(run_dir))
    (tc,) = [t for t in root.iter("testcase") if _case_name(t) == "lucky"]
    assert tc.find("failure") is None and tc.find("skipped") is None
    assert tc.find("system-out").text == "TODO (passed): flaky"
    # "not ok # TODO" is a failure: the check failed, whatever was planned.
    (tc,) = [t for t in root.iter("testcase") if _case_name(t) == "not_yet"]
    assert tc.find("failure") is not None


def test_verdict_suite(sample_run):
    root = _junit(results.load_run(sample_run))
    verdict = _suite(root, "verdict")
    cases = {t.get("name"): t for t in verdict.findall("testcase")}
    # The baseline is non-conformant as SPEC expects: green.
    assert cases["verdict baseline"].find("failure") is None
    # The patched kernel did not cover everything, and not only by the
    # selection the sample ran (NV-3 skipped): an error, with what is missing.
    skipped = cases["verdict patched"].find("error")
    assert skipped.get("message").startswith("patched is incomplete: ")
    assert "BLK-1 never ran" in skipped.get("message")
