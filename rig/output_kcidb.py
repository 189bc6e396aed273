"""Write a run as KernelCI KCIDB report data (rig/schema/kcidb-v5.json).

Target: KCIDB I/O schema v5.3 (major 5, minor 3), the latest v5 minor, as
published in kernelci/kcidb-io: kcidb_io/schema/v05_03.py (v5.3 added test
"input_files", 2025-03-28; kcidb_io/schema/__init__.py names it LATEST) and
the field semantics in kernelci/kcidb doc/submitter_guide.md.

What a run becomes:
  checkout  one per kernel: tree, commit (when run.json records one), the
            series as patchset_hash and patchset_files (file:// URLs: the rig
            publishes nothing) when files of the recorded names are found in
            RUN_DIR/patches/ or else the repository's kernel-patch/
  build     one per kernel (+ variant)
  tests     per cell: "boot" (did the kernel reach the test init) and
            "kselftest" (the cell's roll-up, cell-level failures included);
            one row per case, path kselftest.<collection>.<binary>.<case>;
            per kernel: one row per requirement ID, pfnmap.requirement.<ID>,
            whose status rolls up that kernel's cases naming the ID.

Statuses (KCIDB priority FAIL > ERROR > MISS > PASS > DONE > SKIP):
  pass -> PASS (an XFAIL stays PASS, the reason says so)   skip -> SKIP
  fail -> FAIL; but ERROR when the test did not complete: TIMEOUT, a binary
          killed by a signal (exit >= 128: crash), a result that never came,
          a kselftest "error" result. A kernel splat during the test is FAIL.
  cell: panic, boot-timeout, splat outside tests -> FAIL; cell-timeout,
        stream cut short -> ERROR; qemu-crash, no-results -> MISS.
  requirement not named by any case of the kernel -> MISS.
A failure SPEC expects of the baseline stays FAIL; misc says it is expected.

start_time is the run's start (run.json): the rig records no per-cell or
per-case times. duration is known per cell only (the "kselftest" row).
Absent values are omitted, never null; rig-specific data sits under misc.
"""
import hashlib
import json
import os
import pathlib
import re
import sys

import ktap_parser
import output_json
import classify
import requirements as reqs
import results

VERSION = {"major": 5, "minor": 3}
DEFAULT_ORIGIN = "pfnmap"
ORIGIN_RE = re.compile(r"^[a-z0-9_]+$")
PRIORITY = ["FAIL", "ERROR", "MISS", "PASS", "DONE", "SKIP"]
LOG_EXCERPT_MAX = 16384
RIG = os.path.dirname(os.path.abspath(__file__))

_BAD_PATH_CHARS = re.compile(r"[^A-Za-z0-9_-]+")
_EDGE_BAD_CHARS = re.compile(r"^[^A-Za-z0-9_-]+|[^A-Za-z0-9_-]+$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

# Config fragments build-kernel.sh merges, per variant.
CONFIG_NAMES = {"release": "allnoconfig+kvm+vfio+rig",
                "debug": "allnoconfig+kvm+vfio+rig+debug"}


def worst(statuses):
    """The highest-priority KCIDB status, None for none."""
    statuses = [s for s in statuses if s]
    return min(statuses, key=PRIORITY.index) if statuses else None


def segment(text):
    """One path node: [A-Za-z0-9_-] only; other runs become '_'."""
    return _BAD_PATH_CHARS.sub("_", _EDGE_BAD_CHARS.sub("", text))


def path_of(*parts):
    """Dot-joined path from dot-separated parts; empty nodes are dropped."""
    nodes = [segment(n) for p in parts for n in p.split(".")]
    return ".".join(n for n in nodes if n)


def case_path(case):
    """kselftest.<collection>.<binary>[.<case>] from the names the run records:
    binary "kvm:foo", harness case "fixture.variant.test" (its dots stay
    tree levels), spaces and other characters normalized to '_'."""
    collection, _, binary = case.binary.partition(":")
    prefix = path_of("kselftest", collection, binary.replace(".", "_"))
    name = case.name
    if case.binary and name == case.binary:
        return prefix  # the binary's own result
    if case.binary and name.startswith(case.binary + " "):
        name = name[len(case.binary) + 1:]  # "kvm:foo #3": an unnamed missing result
    return ".".join(p for p in (prefix, path_of(name) or "unnamed") if p)


# classify.case_kind -> KCIDB status. An expected failure stays FAIL
# (misc says it was expected): KCIDB has no "expected" status.
KCIDB = {"pass": "PASS", "skip": "SKIP", "todo": "DONE", "expected-failure": "FAIL",
         "failure": "FAIL", "timeout": "ERROR", "crash": "ERROR", "error": "ERROR"}


def case_status(case):
    """(KCIDB status, outcome note or None) for one report case."""
    kind = classify.case_kind(case)
    note = classify.NOTES.get(kind)
    if kind in ("failure", "expected-failure") and case.reason.startswith("kernel splat"):
        note = "kernel splat during the test"
    return KCIDB[kind], note


CELL_STATUS = {"panic": "FAIL", "boot-timeout": "ERROR", "cell-timeout": "ERROR",
               "qemu-crash": "MISS", "no-results": "MISS"}


def reached_init(cell):
    return cell.status == "ok" or bool(cell.cases)


def boot_status(cell):
    """Only a status that is the kernel's fault (results.py) fails the boot;
    a boot timeout under TCG says nothing about the kernel."""
    if reached_init(cell):
        return "PASS"
    if cell.status in results.KERNEL_FAILURE_STATUSES:
        return "FAIL"
    return {"qemu-crash": "MISS", "no-results": "MISS"}.get(cell.status, "ERROR")


def cell_problem_statuses(cell):
    out = []
    if cell.status != "ok":
        out.append(CELL_STATUS.get(cell.status, "ERROR"))
    if not cell.stream_complete:
        out.append("ERROR")
    if any(p.startswith("kernel splat outside tests") for p in cell.problems):
        out.append("FAIL")
    if not cell.cases:
        out.append("MISS")
    return out


def patchset(info, run_dir, patch_dirs=None):
    """(patchset_hash, patchset_files, source dir) for a kernel: '' for none
    applied; None when the series' files cannot be found under their names."""
    names = info.get("patches") or []
    if info.get("series_applied") is False:
        return "", [], None
    if not names:
        return None, [], None
    # What was tested: the series the run recorded (conformance.sh copies
    # build/series there), never the checkout's files at export time.
    dirs = patch_dirs if patch_dirs is not None else [os.path.join(run_dir, "patches")]
    for d in dirs:
        files = [os.path.join(d, n) for n in names]
        if all(os.path.isfile(f) for f in files):
            sums = ""
            for f in files:
                with open(f, "rb") as fh:
                    sums += hashlib.sha256(fh.read()).hexdigest() + "\n"
            return (hashlib.sha256(sums.encode()).hexdigest(),
                    [{"name": os.path.basename(f), "url": pathlib.Path(f).resolve().as_uri()}
                     for f in files], os.path.abspath(d))
    return None, [], None


def environment(run, cell):
    w = output_json.where(run)
    mte = "MTE on" if cell.mte else "MTE off"
    # host.where: "QEMU emulator version 7.2.19 (...), TCG on x86_64 (...)" or
    # "hardware: GH200, Neoverse V2".
    where = [w["description"] or ""] if w["kind"] == "hardware" else [
        run.host.get("where") or w["qemu_version"] or "QEMU",
        f"-cpu {cell.cpu}" if cell.cpu else ""]
    comment = "; ".join(p for p in where + [cell.mode, mte, f"cell {cell.cell}"] if p)
    misc = {"kind": w["kind"], "cell": cell.cell, "cpu": cell.cpu or None,
            "mode": cell.mode or None, "mte": cell.mte, "where": run.host.get("where"),
            "qemu_version": w["qemu_version"], "host_uname": w.get("host_uname") or None,
            "guest_env": cell.env or None, "profile": cell.profile or None}
    return {"comment": comment, "misc": misc}


def kernel_environment(run, kernel):
    cells = run.cells_of(kernel)
    w = output_json.where(run)
    where = w["description"] if w["kind"] == "hardware" else (
        run.host.get("where") or w["qemu_version"] or "QEMU")
    listing = ", ".join(f"{c.cell} (-cpu {c.cpu})" if c.cpu else c.cell for c in cells)
    return {"comment": f"{where}; roll-up over cells: {listing or 'none'}",
            "misc": {"kind": w["kind"], "cells": [c.cell for c in cells],
                     "cpu_models": sorted({c.cpu for c in cells if c.cpu}),
                     "where": run.host.get("where")}}


def start_time(run):
    return run.started if _RFC3339.match(run.started or "") else None


class _Ids:
    """Test IDs: unique per report even where normalized paths collide."""

    def __init__(self):
        self.seen = set()

    def __call__(self, base):
        tid, n = base, 1
        while tid in self.seen:
            n += 1
            tid = f"{base}:{n}"
        self.seen.add(tid)
        return tid


def run_key(run):
    """The run's part of every id: its name plus a digest of when and where
    it ran, so two runs that share a directory name (every
    `report.py hardware --out report`) never share ids."""
    seed = "|".join(str(x) for x in (run.run_id, run.started, run.host.get("uname"),
                                     run.host.get("where")))
    return f"{run.run_id}-{hashlib.sha256(seed.encode()).hexdigest()[:10]}"


def checkout(origin, checkout_id, kernel, info, run, patch_dirs):
    phash, pfiles, psource = patchset(info, run.run_dir, patch_dirs)
    patches = info.get("patches") or []
    # run-info.py records the source tree's HEAD under tree.git_commit.
    commit = ((info.get("tree") or {}).get("git_commit") or info.get("git_commit_hash")
              or info.get("commit"))
    repo_url = info.get("git_repository_url")
    source = ("Debian linux-source " + info["debian_version"] if info.get("debian_version")
              else f"Linux {info['source_version']}" if info.get("source_version")
              else "kernel source unknown")
    return {
        "id": checkout_id, "origin": origin,
        "tree_name": info.get("tree_name") or ("debian" if info.get("debian_version") else None),
        "git_repository_url": repo_url if (repo_url or "").startswith("https://") else None,
        "git_commit_hash": commit if _SHA1.match(commit or "") else None,
        "patchset_hash": phash, "patchset_files": pfiles or None,
        "comment": f"{kernel}: {source}" + (f" + {len(patches)} patches" if patches else ""),
        "valid": True if info.get("series_applied") is not None else None,
        "misc": {"kernel": kernel, "run_id": run.run_id,
                 "source_version": info.get("source_version"),
                 "debian_version": info.get("debian_version"),
                 "series_applied": info.get("series_applied"), "patches": patches or None,
                 "patchset_files_from": psource},
    }


def build(origin, build_id, checkout_id, kernel, info, variant, cells):
    return {
        "id": build_id, "origin": origin, "checkout_id": checkout_id,
        "architecture": "arm64", "config_name": CONFIG_NAMES.get(variant),
        "comment": f"{kernel}: {info.get('kernelrelease') or 'release unknown'} ({variant})",
        # Built if any cell booted it; otherwise unknown (the rig cannot tell
        # a failed kernel build from a failed initramfs).
        "status": "PASS" if any(reached_init(c) for c in cells) else None,
        "misc": {"kernel": kernel, "variant": variant,
                 "kernelrelease": info.get("kernelrelease")},
    }


def cell_rows(run, cell, common, new_id, by_req):
    """boot, kselftest and one row per case for one cell; records each case's
    status under by_req[ID][cell] for the requirement rows."""
    env = environment(run, cell)
    base = f"{common['build_id']}:{cell.cell}"
    statuses, cases = [], []
    for case in cell.cases:
        status, outcome = case_status(case)
        statuses.append(status)
        for i in case.requirements:
            by_req.setdefault(i, {}).setdefault(cell.cell, []).append(status)
        path = case_path(case)
        misc = {"kernel": cell.kernel, "cell": cell.cell, "binary": case.binary or None,
                "case": case.name, "requirements": case.requirements or None,
                "rig_result": case.result, "outcome": outcome}
        if case.expected:
            misc["expected_failure"] = True
            misc["note"] = case.expected
        log = "\n".join(case.log)
        cases.append(common | {
            "id": new_id(f"{base}:{path}"), "path": path, "status": status,
            "comment": case.reason or None,
            "log_excerpt": log[-LOG_EXCERPT_MAX:] if log and status != "PASS" else None,
            "environment": env, "misc": misc})
    boot = common | {
        "id": new_id(f"{base}:boot"), "path": "boot", "status": boot_status(cell),
        "comment": None if reached_init(cell) else
        f"{cell.status}: {cell.status_detail}".rstrip(": "),
        "environment": env,
        "misc": {"kernel": cell.kernel, "cell": cell.cell, "cell_status": cell.status}}
    duration = cell.duration_s
    suite = common | {
        "id": new_id(f"{base}:kselftest"), "path": "kselftest",
        "status": worst(statuses + cell_problem_statuses(cell)) or "MISS",
        "comment": "; ".join(cell.problems) or None,
        "duration": duration if isinstance(duration, (int, float))
        and not isinstance(duration, bool) else None,
        "environment": env,
        "misc": {"kernel": cell.kernel, "cell": cell.cell, "cell_status": cell.status,
                 "stream_complete": cell.stream_complete,
                 "problems": cell.problems or None, "logs": cell.logs or None,
                 "qemu_cmdline": cell.qemu_cmdline or None,
                 "totals": {"passed": cell.count("pass"), "failed": cell.count("fail"),
                            "skipped": cell.count("skip")},
                 "note": "duration is the cell's wall time, boot included"}}
    return [boot, suite] + cases


def requirement_rows(run, kernel, common, new_id, by_req):
    env = kernel_environment(run, kernel)
    rows = []
    for req_id, by_kernel in run.requirements.items():
        per_cell = {c: worst(s) for c, s in by_req.get(req_id, {}).items()}
        rig = by_kernel.get(kernel, "not-run")
        misc = {"requirement": req_id, "title": reqs.title(req_id), "kernel": kernel,
                "rig_result": rig, "cells": per_cell or None}
        exp = reqs.baseline_expectation(req_id) if kernel == reqs.BASELINE else None
        if exp:
            misc["baseline_expected"] = exp
            misc["expectation_met"] = rig == exp
            if exp == "fail" and rig == "fail":
                misc["expected_failure"] = True
                misc["note"] = "expected: SPEC says the unpatched baseline must fail this"
        if rig == "not-run":
            misc["note"] = "no case of this kernel named the ID"
        path = path_of("pfnmap.requirement", req_id)
        status = worst(per_cell.values()) or "MISS"
        if rig == "fail" and status not in ("FAIL", "ERROR"):
            # Failed across cases (an inconsistent profile), not by one case.
            status = "FAIL"
            misc["note"] = "failed by the rig's profile check across the kernel's cases"
        rows.append(common | {
            "id": new_id(f"{common['build_id']}:{path}"), "path": path,
            "status": status,
            "comment": f"{req_id}: {reqs.title(req_id)}", "environment": env, "misc": misc})
    return rows


def report(run, origin=DEFAULT_ORIGIN, patch_dirs=None):
    """The KCIDB report data (a dict) for a loaded results.Run."""
    if not ORIGIN_RE.match(origin or ""):
        raise ValueError(f"origin {origin!r}: KCIDB wants [a-z0-9_]+")
    new_id = _Ids()
    checkouts, builds, tests = [], [], []
    for kernel, info in run.kernels.items():
        cells = run.cells_of(kernel)
        checkout_id = f"{origin}:{run_key(run)}:{kernel}"
        variant = info.get("variant") or "unknown"
        build_id = f"{checkout_id}:{variant}"
        checkouts.append(checkout(origin, checkout_id, kernel, info, run, patch_dirs))
        builds.append(build(origin, build_id, checkout_id, kernel, info, variant, cells))
        common = {"origin": origin, "build_id": build_id, "start_time": start_time(run)}
        by_req = {}
        for cell in cells:
            tests += cell_rows(run, cell, common, new_id, by_req)
        tests += requirement_rows(run, kernel, common, new_id, by_req)
    return clean({"version": dict(VERSION), "checkouts": checkouts, "builds": builds,
                  "tests": tests})


def clean(value):
    """Drop None values, empty objects/arrays and NUL characters: KCIDB has
    no nulls, and an absent field means 'unknown'."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = clean(v)
            if v is None or (isinstance(v, (dict, list)) and not v):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [v for v in (clean(v) for v in value) if v is not None]
    if isinstance(value, str):
        return value.replace("\0", "")
    return value


def write(run, path, origin=DEFAULT_ORIGIN, patch_dirs=None):
    data = report(run, origin, patch_dirs)
    if path == "-":
        json.dump(data, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return data
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    return data
