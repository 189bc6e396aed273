"""What changed between two loaded runs (results.Run): verdicts and
requirement results per kernel, case results per cell."""
from dataclasses import dataclass, field
from typing import List, Tuple

GONE = "(absent)"


@dataclass
class RunDiff:
    verdicts: List[Tuple[str, str, str]] = field(default_factory=list)  # kernel, a, b
    requirements: List[Tuple[str, str, str, str]] = field(default_factory=list)  # id, kernel, a, b
    cells: List[Tuple[str, str, str]] = field(default_factory=list)  # cell key, a, b status
    cases: List[Tuple[str, str, str, str]] = field(default_factory=list)  # cell key, case, a, b

    @property
    def empty(self):
        return not (self.verdicts or self.requirements or self.cells or self.cases)


def _pairs(a, b):
    """Keys of both dicts in first-seen order, with each side's value or GONE."""
    keys = list(a) + [k for k in b if k not in a]
    return [(k, a.get(k, GONE), b.get(k, GONE)) for k in keys]


def _case_results(cell):
    """case name -> result; a name seen twice keeps each result in order."""
    out, seen = {}, {}
    for case in cell.cases:
        label = case.name
        if case.binary and case.binary != case.name:
            label = f"{case.binary}: {case.name}"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} ({seen[label]})"
        out[label] = case.result
    return out


def _cell_status(cell):
    return cell.status if not cell.problems or cell.status != "ok" else "failed"


def diff(run_a, run_b):
    d = RunDiff()
    va = {k: v.verdict for k, v in run_a.verdicts.items()}
    vb = {k: v.verdict for k, v in run_b.verdicts.items()}
    d.verdicts = [(k, a, b) for k, a, b in _pairs(va, vb) if a != b]
    for req_id, a, b in _pairs(run_a.requirements, run_b.requirements):
        a = a if a != GONE else {}
        b = b if b != GONE else {}
        d.requirements += [(req_id, k, ra, rb) for k, ra, rb in _pairs(a, b) if ra != rb]
    cells_a = {c.key: c for c in run_a.cells}
    cells_b = {c.key: c for c in run_b.cells}
    for key, ca, cb in _pairs(cells_a, cells_b):
        sa = _cell_status(ca) if ca != GONE else GONE
        sb = _cell_status(cb) if cb != GONE else GONE
        if sa != sb:
            d.cells.append((key, sa, sb))
        if GONE in (ca, cb):
            continue  # a cell on one side only: its status line says so
        d.cases += [(key, name, ra, rb)
                    for name, ra, rb in _pairs(_case_results(ca), _case_results(cb)) if ra != rb]
    return d


def format_diff(d, name_a, name_b):
    """Human-readable lines."""
    lines = [f"diff {name_a} -> {name_b}"]
    if d.empty:
        return lines + ["no change in verdicts, requirements or case results"]
    if d.verdicts:
        lines.append("verdicts:")
        lines += [f"  {k}: {a} -> {b}" for k, a, b in d.verdicts]
    if d.requirements:
        lines.append("requirements (per kernel):")
        lines += [f"  {i} {k}: {a} -> {b}" for i, k, a, b in d.requirements]
    if d.cells:
        lines.append("cells:")
        lines += [f"  {k}: {a} -> {b}" for k, a, b in d.cells]
    if d.cases:
        lines.append("cases (per cell):")
        lines += [f"  {k}: {n}: {a} -> {b}" for k, n, a, b in d.cases]
    lines.append(f"{len(d.requirements)} requirement and {len(d.cases)} case changes")
    return lines
