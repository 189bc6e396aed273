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
    (tmp_path / "kvm" / "settings").write_text("timeout=120\n")  # upstream's
    (tmp_path / "vfio" / "settings").write_text("timeout=600\n")
    tests = [f"kvm:pfnmap_{t}_test" for t in ("memslot", "s2attr", "exec")]
    tests += ["kvm:arch_timer", "vfio:nvgrace_mmap_test", "nosettings:probe"]
    (tmp_path / "kselftest-list.txt").write_text("\n".join(tests) + "\n")
    return tmp_path


def test_required_seconds(install):
    entries = timeouts.read_list(install / "kselftest-list.txt")
    rules = timeouts.read_rig_timeouts()
    total, per = timeouts.required_seconds(entries, install, rules=rules)
    assert per == {"kvm:pfnmap_*": (3, 300), "kvm": (1, 120), "vfio": (1, 600),
                   "nosettings": (1, 45)}
    assert total == 3 * 300 + 120 + 600 + 45
    assert timeouts.required_seconds(entries, install, scale=3, tests="kvm:*",
                                     rules=rules)[0] == 3 * 900 + 360
    # Without the rig's own timeouts, upstream's kvm/settings applies.
    assert timeouts.required_seconds(entries, install)[1]["kvm"] == (4, 120)


def test_rig_timeouts_first_match_wins(tmp_path):
    table = tmp_path / "t"
    table.write_text("# why\n\nkvm:pfnmap_block_test\t900\nkvm:pfnmap_*\t300\n")
    rules = timeouts.read_rig_timeouts(table)
    assert rules == [("kvm:pfnmap_block_test", 900), ("kvm:pfnmap_*", 300)]
    entries = ["kvm:pfnmap_block_test", "kvm:pfnmap_exec_test"]
    assert timeouts.required_seconds(entries, tmp_path, rules=rules)[0] == 1200


def _cli(*args):
    return subprocess.run([sys.executable, os.path.join(RIG, "timeouts.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=30)


def test_cli(install):
    ok = _cli("--settings-dir", install, "--cell-timeout", 1665)
    assert ok.returncode == 0 and ok.stderr == ""
    short = _cli("--settings-dir", install, "--cell-timeout", 2400, "--scale", 3,
                 "--boot-timeout", 180)
    assert short.returncode == 1
    assert short.stderr.splitlines() == [
        "timeouts: cell timeout 2400s is 2775s short of the 5175s its tests may take: "
        "1 kvm test x 360s + 3 kvm:pfnmap_* tests x 900s + 1 nosettings test x 135s + "
        "1 vfio test x 1800s + boot 180s (scale 3)"]
    filtered = _cli("--settings-dir", install, "--cell-timeout", 400, "--tests",
                    "kvm:pfnmap_memslot_test")
    assert filtered.returncode == 0
    assert _cli("--settings-dir", install / "nope", "--cell-timeout", 1).returncode == 2


def test_comma_separated_globs_select_each_test(install):
    entries = timeouts.read_list(install / "kselftest-list.txt")
    rules = timeouts.read_rig_timeouts()
    total, per = timeouts.required_seconds(entries, install, tests="kvm:arch_timer,vfio:*",
                                           rules=rules)
    assert per == {"kvm": (1, 120), "vfio": (1, 600)} and total == 720


def test_space_separated_globs_select_each_test_too(install):
    # boot-cell.sh turns them into one comma-separated kernel argument
    entries = timeouts.read_list(install / "kselftest-list.txt")
    rules = timeouts.read_rig_timeouts()
    total, per = timeouts.required_seconds(entries, install, tests=" kvm:arch_timer  vfio:* ",
                                           rules=rules)
    assert per == {"kvm": (1, 120), "vfio": (1, 600)} and total == 720


def test_print_required_is_the_sum_plus_the_boot(install, capsys):
    assert timeouts.main(["--settings-dir", str(install), "--cell-timeout", "0",
                          "--boot-timeout", "100", "--print-required"]) == 0
    assert capsys.readouterr().out.strip() == str(3 * 300 + 120 + 600 + 45 + 100)
