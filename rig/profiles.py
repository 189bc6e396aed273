"""A kernel's profile: the choices SPEC leaves open, as the tests observed
them ("# PROFILE: key=value" lines), and whether the kernel is consistent.

SPEC judges a kernel by invariants, but every kernel must be self-
consistent: one COW policy for VM_PFNMAP and VM_MIXEDMAP, in plain and MTE
VMs, one way of refusing lazily populated cacheable memory with cap=0, and
one answer to a non-cacheable PFNMAP swapped into an MTE VM.
A tests that sees an unsafe behaviour fails by itself; this module catches
the kernel that is safe case by case and inconsistent across them."""

# Profile key -> the requirement an inconsistency violates.
CONSISTENT = {"cow": "COW-1", "cap0_lazy": "CAP-4", "mte_swapped_in": "MTE-2"}

# SPEC: the capability rule is read per CPU. Each rule says what cap 243
# must be on a CPU with (fwb, dic).
CAP_RULES = {"FWB": lambda fwb, dic: fwb, "FWB+DIC": lambda fwb, dic: fwb and dic}


def values(cells, key):
    """Every value the cells reported for @key ('a / b' is two values)."""
    seen = []
    for cell in cells:
        for v in cell.profile.get(key, "").split(" / "):
            v = v.strip()
            if v and v not in seen:
                seen.append(v)
    return seen


def _flag(value):
    return {"1": True, "0": False}.get(str(value).strip())


def cap_observations(cells):
    """[(cell name, cap, fwb, dic)] for every cell that reported all three.
    cap: what the test binaries read on a VM fd; fwb/dic: the CPU's
    features as the cell recorded them (cell.cpu_features, from the
    emulator, when the rig read them; else the guest kernel's report)."""
    out = []
    for c in cells:
        caps = {e.get("cap") for e in [c.env] + list(c.test_env.values())} & {"0", "1"}
        feats = getattr(c, "cpu_features", None) or c.env
        fwb, dic = _flag(feats.get("fwb", "")), _flag(feats.get("dic", ""))
        if len(caps) == 1 and fwb is not None and dic is not None:
            out.append((c.cell, caps.pop() == "1", fwb, dic))
    return out


def cap_rules(cells):
    """The capability rules every observed cell agrees with (None: no cell
    could tell). Cells with DIC everywhere fit both rules."""
    obs = cap_observations(cells)
    if not obs:
        return None
    return [name for name, rule in CAP_RULES.items()
            if all(cap == bool(rule(fwb, dic)) for _, cap, fwb, dic in obs)]


def summary(cells):
    """key -> 'value' or 'a / b' over all the cells of one kernel."""
    keys = sorted({k for c in cells for k in c.profile} - {"cap_rule"})
    out = {k: " / ".join(values(cells, k)) for k in keys}
    rules = cap_rules(cells)
    if rules:
        out["cap_rule"] = " or ".join(rules)
    return out


# What this series documents for the choices SPEC leaves open (SPEC names
# them "this series"): a kernel built from it (run.json: series applied)
# that shows another value broke the series' own policy.
SERIES_CLAIMS = {
    "pfnmap_blocks": ("largest", "BLK-1", "maps block-aligned contiguous PFNMAP with the "
                      "largest stage-2 blocks"),
    "cow": ("refused", "COW-1", "refuses COW PFNMAP at the memslot and at the fault"),
    "mte_swapped_in": ("efault", "MTE-2", "fails KVM_RUN with EFAULT for any PFNMAP swapped "
                       "into an MTE VM"),
}


def conflicts(cells, claims_blocks=False):
    """requirement ID -> reason, for each profile key with two values,
    CAP-1 for a capability that follows no rule across the cells, and, for
    a kernel built from the series (@claims_blocks: run.json says it was
    applied), each SERIES_CLAIMS key that shows another value and a
    capability rule other than FWB."""
    out = {}
    if claims_blocks:
        for key, (want, req, what) in SERIES_CLAIMS.items():
            other = [v for v in values(cells, key) if v != want]
            if other:
                out[req] = f"the series {what}, and this kernel showed {key}={' / '.join(other)}"
        rules = cap_rules(cells)
        if rules and "FWB" not in rules:
            out["CAP-1"] = ("the series sets the capability exactly where FEAT_S2FWB is, and "
                            f"this kernel follows {' or '.join(rules)}")
    for key, req in CONSISTENT.items():
        seen = values(cells, key)
        if len(seen) > 1:
            out.setdefault(req, f"inconsistent profile: {key} is {' and '.join(seen)} in different cases")
    if cap_rules(cells) == []:
        seen = "; ".join(f"{name}: cap={int(cap)} fwb={int(fwb)} dic={int(dic)}"
                         for name, cap, fwb, dic in cap_observations(cells))
        out["CAP-1"] = ("the capability follows neither rule (cap = FWB, cap = FWB and DIC) "
                        f"across the cells: {seen}")
    return out
