#!/usr/bin/env python3
"""Report on PFNMAP stage-2 conformance runs.

  report RUN_DIR      summary.json, junit.xml and report.html for a rig run
  parse FILE...       offline: print a saved results.tap / run_kselftest.sh log
  hardware TAPFILE    make a one-cell run dir from a hardware log, then report
  kcidb RUN_DIR       the run as KernelCI KCIDB JSON (I/O schema v5.3)
  diff RUN_A RUN_B    which requirements (per kernel) and cases (per cell) changed
  red RUN_DIR         the requirement IDs one kernel failed, for the mutation check

Exit status: 0 expectations met (report) / no failure (parse) / always
(diff); 1 otherwise; 2 unreadable input; 3 (report, hardware) nothing
failed but a kernel is incomplete for a reason other than the selection
the user asked for (TESTS, CELLS, KERNELS).
"""
import argparse
import datetime
import json
import os
import shutil
import sys

# Runnable as "python3 rig/report.py" from anywhere, and from the kselftest
# tarball, where these modules sit flat beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import atomic_write  # noqa: E402
import cell_record  # noqa: E402
import console_scan  # noqa: E402
import diff_runs  # noqa: E402
import output_html  # noqa: E402
import output_json  # noqa: E402
import output_junit  # noqa: E402
import output_kcidb  # noqa: E402
import profiles  # noqa: E402
import requirements as reqs  # noqa: E402
import results  # noqa: E402
import rig_stream  # noqa: E402

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3
MARK = {"pass": "[PASSED]", "fail": "[FAILED]", "skip": "[SKIPPED]", "todo": "[TODO]"}


def totals_line(t):
    return output_json.totals_text(t)


def _started(run_dir):
    try:
        with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
            return str(json.load(f).get("started") or "")
    except (OSError, ValueError, AttributeError):
        return ""


def point_latest(run_dir, root):
    """<root>/latest -> run_dir, replaced atomically; never clobbers a real
    dir, and never moves back to an older run (re-reporting one)."""
    latest = os.path.join(root, "latest")
    if os.path.exists(latest) and not os.path.islink(latest):
        print(f"report: {latest} exists and is not a symlink; left alone", file=sys.stderr)
        return
    if os.path.islink(latest) and os.path.isdir(latest):
        current = os.path.realpath(latest)
        if current != os.path.realpath(run_dir) and _started(current) > _started(run_dir):
            return
    atomic_write.symlink(os.path.relpath(run_dir, root), latest)


def print_table(run, out=sys.stdout):
    rows = [("kernel", "cell", "emulator", "status", "pass", "fail", "skip", "time")]
    for c in run.cells:
        dur = f"{c.duration_s:.1f}s" if isinstance(c.duration_s, (int, float)) else "-"
        status = c.status if not c.problems or c.status != "ok" else "FAILED"
        rows.append((c.kernel, c.cell, c.emulator or "hardware", status, str(c.count("pass")),
                     str(c.count("fail")), str(c.count("skip")), dur))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.rjust(w) if i >= 4 else v.ljust(w)
                        for i, (v, w) in enumerate(zip(r, widths))).rstrip(), file=out)
    print(file=out)
    for c in run.cells:
        for p in c.problems:
            print(f"{c.key}: {p}", file=out)
    for kernel, v in run.verdicts.items():
        print(verdict_line(kernel, v), file=out)
        prof = profiles.summary(run.cells_of(kernel))
        if prof:
            print(f"  profile: " + " ".join(f"{k}={v}" for k, v in prof.items()), file=out)
    for w in run.warnings:
        print(f"warning: {w}", file=out)
    if run.mismatches:
        print("expectations NOT met:", file=out)
        for m in run.mismatches:
            print(f"  {m}", file=out)
    else:
        print("expectations met", file=out)


def verdict_line(kernel, v):
    line = f"{kernel}: {v.verdict}"
    if v.deciding:
        line += " (" + ", ".join(v.deciding) + ")"
    elif v.excused:
        line += " (only the selection you asked for: " + "; ".join(v.incomplete) + ")"
    elif v.incomplete:
        line += " (" + "; ".join(v.incomplete) + ")"
    if v.skipped:
        line += "; skipped: " + " ".join(v.skipped)
    if v.not_run:
        line += "; not run: " + " ".join(v.not_run)
    if v.not_applicable:
        line += "; not applicable: " + "; ".join(f"{i} ({why})"
                                                 for i, why in v.not_applicable.items())
    return line


def cmd_report(args):
    run_dir = os.path.abspath(args.run_dir)
    try:
        run = results.load_run(run_dir)
    except results.InputError as e:
        print(f"report: {e}", file=sys.stderr)
        return EXIT_INPUT
    output_json.write(run, os.path.join(run_dir, "summary.json"))
    output_junit.write(run, os.path.join(run_dir, "junit.xml"))
    html = os.path.join(run_dir, "report.html")
    output_html.write(run, html)
    root = os.path.abspath(args.results_root or os.path.dirname(run_dir))
    try:
        point_latest(run_dir, root)
    except OSError as e:
        print(f"report: cannot point {root}/latest at the run: {e}", file=sys.stderr)
    print_table(run)
    print(totals_line(run.totals()))
    print(f"report: {html}")
    return exit_status(run)


def exit_status(run):
    """1: expectations not met; 3: a kernel could not be judged for a
    reason other than the user's selection; 0 otherwise."""
    if not run.expectations_met:
        return EXIT_FAIL
    return EXIT_INCOMPLETE if run.unexcused_incomplete() else EXIT_OK


def _read_lines(path):
    if path == "-":
        # Bytes, then UTF-8 with replacement: a console log is not always
        # UTF-8, and a strict locale must not make stdin fail to decode.
        return sys.stdin.buffer.read().decode("utf-8", errors="replace").splitlines(True)
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.readlines()


def cmd_parse(args):
    kernel = args.kernel or "kernel"
    files = []
    for path in args.files:
        try:
            stream = rig_stream.read_stream(_read_lines(path))
        except OSError as e:
            print(f"parse: {e}", file=sys.stderr)
            return EXIT_INPUT
        problems = (["results stream truncated: no '# rig-end'"] if stream.truncated else [])
        if stream.bailout is not None:
            problems.append(f"Bail out! {stream.bailout}".strip())
        if not stream.cases:
            problems.append("no test results found")
        files.append((path, stream, problems))
    cases = [c for _, s, _ in files for c in s.cases]
    t = {"passed": sum(c.result == "pass" for c in cases),
         "failed": sum(c.result == "fail" for c in cases),
         "skipped": sum(c.result == "skip" for c in cases)}
    if any(c.result == "todo" for c in cases):
        t["todo"] = sum(c.result == "todo" for c in cases)
    by_id = {}
    for c in cases:
        for i in c.requirements:
            by_id.setdefault(i, []).append(c.result)
    req_results = {i: reqs.aggregate(by_id[i]) for i in sorted(by_id, key=reqs.sort_key)}
    failed = t["failed"] > 0 or any(p for _, _, p in files)
    if args.json:
        print(json.dumps({
            "kernel": kernel,
            "files": [{"file": p, "env": s.env, "test_env": s.test_env, "profile": s.profile,
                       "problems": pr, "warnings": s.warnings,
                       "cases": [output_json.case_dict(c) for c in s.cases]}
                      for p, s, pr in files],
            "requirements": req_results, "totals": t}, indent=1))
        return EXIT_FAIL if failed else EXIT_OK
    for path, stream, problems in files:
        print(f"============ {kernel}: {path} ============")
        if stream.env:
            print("env: " + " ".join(f"{k}={v}" for k, v in stream.env.items()))
        binary = None
        for c in stream.cases:
            if c.binary != binary:
                binary = c.binary
                if binary:
                    print(f"---- {binary}")
            ids = f" [{' '.join(c.requirements)}]" if c.requirements else ""
            print(f"{MARK[c.result]} {c.name}{ids}")
            if c.reason and c.result != "pass":
                print(f"    {c.reason}")
        for p in problems:
            print(f"[FAILED] {p}")
        for w in stream.warnings:
            print(f"warning: {w}")
    if args.kernel:
        print(f"============ requirements ({kernel}) ============")
        for i, r in req_results.items():
            print(f"{r:8} {i}: {reqs.title(i)}")
    print(totals_line(t))
    return EXIT_FAIL if failed else EXIT_OK


def _hardware_env(stream):
    env = dict(stream.env)
    for per_binary in stream.test_env.values():
        for k, v in per_binary.items():
            env.setdefault(k, v)
    return env


def cmd_hardware(args):
    # Both inputs are read before anything is written.
    try:
        lines = _read_lines(args.tapfile)
        klog = _read_lines(args.console) if args.console else None
    except OSError as e:
        print(f"hardware: {e}", file=sys.stderr)
        return EXIT_INPUT
    stream = rig_stream.read_stream(lines)
    env = _hardware_env(stream)
    out = os.path.abspath(args.out)
    if os.path.isdir(out) and os.listdir(out):
        print(f"hardware: {out} is not empty: give a new directory (an earlier run there "
              "would be overwritten or merged)", file=sys.stderr)
        return EXIT_INPUT
    cell_dir = os.path.join(out, "cells", f"{args.kernel}-hardware")
    os.makedirs(cell_dir, exist_ok=True)
    where = args.where or env.get("where") or "hardware: unknown machine (pass --where)"
    if not where.startswith("hardware"):
        where = "hardware: " + where
    release = env.get("kernel", "")
    run = {"run_id": os.path.basename(out),
           "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "host": {"uname": env.get("uname", release), "qemu_version": None, "where": where},
           "kernels": {args.kernel: {"source_version": release or "unknown",
                                     "debian_version": None, "series_applied": None,
                                     "patches": [], "variant": "unknown",
                                     "kernelrelease": release}}}
    mode = (env.get("kvm_mode") or (klog and console_scan.kvm_mode(klog))
            or {"1": "vhe", "0": "nvhe"}.get(env.get("vhe", ""), "unknown"))
    cpu = env.get("cpu") or env.get("midr") or "hardware"
    with open(os.path.join(out, "run.json"), "w", encoding="utf-8") as f:
        json.dump(run, f, indent=1)
    cell_record.write(cell_dir, args.kernel, "hardware", cpu, mode, env.get("mte") == "1",
                      status_detail="captured on hardware", framed=stream.began)
    with open(os.path.join(cell_dir, "results.tap"), "w", encoding="utf-8") as f:
        f.writelines(lines)
    if klog is not None:
        # Only what the kernel logged while the suite ran is the suite's: a
        # warning from boot is not a finding about these tests.
        window = console_scan.suite_window(klog)
        if window is None:
            print(f"hardware: {args.console} has no '{console_scan.SUITE_BEGIN}' line, so "
                  "the suite's share of the kernel log is unknown and it was not checked for "
                  f"splats (write it to /dev/kmsg before run_kselftest.sh: see the README)",
                  file=sys.stderr)
            window = []
        with open(os.path.join(cell_dir, "console.log"), "w", encoding="utf-8") as f:
            f.writelines(window)
        shutil.copyfile(args.console, os.path.join(cell_dir, "kernel-log-full.txt"))
    args.run_dir = out
    return cmd_report(args)


def cmd_kcidb(args):
    try:
        run = results.load_run(args.run_dir)
        out = args.out or os.path.join(run.run_dir, "kcidb.json")
        output_kcidb.write(run, out, args.origin)
    except (results.InputError, ValueError, OSError) as e:
        print(f"kcidb: {e}", file=sys.stderr)
        return EXIT_INPUT
    if out != "-":
        print(f"kcidb: {out}")
    return EXIT_OK


def cmd_diff(args):
    try:
        run_a, run_b = results.load_run(args.run_a), results.load_run(args.run_b)
    except results.InputError as e:
        print(f"diff: {e}", file=sys.stderr)
        return EXIT_INPUT
    for line in diff_runs.format_diff(diff_runs.diff(run_a, run_b), run_a.run_id, run_b.run_id):
        print(line)
    return EXIT_OK


def cmd_red(args):
    """Print what went red for one kernel: failed requirement IDs, and each
    cell that panicked or never finished, as 'cell:<status>'."""
    try:
        run = results.load_run(os.path.abspath(args.run_dir))
    except results.InputError as e:
        print(f"red: {e}", file=sys.stderr)
        return EXIT_INPUT
    if args.kernel not in run.kernels:
        print(f"red: no kernel '{args.kernel}' in {run.run_dir} (it has: "
              f"{' '.join(run.kernels) or 'none'})", file=sys.stderr)
        return EXIT_INPUT
    red = sorted(i for i, per_kernel in run.requirements.items()
                 if per_kernel.get(args.kernel) == "fail")
    for cell in run.cells_of(args.kernel):
        if cell.status != "ok":
            red.append(f"{cell.cell}:{cell.status}")
        # A splat outside the tests and a failure no requirement names are
        # red too: a mutant that causes only those is killed.
        if any(p.startswith("kernel splat") for p in cell.failures):
            red.append(f"{cell.cell}:splat")
        if any(c.result == "fail" and not c.requirements for c in cell.cases):
            red.append(f"{cell.cell}:untraced-failure")
    print(" ".join(red))
    return EXIT_OK


def main(argv=None):
    # A strict (C/ASCII) locale must not turn a name from a log into a crash.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    ap = argparse.ArgumentParser(prog="report.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("report", help="write summary.json, junit.xml, report.html for a run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="results/<run-id> (see results/README.md)")
    p.add_argument("--results-root", metavar="DIR",
                   help="where to point DIR/latest at the run (default: RUN_DIR's parent)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("parse", help="print saved logs kunit-style, offline")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="results.tap or run_kselftest.sh output ('-' for stdin)")
    p.add_argument("--kernel", metavar="NAME", help="label, and print per-requirement results")
    p.add_argument("--json", action="store_true", help="print JSON instead")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("hardware", help="report on a TAP log captured on real hardware")
    p.add_argument("tapfile", metavar="TAPFILE", help="run_kselftest.sh output from the machine")
    p.add_argument("--out", required=True, metavar="DIR", help="run directory to create")
    p.add_argument("--kernel", default="patched", metavar="NAME",
                   help="kernel name; 'baseline' gets the baseline expectations (default: patched)")
    p.add_argument("--where", metavar="TEXT", help='e.g. "hardware: GH200 (Neoverse V2)"')
    p.add_argument("--console", metavar="FILE", help="dmesg of the run, scanned for splats")
    p.add_argument("--results-root", metavar="DIR",
                   help="where to point DIR/latest at the run (default: DIR's parent)")
    p.set_defaults(func=cmd_hardware)

    p = sub.add_parser("kcidb", help="write the run as KernelCI KCIDB JSON (schema v5.3)")
    p.add_argument("run_dir", metavar="RUN_DIR", help="results/<run-id>")
    p.add_argument("--out", metavar="FILE", help="default: RUN_DIR/kcidb.json; '-': stdout")
    p.add_argument("--origin", default=output_kcidb.DEFAULT_ORIGIN, metavar="NAME",
                   help="KCIDB origin, [a-z0-9_]+ (default: %(default)s)")
    p.set_defaults(func=cmd_kcidb)

    p = sub.add_parser("diff", help="what changed between two runs (always exits 0)")
    p.add_argument("run_a", metavar="RUN_A", help="the older results/<run-id>")
    p.add_argument("run_b", metavar="RUN_B", help="the newer results/<run-id>")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("red", help="the requirement IDs a kernel failed, one line")
    p.add_argument("run_dir", metavar="RUN_DIR", help="results/<run-id>")
    p.add_argument("--kernel", required=True, metavar="NAME")
    p.set_defaults(func=cmd_red)

    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
