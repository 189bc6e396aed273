"""A kernel's profile: the choices SPEC leaves open, as the tests observed
them ("# PROFILE: key=value" lines), and whether the kernel is consistent.

SPEC judges a kernel by invariants, but every kernel must be self-
consistent: one COW policy for VM_PFNMAP and VM_MIXEDMAP, in plain and MTE
VMs, one way of refusing lazily populated cacheable memory with cap=0, and
one answer to a non-cacheable PFNMAP swapped into an MTE VM.
A tests that sees an unsafe behaviour fails by itself; this module catches
the kernel that is safe case by case and inconsistent across them."""

# Profile key -> the requirement an inconsistency violates.
CONSISTENT = {"cow": "COW-1", "cap0_lazy": "CAP-4", "cap_rule": "CAP-1",
              "mte_swapped_in": "MTE-2"}


def values(cells, key):
    """Every value the cells reported for @key ('a / b' is two values)."""
    seen = []
    for cell in cells:
        for v in cell.profile.get(key, "").split(" / "):
            v = v.strip()
            if v and v not in seen:
                seen.append(v)
    return seen


def summary(cells):
    """key -> 'value' or 'a / b' over all the cells of one kernel."""
    keys = sorted({k for c in cells for k in c.profile})
    return {k: " / ".join(values(cells, k)) for k in keys}


def conflicts(cells):
    """requirement ID -> reason, for each profile key with two values."""
    out = {}
    for key, req in CONSISTENT.items():
        seen = values(cells, key)
        if len(seen) > 1:
            out[req] = f"inconsistent profile: {key} is {' and '.join(seen)} in different cases"
    return out
