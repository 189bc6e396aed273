"""report.py as the rig and vendors run it: a subprocess, from another cwd."""
import json
import os
import subprocess
import sys

from conftest import RIG, add_cell, data

REPORT = os.path.join(RIG, "report.py")


def cli(*args, cwd="/"):
    return subprocess.run([sys.executable, REPORT, *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_help():
    r = cli("--help")
    assert r.returncode == 0 and "report" in r.stdout and "hardware" in r.stdout
    assert cli("hardware", "--help").returncode == 0


def test_report_met(sample_run):
    r = cli("report", sample_run)
    # Expectations met, but NV-3 only skipped (no plain vfio-pci device):
    # the patched kernel is incomplete for a reason nobody selected.
    assert r.returncode == 3, r.stdout + r.stderr
    assert "expectations met" in r.stdout
    for name in ("summary.json", "junit.xml", "report.html"):
        assert (sample_run / name).is_file()
    latest = sample_run.parent / "latest"
    assert latest.is_symlink() and os.readlink(latest) == sample_run.name
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["kernel", "cell", "emulator", "status", "pass", "fail", "skip",
                                "time"]
    assert any(l.split()[:4] == ["patched", "max-vhe", "qemu", "ok"] for l in lines)
    # The sample ran the suite's tests of its day (a TESTS selection): BLK-1
    # never ran, which that selection excuses, and the line says so.
    assert any(l.startswith("patched: incomplete (filtered run: ")
               and "BLK-1 never ran" in l and "NV-3 skipped" in l for l in lines)
    assert any(l.startswith("baseline: non-conformant (") for l in lines)
    assert "expectations met" in lines
    assert lines[-2] == "91 passed, 12 failed (12 expected), 21 skipped"
    assert lines[-1] == f"report: {sample_run / 'report.html'}"


def test_report_not_met_and_results_root(sample_run, tmp_path):
    add_cell(sample_run, "patched", "max-nvhe", tap="truncated.tap", status="panic",
             status_detail="Kernel panic - not syncing: Oops: Fatal exception",
             console="truncated-console.log")
    root = tmp_path / "elsewhere"
    root.mkdir()
    r = cli("report", sample_run, "--results-root", root)
    assert r.returncode == 1
    assert "expectations NOT met:" in r.stdout
    assert "patched-max-nvhe: results stream truncated" in r.stdout
    assert (root / "latest").resolve() == sample_run.resolve()


def test_report_unreadable(tmp_path):
    assert cli("report", tmp_path / "nope").returncode == 2
    (tmp_path / "run.json").write_text("[]")
    assert cli("report", tmp_path).returncode == 2


def test_parse(tmp_path):
    r = cli("parse", data("splat.tap"), data("nonharness.tap"), "--kernel", "patched")
    assert r.returncode == 1
    assert "[FAILED] pfnmap_s2.nc_allow_uncached.fault_attr [S2-2]" in r.stdout
    assert "[PASSED] VM fd reports 0 or 1 [CAP-1]" in r.stdout
    # "not ok # TODO" is a failure (it used to be a todo, and hid it).
    assert "[FAILED] cacheable memslot accepted [CAP-3]" in r.stdout
    assert "fail     SEC-1: " in r.stdout
    assert r.stdout.splitlines()[-1] == "3 passed, 5 failed, 0 skipped"
    bad = cli("parse", data("nonharness.tap"))
    assert bad.returncode == 1 and bad.stdout.splitlines()[-1] == "3 passed, 1 failed, 0 skipped"
    assert cli("parse", data("truncated.tap")).returncode == 1
    assert cli("parse", tmp_path / "missing.tap").returncode == 2


def test_parse_json():
    r = cli("parse", data("kunit-nested.ktap"), "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 1
    # The XFAIL case fails: an expected failure proves nothing.
    assert out["totals"] == {"passed": 3, "failed": 2, "skipped": 1}
    assert out["requirements"]["S2-3"] == "fail"


def test_hardware(tmp_path):
    out = tmp_path / "results" / "gh200"
    r = cli("hardware", data("hardware-gh200.log"), "--out", out,
            "--where", "hardware: GH200 (Neoverse V2)")
    # Three requirements covered out of 35 and nobody asked for less:
    # incomplete, and not a green exit.
    assert r.returncode == 3, r.stdout + r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["where"] == {"kind": "hardware", "description": "hardware: GH200 (Neoverse V2)",
                          "qemu_version": None, "cpu_models": ["neoverse-v2"], "emulators": [],
                          "host_uname": "6.12.117-pfnmap"}
    (cell,) = s["cells"]
    assert (cell["kernel"], cell["cell"], cell["mode"]) == ("patched", "hardware", "vhe")
    assert s["verdict"]["patched"]["verdict"] == "incomplete"
    assert "MS-2 never ran" in s["verdict"]["patched"]["incomplete"]
    assert s["requirements"]["CMO-3"]["patched"] == "pass"
    assert (tmp_path / "results" / "latest").is_symlink()
    html = (out / "report.html").read_text()
    assert "<b>Hardware</b>: hardware: GH200 (Neoverse V2)" in html


def test_hardware_baseline_gets_baseline_expectations(tmp_path):
    r = cli("hardware", data("hardware-gh200.log"), "--out", tmp_path / "b",
            "--kernel", "baseline")
    assert r.returncode == 1
    assert "baseline S2-1: pass, expected fail" in r.stdout
