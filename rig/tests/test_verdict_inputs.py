"""Inputs that must never end `conformant` or exit 0 (the verdict issue,
items 1-4): directives spelled every way TAP writers spell them, TODO
failures, XFAIL, repeated numbers, a nested bail-out, incomplete runs, and
applicability taken from what the rig configured."""
import pytest
from conftest import binary_tap, framed
from test_coverage import all_requirements, load

import requirements as reqs
import rig_stream


def _verdict(tmp_path, text, **meta):
    return load(tmp_path, {("patched", "hw"): (text, meta)}).verdicts["patched"]


@pytest.mark.parametrize("line, result, reason", [
    ("ok 1 a # SKIP: no FWB", "skip", "no FWB"),
    ("ok 1 a # SKIPPED no FWB", "skip", "no FWB"),
    ("ok 1 a # Skipped: no FWB", "skip", "no FWB"),
    ("ok 1 a #3 # SKIP x", "skip", "x"),
    ("not ok 1 a # TODO later", "fail", "TODO: later"),
    ("ok 1 a # XFAIL known", "fail", "XFAIL: the test saw the failure it expected: known"),
])
def test_directive_spellings(line, result, reason):
    (case,) = rig_stream.read_stream(["TAP version 13\n", "1..1\n", line + "\n"]).cases
    assert (case.result, case.reason) == (result, reason)


def test_hash_in_a_name_is_kept():
    (case,) = rig_stream.read_stream(["TAP version 13\n", "1..1\n", "ok 1 case #3\n"]).cases
    assert (case.name, case.result) == ("case #3", "pass")


@pytest.mark.parametrize("directive", ["ok # XFAIL known", "ok # SKIP: why", "ok # SKIPPED",
                                       "ok # Skipped: why", "not ok # TODO later"])
def test_no_directive_makes_a_requirement_pass(tmp_path, directive):
    v = _verdict(tmp_path, all_requirements({"S2-1": directive}))
    assert v.verdict != "conformant"
    assert any("S2-1" in d for d in v.deciding + v.incomplete)


def test_todo_failure_is_not_hidden_by_a_passing_twin(tmp_path):
    lines = binary_tap("kvm:t", [("a", "S2-1", "ok"), ("b", "S2-1", "not ok # TODO later")])
    s = rig_stream.read_stream(framed(lines).splitlines(True))
    assert [c.result for c in s.cases if c.requirements == ["S2-1"]] == ["pass", "fail"]


def test_repeated_test_number_fails_the_binary(tmp_path):
    text = all_requirements().replace("# ok 2 all.cap-2", "# ok 1 all.cap-2")
    v = _verdict(tmp_path, text)
    assert v.verdict == "non-conformant"
    assert any("CAP-2" in d for d in v.deciding)


def test_nested_bail_out_without_plan_fails_the_binary(tmp_path):
    lines = ["TAP version 13", "1..1", "# selftests: kvm: t", "# TAP version 13",
             "# # REQ: S2-1", "# ok 1 a", "# # REQ: BLK-1", "# Bail out! lost /dev/test_pfnmap",
             "ok 1 selftests: kvm: t"]
    s = rig_stream.read_stream(framed(lines).splitlines(True))
    failed = [c for c in s.cases if c.result == "fail"]
    assert failed and failed[0].reason.startswith("Bail out! lost /dev/test_pfnmap")
    assert {"S2-1", "BLK-1"} <= set(failed[0].requirements)


# ---- item 2: incomplete has its own exit status ----

def _report(tmp_path, cells, qemu="QEMU emulator version 7.2.19", **run_json):
    from conftest import write_cell, write_run
    from test_cli import cli
    run_dir = write_run(tmp_path / "r", qemu=qemu, **run_json)
    for (kernel, cell), (text, meta) in cells.items():
        write_cell(run_dir, kernel, cell, text, **meta)
    return cli("report", run_dir)


WHOLE = {"selection": {"tests": "*", "cells": ["hw"], "matrix": ["hw"]}}


def test_provider_that_never_loaded_is_not_green(tmp_path):
    text = all_requirements(init=("mte=1", "provider=failed-to-load"))
    r = _report(tmp_path, {("patched", "hw"): (text, {})}, **WHOLE)
    assert r.returncode == 3, r.stdout
    assert "provider module failed to load" in r.stdout


def test_blk1_never_ran_is_not_green(tmp_path):
    text = "\n".join(l for l in all_requirements().splitlines()
                     if "all.blk-1" not in l and "REQ: BLK-1" not in l) + "\n"
    n = len(reqs.TITLES)
    text = text.replace(f"# 1..{n}", f"# 1..{n - 1}")
    r = _report(tmp_path, {("patched", "hw"): (text, {})}, **WHOLE)
    assert r.returncode == 3, r.stdout
    assert "BLK-1 never ran" in r.stdout


def test_hardware_log_with_one_unrelated_binary_is_not_green(tmp_path):
    from test_cli import cli
    log = tmp_path / "hw.log"
    log.write_text("\n".join(binary_tap("kvm:hypercalls", [("hypercalls", "", "ok")])) + "\n")
    r = cli("hardware", log, "--out", tmp_path / "out", "--where", "hardware: test")
    assert r.returncode == 3, r.stdout


def test_a_tests_selection_is_excused_and_says_so(tmp_path):
    text = framed(binary_tap("kvm:pfnmap_cap_test", [("cap.vm_fd", "CAP-1", "ok")]))
    r = _report(tmp_path, {("patched", "hw"): (text, {"tests": "kvm:pfnmap_cap_test"})},
                selection={"tests": "kvm:pfnmap_cap_test", "cells": ["hw"], "matrix": ["hw"]})
    assert r.returncode == 0, r.stdout
    assert "patched: incomplete (only the selection you asked for: " in r.stdout


# ---- item 4: the baseline's expected failures must be shown by a check ----

def _baseline_run(tmp_path, overrides, **run_json):
    fails = {i: "not ok" for i in ("SEC-1", "S2-1", "NV-1", "CAP-1", "COW-1", "MTE-2")}
    return load(tmp_path, {("baseline", "hw"): (all_requirements(fails | overrides), {})},
                qemu="QEMU emulator version 7.2.19", **run_json)


def test_baseline_failure_by_timeout_is_not_the_expected_failure(tmp_path):
    ok = _baseline_run(tmp_path / "a", {}, **WHOLE)
    assert ok.mismatches == []
    run = _baseline_run(tmp_path / "b", {"SEC-1": "not ok # TIMEOUT 300 seconds"}, **WHOLE)
    assert any(m.startswith("baseline SEC-1: ") for m in run.mismatches), run.mismatches


def test_baseline_failure_by_crash_is_not_the_expected_failure(tmp_path):
    run = _baseline_run(tmp_path, {"S2-1": "not ok # exit=139"}, **WHOLE)
    assert any(m.startswith("baseline S2-1: ") for m in run.mismatches), run.mismatches


@pytest.mark.parametrize("req", ["SEC-1", "S2-3", "MS-2"])
def test_cell_subset_still_needs_every_baseline_id(tmp_path, req):
    # make check runs two cells of the matrix with every test: an ID that
    # did not run is not excused by the cell subset.
    text = "\n".join(l for l in all_requirements(
        {i: "not ok" for i in ("SEC-1", "S2-1", "NV-1", "CAP-1", "COW-1", "MTE-2")}).splitlines()
        if f"REQ: {req}" not in l) + "\n"
    run = load(tmp_path, {("baseline", "hw"): (text, {})}, qemu="QEMU emulator version 7.2.19",
               selection={"tests": "*", "cells": ["hw"], "matrix": ["hw", "other"]})
    assert any(m.startswith(f"baseline {req}: not-run") for m in run.mismatches), run.mismatches


# ---- item 3: applicability from what the rig configured ----

NV_SKIP = "ok # SKIP no nvgrace-gpu device bound"


def test_configured_nvgrace_that_failed_to_bind_is_not_not_applicable(tmp_path):
    text = all_requirements({i: NV_SKIP for i in ("NV-1", "NV-2", "NV-3", "NV-4")})
    v = _verdict(tmp_path / "a", text, nvgrace=True)
    assert v.verdict == "incomplete" and not set(v.not_applicable) & {"NV-1", "NV-2", "NV-4"}
    # Left out on purpose by the rig: then, and only then, not applicable.
    v = _verdict(tmp_path / "b", text, nvgrace=False)
    assert v.not_applicable.get("NV-1") == "no nvgrace-gpu device in any cell"


def test_mte_configured_but_reported_0_is_not_not_applicable(tmp_path):
    skip = "ok # SKIP KVM_CAP_ARM_MTE not supported"
    text = all_requirements({i: skip for i in ("MTE-1", "MTE-2", "MTE-3")},
                            env="cap=1 mte=0 s2view=yes", init=("mte=0",))
    v = _verdict(tmp_path, text, mte=True)
    assert v.verdict == "incomplete"
    assert not set(v.not_applicable) & {"MTE-1", "MTE-2", "MTE-3"}


def test_cache_and_debug_requirements_are_not_applicable_where_the_rig_cannot_show_them(tmp_path):
    skip = "ok # SKIP QEMU models no caches"
    text = all_requirements({"X-2": skip, "CMO-2": skip, "DBG-1": "ok # SKIP not a debug kernel"})
    run = load(tmp_path / "a", {("patched", "max-vhe"): (text, {"emulator": "qemu-7.2"})},
               qemu="QEMU emulator version 7.2.19",
               selection={"tests": "*", "cells": ["max-vhe"], "matrix": ["max-vhe"]},
               kernels={"patched": {"variant": "release"}})
    v = run.verdicts["patched"]
    assert v.verdict == "conformant", v.incomplete
    assert set(v.not_applicable) == {"X-2", "CMO-2", "DBG-1"}
    # On hardware the caches are real: X-2 and CMO-2 must run.
    v = _verdict(tmp_path / "b", text)
    assert v.verdict == "incomplete" and {"X-2", "CMO-2"} <= {i.split()[0] for i in v.incomplete}


# ---- item 9: the parser against kunit.py parse's behaviour ----

def test_timestamp_and_caller_prefixes():
    lines = ["[    1.000000] [    T1] TAP version 13\n", "[    1.000001] [    T1] 1..1\n",
             "[    1.000002] [   T42] ok 1 a\n"]
    (case,) = rig_stream.read_stream(lines).cases
    assert (case.name, case.result) == ("a", "pass")


def test_header_with_no_plan_and_no_results_is_an_error():
    lines = ["TAP version 13", "1..1", "# selftests: kvm: t", "# TAP version 13",
             "ok 1 selftests: kvm: t"]
    (case,) = rig_stream.read_stream([l + "\n" for l in lines]).cases
    assert case.result == "fail" and "no plan" in case.reason


def test_long_env_line_is_linear():
    import time
    # A long run of blanks: the old lazy regex's lookahead rescanned it
    # from every position.
    line = "# ENV: where=a" + " " * 100_000 + "b kernel=6.12\n"
    t = time.monotonic()
    s = rig_stream.read_stream(["# rig-begin\n", line, "# rig-end\n"])
    assert time.monotonic() - t < 2.0
    assert s.env["kernel"] == "6.12" and len(s.env["where"]) == 100_002


def test_parse_stdin_that_is_not_utf8():
    import subprocess
    import sys
    from test_cli import REPORT
    r = subprocess.run([sys.executable, REPORT, "parse", "-"],
                       input=b"TAP version 13\n1..1\nok 1 caf\xe9\n",
                       capture_output=True, env={"LC_ALL": "C", "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr


# ---- item 10: command lines and files ----

def test_hardware_refuses_a_non_empty_out_dir(tmp_path, sample_run):
    from test_cli import cli
    from conftest import data
    before = (sample_run / "run.json").read_text()
    r = cli("hardware", data("hardware-gh200.log"), "--out", sample_run)
    assert r.returncode == 2 and "not empty" in r.stderr
    assert (sample_run / "run.json").read_text() == before


def test_red_with_a_misspelled_kernel_is_an_error(sample_run):
    from test_cli import cli
    r = cli("red", sample_run, "--kernel", "patchd")
    assert r.returncode == 2 and "no kernel 'patchd'" in r.stderr


def test_red_names_splats_and_untraced_failures(tmp_path):
    from conftest import write_cell, write_run
    from test_cli import cli
    run_dir = write_run(tmp_path / "r", qemu="QEMU emulator version 7.2.19")
    text = framed(binary_tap("kvm:t", [("a", "", "not ok")]))
    write_cell(run_dir, "mutant", "max-vhe", text, console="console-splat.log")
    r = cli("red", run_dir, "--kernel", "mutant")
    assert "max-vhe:untraced-failure" in r.stdout.split()


def test_re_reporting_an_old_run_keeps_latest(tmp_path):
    import json
    import os
    import shutil
    from conftest import data
    from test_cli import cli
    root = tmp_path / "results"
    old, new = root / "old", root / "new"
    for d, started in ((old, "2025-01-01T00:00:00+00:00"), (new, "2025-06-01T00:00:00+00:00")):
        shutil.copytree(data("sample-run"), d)
        meta = json.loads((d / "run.json").read_text())
        meta["started"] = started
        (d / "run.json").write_text(json.dumps(meta))
    cli("report", new)
    cli("report", old)
    assert os.readlink(root / "latest") == "new"


# ---- item 6: junit for Jenkins ----

def test_baseline_failures_spec_asks_nothing_of_are_green_in_junit(tmp_path):
    import xml.etree.ElementTree as ET
    import output_junit
    fails = {i: "not ok" for i in ("SEC-1", "S2-1", "NV-1", "CAP-1", "COW-1", "MTE-2",
                                   "CAP-2", "CAP-4", "MS-4")}
    run = load(tmp_path, {("baseline", "hw"): (all_requirements(fails), {})},
               qemu="QEMU emulator version 7.2.19", **WHOLE)
    assert run.mismatches == []
    root = ET.fromstring(output_junit.render(run))
    (suite,) = [s for s in root.iter("testsuite") if s.get("name") == "baseline-hw"]
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    names = [t.get("name") for t in suite.iter("testcase")]
    assert "kvm:pfnmap_all_test: all.cap-2" in names


# ---- item 5: one classification, read by every writer ----

def _one_binary_run(tmp_path, lines, kernel="patched", **meta):
    text = framed(lines)
    return load(tmp_path, {(kernel, "hw"): (text, meta)}, qemu="QEMU emulator version 7.2.19")


def test_exit_254_is_the_same_thing_in_junit_and_kcidb(tmp_path):
    import output_junit
    import output_kcidb
    lines = ["TAP version 13", "1..1", "# selftests: kvm: t",
             "not ok 1 selftests: kvm: t # exit=254"]
    run = _one_binary_run(tmp_path, lines)
    (case,) = run.cells[0].cases
    assert output_junit.outcome(case) == "failure"
    assert output_kcidb.case_status(case)[0] == "FAIL"


def test_kcidb_requirement_row_follows_a_profile_conflict(tmp_path):
    import output_kcidb
    lines = binary_tap("kvm:t", [("a", "COW-1", "ok"), ("b", "COW-1", "ok")])
    lines.insert(6, "# # PROFILE: cow=refused")
    lines.insert(7, "# # PROFILE: cow=isolated")
    run = _one_binary_run(tmp_path, lines)
    assert run.requirements["COW-1"]["patched"] == "fail"
    doc = output_kcidb.report(run)
    (row,) = [t for t in doc["tests"] if t["path"] == "pfnmap.requirement.COW-1"]
    assert row["status"] == "FAIL"


def test_every_writer_reads_the_same_case_kind(sample_run):
    import classify
    import output_junit
    import output_kcidb
    import results
    run = results.load_run(sample_run)
    for cell in run.cells:
        for case in cell.cases:
            kind = classify.case_kind(case)
            assert output_junit.outcome(case) == output_junit.JUNIT[kind]
            assert output_kcidb.case_status(case)[0] == output_kcidb.KCIDB[kind]


# ---- item 11: files ----

def test_run_info_records_the_64k_kernels(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from test_cli import RIG
    build = tmp_path / "build"
    for name, release in (("patched", "6.12.117-4k"), ("patched-64k", "6.12.117-64k")):
        d = build / "kernels" / name
        d.mkdir(parents=True)
        (d / "kernelrelease").write_text(release + "\n")
    run = tmp_path / "run"
    subprocess.run([sys.executable, os.path.join(os.path.dirname(RIG), "scripts", "run-info.py"),
                    str(run), "--build", str(build), "--patches", str(tmp_path),
                    "--kernels", "patched", "--variant", "release-64k"], check=True,
                   capture_output=True)
    info = json.loads((run / "run.json").read_text())["kernels"]["patched"]
    assert info["kernelrelease"] == "6.12.117-64k", info


def test_lava_writes_through_atomic_write(tmp_path):
    import lava_jobs
    p = tmp_path / "job.yaml"
    lava_jobs._write(str(p), "a: 1\n")
    assert p.read_text() == "a: 1\n" and not list(tmp_path.glob("*.tmp"))


def test_rig_lock_refuses_a_second_user(tmp_path):
    import fcntl
    import os
    import subprocess
    from test_cli import RIG
    lock = os.path.join(os.path.dirname(RIG), "scripts", "rig-lock.sh")
    assert subprocess.run([lock, str(tmp_path), "true"]).returncode == 0
    with open(tmp_path / ".rig.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = subprocess.run([lock, str(tmp_path), "true"], capture_output=True, text=True)
    assert r.returncode == 1 and "another rig run" in r.stderr


# ---- item 7: KCIDB ----

def _kcidb_run(tmp_path, name, started, **kernel):
    from conftest import write_cell, write_run
    run_dir = write_run(tmp_path / name / "report", qemu=None, started=started,
                        kernels={"patched": {"series_applied": True, "patches": ["0001-a.patch"],
                                             **kernel}})
    write_cell(run_dir, "patched", "hardware", framed(binary_tap("kvm:t", [("a", "S2-1", "ok")])))
    return run_dir


def test_kcidb_ids_differ_between_runs_of_the_same_name(tmp_path):
    import output_kcidb
    import results
    a = output_kcidb.report(results.load_run(_kcidb_run(tmp_path, "a", "2026-01-01T00:00:00Z")))
    b = output_kcidb.report(results.load_run(_kcidb_run(tmp_path, "b", "2026-02-01T00:00:00Z")))
    assert not {c["id"] for c in a["checkouts"]} & {c["id"] for c in b["checkouts"]}
    assert not {t["id"] for t in a["tests"]} & {t["id"] for t in b["tests"]}


def test_kcidb_exports_the_tree_commit_and_the_tested_series(tmp_path):
    import output_kcidb
    import results
    sha = "0123456789abcdef0123456789abcdef01234567"
    run_dir = _kcidb_run(tmp_path, "a", "2026-01-01T00:00:00Z", tree={"git_commit": sha})
    (run_dir / "patches").mkdir()
    (run_dir / "patches" / "0001-a.patch").write_text("tested\n")
    (checkout,) = output_kcidb.report(results.load_run(run_dir))["checkouts"]
    assert checkout["git_commit_hash"] == sha
    assert checkout["patchset_files"][0]["url"].endswith("/patches/0001-a.patch")


def test_run_info_marks_a_mutant_as_built_from_the_series(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from test_cli import RIG
    (tmp_path / "build" / "kernels" / "mutant").mkdir(parents=True)
    run = tmp_path / "run"
    subprocess.run([sys.executable, os.path.join(os.path.dirname(RIG), "scripts", "run-info.py"),
                    str(run), "--build", str(tmp_path / "build"), "--patches", str(tmp_path),
                    "--kernels", "mutant", "--with-series", "mutant"], check=True,
                   capture_output=True)
    assert json.loads((run / "run.json").read_text())["kernels"]["mutant"]["series_applied"]
