"""Inputs that must never end `conformant` or exit 0 (the verdict issue,
items 1-4): directives spelled every way TAP writers spell them, TODO
failures, XFAIL, repeated numbers, a nested bail-out, incomplete runs, and
applicability taken from what the rig configured."""
import pytest
from conftest import binary_tap, framed
from test_coverage import all_requirements, load

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
