"""KVM's assertion block (TEST_ASSERT, GUEST_ASSERT) ends up in the failing
case's reason, its log and the junit body."""
import xml.etree.ElementTree as ET

from conftest import read, write_cell, write_run

import ktap_parser
import output_json
import output_junit
import results
from rig_stream import read_stream



def _case_name(tc):
    """A junit testcase's case name, without the "binary: " it starts with."""
    return tc.get("name").split(": ", 1)[-1]

def _cases(name):
    return {c.name: c for c in read_stream(read(name)).cases}


def test_harness_case_gets_the_block_printed_by_its_child():
    case = _cases("assert-harness.tap")["kind.nc_nonlinear_pfnmap.fault_attr"]
    assert case.result == "fail" and case.requirements == ["S2-3"]
    assert case.reason == ("aarch64/pfnmap_s2attr_test.c:188: leaf.type == want; "
                           "stage 2 at IPA 0x80000000 is NORMAL_NC, want DEVICE_nGnRE (S2-3)")
    assert "# ==== Test Assertion Failure ====" in case.log
    assert "#   pid=77 tid=77 errno=0 - Success" in case.log
    assert case.kind == "failure"
    # The block does not leak into the next case.
    anon = _cases("assert-harness.tap")["kind.anon.fault_attr"]
    assert anon.result == "pass" and not any("Assertion" in line for line in anon.log)


def test_binary_that_exits_on_an_assertion():
    cases = _cases("assert-harness.tap")
    running = cases["kvm:pfnmap_exec_test #1"]
    assert running.requirements == ["CAP-3", "X-2"]
    assert running.reason.startswith("aarch64/pfnmap_exec_test.c:120: __a == __b; "
                                     "0xd503201f != 0x52800020 (insn != expected)")
    assert running.kind == "failure"  # it asserted: a verdict, not a crash
    assert cases["kvm:pfnmap_exec_test #2"].kind == "crash"
    outer = cases["kvm:pfnmap_exec_test"]
    assert outer.reason.startswith("aarch64/pfnmap_exec_test.c:120") and "exit=254" in outer.reason


def test_unprefixed_block_between_tap_lines():
    """A binary run directly (hardware): the block is plain text lines."""
    (first, second) = read_stream(read("assert-raw.tap")).cases
    assert first.result == "pass" and second.requirements == ["S2-7"]
    assert second.reason.startswith("aarch64/pfnmap_memslot_test.c:371: !ret; KVM_RUN after "
                                    "the VMA swap: want success, got errno 14 (Bad address)")
    assert "  aarch64/pfnmap_memslot_test.c:371: !ret" in second.log


def test_summary_skips_stack_and_errno_lines():
    block = ["==== Test Assertion Failure ====", "  lib/kvm_util.c:1234: !ret",
             "  pid=5 tid=5 errno=22 - Invalid argument", "  (stack trace empty)",
             "  KVM_SET_USER_MEMORY_REGION failed, rc: -1 errno: 22 (Invalid argument)",
             "ok 2 next"]
    assert ktap_parser.assertion_summary(block) == (
        "lib/kvm_util.c:1234: !ret; KVM_SET_USER_MEMORY_REGION failed, rc: -1 errno: 22 "
        "(Invalid argument)")
    assert ktap_parser.assertion_summary(["# ok 1 x"]) == ""


def test_block_reaches_summary_and_junit(tmp_path):
    run_dir = write_run(tmp_path / "r")
    write_cell(run_dir, "patched", "hw", "".join(read("assert-harness.tap")), duration_s=42.0)
    run = results.load_run(run_dir)
    by_name = {c["name"]: c for c in output_json.summary(run)["cells"][0]["cases"]}
    assert by_name["kind.nc_nonlinear_pfnmap.fault_attr"]["reason"].startswith(
        "aarch64/pfnmap_s2attr_test.c:188: leaf.type == want; stage 2 at IPA")
    root = ET.fromstring(output_junit.render(run))
    (tc,) = [t for t in root.iter("testcase")
             if _case_name(t) == "kind.nc_nonlinear_pfnmap.fault_attr"]
    failure = tc.find("failure")
    assert failure.get("message").startswith("aarch64/pfnmap_s2attr_test.c:188")
    assert "==== Test Assertion Failure ====" in failure.text
    assert "stage 2 at IPA 0x80000000 is NORMAL_NC" in failure.text
