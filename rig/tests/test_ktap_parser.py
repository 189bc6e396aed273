"""The TAP/KTAP parser on its own (rig-agnostic)."""
from conftest import read

import ktap_parser
from ktap_parser import NO_RESULT, parse_lines, tokenize


def test_tokenize_depth_and_kind():
    assert (tokenize("ok 1 x").depth, tokenize("ok 1 x").kind) == (0, "result")
    assert (tokenize("# ok 1 x").depth, tokenize("# ok 1 x").kind) == (1, "result")
    line = tokenize("# # REQ: S2-1 SEC-1")
    assert (line.depth, line.kind, line.text) == (1, "diag", "REQ: S2-1 SEC-1")
    run = tokenize("# #  RUN           pfnmap_s2.device.exec ...")
    assert (run.depth, run.kind, run.text) == (1, "diag", "RUN           pfnmap_s2.device.exec ...")
    assert tokenize("    KTAP version 1").depth == 1
    assert tokenize("        ok 1 x").depth == 2
    assert tokenize("#     ok 1 nested").depth == 2  # KTAP inside run_kselftest.sh
    assert tokenize("[   12.5] TAP version 13").kind == "version"
    assert tokenize("# ok, next").kind == "diag"  # no number: not a result


def test_directives():
    assert ktap_parser.parse_result("ok 3 a.b # SKIP no view: build with X=y") == \
        ("skip", 3, "a.b", "no view: build with X=y")
    assert ktap_parser.parse_result("not ok 1 selftests: kvm: t # TIMEOUT 120 seconds") == \
        ("fail", 1, "selftests: kvm: t", "TIMEOUT 120 seconds")
    # "ok # TODO" is its own result, never a skip; "not ok # TODO" fails.
    assert ktap_parser.parse_result("ok 4 x # TODO later")[::3] == ("todo", "TODO (passed): later")
    assert ktap_parser.parse_result("not ok 4 x # TODO later")[::3] == ("fail", "TODO: later")
    # XFAIL fails: a check that expected to fail proved nothing (kunit.py
    # parse counts it a pass; see ktap_parser's docstring).
    assert ktap_parser.parse_result("ok 4 - x # XFAIL known")[:3] == ("fail", 4, "x")
    assert ktap_parser.parse_result("ok 1 # SKIP")[2] == ""


def test_harness_document_with_requirements():
    docs = parse_lines(read("splat.tap"))
    assert len(docs) == 2  # one TAP document per binary
    outer = docs[0].cases[0]
    assert outer.name == "selftests: kvm: pfnmap_s2attr_test"
    assert outer.result == "fail" and outer.reason == "exit=1"
    inner = outer.children.cases
    assert [(c.name, c.result, c.requirements) for c in inner] == [
        ("pfnmap_s2.normal_wb_nonlinear.fault_attr", "pass", ["S2-1", "SEC-1"]),
        ("pfnmap_s2.nc_allow_uncached.fault_attr", "fail", ["S2-2"]),
        ("pfnmap_s2.device.exec", "skip", ["X-1"]),
    ]
    assert inner[1].reason.startswith("pfnmap_s2attr_test.c:120:fault_attr:Expected")
    assert inner[2].reason == "no stage-2 view: build with CONFIG_KVM_ARM_STAGE2_DEBUGFS=y"
    assert any("FAIL  pfnmap_s2.nc_allow_uncached" in l for l in inner[1].log)


def test_binary_that_stopped_early():
    docs = parse_lines(read("crash.tap"))
    memslot = docs[0].cases[0]
    assert memslot.children.missing == 2
    got = [(c.name, c.result, c.reason, c.synthetic) for c in memslot.children.cases]
    assert got[0] == ("memslot.normal_nc.create", "pass", "", False)
    # The case that was running keeps its RUN name and REQ line.
    assert got[1] == ("memslot.multi_vma.first_offender", "fail", NO_RESULT, True)
    assert memslot.children.cases[1].requirements == ["MS-4"]
    assert got[2][1:] == ("fail", NO_RESULT, True)
    assert memslot.all_requirements() == ["MS-2", "MS-4"]


def test_stream_cut_mid_binary():
    docs = parse_lines(read("truncated.tap"))
    last = docs[-1].cases[-1]
    assert last.synthetic and last.result == "fail"
    assert last.name == "selftests: kvm: pfnmap_mte_test"
    assert [c.result for c in last.children.cases] == ["pass", "fail", "fail"]


def test_ktap_nested_indentation():
    docs = parse_lines(read("kunit-nested.ktap"))
    assert len(docs) == 1 and docs[0].version == "KTAP version 1"
    suite, cap = docs[0].cases
    assert suite.children.name == "kvm_pfnmap_attr"
    param = suite.children.cases[2]
    assert param.name == "device_pgprot_is_device"
    assert [c.result for c in param.children.cases] == ["pass", "fail", "skip"]
    assert param.children.cases[1].reason.startswith("pgprot_noncached: EXPECTATION FAILED")
    assert cap.children.cases[0].result == "fail"  # XFAIL


def test_plain_kselftest_without_harness_markers():
    case = parse_lines(read("nonharness.tap"))[0].cases[0]
    assert [(c.result, c.requirements) for c in case.children.cases] == [
        ("pass", ["CAP-1"]), ("pass", ["CAP-2"]), ("pass", ["CAP-1"]), ("fail", ["CAP-3"])]
