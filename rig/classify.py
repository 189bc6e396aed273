"""What each case and each cell *is*, decided once for every writer
(junit, KCIDB, HTML, LAVA comparison, summary.json), so they cannot drift.

A case is one of:
  pass, skip, todo              as the stream says;
  expected-failure              a failure the run expects (results.py sets
                                case.expected: the baseline, a check in the
                                test failed, no control among its IDs);
  failure                       a check in the test failed, or a splat;
  timeout, crash, error         the test could not give a verdict
                                (ktap_parser.failure_kind).
A cell is "ok", "kernel-failure" (a panic, a splat outside any test: the
kernel's doing) or "interrupted" (it did not run to the end for another
reason: boot or cell timeout, QEMU crash, a truncated stream). Whether a
cell status is the kernel's fault is results.KERNEL_FAILURE_STATUSES.
"""
CASE_KINDS = ("pass", "skip", "todo", "expected-failure", "failure", "timeout", "crash",
              "error")


def case_kind(case):
    if case.result in ("pass", "skip", "todo"):
        return case.result
    if case.expected:
        return "expected-failure"
    kind = case.kind
    return kind if kind in ("timeout", "crash", "error") else "failure"


def is_verdict_on_kernel(kind):
    """False for what could not be judged (junit <error>, KCIDB ERROR)."""
    return kind not in ("timeout", "crash", "error")


# Why a case that did not pass ended so, in words (KCIDB "outcome", HTML).
NOTES = {"todo": "TODO: the test is marked as not expected to pass yet",
         "timeout": "timeout: the test binary was killed by the runner",
         "crash": "crash: the test binary died of a signal or gave no result",
         "error": "the test reported an error, not a verdict on the kernel"}


def cell_kind(cell):
    if cell.failures:
        return "kernel-failure"
    if cell.interruptions:
        return "interrupted"
    return "ok"
