"""CPU features read from the emulator's gdbstub (saved gdb-multiarch
outputs of QEMU 7.2 and 10.0), and the capability rule judged by them."""
import pytest
from conftest import data

import cpu_features


def _parse(name):
    with open(data(f"gdb/{name}.txt"), encoding="utf-8") as f:
        return cpu_features.parse(f.read())


@pytest.mark.parametrize("name, fwb, dic, idc", [
    ("qemu7.2-max", 1, 0, 0),
    ("qemu7.2-neoverse-n1", 0, 0, 0),
    ("qemu10-cortex-a710", 1, 0, 1),
    ("qemu10-neoverse-v1", 1, 1, 1),
    ("qemu10-max", 1, 1, 1),
])
def test_decode_saved_outputs(name, fwb, dic, idc):
    got = _parse(name)
    assert (got["fwb"], got["dic"], got["idc"]) == (fwb, dic, idc)
    assert got["source"].startswith("QEMU gdbstub")


def test_mte_needs_tag_storage():
    assert _parse("qemu10-max")["mte"] == 1 and _parse("qemu7.2-max")["mte"] == 1
    assert _parse("qemu10-cortex-a710")["mte"] == 0  # MTE=1: instructions only


def test_missing_register_is_an_error():
    with pytest.raises(ValueError, match="CTR_EL0"):
        cpu_features.parse("ID_AA64MMFR2_EL1 0x1 1\nID_AA64PFR1_EL1 0x0 0\n")


def test_cli_parse(capsys):
    assert cpu_features.main(["--parse", data("gdb/qemu10-cortex-a710.txt")]) == 0
    assert '"dic": 0' in capsys.readouterr().out
    assert cpu_features.main(["--socket", "/nonexistent/sock", "--out", "/dev/null",
                              "--wait", "0"]) == 1


def test_cap_rule_uses_the_emulators_features_over_the_kernels(tmp_path):
    import json
    import os
    from conftest import binary_tap, framed
    from test_coverage import load
    # The kernel claims no FWB on a710 (say its cpufeature code is wrong);
    # the emulator says FWB without DIC. cap = 1 there, cap = 1 on v1.
    text = lambda cap, fwb, dic: framed(  # noqa: E731
        binary_tap("kvm:t", [("a", "CAP-1", "ok")], env=f"cap={cap}"),
        env=(f"fwb={fwb}", f"dic={dic}", "mte=0"))
    run = load(tmp_path, {("patched", "a710-vhe"): (text(1, 0, 0), {}),
                          ("patched", "v1-vhe"): (text(1, 1, 1), {})})
    for cell, src in (("a710-vhe", "qemu10-cortex-a710"), ("v1-vhe", "qemu10-neoverse-v1")):
        d = tmp_path / "r" / "cells" / f"patched-{cell}"
        (d / "cpu-features.json").write_text(json.dumps(_parse(src)))
    import results
    run = results.load_run(tmp_path / "r")
    import profiles
    assert profiles.cap_rules(run.cells_of("patched")) == ["FWB"]
    assert any("the kernel reports fwb=0, the emulator's vCPU registers say fwb=1" in w
               for w in run.warnings)
    assert os.path.basename(run.cells[0].logs["cpu_features"]) == "cpu-features.json"
