"""report.py kcidb: the run as KCIDB I/O schema v5.3 data, validated against
rig/schema/kcidb-v5.json with python3-jsonschema."""
import copy
import json
import os
import subprocess
import sys

import jsonschema
import pytest
from conftest import RIG, add_cell, data

import output_kcidb
import requirements as reqs
import results
from rig_stream import ReportCase

SCHEMA_PATH = os.path.join(RIG, "schema", "kcidb-v5.json")
REPORT = os.path.join(RIG, "report.py")


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors(validator, doc):
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.fixture
def run(sample_run):
    return results.load_run(sample_run)


@pytest.fixture
def doc(run):
    return output_kcidb.report(run)


def rows_where(doc, **match):
    return [t for t in doc["tests"]
            if all(t.get(k, t["misc"].get(k)) == v for k, v in match.items())]


def one(doc, **match):
    (t,) = rows_where(doc, **match)
    return t


def walk(value, where="$"):
    """Yield (where, value) for every value, nested ones included."""
    yield where, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{where}[{i}]")


def cli(*args):
    return subprocess.run([sys.executable, REPORT, *map(str, args)], cwd="/",
                          capture_output=True, text=True, timeout=60)


# ---- the sample run ----

def test_sample_run_validates(validator, doc):
    assert errors(validator, doc) == []
    assert doc["version"] == {"major": 5, "minor": 3}


def test_shape_ids_and_links(doc):
    origin = output_kcidb.DEFAULT_ORIGIN
    assert set(doc) == {"version", "checkouts", "builds", "tests"}
    for kind in ("checkouts", "builds", "tests"):
        ids = [o["id"] for o in doc[kind]]
        assert len(ids) == len(set(ids)), kind
        for o in doc[kind]:
            assert o["origin"] == origin and o["id"].startswith(origin + ":")
    checkouts = {c["id"] for c in doc["checkouts"]}
    builds = {b["id"] for b in doc["builds"]}
    assert len(checkouts) == 2 and len(builds) == 2  # one per kernel
    assert all(b["checkout_id"] in checkouts for b in doc["builds"])
    for t in doc["tests"]:
        assert t["build_id"] in builds
        assert t["path"] and t["status"] in {"PASS", "FAIL", "SKIP", "ERROR", "MISS", "DONE"}
        assert t["start_time"] == "2025-03-01T12:00:00+00:00"
        assert set(t["environment"]) == {"comment", "misc"}


def test_no_nulls_anywhere(doc):
    assert [w for w, v in walk(doc) if v is None] == []


def test_one_row_per_case_per_cell(run, doc):
    for cell in run.cells:
        rows = [t for t in rows_where(doc, kernel=cell.kernel, cell=cell.cell)
                if t["path"].startswith("kselftest.")]
        assert len(rows) == len(cell.cases)
        assert sorted(r["misc"]["case"] for r in rows) == sorted(c.name for c in cell.cases)
        assert {r["environment"]["comment"] for r in rows} == {
            f"{run.host['where']}; -cpu {cell.cpu}; vhe; MTE {'on' if cell.mte else 'off'}; "
            f"cell {cell.cell}"}


def test_case_paths_and_statuses(doc):
    path = "kselftest.kvm.pfnmap_s2attr_test.pfnmap_s2.normal_wb_nonlinear.fault_attr"
    base = one(doc, path=path, kernel="baseline", cell="max-vhe")
    assert base["status"] == "FAIL"
    assert base["misc"]["expected_failure"] is True
    assert "S2-1" in base["misc"]["note"] and base["comment"].startswith("pfnmap_s2attr_test.c:")
    assert base["log_excerpt"]
    assert one(doc, path=path, kernel="patched", cell="max-vhe")["status"] == "PASS"
    skipped = one(doc, path=path, kernel="patched", cell="cortex-a76-vhe")
    assert skipped["status"] == "SKIP" and "no FWB" in skipped["comment"]
    spaced = one(doc, path="kselftest.kvm.pfnmap_cap_test.VM_fd_reports_0_or_1",
                 kernel="patched", cell="max-vhe")
    assert spaced["misc"]["case"] == "VM fd reports 0 or 1"
    assert spaced["misc"]["binary"] == "kvm:pfnmap_cap_test"
    # A baseline failure of an ID SPEC asks nothing of on the baseline (what
    # the series adds) is expected too, with its own note (the one
    # classification, rig/classify.py, that junit reads as well).
    other = one(doc, path="kselftest.kvm.pfnmap_memslot_test.memslot.cacheable_shared.create",
                kernel="baseline", cell="max-vhe")
    assert other["status"] == "FAIL" and other["misc"]["expected_failure"] is True
    assert "lacks what the series adds" in other["misc"]["note"]


def test_requirement_rows(run, doc):
    rows = [t for t in doc["tests"] if t["path"].startswith("pfnmap.requirement.")]
    assert len(rows) == len(run.requirements) * len(run.kernels)
    s21 = {t["misc"]["kernel"]: t for t in rows if t["path"] == "pfnmap.requirement.S2-1"}
    assert s21["baseline"]["status"] == "FAIL"
    assert s21["baseline"]["misc"]["expected_failure"] is True
    assert s21["baseline"]["misc"]["expectation_met"] is True
    assert s21["patched"]["status"] == "PASS"
    assert s21["patched"]["misc"]["cells"] == {"cortex-a76-vhe": "SKIP", "max-vhe": "PASS"}
    for t in rows:
        rig = run.requirements[t["misc"]["requirement"]][t["misc"]["kernel"]]
        assert t["status"] == {"pass": "PASS", "fail": "FAIL", "skip": "SKIP",
                               "not-run": "MISS"}[rig]
    control = one(doc, path="pfnmap.requirement.S2-2", kernel="baseline")
    assert control["status"] == "PASS" and control["misc"]["baseline_expected"] == "pass"


def test_cell_rows(doc):
    boot = one(doc, path="boot", kernel="patched", cell="max-vhe")
    assert boot["status"] == "PASS"
    suite = one(doc, path="kselftest", kernel="patched", cell="max-vhe")
    assert suite["status"] == "PASS" and suite["duration"] == 93.1
    assert one(doc, path="kselftest", kernel="baseline", cell="max-vhe")["status"] == "FAIL"


def test_checkouts_and_builds(doc):
    base, patched = doc["checkouts"]
    assert base["patchset_hash"] == "" and base["tree_name"] == "debian"
    # The sample's patch names are not files anywhere: no hash is better
    # than a wrong one.
    assert "patchset_hash" not in patched and "patchset_files" not in patched
    assert len(patched["misc"]["patches"]) == 5
    assert "git_commit_hash" not in patched
    assert [b["status"] for b in doc["builds"]] == ["PASS", "PASS"]
    assert doc["builds"][1]["misc"]["kernelrelease"] == "6.12.117-pfnmap"
    assert doc["builds"][1]["architecture"] == "arm64"


# ---- statuses the sample does not have ----

def test_crash_timeout_and_splat_statuses(sample_run, validator):
    add_cell(sample_run, "patched", "max-nvhe", tap="crash.tap", mode="nvhe",
             console="console-splat.log")
    add_cell(sample_run, "patched", "splat", tap="splat.tap")
    doc = output_kcidb.report(results.load_run(sample_run))
    assert errors(validator, doc) == []
    crashed = one(doc, cell="max-nvhe", path="kselftest.kvm.pfnmap_memslot_test")
    assert crashed["status"] == "ERROR" and crashed["misc"]["outcome"].startswith("crash")
    timed_out = one(doc, cell="max-nvhe", path="kselftest.kvm.pfnmap_block_test")
    assert timed_out["status"] == "ERROR" and timed_out["misc"]["outcome"].startswith("timeout")
    missing = one(doc, cell="max-nvhe",
                  path="kselftest.kvm.pfnmap_memslot_test.memslot.multi_vma.first_offender")
    assert missing["status"] == "ERROR"
    unnamed = one(doc, cell="max-nvhe", path="kselftest.kvm.pfnmap_memslot_test.3")
    assert unnamed["status"] == "ERROR"
    # A splat outside the tests fails the cell's roll-up.
    suite = one(doc, cell="max-nvhe", path="kselftest")
    assert suite["status"] == "FAIL" and "kernel splat outside tests" in suite["comment"]
    splat = [t for t in rows_where(doc, cell="splat") if t["path"].startswith("kselftest.kvm.")]
    assert splat and all(t["status"] == "FAIL" for t in splat
                         if t["misc"]["binary"] == "kvm:pfnmap_s2attr_test")
    blk = one(doc, kernel="patched", path="pfnmap.requirement.BLK-1")
    assert blk["status"] == "ERROR" and blk["misc"]["rig_result"] == "fail"


@pytest.mark.parametrize("status,boot,suite", [
    # A boot timeout under TCG is not the kernel's fault (results.py): ERROR.
    ("boot-timeout", "ERROR", "ERROR"), ("panic", "FAIL", "FAIL"),
    ("qemu-crash", "MISS", "MISS"), ("no-results", "MISS", "MISS"),
    ("cell-timeout", "ERROR", "ERROR")])
def test_cell_failures(sample_run, validator, status, boot, suite):
    add_cell(sample_run, "patched", "broken", status=status, status_detail="x")
    doc = output_kcidb.report(results.load_run(sample_run))
    assert errors(validator, doc) == []
    assert one(doc, cell="broken", path="boot")["status"] == boot
    assert one(doc, cell="broken", path="kselftest")["status"] == suite


def test_cut_stream(sample_run):
    add_cell(sample_run, "patched", "cut", tap="truncated.tap", status="no-results",
             status_detail="the results stream has no end marker")
    add_cell(sample_run, "patched", "panicked", tap="truncated.tap", status="panic",
             status_detail="Kernel panic - not syncing")
    doc = output_kcidb.report(results.load_run(sample_run))
    for cell in ("cut", "panicked"):
        assert one(doc, cell=cell, path="boot")["status"] == "PASS"  # it reached the init
    cut = one(doc, cell="cut", path="kselftest")
    assert cut["status"] == "ERROR" and "truncated" in cut["comment"]
    assert one(doc, cell="panicked", path="kselftest")["status"] == "FAIL"


def test_build_status_unknown_when_nothing_booted(sample_run):
    for d in (sample_run / "cells").iterdir():
        if d.name.startswith("patched-"):
            for f in d.iterdir():
                f.unlink()
            d.rmdir()
    add_cell(sample_run, "patched", "max-vhe", status="no-results",
             status_detail="kernel or initramfs was not built")
    doc = output_kcidb.report(results.load_run(sample_run))
    assert "status" not in doc["builds"][1]


def test_case_status_mapping():
    def st(result, reason=""):
        return output_kcidb.case_status(ReportCase("c", "kvm:t", result, reason))[0]
    assert st("pass") == "PASS"
    assert st("pass", "expected failure (XFAIL): known") == "PASS"
    assert st("skip", "no FWB") == "SKIP"
    assert st("fail", "foo.c:12: Expected 1 == 0") == "FAIL"
    assert st("fail", "exit=1") == "FAIL"
    assert st("fail", "exit=139") == "ERROR"
    assert st("fail", "TIMEOUT 300 seconds") == "ERROR"
    assert st("fail", "no result: the test binary crashed or timed out") == "ERROR"
    assert st("fail", "error mmap failed") == "ERROR"
    assert st("fail", "kernel splat: BUG: x (test said: no result: the test binary "
                      "crashed or timed out)") == "FAIL"


def test_case_path_normalization():
    def p(name, binary="kvm:pfnmap_s2attr_test"):
        return output_kcidb.case_path(ReportCase(name, binary, "pass"))
    assert p("fault_attr") == "kselftest.kvm.pfnmap_s2attr_test.fault_attr"
    assert p("a.b.c") == "kselftest.kvm.pfnmap_s2attr_test.a.b.c"
    assert p("VM fd: 0 or 1?") == "kselftest.kvm.pfnmap_s2attr_test.VM_fd_0_or_1"
    assert p("x..y. ") == "kselftest.kvm.pfnmap_s2attr_test.x.y"
    assert p("kvm:pfnmap_s2attr_test") == "kselftest.kvm.pfnmap_s2attr_test"
    assert p("kvm:pfnmap_s2attr_test #2") == "kselftest.kvm.pfnmap_s2attr_test.2"
    assert p("case 1", binary="") == "kselftest.case_1"
    assert p("?!") == "kselftest.kvm.pfnmap_s2attr_test.unnamed"


# ---- provenance ----

def test_patchset_hash_and_commit(sample_run, validator, tmp_path):
    info = json.loads((sample_run / "run.json").read_text())
    commit = "0123456789abcdef0123456789abcdef01234567"
    info["kernels"]["patched"]["git_commit_hash"] = commit
    (sample_run / "run.json").write_text(json.dumps(info))
    patches = sample_run / "patches"
    patches.mkdir()
    for i, name in enumerate(info["kernels"]["patched"]["patches"]):
        (patches / name).write_text(f"From {i}\n--- a/x\n+++ b/x\n")
    doc = output_kcidb.report(results.load_run(sample_run))
    assert errors(validator, doc) == []
    patched = doc["checkouts"][1]
    # The formula from the KCIDB documentation, run by the shell.
    want = subprocess.run("sha256sum *.patch | cut -c-64 | sha256sum | cut -c-64",
                          shell=True, cwd=patches, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert patched["patchset_hash"] == want
    assert [f["name"] for f in patched["patchset_files"]] == info["kernels"]["patched"]["patches"]
    assert all(f["url"].startswith("file:///") for f in patched["patchset_files"])
    assert patched["git_commit_hash"] == commit
    assert "git_commit_hash" not in doc["checkouts"][0]


def test_hardware_run(tmp_path, validator):
    out = tmp_path / "gh200"
    r = cli("hardware", data("hardware-gh200.log"), "--out", out,
            "--where", "hardware: GH200 (Neoverse V2)")
    assert r.returncode == 3, r.stdout + r.stderr  # incomplete: three IDs ran
    doc = output_kcidb.report(results.load_run(out))
    assert errors(validator, doc) == []
    case = one(doc, path="kselftest.kvm.pfnmap_s2attr_test.pfnmap_s2.device.dc_zva")
    assert case["status"] == "PASS"
    env = case["environment"]
    assert env["comment"].startswith("hardware: GH200 (Neoverse V2); vhe")
    assert env["misc"]["kind"] == "hardware" and env["misc"]["cpu"] == "neoverse-v2"
    assert "qemu_version" not in env["misc"]
    # Source and series unknown on hardware: those fields are left out.
    (checkout,) = doc["checkouts"]
    assert {"patchset_hash", "valid", "tree_name"}.isdisjoint(checkout)


# ---- the schema rejects what KCIDB rejects ----

@pytest.mark.parametrize("breakage", [
    "null_field", "null_in_misc", "bad_status", "lowercase_status", "id_without_origin",
    "build_id_without_origin", "bad_origin", "bad_path", "unknown_field",
    "unknown_env_field", "no_build_id", "bad_version", "bad_patchset_hash", "nul_in_comment",
    "bad_start_time"])
def test_schema_rejects(validator, doc, breakage):
    bad = copy.deepcopy(doc)
    test = bad["tests"][0]
    if breakage == "null_field":
        test["comment"] = None
    elif breakage == "null_in_misc":
        test["misc"]["note"] = None
    elif breakage == "bad_status":
        test["status"] = "TIMEOUT"
    elif breakage == "lowercase_status":
        test["status"] = "pass"
    elif breakage == "id_without_origin":
        test["id"] = "boot-max-vhe"
    elif breakage == "build_id_without_origin":
        test["build_id"] = "patched"
    elif breakage == "bad_origin":
        bad["builds"][0]["origin"] = "PFNMAP-rig"
    elif breakage == "bad_path":
        test["path"] = "kselftest.kvm.VM fd reports"
    elif breakage == "unknown_field":
        test["kernel"] = "patched"
    elif breakage == "unknown_env_field":
        test["environment"]["cpu"] = "max"
    elif breakage == "no_build_id":
        del test["build_id"]
    elif breakage == "bad_version":
        bad["version"] = {"major": 4, "minor": 3}
    elif breakage == "bad_patchset_hash":
        bad["checkouts"][0]["patchset_hash"] = "abc"
    elif breakage == "nul_in_comment":
        test["comment"] = "a\0b"
    elif breakage == "bad_start_time":
        test["start_time"] = "2025-03-01 12:00"
    assert errors(validator, bad)


# ---- command line ----

def test_cli(sample_run, tmp_path, validator):
    r = cli("kcidb", sample_run)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"kcidb: {sample_run / 'kcidb.json'}"
    default = json.loads((sample_run / "kcidb.json").read_text())
    assert errors(validator, default) == []
    out = tmp_path / "k.json"
    r = cli("kcidb", sample_run, "--out", out, "--origin", "my_lab")
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert all(o["origin"] == "my_lab" and o["id"].startswith("my_lab:")
               for kind in ("checkouts", "builds", "tests") for o in doc[kind])
    r = cli("kcidb", sample_run, "--out", "-")
    assert r.returncode == 0 and json.loads(r.stdout)["version"]["minor"] == 3


def test_cli_bad_input(sample_run, tmp_path):
    r = cli("kcidb", sample_run, "--origin", "Not-An-Origin", "--out", tmp_path / "x.json")
    assert r.returncode == 2 and "origin" in r.stderr
    assert not (tmp_path / "x.json").exists()
    assert cli("kcidb", tmp_path / "nowhere").returncode == 2
    assert "kcidb" in cli("--help").stdout


def test_requirements_cover_spec(doc):
    ids = {t["misc"]["requirement"] for t in doc["tests"] if "requirement" in t["misc"]}
    assert set(reqs.ORDER) <= ids
