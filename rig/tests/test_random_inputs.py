"""Bounded random inputs (Debian's python3-hypothesis): the parser never
crashes, and the verdict is never `conformant` while some applicable
requirement did not pass."""
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import binary_tap, framed  # noqa: E402
from test_coverage import load  # noqa: E402

import requirements as reqs  # noqa: E402
import rig_stream  # noqa: E402

# Fragments of real streams, recombined at random.
FRAGMENTS = ["TAP version 13", "KTAP version 1", "1..2", "1..0 # SKIP none", "ok 1 a",
             "not ok 2 b", "ok 1 c # SKIP: why", "ok 3 d # XFAIL x", "not ok 1 e # TODO t",
             "# REQ: S2-1", "# ENV: cap=1 where=QEMU 7.2", "# PROFILE: cow=refused",
             "Bail out! gone", "# selftests: kvm: t", "# # REQ: BLK-1", "# ok 1 f",
             "# not ok 2 g # TIMEOUT 30", "    ok 1 h", "  1..1", "# rig-begin", "# rig-end",
             "==== Test Assertion Failure ====", "  t.c:1: x == y", "[   1.5] ok 4 i",
             "# SPLAT: kvm:t: WARNING: x", "ok 1 selftests: kvm: t # exit=254", "\x00\xff"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=40))
def test_parser_never_crashes(lines):
    s = rig_stream.read_stream([l + "\n" for l in lines])
    for case in s.cases:
        assert case.result in ("pass", "fail", "skip", "todo")


RESULTS = st.sampled_from(["ok", "not ok", "ok # SKIP x", "ok # SKIP: x", "ok # XFAIL x",
                           "not ok # TODO x", "ok # TODO x", "not ok # TIMEOUT 30", None])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(reqs.ORDER), RESULTS, max_size=8))
def test_never_conformant_unless_every_applicable_id_passed(tmp_path_factory, changes):
    cases = [(f"all.{i.lower()}", i, changes.get(i, "ok")) for i in reqs.ORDER
             if changes.get(i, "ok") is not None]
    text = framed(binary_tap("kvm:pfnmap_all_test", cases, "cap=1 mte=1"), env=("mte=1",))
    run = load(tmp_path_factory.mktemp("r"), {("patched", "hw"): (text, {"nvgrace": True})})
    v = run.verdicts["patched"]
    if v.verdict == "conformant":
        assert all(run.requirements[i]["patched"] == "pass" or i in v.not_applicable
                   for i in reqs.ORDER)
        assert all(r in (None, "ok") for r in changes.values()) or \
            all(i in v.not_applicable for i, r in changes.items() if r not in ("ok",))
