"""The baseline's controls: S2-2 and S2-3 need the stage-2 view the
baseline lacks, so their skip (behaviour checked, type not seen) is not a
mismatch; any other control that skips is."""
import requirements as reqs

ALL_PASS = {i: "pass" for i in reqs.BASELINE_MUST_PASS} | \
           {i: "fail" for i in reqs.BASELINE_MUST_FAIL}


def test_view_only_controls_may_skip_on_the_baseline():
    got = dict(ALL_PASS, **{"S2-2": "skip", "S2-3": "skip"})
    assert reqs.check_baseline(got) == []


def test_other_controls_may_not_skip():
    got = dict(ALL_PASS, **{"S2-4": "skip", "S2-8": "skip"})
    bad = reqs.check_baseline(got)
    assert any("S2-4" in m for m in bad) and any("S2-8" in m for m in bad)


def test_a_failing_view_only_control_is_still_a_mismatch():
    assert any("S2-2" in m for m in reqs.check_baseline(dict(ALL_PASS, **{"S2-2": "fail"})))
