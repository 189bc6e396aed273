"""What each case *is*, decided once, for the writers that map it onto
another scheme's statuses (junit, KCIDB), so they cannot drift apart.
summary.json and the HTML report show case.result and case.expected as
results.py set them.

A case is one of:
  pass, skip, todo              as the stream says;
  expected-failure              a failure the run expects (results.py sets
                                case.expected: the baseline, a check in the
                                test failed, no control among its IDs);
  failure                       a check in the test failed, or a splat;
  timeout, crash, error         the test could not give a verdict
                                (ktap_parser.failure_kind).
Whether a cell's status is the kernel's fault is results.py's
KERNEL_FAILURE_STATUSES, which KCIDB's boot and suite rows read too.
"""


def case_kind(case):
    if case.result in ("pass", "skip", "todo"):
        return case.result
    if case.expected:
        return "expected-failure"
    kind = case.kind
    return kind if kind in ("timeout", "crash", "error") else "failure"


# Why a case that did not pass ended so, in words (KCIDB "outcome", HTML).
NOTES = {"todo": "TODO: the test is marked as not expected to pass yet",
         "timeout": "timeout: the test binary was killed by the runner",
         "crash": "crash: the test binary died of a signal or gave no result",
         "error": "the test reported an error, not a verdict on the kernel"}

