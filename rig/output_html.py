"""Write report.html: one self-contained page (inline CSS, no scripts).

Top: where it ran, kernels and patches, verdicts, expectation mismatches.
Then the requirement x kernel/cell matrix; a failing matrix entry links to
that cell's logs (paths relative to the run directory). Then each cell's
cases.

The markup is templates/report.html.j2's, rendered with autoescape on:
names and texts from a run (what the kernel under test prints among them)
reach the page escaped by jinja2, never by hand. This module only picks
the values.
"""
import functools
import os
from urllib.parse import quote

import atomic_write
import output_json
import requirements as reqs

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
VERDICT_CLASS = {"conformant": "ok", "non-conformant": "bad", "incomplete": "warn"}


@functools.lru_cache(maxsize=None)
def environment():
    """The jinja2 environment, made on first use, so that report.py's other
    commands (parse on a device without python3-jinja2) do not need it."""
    import jinja2
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def _logs(cell):
    """[(kind, href)] of a cell's logs, relative to the run directory."""
    return [(kind, quote(p)) for kind, p in sorted(cell.logs.items(), reverse=True)]


def _kernels(run):
    return [{"name": k,
             "cols": [str(info.get(f) or "") for f in
                      ("source_version", "debian_version", "kernelrelease", "variant")],
             "applied": {True: "yes", False: "no"}.get(info.get("series_applied"), "unknown"),
             "patches": info.get("patches") or []}
            for k, info in run.kernels.items()]


def _verdicts(run):
    return [{"kernel": k, "v": v, "cls": VERDICT_CLASS.get(v.verdict, "bad"),
             "not_applicable": "; ".join(f"{i} ({why})" for i, why in v.not_applicable.items())}
            for k, v in run.verdicts.items()]


def _cell(cell):
    """What a cell's column header and its section show."""
    dur = cell.duration_s
    return {"c": cell, "logs": _logs(cell), "mte": "MTE" if cell.mte else "no MTE",
            "status_cls": "ok" if not cell.problems else "bad",
            "dur": f"{dur:.0f}s" if isinstance(dur, (int, float)) else "",
            "env": " ".join(f"{k}={v}" for k, v in cell.env.items()),
            "profile": " ".join(f"{k}={v}" for k, v in cell.profile.items()),
            "open": bool(cell.problems or cell.count("fail")),
            "cases": [_case(c) for c in cell.cases]}


def _case(case):
    if case.expected:
        cls, note = "expected", "expected"
    elif case.kind not in ("", "failure"):
        cls, note = "fail", case.kind
    else:
        cls, note = case.result, ""
    return {"c": case, "cls": cls, "result": "fail" if note else case.result, "note": note}


def _entry(result, cell, mismatch, title=""):
    """One matrix entry; a failure links to the first failing cell's logs."""
    links = []
    if result == "fail" and cell is not None and cell.logs:
        links = [(result if kind == "results" else kind, href) for kind, href in _logs(cell)]
    return {"result": result, "mismatch": mismatch, "links": links, "title": title}


def _covering(cell, req_id):
    return "; ".join(f"{c.name}: {c.result}" for c in cell.cases if req_id in c.requirements)


def _matrix_rows(run):
    per_cell = {c.key: c.requirement_results() for c in run.cells}
    rows = []
    for req_id, by_kernel in run.requirements.items():
        kernels = []
        for k in run.kernels:
            result = by_kernel[k]
            mismatch = (any(m.startswith(f"baseline {req_id}:") for m in run.mismatches)
                        if k == reqs.BASELINE else result == "fail")
            first_fail = next((c for c in run.cells_of(k)
                               if per_cell[c.key].get(req_id) == "fail"), None)
            missing = run.verdicts[k].not_applicable.get(req_id)
            kernels.append({"missing": missing, "all": _entry(result, first_fail, mismatch),
                            "cells": [_entry(per_cell[c.key].get(req_id, "not-run"), c, False,
                                             _covering(c, req_id)) for c in run.cells_of(k)]})
        rows.append({"id": req_id, "title": reqs.title(req_id),
                     "expected": reqs.baseline_expectation(req_id) or "", "kernels": kernels})
    return rows


def render(run):
    return environment().get_template("report.html.j2").render(
        run=run, where=output_json.where(run), kernels=_kernels(run),
        verdicts=_verdicts(run), totals=output_json.totals_text(run.totals()),
        columns=[(k, [_cell(c) for c in run.cells_of(k)]) for k in run.kernels],
        rows=_matrix_rows(run), cells=[_cell(c) for c in run.cells])


def write(run, path):
    atomic_write.write_text(path, render(run))
