"""Profile consistency (SPEC "Profiles and verdicts"): each choice a kernel
makes is printed, and a kernel that makes two different ones fails the
requirement it belongs to. No kernel in the matrix shows every profile, so
these are recorded observations written out by hand."""
from types import SimpleNamespace

import pytest

import profiles


def cell(**profile):
    return SimpleNamespace(cell="c", profile=profile, env={}, test_env={})


@pytest.mark.parametrize("cow", ["refused", "refused-at-fault", "isolated"])
def test_every_cow_profile_alone_is_consistent(cow):
    cells = [cell(cow=cow), cell(cow=cow)]
    assert profiles.conflicts(cells) == {}
    assert profiles.summary(cells) == {"cow": cow}


@pytest.mark.parametrize("a,b", [("refused", "isolated"), ("refused", "refused-at-fault"),
                                 ("isolated", "refused-at-fault")])
def test_two_cow_profiles_fail_cow1(a, b):
    # e.g. COW PFNMAP refused at the memslot, COW MIXEDMAP mapped (v1)
    got = profiles.conflicts([cell(cow=a), cell(cow=b)])
    assert set(got) == {"COW-1"}
    assert a in got["COW-1"] and b in got["COW-1"]


def test_two_values_within_one_cell_count_too():
    # rig_stream joins two values seen in one cell with " / "
    assert set(profiles.conflicts([cell(cow="refused / isolated")])) == {"COW-1"}


def test_lazy_refusal_at_memslot_and_at_fault_fails_cap4():
    got = profiles.conflicts([cell(cap0_lazy="memslot"), cell(cap0_lazy="fault")])
    assert set(got) == {"CAP-4"}


def test_unrelated_keys_and_empty_cells_are_ignored():
    cells = [cell(), cell(cow="refused", other="x"), cell(other="y")]
    assert profiles.conflicts(cells) == {}
    assert profiles.summary(cells) == {"cow": "refused", "other": "x / y"}


@pytest.mark.parametrize("mte", ["efault", "mapped-uncached"])
def test_every_mte2_profile_alone_is_consistent(mte):
    assert profiles.conflicts([cell(mte_swapped_in=mte), cell(mte_swapped_in=mte)]) == {}


def test_two_mte2_answers_fail_mte2():
    got = profiles.conflicts([cell(mte_swapped_in="efault"),
                              cell(mte_swapped_in="mapped-uncached")])
    assert set(got) == {"MTE-2"} and "efault and mapped-uncached" in got["MTE-2"]


# ---- the capability rule, per CPU (SPEC "Profiles and verdicts") ----

def cpu(name, cap, fwb, dic):
    return SimpleNamespace(cell=name, profile={}, test_env={"kvm:t": {"cap": str(cap)}},
                           env={"fwb": str(fwb), "dic": str(dic)})


# (cap, fwb, dic) per cell, as QEMU 7.2 and 10.0 CPU models give them.
SERIES = {"max-7.2": (1, 1, 0), "n1": (0, 0, 0), "a710": (1, 1, 0), "v1": (1, 1, 1)}
UPSTREAM = {"max-7.2": (0, 1, 0), "n1": (0, 0, 0), "a710": (0, 1, 0), "v1": (1, 1, 1)}


@pytest.mark.parametrize("kernel, cells, rules", [
    (SERIES, ["max-7.2", "n1", "a710", "v1"], ["FWB"]),
    (UPSTREAM, ["max-7.2", "n1", "a710", "v1"], ["FWB+DIC"]),
    (SERIES, ["v1"], ["FWB", "FWB+DIC"]),  # DIC everywhere: both rules fit
    (UPSTREAM, ["n1", "v1"], ["FWB", "FWB+DIC"]),
    (SERIES, ["a710", "v1"], ["FWB"]),
    (UPSTREAM, ["a710", "v1"], ["FWB+DIC"]),
    (SERIES, ["n1"], ["FWB", "FWB+DIC"]),
])
def test_cap_rule_is_read_per_cpu(kernel, cells, rules):
    obs = [cpu(c, *kernel[c]) for c in cells]
    assert profiles.cap_rules(obs) == rules
    assert "CAP-1" not in profiles.conflicts(obs)
    assert profiles.summary(obs)["cap_rule"] == " or ".join(rules)


@pytest.mark.parametrize("obs", [
    [("a", 1, 1, 0), ("b", 0, 1, 0)],   # FWB without DIC: once 1, once 0
    [("a", 1, 1, 0), ("b", 0, 1, 1)],   # 1 without DIC, 0 with it
    [("a", 1, 0, 0)],                   # 1 without FWB
    [("a", 0, 1, 1)],                   # 0 with FWB and DIC (the baseline on QEMU 10 max)
])
def test_a_cap_that_follows_no_rule_fails_cap1(obs):
    got = profiles.conflicts([cpu(*o) for o in obs])
    assert "CAP-1" in got and "follows neither rule" in got["CAP-1"]


def test_test_binaries_cap_rule_lines_are_not_a_profile_any_more():
    # v2's memslot test printed its own one-cell guess; the QEMU 10 cells
    # made "FWB" and "FWB+DIC-or-FWB" look like two rules.
    cells = [SimpleNamespace(cell="a", profile={"cap_rule": "FWB"}, test_env={}, env={}),
             SimpleNamespace(cell="b", profile={"cap_rule": "FWB+DIC-or-FWB"}, test_env={},
                             env={})]
    assert profiles.conflicts(cells) == {}


def test_blocks_are_a_profile_unless_the_kernel_claims_them():
    smaller = [cell(pfnmap_blocks="smaller")]
    assert profiles.conflicts(smaller) == {}  # 6.12.117, a stage-1-leaf kernel
    assert set(profiles.conflicts(smaller, claims_blocks=True)) == {"BLK-1"}
    assert profiles.conflicts([cell(pfnmap_blocks="largest")], claims_blocks=True) == {}


@pytest.mark.parametrize("profile, req", [
    ({"mte_swapped_in": "mapped-uncached"}, "MTE-2"),  # upstream 6.18's, not the series'
    ({"cow": "refused-at-fault"}, "COW-1"),
    ({"cow": "isolated"}, "COW-1"),
])
def test_a_kernel_built_from_the_series_keeps_the_series_profile(profile, req):
    assert profiles.conflicts([cell(**profile)]) == {}  # any other kernel may choose it
    got = profiles.conflicts([cell(**profile)], claims_blocks=True)
    assert set(got) == {req} and "the series" in got[req]


def test_the_series_profile_itself_is_no_conflict():
    mine = cell(pfnmap_blocks="largest", cow="refused", mte_swapped_in="efault")
    assert profiles.conflicts([mine], claims_blocks=True) == {}


def test_a_kernel_built_from_the_series_follows_the_fwb_rule():
    upstream_rule = [cpu(c, *UPSTREAM[c]) for c in ["max-7.2", "v1"]]
    got = profiles.conflicts(upstream_rule, claims_blocks=True)
    assert set(got) == {"CAP-1"} and "FWB+DIC" in got["CAP-1"]
    assert profiles.conflicts([cpu(c, *SERIES[c]) for c in SERIES], claims_blocks=True) == {}
