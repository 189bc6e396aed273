"""Build the report model from a run directory (layout: results/README.md):
per-cell cases, per-requirement results per kernel and per cell, a verdict
per kernel and the check against SPEC's expectations."""
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import console_scan
import requirements as reqs
import rig_stream

KERNEL_ORDER = ["baseline", "patched"]


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
    env: Dict[str, str] = field(default_factory=dict)
    test_env: Dict[str, Dict[str, str]] = field(default_factory=dict)
    profile: Dict[str, str] = field(default_factory=dict)
    cases: List[rig_stream.ReportCase] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)  # cell-level failure causes
    logs: Dict[str, str] = field(default_factory=dict)  # kind -> path relative to run dir
    stream_complete: bool = True

    @property
    def key(self):
        return f"{self.kernel}-{self.cell}"

    def count(self, result):
        return sum(1 for c in self.cases if c.result == result)

    def requirement_results(self):
        """ID -> aggregated result over this cell's cases."""
        by_id = {}
        for case in self.cases:
            for req_id in case.requirements:
                by_id.setdefault(req_id, []).append(case.result)
        return {i: reqs.aggregate(r) for i, r in by_id.items()}


@dataclass
class Verdict:
    verdict: str  # conformant | non-conformant
    deciding: List[str]
    skipped: List[str]
    not_run: List[str]


@dataclass
class Run:
    run_dir: str
    run_id: str
    started: str
    host: dict
    kernels: Dict[str, dict]
    cells: List[Cell]
    requirements: Dict[str, Dict[str, str]] = field(default_factory=dict)  # ID -> kernel -> result
    verdicts: Dict[str, Verdict] = field(default_factory=dict)
    mismatches: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    @property
    def expectations_met(self):
        return not self.mismatches

    def cells_of(self, kernel):
        return [c for c in self.cells if c.kernel == kernel]

    def totals(self):
        cases = [c for cell in self.cells for c in cell.cases]
        return {"passed": sum(c.result == "pass" for c in cases),
                "failed": sum(c.result == "fail" for c in cases),
                "skipped": sum(c.result == "skip" for c in cases)}


def _load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    return data


def load_cell(run_dir, cell_dir):
    meta = _load_json(os.path.join(cell_dir, "cell.json"))
    for key in ("kernel", "cell"):
        if not isinstance(meta.get(key), str):
            raise InputError(f"{cell_dir}/cell.json: '{key}' missing")
    cell = Cell(kernel=meta["kernel"], cell=meta["cell"], cpu=meta.get("cpu") or "",
                mode=meta.get("mode") or "", mte=bool(meta.get("mte")),
                qemu_cmdline=meta.get("qemu_cmdline") or "",
                duration_s=meta.get("duration_s"), status=meta.get("status") or "ok",
                status_detail=meta.get("status_detail") or "")
    rel = os.path.relpath(cell_dir, run_dir)
    if cell.status != "ok":
        cell.problems.append(f"{cell.status}: {cell.status_detail}".rstrip(": "))

    tap = os.path.join(cell_dir, "results.tap")
    stream = rig_stream.Stream()
    if os.path.exists(tap):
        cell.logs["results"] = f"{rel}/results.tap"
        stream = rig_stream.read_stream_file(tap)
    elif cell.status == "ok":
        cell.problems.append("no results.tap: the results channel was never written")
    cell.cases, cell.env, cell.test_env, cell.profile = (
        stream.cases, stream.env, stream.test_env, stream.profile)
    # The hardware command writes "framed": false for raw run_kselftest.sh logs.
    framed = meta.get("framed", True)
    if stream.truncated or (framed and os.path.exists(tap) and not stream.began):
        cell.stream_complete = False
        cell.problems.append("results stream truncated: no '# rig-end' (the guest stopped "
                             "before the init finished; later tests never ran)"
                             if stream.began else "results stream has no '# rig-begin': "
                             "the init never started the tests")
    if cell.status == "ok" and os.path.exists(tap) and not cell.cases:
        cell.problems.append("no test results in the stream")

    console = console_scan.read_console(os.path.join(cell_dir, "console.log"))
    if console is not None:
        cell.logs["console"] = f"{rel}/console.log"
        for splat in console_scan.unattributed(console, stream.splat_lines()):
            cause = f"kernel splat outside tests: {splat}"
            if not any(splat in p for p in cell.problems):
                cell.problems.append(cause)
    return cell


def load_run(run_dir):
    """Read RUN_DIR and return a fully evaluated Run. Raises InputError."""
    run_dir = os.path.abspath(run_dir)
    meta = _load_json(os.path.join(run_dir, "run.json"))
    cells_dir = os.path.join(run_dir, "cells")
    if not os.path.isdir(cells_dir):
        raise InputError(f"{run_dir}: no cells/ directory")
    cells = [load_cell(run_dir, os.path.join(cells_dir, d))
             for d in sorted(os.listdir(cells_dir))
             if os.path.isdir(os.path.join(cells_dir, d))]
    kernels = dict(meta.get("kernels") or {})
    for cell in cells:
        kernels.setdefault(cell.kernel, {})
    run = Run(run_dir=run_dir, run_id=meta.get("run_id") or os.path.basename(run_dir),
              started=meta.get("started") or "", host=meta.get("host") or {},
              kernels={k: kernels[k] for k in sort_kernels(kernels)},
              cells=sorted(cells, key=lambda c: (sort_kernels(kernels).index(c.kernel), c.cell)))
    evaluate(run)
    return run


def sort_kernels(names):
    return sorted(names, key=lambda k: (KERNEL_ORDER.index(k) if k in KERNEL_ORDER
                                        else len(KERNEL_ORDER), k))


def requirement_ids(run):
    seen = {i for cell in run.cells for c in cell.cases for i in c.requirements}
    return sorted(set(reqs.ORDER) | seen, key=reqs.sort_key)


def evaluate(run):
    """Fill requirements, verdicts, mismatches and warnings."""
    ids = requirement_ids(run)
    for req_id in ids:
        run.requirements[req_id] = {
            k: reqs.aggregate(c.result for cell in run.cells_of(k) for c in cell.cases
                              if req_id in c.requirements)
            for k in run.kernels}
    unknown = [i for i in ids if i not in reqs.TITLES]
    if unknown:
        run.warnings.append("REQ IDs not in SPEC.md (typo?): " + " ".join(unknown))
    for kernel in run.kernels:
        run.verdicts[kernel] = kernel_verdict(run, kernel)
    run.mismatches = check_expectations(run)


def kernel_verdict(run, kernel):
    results = {i: r[kernel] for i, r in run.requirements.items()}
    deciding = [i for i, r in results.items() if r == "fail"]
    for cell in run.cells_of(kernel):
        deciding += [f"{cell.cell}: {p}" for p in cell.problems]
        # A failure nobody traced to a requirement still counts.
        deciding += [f"{cell.cell}: {c.name} failed (traced to no requirement)"
                     for c in cell.cases if c.result == "fail" and not c.requirements]
    if not run.cells_of(kernel):
        deciding.append("no cell ran this kernel")
    return Verdict("non-conformant" if deciding else "conformant", deciding,
                   [i for i, r in results.items() if r == "skip"],
                   [i for i, r in results.items() if r == "not-run"])


def check_expectations(run):
    """SPEC: the baseline fails/passes as listed; every other kernel conforms."""
    mismatches = []
    for kernel, verdict in run.verdicts.items():
        if kernel == reqs.BASELINE:
            mismatches += reqs.check_baseline({i: r[kernel] for i, r in run.requirements.items()})
        elif verdict.verdict != "conformant":
            mismatches += [f"{kernel} is non-conformant: {d}" for d in verdict.deciding]
    if not run.cells:
        mismatches.append("the run has no cells")
    return mismatches
