"""The SPEC's requirement IDs and what each kernel is expected to do with them.

Source: the "Conformance requirements" table in SPEC.md. Keep this file and
that table in step.
"""

TITLES = {
    "CAP-1": "KVM_CHECK_EXTENSION(243) on a VM fd is 0 or 1 (0 without FWB)",
    "CAP-2": "KVM_CHECK_EXTENSION(243) on the /dev/kvm fd fails with EINVAL",
    "CAP-3": "cap = 1: every cacheable-PFNMAP case is accepted and mapped Normal-WB",
    "CAP-4": "cap = 0: cacheable-PFNMAP memslots refused (EINVAL), a fault fails KVM_RUN with EFAULT",
    "MS-1": "Memslot over a cacheable shared non-linear-map PFNMAP: accepted iff cap = 1",
    "MS-2": "Memslot over a non-cacheable PFNMAP is accepted on every CPU",
    "MS-3": "PFNMAP memslot with KVM_MEM_LOG_DIRTY_PAGES gives EINVAL",
    "MS-4": "Memslot over several VMAs: the first offending VMA decides, nothing created on error",
    "S2-1": "Cacheable non-linear-map PFNMAP with cap = 1 is Normal-WB at stage 2",
    "S2-2": "Non-cacheable PFNMAP with VM_ALLOW_ANY_UNCACHED is Normal-NC at stage 2",
    "S2-3": "Non-cacheable PFNMAP without VM_ALLOW_ANY_UNCACHED is Device-nGnRE at stage 2",
    "S2-4": "PFNMAP/MIXEDMAP over linear-map pfns is Normal-WB at stage 2",
    "S2-5": "Ordinary VMAs (anonymous, shmem, hugetlb) are Normal-WB at stage 2 (control)",
    "S2-6": "Cacheable VM_MIXEDMAP over non-linear-map pfns behaves as S2-1 / CAP-4",
    "S2-7": "A VMA replaced after memslot creation decides at the next fault",
    "SEC-1": "A cacheable VMA over non-linear-map memory is never non-cacheable at stage 2",
    "COW-1": "COW PFNMAP memslot: profile 'refused' or 'isolated', nothing else",
    "MTE-1": "MTE VM with a memslot over any PFNMAP VMA gives EINVAL",
    "MTE-2": "MTE VM, PFNMAP VMA swapped in then faulted: KVM_RUN fails with EFAULT, no crash",
    "MTE-3": "MTE VM, anonymous memory: tags work in the guest (control)",
    "X-1": "Guest execution from Device/NC PFNMAP injects an instruction abort",
    "X-2": "cap = 1: code written to cacheable PFNMAP runs after D/I maintenance, twice",
    "CMO-1": "Guest DC/IC maintenance on every PFNMAP kind: no exception, data unchanged",
    "CMO-2": "Host and guest see each other's writes through their aliases",
    "CMO-3": "DC ZVA on a Device mapping raises an Alignment fault (where modelled)",
    "BLK-1": "1 GiB-aligned >= 2 GiB PFNMAP: every page maps its own offset, largest blocks",
    "S2-8": "PTEs less cacheable than vm_page_prot: stage 2 never more cacheable than the PTE",
    "BLK-2": "PFNMAP regions that cannot be blocks are mapped with page-size leaves",
    "S2-9": "ZONE_DEVICE memory in VMAs neither PFNMAP nor MIXEDMAP: accepted and mapped on every CPU",
    "BLK-3": "A guest write to a read-only PTE under a block never succeeds silently",
    "DBG-1": "Stage-2 view read during VM teardown: whole lines or an error, no splat",
    "PRV-1": "Test provider: every bad ioctl, mmap or parameter gets EINVAL, no splat",
    "KU-1": "KUnit tests of the stage-2 type and I-cache decision helpers pass",
    "NV-1": "nvgrace-gpu usemem BAR in a memslot behaves as S2-1 / CAP-4",
    "NV-2": "nvgrace-gpu resmem BAR is Normal-NC",
    "NV-3": "A plain vfio-pci BAR is Normal-NC",
    "NV-4": "Out-of-range nvgrace mmap offset or size fails cleanly, nothing mapped",
}

ORDER = list(TITLES)

# The unpatched 6.12 baseline must show these failures...
BASELINE_MUST_FAIL = ["SEC-1", "S2-1", "NV-1", "CAP-1", "COW-1", "MTE-2"]
# ...and must pass these controls. If it cannot, the suite is wrong.
BASELINE_MUST_PASS = ["S2-2", "S2-3", "S2-4", "S2-5", "S2-8", "S2-9", "BLK-3", "MS-2", "MS-3",
                      "MTE-1", "X-1"]

BASELINE = "baseline"
# Controls whose exact memory type only the stage-2 view shows. The baseline
# has no view: its behaviour (data round trip, execution aborted) is checked,
# and the case then skips rather than pass what it could not see.
BASELINE_VIEW_ONLY = {"S2-2", "S2-3"}


def title(req_id):
    return TITLES.get(req_id, "unknown ID: not in SPEC.md")


def sort_key(req_id):
    """SPEC order first, then unknown IDs alphabetically."""
    return (ORDER.index(req_id), "") if req_id in TITLES else (len(ORDER), req_id)


def baseline_expectation(req_id):
    if req_id in BASELINE_MUST_FAIL:
        return "fail"
    if req_id in BASELINE_MUST_PASS:
        return "pass"
    return None


# SPEC: these count only in a debug cell (KASAN, lockdep). Elsewhere a pass
# shows nothing the requirement is about; a failure is still a failure.
DEBUG_CELL_ONLY = {"DBG-1"}


def counted(req_id, result, variant):
    """A case's result as evidence for @req_id in a cell of @variant."""
    if req_id in DEBUG_CELL_ONLY and result == "pass" and not variant.startswith("debug"):
        return "skip"
    return result


def aggregate(results):
    """Combine case results for one requirement: fail > pass > skip > todo > not-run."""
    results = list(results)
    for result in ("fail", "pass", "skip", "todo"):
        if result in results:
            return result
    return "not-run"


def check_baseline(results_by_id, not_applicable=(), selected_only=False):
    """Mismatches between the baseline's per-ID results and SPEC.

    not_applicable: IDs the platform cannot show (no MTE, no nvgrace...).
    selected_only: a filtered run; an ID no selected test named is not a
    mismatch, since nothing was asked of it.
    """
    def checked(req_id):
        got = results_by_id.get(req_id, "not-run")
        return req_id not in not_applicable and not (selected_only and got == "not-run")

    mismatches = []
    for req_id in filter(checked, BASELINE_MUST_FAIL):
        got = results_by_id.get(req_id, "not-run")
        if got == "fail":
            continue
        why = ("the suite could not show the baseline failure" if got in ("skip", "todo", "not-run")
               else "its tests timed out or crashed: no check saw the failure SPEC asks for"
               if got == "unshown" else "SPEC says the unpatched baseline must fail it")
        mismatches.append(f"baseline {req_id}: {got}, expected fail ({why})")
    for req_id in filter(checked, BASELINE_MUST_PASS):
        got = results_by_id.get(req_id, "not-run")
        if got == "skip" and req_id in BASELINE_VIEW_ONLY:
            continue
        if got != "pass":
            mismatches.append(f"baseline {req_id}: {got}, expected pass "
                              "(a control: the baseline must pass it)")
    return mismatches


def expected_failure(req_ids):
    """Why a failing baseline case is what the run expects, or '' if it is
    not. A control among its IDs makes it unexpected. Otherwise it either
    names a requirement SPEC says the baseline must fail, or only
    requirements SPEC asks nothing of on the baseline: what the series
    adds (the capability, the refusals, blocks), which 6.12 cannot have."""
    if not req_ids or any(i in BASELINE_MUST_PASS for i in req_ids):
        return ""
    must_fail = [i for i in req_ids if i in BASELINE_MUST_FAIL]
    if must_fail:
        return ("expected failure: SPEC says the unpatched baseline must fail "
                + ", ".join(must_fail))
    return ("expected failure: the unpatched baseline lacks what the series adds for "
            + ", ".join(req_ids) + " (SPEC asks it to pass only the controls)")
