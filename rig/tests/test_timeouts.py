"""rig/timeouts.py: the cell timeout must cover the tests it runs."""
import os
import subprocess
import sys

import pytest
from conftest import RIG

import timeouts


@pytest.fixture
def install(tmp_path):
    """A kselftest install dir shaped like build/selftests/kselftest_install."""
    (tmp_path / "kvm").mkdir()
    (tmp_path / "vfio").mkdir()
    (tmp_path / "kvm" / "settings").write_text("# why\ntimeout=300\n")
    (tmp_path / "vfio" / "settings").write_text("timeout=600\n")
    tests = [f"kvm:pfnmap_{t}_test" for t in ("memslot", "s2attr", "exec")]
    tests += ["vfio:nvgrace_mmap_test", "nosettings:probe"]
    (tmp_path / "kselftest-list.txt").write_text("\n".join(tests) + "\n")
    return tmp_path


def test_required_seconds(install):
    entries = timeouts.read_list(install / "kselftest-list.txt")
    total, per = timeouts.required_seconds(entries, install)
    assert per == {"kvm": (3, 300), "vfio": (1, 600), "nosettings": (1, 45)}
    assert total == 3 * 300 + 600 + 45
    assert timeouts.required_seconds(entries, install, scale=3, tests="kvm:*")[0] == 2700


def _cli(*args):
    return subprocess.run([sys.executable, os.path.join(RIG, "timeouts.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=30)


def test_cli(install):
    ok = _cli("--settings-dir", install, "--cell-timeout", 1545)
    assert ok.returncode == 0 and ok.stderr == ""
    short = _cli("--settings-dir", install, "--cell-timeout", 2400, "--scale", 3,
                 "--boot-timeout", 180)
    assert short.returncode == 1
    assert short.stderr.splitlines() == [
        "timeouts: cell timeout 2400s is 2415s short of the 4815s its tests may take: "
        "3 kvm tests x 900s + 1 nosettings test x 135s + 1 vfio test x 1800s + boot 180s "
        "(scale 3)"]
    filtered = _cli("--settings-dir", install, "--cell-timeout", 400, "--tests",
                    "kvm:pfnmap_memslot_test")
    assert filtered.returncode == 0
    assert _cli("--settings-dir", install / "nope", "--cell-timeout", 1).returncode == 2
