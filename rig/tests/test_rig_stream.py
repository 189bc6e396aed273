"""The rig layer: framing, ENV, SPLAT, flattening, console splats."""
import pytest

from conftest import read

import console_scan
from ktap_parser import NO_RESULT
from rig_stream import read_stream


def test_env_and_framing():
    s = read_stream(read("splat.tap"))
    assert s.began and s.ended and not s.truncated
    assert s.env["kvm_mode"] == "vhe" and s.env["fwb"] == "1"
    assert s.env["where"] == "QEMU 7.2.19 TCG on x86_64"  # value with spaces
    assert s.test_env["kvm:pfnmap_s2attr_test"] == {"cap": "1", "s2view": "yes"}


def test_splat_fails_every_case_of_that_binary():
    s = read_stream(read("splat.tap"))
    s2 = [c for c in s.cases if c.binary == "kvm:pfnmap_s2attr_test"]
    assert [c.result for c in s2] == ["fail", "fail", "fail"]
    assert all("kernel splat: WARNING: CPU: 1 PID: 80" in c.reason for c in s2)
    assert "Expected" in s2[1].reason  # the test's own reason is kept


def test_timeout_becomes_failing_case_named_after_binary():
    s = read_stream(read("splat.tap"))
    block = [c for c in s.cases if c.binary == "kvm:pfnmap_block_test"]
    assert [(c.name, c.result, c.reason) for c in block] == [
        ("kvm:pfnmap_block_test", "fail", "TIMEOUT 120 seconds")]


def test_crash_keeps_requirements_of_the_binary():
    s = read_stream(read("crash.tap"))
    names = {c.name: c for c in s.cases}
    outer = names["kvm:pfnmap_memslot_test"]
    assert outer.result == "fail" and outer.requirements == ["MS-2", "MS-4"]
    assert "exit=139" in outer.reason and "stopped after 1 of 3" in outer.reason
    assert names["memslot.multi_vma.first_offender"].reason == NO_RESULT
    assert names["kvm:pfnmap_memslot_test #3"].result == "fail"
    assert names["kvm:pfnmap_block_test"].requirements == ["BLK-1"]
    assert names["cmo.device.dc_zva"].result == "skip"


def test_truncated_stream_is_detected():
    s = read_stream(read("truncated.tap"))
    assert s.began and s.truncated
    mte = [c for c in s.cases if c.binary == "kvm:pfnmap_mte_test"]
    assert [c.result for c in mte] == ["pass", "fail", "fail", "fail"]
    assert mte[1].name == "mte.swap_in.fault" and mte[1].requirements == ["MTE-2"]


def test_unframed_log_and_kunit_names():
    s = read_stream(read("kunit-nested.ktap"))
    assert not s.began and not s.truncated
    assert [c.name for c in s.cases if c.binary == "kvm_pfnmap_attr"][2:] == [
        "device_pgprot_is_device.pgprot_device",
        "device_pgprot_is_device.pgprot_noncached",
        "device_pgprot_is_device.pgprot_writecombine"]


def test_profile_lines():
    lines = ["# rig-begin\n", "# PROFILE: cow=refused\n", "TAP version 13\n", "1..1\n",
             "# # PROFILE: cow=isolated\n", "ok 1 selftests: kvm: x\n", "# rig-end\n"]
    assert read_stream(lines).profile == {"cow": "refused / isolated"}


def test_console_splats_outside_tests():
    console = read("console-splat.log")
    found = console_scan.find_splats(console)
    assert found[0].startswith("WARNING: CPU: 1 PID: 80")
    assert not any("kasan: KernelAddressSanitizer" in f for f in found)
    reported = ["WARNING: CPU: 1 PID: 80 at arch/arm64/kvm/mmu.c:1234 user_mem_abort+0x1c4/0x9a0"]
    assert console_scan.unattributed(console, reported) == [
        "WARNING: possible circular locking dependency detected"]
    assert console_scan.find_splats(read("sample-run/cells/patched-max-vhe/console.log")) == []


@pytest.mark.parametrize("line,mode", [
    ("[    0.512] kvm [1]: VHE mode initialized successfully", "vhe"),
    ("[    0.512] kvm [1]: Hyp nVHE mode initialized successfully", "nvhe"),
    ("kvm [1]: Hyp hVHE mode initialized successfully", "hvhe"),
    ("kvm [1]: Protected nVHE mode initialized successfully", "protected"),
])
def test_kvm_mode_from_the_kernel_log(line, mode):
    assert console_scan.kvm_mode(["booting", line]) == mode
    assert console_scan.kvm_mode(["no kvm here"]) is None
