"""The KVM cases fit kvm/settings' per-binary timeout (upstream's 120 s):
a case timeout above it belongs to a long sweep, which runs only with
PFNMAP_LONG_SWEEPS=1 (the rig sets it, with test-timeouts of its own)."""
import os
import re

TOP = os.path.join(os.path.dirname(__file__), "..", "..")
KVM = os.path.join(TOP, "tools/testing/selftests/kvm/aarch64")
_TIMEOUT = re.compile(r"^TEST_F_TIMEOUT\((\w+),\s*(\w+),\s*(\d+)\)\n\{\n(.*?)\n\}", re.M | re.S)


def test_kvm_case_timeouts_fit_kvm_settings_or_are_behind_the_option():
    long_ones = []
    for name in sorted(os.listdir(KVM)):
        if not name.endswith("_test.c"):
            continue
        with open(os.path.join(KVM, name), encoding="utf-8") as f:
            text = f.read()
        for fixture, test, secs, body in _TIMEOUT.findall(text):
            if int(secs) <= 120:
                continue
            assert "if (!pfnmap_long_sweeps())" in body.splitlines()[0], (name, test)
            long_ones.append(f"{fixture}.{test}")
    assert long_ones == ["blk.every_page_reads_its_offset_and_each_block_maps_its_own_pfns"]
