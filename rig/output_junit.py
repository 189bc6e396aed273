"""Write junit.xml: one testsuite per cell, one testcase per case, and a
"verdict" testsuite with one testcase per kernel.

How results map, for Jenkins and GitLab:
- a failure the run expected (the baseline failing a requirement SPEC says
  it must fail) is a *passing* testcase whose <system-out> says "expected
  failure: ...". Showing that failure is the suite's job on the baseline,
  so the suite worked; <skipped> would claim the check did not run and add
  to the count of things CI is told were not tested;
- a timeout, a crash (no result, killed by a signal) or a KTAP ERROR is an
  <error>, as is a cell that did not run to the end (boot timeout, panic,
  QEMU crash, truncated stream): CI tells "could not judge" from "judged bad";
- any other failure is a <failure>; a skip is <skipped>;
- a TODO result is a passing testcase with its reason in <system-out>: it
  is neither a failure nor a skip;
- every testcase has time=: its own when the stream gave it, else 0; the
  testsuite carries the cell's duration.
"""
import re
import xml.etree.ElementTree as ET

import atomic_write
import classify
import requirements as reqs

# XML 1.0 cannot carry most control characters; consoles are full of them.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_LOG_LINES = 200


def _clean(text):
    return _BAD_XML.sub("?", text)


def _time(seconds):
    return f"{seconds or 0:.3f}"


# classify.case_kind -> what junit shows.
JUNIT = {"pass": "pass", "skip": "skipped", "todo": "pass", "expected-failure": "pass",
         "failure": "failure", "timeout": "error", "crash": "error", "error": "error"}


def outcome(case):
    """pass | skipped | failure | error, as junit shows this case."""
    return JUNIT[classify.case_kind(case)]


def _body(case):
    # The reason (KVM's assertion summary, when there is one) first: the log
    # tail may not reach back to the assertion block.
    return _clean("\n".join([case.reason] + case.log[-MAX_LOG_LINES:]))


def _case(suite, cell, case):
    # The binary in the name: Jenkins and GitLab show names, not classnames.
    name = f"{case.binary}: {case.name}" if case.binary and case.binary != case.name else case.name
    tc = ET.SubElement(suite, "testcase", name=_clean(name),
                       classname=f"{cell.kernel}.{cell.cell}", time=_time(case.time))
    props = {"requirements": " ".join(case.requirements), "expected_failure":
             "true" if case.expected else "", "result": case.result}
    props = {k: v for k, v in props.items() if v and not (k == "result" and v in ("pass", "skip"))}
    if props:
        el = ET.SubElement(tc, "properties")
        for name, value in props.items():
            ET.SubElement(el, "property", name=name, value=_clean(value))
    kind = outcome(case)
    if kind in ("failure", "error"):
        el = ET.SubElement(tc, kind, message=_clean(case.reason or "failed"),
                           type=case.kind)
        el.text = _body(case)
    elif kind == "skipped":
        ET.SubElement(tc, "skipped", message=_clean(case.reason or "skipped"))
    elif case.expected:
        ET.SubElement(tc, "system-out").text = _clean(f"{case.expected}\n{_body(case)}")
    elif case.result == "todo":
        ET.SubElement(tc, "system-out").text = _clean(case.reason)
    return kind


def _cell_suite(root, run, cell):
    suite = ET.SubElement(root, "testsuite", name=cell.key, time=_time(cell.duration_s))
    props = ET.SubElement(suite, "properties")
    for name, value in (("cpu", cell.cpu), ("mode", cell.mode), ("mte", str(cell.mte).lower()),
                        ("status", cell.status), ("tests", cell.tests),
                        ("qemu_cmdline", cell.qemu_cmdline),
                        ("where", run.host.get("where") or "")):
        ET.SubElement(props, "property", name=name, value=_clean(value))
    kinds = [_case(suite, cell, case) for case in cell.cases]
    if cell.problems:
        tc = ET.SubElement(suite, "testcase", name="cell run",
                           classname=f"{cell.kernel}.{cell.cell}", time=_time(0))
        el = ET.SubElement(tc, "error", message=_clean(cell.problems[0]))
        el.text = _clean("\n".join(cell.problems))
        kinds.append("error")
    suite.set("tests", str(len(kinds)))
    for attr, kind in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(attr, str(kinds.count(kind)))


def _verdict_case(suite, run, kernel, verdict):
    """Green when the kernel's verdict is what the run expects of it."""
    tc = ET.SubElement(suite, "testcase", name=f"verdict {kernel}", classname="verdict",
                       time=_time(0))
    text = "\n".join([verdict.verdict] + verdict.deciding + verdict.incomplete
                     + [f"{i} not applicable: {why}" for i, why in verdict.not_applicable.items()])
    if kernel == reqs.BASELINE:
        own = [m for m in run.mismatches if m.startswith((f"{kernel} ", f"{kernel}:"))]
        if own:
            ET.SubElement(tc, "failure", message=_clean(own[0])).text = _clean("\n".join(own))
            return "failure"
        ET.SubElement(tc, "system-out").text = _clean(
            "baseline: SPEC's expected failures and controls as listed\n" + text)
        return "pass"
    if verdict.verdict == "non-conformant":
        ET.SubElement(tc, "failure", message=_clean(f"{kernel} is non-conformant: "
                                                    + "; ".join(verdict.deciding)))
        return "failure"
    if verdict.excused:
        # Not judged, because the user asked for a subset: a skip says so.
        ET.SubElement(tc, "skipped", message=_clean(
            f"{kernel} is incomplete by the selection asked for: "
            + "; ".join(verdict.incomplete)))
        return "skipped"
    if verdict.verdict == "incomplete":
        # Could not be judged, and nobody asked for less: CI must not go
        # green on it.
        ET.SubElement(tc, "error", message=_clean(
            f"{kernel} is incomplete: " + "; ".join(verdict.incomplete)))
        return "error"
    ET.SubElement(tc, "system-out").text = _clean(text)
    return "pass"


def _verdict_suite(root, run):
    suite = ET.SubElement(root, "testsuite", name="verdict", time=_time(0))
    kinds = [_verdict_case(suite, run, k, v) for k, v in run.verdicts.items()]
    suite.set("tests", str(len(kinds)))
    for attr, kind in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(attr, str(kinds.count(kind)))


def build(run):
    root = ET.Element("testsuites", name=f"pfnmap conformance {run.run_id}")
    for cell in run.cells:
        _cell_suite(root, run, cell)
    _verdict_suite(root, run)
    return ET.ElementTree(root)


def render(run):
    tree = build(run)
    ET.indent(tree)
    return ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True) + b"\n"


def write(run, path):
    atomic_write.write_bytes(path, render(run))
