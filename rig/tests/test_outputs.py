"""summary.json, junit.xml and report.html from the sample run."""
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from conftest import add_cell

import output_html
import output_json
import output_junit
import results

SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "results", "summary.schema.json")


@pytest.fixture
def run(sample_run):
    add_cell(sample_run, "patched", "max-nvhe", tap="crash.tap", mode="nvhe",
             console="console-splat.log")
    return results.load_run(sample_run)


def _check(value, schema, defs, where):
    """Check required keys and types by hand (no jsonschema package here)."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    types = schema.get("type")
    if types:
        types = types if isinstance(types, list) else [types]
        py = {"object": dict, "array": list, "string": str, "boolean": bool,
              "integer": int, "number": (int, float), "null": type(None)}
        ok = any(isinstance(value, py[t]) and not (t in ("integer", "number") and isinstance(value, bool))
                 for t in types)
        assert ok, f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "const" in schema:
        assert value == schema["const"], where
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing '{key}'"
        for key, sub in value.items():
            if key in schema.get("properties", {}):
                _check(sub, schema["properties"][key], defs, f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                _check(sub, schema["additionalProperties"], defs, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(item, schema["items"], defs, f"{where}[{i}]")


def test_summary_matches_schema(run, tmp_path):
    path = tmp_path / "summary.json"
    output_json.write(run, path)
    summary = json.loads(path.read_text())
    with open(SCHEMA) as f:
        schema = json.load(f)
    _check(summary, schema, schema["$defs"], "summary")


def test_summary_content(run):
    s = output_json.summary(run)
    assert set(s["kernels"]) == {"baseline", "patched"}
    assert s["kernels"]["patched"]["series_applied"] is True
    assert len(s["kernels"]["patched"]["patches"]) == 5
    assert s["where"]["kind"] == "qemu" and s["where"]["cpu_models"] == ["cortex-a76", "max"]
    assert s["where"]["qemu_version"].startswith("QEMU emulator version 7.2")
    cell = next(c for c in s["cells"] if c["cell"] == "max-nvhe")
    assert cell["env"]["kvm_mode"] == "nvhe" and cell["problems"]
    assert {"name", "requirements", "result", "reason"} <= set(cell["cases"][0])
    assert s["requirements"]["S2-1"] == {"title": s["requirements"]["S2-1"]["title"],
                                         "baseline_expected": "fail",
                                         "baseline": "fail", "patched": "pass"}
    assert s["verdict"]["patched"]["verdict"] == "non-conformant"
    assert s["expectations"]["met"] is False and s["expectations"]["mismatches"]
    t = s["totals"]
    assert (t["passed"], t["failed"], t["skipped"], t["expected_failures"]) == (92, 17, 22, 12)


def test_junit(run, tmp_path):
    path = tmp_path / "junit.xml"
    output_junit.write(run, path)
    root = ET.parse(path).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites][:2] == ["baseline-cortex-a76-vhe", "baseline-max-vhe"]
    nvhe = next(s for s in suites if s.get("name") == "patched-max-nvhe")
    cases = nvhe.findall("testcase")
    assert {c.get("classname") for c in cases} == {"patched.max-nvhe"}
    # A binary that crashed is an <error> now, not a <failure>.
    errors = [c for c in cases if c.find("error") is not None]
    assert any(c.find("error").get("message").startswith("no result") for c in errors)
    assert nvhe.get("errors") == str(len(errors)) and cases[-1].get("name") == "cell run"
    skipped = [c for s in suites for c in s.findall("testcase") if c.find("skipped") is not None]
    assert skipped and all(c.find("skipped").get("message") for c in skipped)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.classes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self.links.append(a.get("href"))
        self.classes.append(a.get("class") or "")

    def handle_data(self, data):
        self.text.append(data)


def test_html(run, tmp_path):
    path = tmp_path / "report.html"
    output_html.write(run, path)
    page = path.read_text()
    p = _Collect()
    p.feed(page)
    text = " ".join(p.text)
    assert "QEMU emulator version 7.2.19" in text and "cortex-a76, max" in text
    assert "0003-KVM-arm64-debugfs-stage-2-view.patch" in text
    assert "Expectations NOT met" in text
    assert text.index("Verdict") < text.index("Requirements")  # verdicts on top
    # The matrix: every SPEC ID is a row, results are coloured.
    for req_id in ("CAP-1", "SEC-1", "NV-4", "BLK-1"):
        assert f"<th>{req_id}</th>" in page
    assert any("r fail" in c for c in p.classes) and any("r not-run" in c for c in p.classes)
    # Failing entries link to that cell's logs, relative to the run dir.
    assert "cells/baseline-max-vhe/results.tap" in p.links
    assert "cells/baseline-max-vhe/console.log" in p.links
    assert not any(l.startswith("/") for l in p.links if l)
    assert page.count("<summary>QEMU command</summary>") == len(run.cells)
    assert "<script" not in page and "<link" not in page  # self-contained


class _Tags(HTMLParser):
    """Every start tag with its attributes, and all text, as a browser
    would read them (entities decoded)."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


# No "/" in the names that become folder names.
EVIL_KERNEL = '<script>k"&\''
EVIL_CELL = 'c"><b onmouseover=alert(1) x="'
EVIL_CASE = '<script>alert("case")</script>'
EVIL_TEXT = '"><img src=x onerror=alert(2)><script>alert("text")</script>'


def test_html_escapes_every_name_and_text(sample_run, tmp_path):
    """What the kernel under test prints (case names, reasons, ENV values)
    and what the user names (kernels, cells, where) is text on the page,
    never markup: no tag, no attribute comes from it."""
    from conftest import binary_tap, framed, write_cell
    run_json = sample_run / "run.json"
    meta = json.loads(run_json.read_text())
    meta["host"]["where"] = EVIL_TEXT
    meta["kernels"][EVIL_KERNEL] = {"source_version": EVIL_TEXT, "patches": [EVIL_TEXT],
                                    "variant": EVIL_TEXT, "series_applied": True}
    run_json.write_text(json.dumps(meta))
    tap = framed(binary_tap("kvm:pfnmap_cap_test", [
        (EVIL_CASE, "CAP-1", "not ok"),
        ("cap.skipped", "CAP-2", "ok # SKIP " + EVIL_TEXT)], env=f"cap=1 note={EVIL_TEXT}"),
        env=(f"kernel={EVIL_TEXT}",))
    write_cell(sample_run, EVIL_KERNEL, EVIL_CELL, tap, qemu_cmdline=EVIL_TEXT,
               status="boot-timeout", status_detail=EVIL_TEXT, tests=EVIL_TEXT)
    run = results.load_run(sample_run)
    page = output_html.render(run)
    p = _Tags()
    p.feed(page)
    tags = {t for t, _ in p.tags}
    assert "script" not in tags and "img" not in tags
    assert not any(name.startswith("on") or name == "x" for _, a in p.tags for name in a)
    assert "<script" not in page.lower()
    # The names are there, as text, exactly.
    text = "".join(p.text)
    for s in (EVIL_KERNEL, EVIL_CELL, EVIL_CASE, EVIL_TEXT):
        assert s in text, s
    # And as attribute values (the cell's anchor, a matrix entry's title).
    values = [v for _, a in p.tags for v in a.values() if v]
    assert f"{EVIL_KERNEL}-{EVIL_CELL}" in values
    assert any(EVIL_CASE in v for v in values)


def test_html_is_rendered_by_an_autoescaping_template():
    """The page comes from a jinja2 template with autoescape on, and the
    module builds no markup of its own (a weak check: the escaping test
    above is the one that matters)."""
    import ast
    pytest.importorskip("jinja2")
    autoescape = output_html.environment().autoescape
    assert autoescape is True or autoescape("report.html.j2")
    with open(output_html.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    strings = [n.value for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not [s for s in strings if re.search(r"<[A-Za-z/!]", s)]


class _RowWidths(HTMLParser):
    """The width (in columns, colspan counted) of each row of a table."""
    def __init__(self):
        super().__init__()
        self.rows = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += int(dict(attrs).get("colspan") or 1)


def test_html_matrix_rows_line_up_with_their_columns(run):
    """An n/a entry spans its kernel's cells, so the next kernel's results
    stay under its own headers (the sample's baseline X-2 is n/a, the
    patched one is not)."""
    assert "X-2" in run.verdicts["baseline"].not_applicable
    assert "X-2" not in run.verdicts["patched"].not_applicable
    page = output_html.render(run)
    matrix = page[page.index("<h2>Requirements</h2>"):page.index("<h2>Cells</h2>")]
    p = _RowWidths()
    p.feed(matrix)
    head, *rows = p.rows
    assert head == 3 + sum(1 + len(run.cells_of(k)) for k in run.kernels)
    assert rows and all(w == head for w in rows), (head, sorted(set(rows)))
