"""Profile consistency (SPEC "Profiles and verdicts"): each choice a kernel
makes is printed, and a kernel that makes two different ones fails the
requirement it belongs to. No kernel in the matrix shows every profile, so
these are recorded observations written out by hand."""
from types import SimpleNamespace

import pytest

import profiles


def cell(**profile):
    return SimpleNamespace(profile=profile)


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


def test_cap_rule_must_be_one_rule():
    assert profiles.conflicts([cell(cap_rule="FWB"), cell(cap_rule="FWB")]) == {}
    assert set(profiles.conflicts([cell(cap_rule="FWB"), cell(cap_rule="FWB+DIC")])) == {"CAP-1"}


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
