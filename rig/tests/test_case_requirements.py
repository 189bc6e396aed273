"""rig/case-requirements.tsv against the suite's own sources: every case the
harness can run is traced to an ID, every row names a case, and the cap
paths credit only their own IDs."""
import os
import re

import pytest

import case_requirements as cr
import requirements as reqs

TOP = os.path.join(os.path.dirname(__file__), "..", "..")
SUITES = {  # collection -> folder of its test sources
    "kvm": "tools/testing/selftests/kvm/aarch64",
    "vfio": "tools/testing/selftests/vfio",
}
_VARIANT = re.compile(r"^FIXTURE_VARIANT_ADD\((\w+),\s*(\w+)\)", re.M)
_TEST_F = re.compile(r"^TEST_F(?:_TIMEOUT|_SIGNAL)?\((\w+),\s*(\w+)", re.M)
_TEST = re.compile(r"^TEST(?:_SIGNAL)?\((\w+)", re.M)


# The kind table (pfnmap_kinds.h) and the tests' names for its rows
_KINDS_H = os.path.join(TOP, SUITES["kvm"], "pfnmap_kinds.h")
_ROW = re.compile(r"^(PFNMAP_KIND(?:_WHEN_CAP_[01])?)\((\w+)\)", re.M)
_MAKER = re.compile(r"^#define (PFNMAP_KIND(?:_WHEN_CAP_[01])?)\(name\)\s+"
                    r"FIXTURE_VARIANT_ADD\((\w+), name(?:##(\w+))?\)$", re.M)


def kind_rows(header):
    """[(row macro, kind name)] from pfnmap_kinds.h's text."""
    return _ROW.findall(header)


def table_variants(source, rows):
    """[(fixture, variant)] a test source makes by including the kind table."""
    if '#include "pfnmap_kinds.h"' not in source:
        return []
    makers = {row: (fixture, suffix) for row, fixture, suffix in _MAKER.findall(source)}
    assert sorted(makers) == sorted({r for r, _ in rows}), f"kind table makers: {sorted(makers)}"
    return [(makers[row][0], kind + makers[row][1]) for row, kind in rows]


def harness_cases(source, rows=None):
    """The names kselftest_harness.h prints for a file's cases."""
    variants = {}
    if rows is None:
        with open(_KINDS_H, encoding="utf-8") as f:
            rows = kind_rows(f.read())
    for fixture, variant in _VARIANT.findall(source) + table_variants(source, rows):
        variants.setdefault(fixture, []).append(variant)
    out = [f"global.{t}" for t in _TEST.findall(source)]
    for fixture, test in _TEST_F.findall(source):
        out += ([f"{fixture}.{v}.{test}" for v in variants[fixture]]
                if fixture in variants else [f"{fixture}.{test}"])
    return out


def suite_cases():
    """{(binary, case)} over every test program of the suite."""
    cases = set()
    for coll, folder in SUITES.items():
        path = os.path.join(TOP, folder)
        for name in sorted(os.listdir(path)):
            if not name.endswith("_test.c"):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                text = f.read()
            cases |= {(f"{coll}:{name[:-2]}", c) for c in harness_cases(text)}
    return cases


CASES = suite_cases()


def test_the_suite_has_cases():
    assert len(CASES) > 100
    assert ("kvm:pfnmap_memslot_test", "global.cap_on_system_fd_fails_with_einval") in CASES
    # a case made from the kind table (pfnmap_kinds.h), one per cap path
    assert ("kvm:pfnmap_s2attr_test", "kind.cacheable_nonlinear_pfnmap_refused_when_cap_0."
            "stage2_view_shows_the_spec_attribute") in CASES


def test_every_case_is_traced_to_a_requirement():
    untraced = sorted(c for c in CASES if not cr.ids_for(*c))
    assert not untraced, untraced


def test_every_row_names_a_case():
    stale = [f"line {r.line}: {r.binary} {r.case}" for r in cr.load()
             if not any(b == r.binary and cr.ids_for(b, c, [r]) for b, c in CASES)]
    assert not stale, stale


def test_every_selftest_requirement_is_traced():
    traced = {i for c in CASES for i in cr.ids_for(*c)}
    # KU-1 is the series' KUnit tests (kunit_tap.py), not a selftest.
    assert set(reqs.TITLES) - traced == {"KU-1"}


def test_cap_paths_credit_only_their_own_ids():
    for binary, case in CASES:
        ids = cr.ids_for(binary, case)
        if "CAP-4" in ids:
            assert "_refused_when_cap_0." in case, (binary, case)
        if "_when_cap_0." in case:
            assert "CAP-3" not in ids, (binary, case)
        if "_when_cap_1." in case:
            assert "CAP-4" not in ids, (binary, case)


@pytest.mark.parametrize("binary,case,want", [
    ("kvm:pfnmap_s2attr_test",
     "kind.cacheable_nonlinear_pfnmap_mapped_when_cap_1.stage2_view_shows_the_spec_attribute",
     ["CAP-3", "S2-1", "SEC-1"]),
    ("kvm:pfnmap_s2attr_test",
     "kind.cacheable_nonlinear_mixedmap_refused_when_cap_0.stage2_view_shows_the_spec_attribute",
     ["CAP-4"]),
    ("kvm:pfnmap_s2attr_test",
     "kind.cacheable_vma_device_pte_allow_uncached_nonlinear_pfnmap.stage2_view_shows_the_spec_attribute",
     ["S2-8"]),
    ("kvm:pfnmap_s2attr_test",
     "kind.device_nGnRE_allow_uncached_nonlinear_pfnmap.stage2_view_shows_the_spec_attribute",
     ["S2-2"]),
    ("kvm:pfnmap_s2_oracle_test",
     "kind.cacheable_nonlinear_pfnmap_if_mapped_when_cap_0.every_page_has_the_spec_type_in_the_emulators_stage2",
     ["S2-1", "SEC-1"]),
    ("kvm:pfnmap_memslot_test",
     "replace.device_replaced_by_cacheable_refused_when_cap_0.new_vma_decides_at_next_fault_and_old_entries_are_gone",
     ["CAP-4", "S2-7"]),
    ("kvm:pfnmap_memslot_test", "kind.nc.dirty_logging_is_refused_at_creation", ["MS-3"]),
])
def test_rows_give_the_ids_spec_asks_for(binary, case, want):
    assert sorted(cr.ids_for(binary, case)) == sorted(want)


def test_a_case_of_another_suite_is_not_the_tables():
    assert cr.ids_for("kvm:pfnmap_memslot_test", "memslot.normal_nc.create") is None
    assert cr.ids_for("kvm:arch_timer", "global.anything") is None


@pytest.mark.parametrize("text,match", [
    ("kvm:x\tglob\n", "want BINARY"),
    ("kvm:x\tglob\tS2-1 NOPE-9\n", "NOPE-9"),
    ("kvm:x\t \tS2-1\n", "want BINARY"),
])
def test_a_bad_row_is_an_error_naming_its_line(text, match):
    with pytest.raises(ValueError, match=match) as e:
        cr.parse("# comment\n\n" + text)
    assert ":3:" in str(e.value)
