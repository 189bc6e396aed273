"""Which requirements a kernel's cells could show, and why not.

SPEC ("Profiles and verdicts"): a requirement is not applicable only where
the platform lacks what it is about, and the report names what is missing.
The facts come from each cell's "# ENV:" lines (init: cell.env; each test
binary: cell.test_env) and from the CMO-3 calibration probe's output.
"""
import re

import requirements as reqs

# pfnmap_cmo_test prints the ESR of a DC ZVA on a stage-1 Device page.
_CALIBRATION = re.compile(r"calibration on stage-1 Device: DC ZVA esr=(0x[0-9a-fA-F]+|\d+)")
_NO_ALIGNMENT_SKIP = re.compile(r"(does not|doesn't|no) raise Alignment faults? for Device|"
                                r"no Device alignment faults?", re.IGNORECASE)
_DATA_ABORT_ECS = (0x24, 0x25)
_DFSC_ALIGNMENT = 0x21
# NV-3 is a plain vfio-pci BAR: its cases say nothing about an nvgrace device.
_NVGRACE_IDS = {"NV-1", "NV-2", "NV-4"}


def _envs(cell):
    return [cell.env] + list(cell.test_env.values())


def has_mte(cell):
    """MTE as the rig configured it (cell.json, from the QEMU command
    line): a kernel that does not report MTE where it was configured is a
    finding, never a reason to skip MTE-*."""
    return bool(cell.mte)


def cap_values(cell):
    """Every capability value the cell's test binaries reported."""
    return {env["cap"] for env in _envs(cell) if env.get("cap") in ("0", "1")}


def has_nvgrace(cell):
    """The rig attached an nvgrace-gpu function (cell.json "nvgrace"). A
    configured device that failed to bind is a finding: NV-* stay
    applicable. Runs without that record (hardware, older runs): a bound
    device (setup.sh's vfio_driver=, the VFIO tests' driver=), or an
    nvgrace case that got as far as a verdict."""
    if cell.nvgrace is not None:
        return cell.nvgrace
    if any("nvgrace" in env.get(key, "") for env in _envs(cell)
           for key in ("vfio_driver", "driver")):
        return True
    return any(c.result in ("pass", "fail") and set(c.requirements) & _NVGRACE_IDS
               for c in cell.cases)


def provider_failed(cell):
    return cell.env.get("provider") == "failed-to-load"


def _is_alignment_fault(esr):
    return (esr >> 26) & 0x3F in _DATA_ABORT_ECS and esr & 0x3F == _DFSC_ALIGNMENT


def device_alignment(cell):
    """True/False: the calibration probe saw (no) Alignment fault for Device
    memory in this cell; None: the probe did not run."""
    seen = None
    for case in cell.cases:
        if "CMO-3" not in case.requirements:
            continue
        for line in case.log:
            m = _CALIBRATION.search(line)
            if m:
                if _is_alignment_fault(int(m.group(1), 0)):
                    return True
                seen = False
        if case.result == "skip" and _NO_ALIGNMENT_SKIP.search(case.reason):
            seen = False
    return seen


def not_applicable(cells):
    """ID -> the missing feature, for a kernel's cells (all must lack it)."""
    if not cells:
        return {}
    missing = {}
    if not any(has_mte(c) for c in cells):
        missing.update({i: "no cell has MTE" for i in reqs.ORDER if i.startswith("MTE-")})
    caps = set().union(*(cap_values(c) for c in cells))
    if caps == {"0"}:
        missing["CAP-3"] = "cap = 0 in every cell"
    if caps == {"1"}:
        missing["CAP-4"] = "cap = 1 in every cell"
    if not any(has_nvgrace(c) for c in cells):
        missing.update({i: "no nvgrace-gpu device in any cell"
                        for i in reqs.ORDER if i.startswith("NV-")})
    if all(c.emulator for c in cells):
        # SPEC X-2 and CMO-2: a pass proves nothing without caches.
        missing.update({i: "every cell is an emulator, which models no caches"
                        for i in ("X-2", "CMO-2")})
    if not any(c.variant.startswith("debug") for c in cells):
        missing["DBG-1"] = "no debug (KASAN, lockdep) kernel in this run"
    probes = [device_alignment(c) for c in cells]
    if False in probes and True not in probes:
        missing["CMO-3"] = ("the calibration probe shows no Alignment fault for Device "
                            "memory in any cell")
    return missing
