"""Write junit.xml: one testsuite per cell, one testcase per case.

A cell that did not run to the end (boot timeout, panic, truncated stream,
splat outside tests) also gets an <error> testcase, so CI never shows an
empty suite as green.
"""
import re
import xml.etree.ElementTree as ET

# XML 1.0 cannot carry most control characters; consoles are full of them.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_LOG_LINES = 200


def _clean(text):
    return _BAD_XML.sub("?", text)


def _case(suite, cell, case):
    tc = ET.SubElement(suite, "testcase", name=_clean(case.name),
                       classname=f"{cell.kernel}.{cell.cell}")
    if case.requirements:
        props = ET.SubElement(tc, "properties")
        ET.SubElement(props, "property", name="requirements", value=" ".join(case.requirements))
    if case.result == "fail":
        el = ET.SubElement(tc, "failure", message=_clean(case.reason or "failed"))
        el.text = _clean("\n".join(case.log[-MAX_LOG_LINES:]))
    elif case.result == "skip":
        ET.SubElement(tc, "skipped", message=_clean(case.reason or "skipped"))


def build(run):
    root = ET.Element("testsuites", name=f"pfnmap conformance {run.run_id}")
    for cell in run.cells:
        suite = ET.SubElement(root, "testsuite", name=cell.key,
                              tests=str(len(cell.cases) + (1 if cell.problems else 0)),
                              failures=str(cell.count("fail")),
                              skipped=str(cell.count("skip")),
                              errors=str(1 if cell.problems else 0),
                              time=str(cell.duration_s or 0))
        props = ET.SubElement(suite, "properties")
        for name, value in (("cpu", cell.cpu), ("mode", cell.mode), ("mte", str(cell.mte).lower()),
                            ("status", cell.status), ("qemu_cmdline", cell.qemu_cmdline),
                            ("where", run.host.get("where") or "")):
            ET.SubElement(props, "property", name=name, value=_clean(value))
        for case in cell.cases:
            _case(suite, cell, case)
        if cell.problems:
            tc = ET.SubElement(suite, "testcase", name="cell run",
                               classname=f"{cell.kernel}.{cell.cell}")
            el = ET.SubElement(tc, "error", message=_clean(cell.problems[0]))
            el.text = _clean("\n".join(cell.problems))
    return ET.ElementTree(root)


def write(run, path):
    tree = build(run)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
