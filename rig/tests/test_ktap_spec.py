"""KTAP as Documentation/dev-tools/ktap.rst defines it: its own examples
(typed into tests/data/ktap-spec-*.ktap), directives, Bail out!, numbering."""
from conftest import read

import ktap_parser
from ktap_parser import parse_lines
from rig_stream import read_stream


def _tree(case):
    """(name, result, [children...]) for comparing a whole hierarchy."""
    kids = case.children.cases if case.children else []
    return (case.name, case.result, [_tree(k) for k in kids])


def test_spec_two_nested_subtests():
    (doc,) = parse_lines(read("ktap-spec-two-nested.ktap"))
    (example,) = doc.cases
    assert _tree(example) == ("example", "fail", [("test_1", "pass", []),
                                                  ("test_2", "fail", [])])
    # "# example failed" sits at the parent's indentation, before its result.
    assert example.reason == "example failed"


def test_spec_multiple_levels_of_nesting():
    (doc,) = parse_lines(read("ktap-spec-multi-level.ktap"))
    assert [_tree(c) for c in doc.cases] == [
        ("example_test_1", "fail", [
            ("test_3", "fail", [("test_1", "fail", []), ("test_2", "pass", [])]),
            ("test_4", "skip", [])]),
        ("example_test_2", "pass", [])]
    assert doc.plan == 2 and not doc.warnings


def test_spec_example_output_hierarchy():
    (doc,) = parse_lines(read("ktap-spec-example.ktap"))
    (main,) = doc.cases
    assert _tree(main) == ("main_test", "fail", [
        ("example_test_1", "pass", [("test_1", "pass", [])]),
        ("example_test_2", "pass", [("test_1", "skip", []), ("test_2", "pass", [])]),
        ("example_test_3", "fail", [("test_1", "pass", []), ("test_2", "fail", []),
                                    ("test_3", "skip", [])])])
    ex1, ex2, ex3 = main.children.cases
    assert "    # test_1: initializing test_1" in ex1.children.cases[0].log
    assert ex2.children.cases[0].reason == "test_1 skipped"
    assert ex3.children.cases[1].reason == "test_2: FAIL"
    assert ex3.children.cases[2].reason == "test_3 skipped"


def test_two_and_four_space_indentation_agree():
    two = parse_lines(read("ktap-spec-multi-level.ktap"))
    four = parse_lines([line.replace("  ", "    ") for line in read("ktap-spec-multi-level.ktap")])
    assert [_tree(c) for c in two[0].cases] == [_tree(c) for c in four[0].cases]


def test_tap14_subtest_line_without_version():
    (doc,) = parse_lines(read("tap14-subtest.tap"))
    memslot, plain = doc.cases
    assert memslot.children.name == "memslot"
    assert _tree(memslot) == ("memslot", "fail", [("create", "pass", []),
                                                  ("flags_update", "fail", [])])
    assert _tree(plain) == ("plain", "pass", [])


def test_todo_is_its_own_result_never_a_skip():
    s = read_stream(read("ktap-directives.ktap"))
    by_name = {c.name: c for c in s.cases}
    # "not ok # TODO" stays a failure; only "ok # TODO" is a todo.
    assert by_name["not_yet"].result == "fail"
    assert by_name["not_yet"].reason == "TODO: cacheable MIXEDMAP not wired up"
    assert by_name["lucky"].result == "todo" and by_name["lucky"].reason == "TODO (passed): flaky"
    assert not [c for c in s.cases if c.result == "skip" and "TODO" in c.reason]


def test_timeout_and_error_directives_are_errors():
    s = read_stream(read("ktap-directives.ktap"))
    by_name = {c.name: c for c in s.cases}
    assert (by_name["slow"].result, by_name["slow"].kind) == ("fail", "timeout")
    assert (by_name["broken_setup"].result, by_name["broken_setup"].kind) == ("fail", "error")


def test_plan_zero_skip_keeps_its_reason():
    s = read_stream(read("ktap-directives.ktap"))
    (skipped,) = [c for c in s.cases if c.name == "nothing_to_do"]
    assert (skipped.result, skipped.reason) == ("skip", "no FEAT_S2FWB on this CPU")
    # At the top level, with no parent result, the document itself is the case.
    (whole,) = read_stream(["TAP version 13\n", "1..0 # SKIP /dev/kvm not available\n"]).cases
    assert (whole.result, whole.reason) == ("skip", "/dev/kvm not available")
    # A runner that says "ok" for a binary that skipped everything: still a skip.
    lines = ["TAP version 13", "1..1", "# selftests: kvm: t", "# TAP version 13",
             "# 1..0 # SKIP KVM_CAP_ARM_MTE not supported", "ok 1 selftests: kvm: t"]
    (case,) = read_stream(lines).cases
    assert (case.result, case.reason) == ("skip", "KVM_CAP_ARM_MTE not supported")


def test_bail_out_is_the_reason_of_the_open_test():
    s = read_stream(read("ktap-directives.ktap"))
    aborted = [c for c in s.cases if c.binary == "aborted"]
    assert [c.result for c in aborted] == ["pass", "fail", "fail", "fail"]
    assert all(c.reason.startswith("Bail out! lost the test device") for c in aborted[1:])
    # At the top level it stops the whole stream: the cell is told.
    top = read_stream(["TAP version 13\n", "1..2\n", "ok 1 a\n", "Bail out! disk gone\n"])
    assert top.bailout == "disk gone"
    assert top.cases[-1].reason == "Bail out! disk gone"


def test_numbering_problems():
    s = read_stream(read("ktap-directives.ktap"))
    # A gap is a warning; a repeated number makes the document untrusted.
    assert s.warnings == ["numbering: test number 3 out of order (expected 2)"]
    (bad,) = [c for c in s.cases if c.name == "numbering"]
    assert (bad.result, bad.reason) == ("fail", "malformed TAP: test number 3 repeated")
    extra = parse_lines(["KTAP version 1\n", "1..1\n", "ok 1 a\n", "ok 2 b\n"])
    assert ktap_parser.warnings(extra, kind="errors") == ["top level: 2 results for a plan of 1"]


def test_per_case_time():
    s = read_stream(read("ktap-directives.ktap"))
    by_name = {c.name: c for c in s.cases}
    assert by_name["unit_time"].time == 1.5  # TAP 13 YAML duration_ms
    assert by_name["diag_time"].time == 0.25  # "# time: 250ms"
    assert by_name["setup"].time is None


def test_kselftest_tap13_still_parses():
    s = read_stream(read("splat.tap"))
    assert [c.result for c in s.cases] == ["fail", "fail", "fail", "fail"]
    assert not s.warnings
