"""Write summary.json (described by results/summary.schema.json)."""
import json

import atomic_write
import requirements as reqs

SCHEMA_VERSION = 2
KERNEL_FIELDS = ("source_version", "debian_version", "series_applied", "patches",
                 "variant", "kernelrelease")


def where(run):
    """Where the run happened: QEMU (version, CPU models) or hardware."""
    text = run.host.get("where") or ""
    hardware = text.startswith("hardware") or not run.host.get("qemu_version")
    return {"kind": "hardware" if hardware else "qemu",
            "description": text or ("hardware" if hardware else run.host.get("qemu_version")),
            "qemu_version": None if hardware else run.host.get("qemu_version"),
            "cpu_models": sorted({c.cpu for c in run.cells if c.cpu}),
            "emulators": sorted({c.qemu_version or c.emulator for c in run.cells
                                 if c.qemu_version or c.emulator}),
            "host_uname": run.host.get("uname") or ""}


def totals_text(t):
    """'91 passed, 12 failed (10 expected), 21 skipped[, 1 todo]'."""
    text = f"{t['passed']} passed, {t['failed']} failed"
    if t.get("expected_failures"):
        text += f" ({t['expected_failures']} expected)"
    text += f", {t['skipped']} skipped"
    if t.get("todo"):
        text += f", {t['todo']} todo"
    return text


def case_dict(case):
    d = {"name": case.name, "binary": case.binary, "requirements": case.requirements,
         "result": case.result, "reason": case.reason}
    if case.kind and case.kind != "failure":
        d["error"] = case.kind  # timeout | crash | error: not a verdict on the kernel
    if case.expected:
        d["expected"] = case.expected
    if case.time is not None:
        d["time_s"] = case.time
    return d


def cell_dict(cell):
    return {"kernel": cell.kernel, "cell": cell.cell, "cpu": cell.cpu, "mode": cell.mode,
            "mte": cell.mte, "emulator": cell.emulator, "qemu_version": cell.qemu_version,
            "nvgrace": cell.nvgrace, "qemu_cmdline": cell.qemu_cmdline,
            "duration_s": cell.duration_s, "status": cell.status,
            "status_detail": cell.status_detail, "stream_complete": cell.stream_complete,
            "tests": cell.tests, "problems": cell.problems, "interruptions": cell.interruptions,
            "warnings": cell.warnings, "env": cell.env, "test_env": cell.test_env,
            "profile": cell.profile, "logs": cell.logs,
            "totals": {"passed": cell.count("pass"), "failed": cell.count("fail"),
                       "skipped": cell.count("skip"), "todo": cell.count("todo")},
            "requirements": cell.requirement_results(),
            "cases": [case_dict(c) for c in cell.cases]}


def summary(run):
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "started": run.started,
        "where": where(run),
        "kernels": {k: {f: info.get(f) for f in KERNEL_FIELDS} | {"patches": info.get("patches") or []}
                    for k, info in run.kernels.items()},
        "cells": [cell_dict(c) for c in run.cells],
        "requirements": {i: {"title": reqs.title(i),
                             "baseline_expected": reqs.baseline_expectation(i)} | by_kernel
                         for i, by_kernel in run.requirements.items()},
        "verdict": {k: {"verdict": v.verdict, "deciding": v.deciding,
                        "skipped": v.skipped, "not_run": v.not_run,
                        "incomplete": v.incomplete, "not_applicable": v.not_applicable,
                        "excused_by_selection": v.excused}
                    for k, v in run.verdicts.items()},
        "expectations": {"met": run.expectations_met, "mismatches": run.mismatches},
        "warnings": run.warnings,
        "totals": run.totals() | {"cells_failed": sum(1 for c in run.cells if c.problems)},
    }


def write(run, path):
    atomic_write.write_text(path, json.dumps(summary(run), indent=1) + "\n")
