"""Build the report model from a run directory (layout: results/README.md):
per-cell cases, per-requirement results per kernel and per cell, a verdict
per kernel and the check against SPEC's expectations."""
import json
import os
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import console_scan
import coverage
import profiles  # noqa: E402
import requirements as reqs
import rig_stream

KERNEL_ORDER = ["baseline", "patched"]
MATRIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "matrix.tsv")
# Cell statuses that are the kernel's fault; the others (boot-timeout,
# qemu-crash, cell-timeout, no-results, error) only mean it did not finish.
KERNEL_FAILURE_STATUSES = ("panic",)
ERROR_STATUS = "error"  # cell.json missing or unreadable


class InputError(Exception):
    """The run directory cannot be read; the CLI exits 2."""


@dataclass
class Cell:
    kernel: str
    cell: str
    cpu: str = ""
    mode: str = ""
    mte: bool = False
    qemu_cmdline: str = ""
    duration_s: Optional[float] = None
    status: str = "ok"
    status_detail: str = ""
    tests: str = "*"  # the rig.tests= glob the init ran
    # What the rig configured (cell.json), never what the kernel says:
    emulator: str = ""  # matrix.tsv's emulator ("qemu-7.2", "qemu-10.0"); "" on hardware
    qemu_version: str = ""  # that emulator's --version line, when the rig recorded it
    nvgrace: Optional[bool] = None  # the emulated nvgrace-gpu function was attached
    variant: str = ""  # the kernel build variant (run.json), e.g. "debug"
    # FWB/DIC/IDC/MTE as the emulator's gdbstub gave them (cpu-features.json),
    # {} where the rig could not read them (hardware, no gdb-multiarch).
    cpu_features: Dict[str, object] = field(default_factory=dict)
    env: Dict[str, str] = field(default_factory=dict)
    test_env: Dict[str, Dict[str, str]] = field(default_factory=dict)
    profile: Dict[str, str] = field(default_factory=dict)
    cases: List[rig_stream.ReportCase] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)  # the kernel misbehaved outside any case
    interruptions: List[str] = field(default_factory=list)  # the cell did not run to the end
    warnings: List[str] = field(default_factory=list)
    logs: Dict[str, str] = field(default_factory=dict)  # kind -> path relative to run dir
    stream_complete: bool = True

    @property
    def key(self):
        return f"{self.kernel}-{self.cell}"

    @property
    def problems(self):
        """Every cell-level cause, failures first (junit: one <error>)."""
        return self.failures + self.interruptions

    def count(self, result):
        return sum(1 for c in self.cases if c.result == result)

    def requirement_results(self):
        """ID -> aggregated result over this cell's cases."""
        by_id = {}
        for case in self.cases:
            for req_id in case.requirements:
                by_id.setdefault(req_id, []).append(
                    reqs.counted(req_id, case.result, self.variant))
        return {i: reqs.aggregate(r) for i, r in by_id.items()}


@dataclass
class Verdict:
    verdict: str  # conformant | non-conformant | incomplete
    deciding: List[str]  # what failed
    skipped: List[str]
    not_run: List[str]
    incomplete: List[str] = field(default_factory=list)  # why not conformant, nothing failing
    not_applicable: Dict[str, str] = field(default_factory=dict)  # ID -> missing feature
    # Incomplete only because of what the user selected (TESTS, CELLS,
    # KERNELS): every entry of `incomplete` is one of these.
    by_selection: List[str] = field(default_factory=list)

    @property
    def excused(self):
        """Incomplete, and only because the user asked for a subset."""
        return self.verdict == "incomplete" and set(self.incomplete) <= set(self.by_selection)


@dataclass
class Run:
    run_dir: str
    run_id: str
    started: str
    host: dict
    kernels: Dict[str, dict]
    cells: List[Cell]
    selection: dict = field(default_factory=dict)  # run.json "selection", if the rig wrote it
    requirements: Dict[str, Dict[str, str]] = field(default_factory=dict)  # ID -> kernel -> result
    verdicts: Dict[str, Verdict] = field(default_factory=dict)
    mismatches: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    @property
    def expectations_met(self):
        return not self.mismatches

    def unexcused_incomplete(self):
        """Kernels judged incomplete for a reason other than the selection.
        The baseline is judged by its expectations instead."""
        return [k for k, v in self.verdicts.items()
                if k != reqs.BASELINE and v.verdict == "incomplete" and not v.excused]

    @property
    def emulated(self):
        return not ((self.host.get("where") or "").startswith("hardware")
                    or not self.host.get("qemu_version"))

    def cells_of(self, kernel):
        return [c for c in self.cells if c.kernel == kernel]

    def totals(self):
        cases = [c for cell in self.cells for c in cell.cases]
        return {"passed": sum(c.result == "pass" for c in cases),
                "failed": sum(c.result == "fail" for c in cases),
                "skipped": sum(c.result == "skip" for c in cases),
                "todo": sum(c.result == "todo" for c in cases),
                "expected_failures": sum(bool(c.expected) for c in cases)}


def _load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def _emulated_host(meta):
    host = meta.get("host") or {}
    return bool(host.get("qemu_version")) and not (host.get("where") or "").startswith("hardware")


def _split_dir_name(name, kernels):
    """'<kernel>-<cell>' -> (kernel, cell), preferring the known kernel names."""
    for k in sorted(kernels, key=len, reverse=True):
        if name.startswith(k + "-"):
            return k, name[len(k) + 1:]
    kernel, _, cell = name.partition("-")
    return kernel, cell or "unknown"


def read_cell_meta(cell_dir, kernels=()):
    """cell.json, or a stand-in with status 'error' when it is missing or
    broken (a run stopped halfway): the other cells are still reported."""
    path = os.path.join(cell_dir, "cell.json")
    kernel, cell = _split_dir_name(os.path.basename(cell_dir), kernels)
    if not os.path.exists(path):
        return {"kernel": kernel, "cell": cell, "status": ERROR_STATUS,
                "status_detail": "no cell.json: the rig stopped before this cell finished"}
    try:
        meta = _load_json(path)
    except InputError as e:
        cause = str(e.__cause__) if e.__cause__ else "not a JSON object"
        return {"kernel": kernel, "cell": cell, "status": ERROR_STATUS,
                "status_detail": f"cell.json is truncated or invalid ({cause})"}
    missing = [k for k in ("kernel", "cell") if not isinstance(meta.get(k), str)]
    if missing:
        return {"kernel": kernel, "cell": cell, "status": ERROR_STATUS,
                "status_detail": f"cell.json has no '{missing[0]}'"}
    return meta


def tests_glob(meta):
    """The tests the init was told to run: cell.json "tests", else the
    rig.tests= option on the kernel command line QEMU got."""
    if isinstance(meta.get("tests"), str):
        return meta["tests"] or "*"
    cmdline = meta.get("qemu_cmdline") or ""
    try:
        args = shlex.split(cmdline)
    except ValueError:
        args = cmdline.split()
    for arg in args:
        for word in arg.split():
            if word.startswith("rig.tests="):
                return word[len("rig.tests="):] or "*"
    return "*"


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def new_cell(meta):
    return Cell(kernel=meta["kernel"], cell=meta["cell"], cpu=str(meta.get("cpu") or ""),
                mode=str(meta.get("mode") or ""), mte=bool(meta.get("mte")),
                qemu_cmdline=str(meta.get("qemu_cmdline") or ""),
                duration_s=_number(meta.get("duration_s")),
                status=str(meta.get("status") or "ok"),
                status_detail=str(meta.get("status_detail") or ""), tests=tests_glob(meta),
                emulator=str(meta.get("emulator") or ""),
                qemu_version=str(meta.get("qemu_version") or ""),
                nvgrace=meta["nvgrace"] if isinstance(meta.get("nvgrace"), bool) else None)


def _note_status(cell):
    if cell.status == "ok":
        return
    cause = f"{cell.status}: {cell.status_detail}".rstrip(": ")
    if cell.status in KERNEL_FAILURE_STATUSES:
        cell.failures.append(cause)
    else:
        cell.interruptions.append(cause)


def _read_stream(cell, cell_dir, rel, framed):
    tap = os.path.join(cell_dir, "results.tap")
    stream = rig_stream.Stream()
    if os.path.exists(tap):
        cell.logs["results"] = f"{rel}/results.tap"
        stream = rig_stream.read_stream_file(tap)
    elif cell.status == "ok":
        cell.interruptions.append("no results.tap: the results channel was never written")
    cell.cases, cell.env, cell.test_env, cell.profile = (
        stream.cases, stream.env, stream.test_env, stream.profile)
    cell.warnings += stream.warnings
    if stream.truncated or (framed and os.path.exists(tap) and not stream.began):
        cell.stream_complete = False
        cell.interruptions.append(
            "results stream truncated: no '# rig-end' (the guest stopped before the init "
            "finished; later tests never ran)" if stream.began else
            "results stream has no '# rig-begin': the init never started the tests")
    if stream.bailout is not None:
        cell.interruptions.append(f"Bail out! {stream.bailout}".strip())
    if cell.status == "ok" and os.path.exists(tap) and not cell.cases:
        cell.interruptions.append("no test results in the stream")
    return stream


def _scan_console(cell, cell_dir, rel, stream):
    console = console_scan.read_console(os.path.join(cell_dir, "console.log"))
    if console is None:
        return
    cell.logs["console"] = f"{rel}/console.log"
    for splat in console_scan.unattributed(console, stream.splat_lines()):
        if not any(splat in p for p in cell.problems):
            cell.failures.append(f"kernel splat outside tests: {splat}")


def _read_cpu_features(cell, cell_dir, rel):
    path = os.path.join(cell_dir, "cpu-features.json")
    if not os.path.exists(path):
        return
    try:
        cell.cpu_features = _load_json(path)
    except InputError as e:
        cell.warnings.append(f"cpu-features.json unreadable ({e}); the kernel's report is used")
        return
    cell.logs["cpu_features"] = f"{rel}/cpu-features.json"
    # The kernel's own report of the same features, where it differs, is
    # worth a look: the verdict uses the emulator's.
    for key in ("fwb", "dic"):
        mine, theirs = str(cell.cpu_features.get(key, "")), cell.env.get(key, "")
        if mine in ("0", "1") and theirs in ("0", "1") and mine != theirs:
            cell.warnings.append(f"the kernel reports {key}={theirs}, the emulator's vCPU "
                                 f"registers say {key}={mine}")


def load_cell(run_dir, cell_dir, kernels=()):
    meta = read_cell_meta(cell_dir, kernels)
    cell = new_cell(meta)
    _note_status(cell)
    rel = os.path.relpath(cell_dir, run_dir)
    # The hardware command writes "framed": false for raw run_kselftest.sh logs.
    stream = _read_stream(cell, cell_dir, rel, meta.get("framed", True))
    _read_cpu_features(cell, cell_dir, rel)
    _scan_console(cell, cell_dir, rel, stream)
    return cell


def load_run(run_dir):
    """Read RUN_DIR and return a fully evaluated Run. Raises InputError."""
    run_dir = os.path.abspath(run_dir)
    meta = _load_json(os.path.join(run_dir, "run.json"))
    cells_dir = os.path.join(run_dir, "cells")
    if not os.path.isdir(cells_dir):
        raise InputError(f"{run_dir}: no cells/ directory")
    kernels = dict(meta.get("kernels") or {})
    cells = [load_cell(run_dir, os.path.join(cells_dir, d), kernels)
             for d in sorted(os.listdir(cells_dir))
             if os.path.isdir(os.path.join(cells_dir, d))]
    for cell in cells:
        kernels.setdefault(cell.kernel, {})
        cell.variant = str((kernels[cell.kernel] or {}).get("variant") or "")
        if not cell.emulator and cell.cell != "hardware" and _emulated_host(meta):
            cell.emulator = "qemu"  # a run from before cell.json named its emulator
    order = sort_kernels(kernels)
    selection = meta.get("selection") if isinstance(meta.get("selection"), dict) else {}
    run = Run(run_dir=run_dir, run_id=meta.get("run_id") or os.path.basename(run_dir),
              started=meta.get("started") or "", host=meta.get("host") or {},
              kernels={k: kernels[k] for k in order}, selection=selection,
              cells=sorted(cells, key=lambda c: (order.index(c.kernel), c.cell)))
    evaluate(run)
    return run


def sort_kernels(names):
    return sorted(names, key=lambda k: (KERNEL_ORDER.index(k) if k in KERNEL_ORDER
                                        else len(KERNEL_ORDER), k))


def requirement_ids(run):
    seen = {i for cell in run.cells for c in cell.cases for i in c.requirements}
    return sorted(set(reqs.ORDER) | seen, key=reqs.sort_key)


def matrix_cells(path=MATRIX):
    """Cell names of rig/matrix.tsv, or [] where there is none (hardware)."""
    try:
        with open(path, encoding="utf-8") as f:
            rows = [line.split() for line in f]
    except OSError:
        return []
    return [r[0] for r in rows if r and not r[0].startswith("#")]


def tests_filtered(run, kernel):
    """The TESTS globs the user gave for this kernel's cells ('*' is none)."""
    globs = {c.tests for c in run.cells_of(kernel)} | {run.selection.get("tests") or "*"}
    return sorted(globs - {"*"})


def selection_gaps(run, kernel):
    """Why this kernel's run was a subset: tests filtered, cells left out."""
    gaps = [f"filtered run: only tests matching '{g}' were selected"
            for g in tests_filtered(run, kernel)]
    planned = run.selection.get("matrix") or (matrix_cells() if run.emulated else [])
    ran = {c.cell for c in run.cells_of(kernel)}
    left_out = [c for c in planned if c not in ran]
    if left_out:
        gaps.append("cells not run: " + " ".join(left_out))
    return gaps


def evaluate(run):
    """Fill requirements, verdicts, mismatches and warnings."""
    ids = requirement_ids(run)
    for req_id in ids:
        run.requirements[req_id] = {
            k: reqs.aggregate(reqs.counted(req_id, c.result, cell.variant)
                              for cell in run.cells_of(k) for c in cell.cases
                              if req_id in c.requirements)
            for k in run.kernels}
    unknown = [i for i in ids if i not in reqs.TITLES]
    if unknown:
        run.warnings.append("REQ IDs not in SPEC.md (typo?): " + " ".join(unknown))
    for cell in run.cells:
        run.warnings += [f"{cell.key}: {w}" for w in cell.warnings]
        if coverage.provider_failed(cell):
            run.warnings.append(f"{cell.key}: the test PFNMAP provider module failed to load")
    for kernel in run.kernels:
        claims = (run.kernels.get(kernel) or {}).get("series_applied") is True
        for req_id, why in profiles.conflicts(run.cells_of(kernel), claims).items():
            run.requirements.setdefault(req_id, {k: "not-run" for k in run.kernels})
            run.requirements[req_id][kernel] = "fail"
            run.warnings.append(f"{kernel}: {req_id} fails: {why}")
    for kernel in run.kernels:
        run.verdicts[kernel] = kernel_verdict(run, kernel)
    mark_expected_failures(run)
    run.mismatches = check_expectations(run)


def _why_uncovered(run, kernel, req_id, result):
    """'BLK-1 never ran' / 'NV-3 skipped: <the first skip reason>' /
    'S2-8: TODO: <why>'."""
    if result == "not-run":
        return f"{req_id} never ran"
    reasons = [c.reason for cell in run.cells_of(kernel) for c in cell.cases
               if req_id in c.requirements and c.result == result and c.reason]
    if result == "todo":
        return f"{req_id}: " + (reasons[0] if reasons else "TODO")
    return f"{req_id} skipped" + (f": {reasons[0]}" if reasons else "")


def kernel_verdict(run, kernel):
    results = {i: r[kernel] for i, r in run.requirements.items()}
    cells = run.cells_of(kernel)
    deciding = [i for i, r in results.items() if r == "fail"]
    incomplete = selection_gaps(run, kernel)
    for cell in cells:
        deciding += [f"{cell.cell}: {p}" for p in cell.failures]
        # A failure nobody traced to a requirement still counts.
        deciding += [f"{cell.cell}: {c.name} failed (traced to no requirement)"
                     for c in cell.cases if c.result == "fail" and not c.requirements]
        incomplete += [f"{cell.cell}: {p}" for p in cell.interruptions]
        if coverage.provider_failed(cell):
            incomplete.append(f"{cell.cell}: the test PFNMAP provider module failed to load")
    if not cells:
        incomplete.append("no cell ran this kernel")
    # Only a requirement that showed nothing can be excused by the platform.
    not_applicable = {i: why for i, why in coverage.not_applicable(cells).items()
                      if results.get(i) not in ("pass", "fail")}
    uncovered = [i for i in reqs.ORDER
                 if results.get(i) != "pass" and i not in not_applicable and i not in deciding]
    why = {i: _why_uncovered(run, kernel, i, results.get(i, "not-run")) for i in uncovered}
    incomplete += why.values()
    # The user's selection excuses the cells it left out and, when tests
    # were filtered, requirements nothing selected covered. A cell subset
    # with every test (make check) still has to cover every ID.
    by_selection = selection_gaps(run, kernel)
    if tests_filtered(run, kernel):
        by_selection += [w for i, w in why.items() if results.get(i, "not-run") == "not-run"]
    verdict = "non-conformant" if deciding else "incomplete" if incomplete else "conformant"
    return Verdict(verdict, deciding,
                   [i for i, r in results.items() if r == "skip"],
                   [i for i, r in results.items() if r == "not-run"],
                   incomplete, not_applicable, by_selection)


def mark_expected_failures(run):
    """A baseline case failing a requirement SPEC says the baseline must
    fail is the suite working when one of the test's own checks failed;
    crashes, timeouts, silent exits and splats never are."""
    for cell in run.cells_of(reqs.BASELINE):
        for case in cell.cases:
            if case.asserted and not case.reason.startswith("kernel splat"):
                case.expected = reqs.expected_failure(case.requirements)


def shown_results(run, kernel):
    """ID -> result for SPEC's expectations: a failure counts as 'fail'
    only when a check in the test failed; a requirement whose failures were
    all timeouts or crashes is 'unshown' (the failure SPEC asks for was not
    seen, something else went wrong)."""
    out = {}
    for req_id, per_kernel in run.requirements.items():
        got = per_kernel[kernel]
        if got == "fail":
            fails = [c for cell in run.cells_of(kernel) for c in cell.cases
                     if req_id in c.requirements and c.result == "fail"]
            if fails and not any(c.asserted for c in fails):
                got = "unshown"
        out[req_id] = got
    return out


def check_expectations(run):
    """SPEC: the baseline fails/passes as listed; every other kernel is not
    non-conformant; every selected cell ran to the end. Only what was
    selected counts: a filtered run is not asked for what it left out."""
    mismatches = []
    for kernel, verdict in run.verdicts.items():
        if kernel == reqs.BASELINE:
            mismatches += reqs.check_baseline(
                shown_results(run, kernel),
                not_applicable=verdict.not_applicable,
                selected_only=bool(tests_filtered(run, kernel)))
        elif verdict.verdict == "non-conformant":
            mismatches += [f"{kernel} is non-conformant: {d}" for d in verdict.deciding]
        if not run.cells_of(kernel):
            mismatches.append(f"{kernel}: no cell ran this kernel")
    for cell in run.cells:
        mismatches += [f"{cell.key} did not run to the end: {p}" for p in cell.interruptions]
    if not run.cells:
        mismatches.append("the run has no cells")
    return mismatches
