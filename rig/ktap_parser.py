"""Parse TAP 13 / KTAP 1 output into a tree of test documents and cases.

It reads what kselftest and KUnit print: several documents in a row,
nesting by indentation (KTAP/KUnit) or by a "# " prefix per level
(run_kselftest.sh wraps each binary's output that way), and harness
diagnostics such as "#  RUN name ..." and "# REQ: S2-1 SEC-1".

Nothing here knows about the rig; rig_stream.py adds that layer.
"""
import re
from dataclasses import dataclass, field
from typing import Iterable, List, Optional

NO_RESULT = "no result: the test binary crashed or timed out"

_VERSION = re.compile(r"^(K?TAP) version (\d+)\s*$")
_PLAN = re.compile(r"^1\.\.(\d+)\b\s*(?:#\s*(.*))?$")
# A number is mandatory: it keeps diagnostics such as "ok, next" out.
_RESULT = re.compile(r"^(not ok|ok) (\d+)\b\s*(?:-\s+)?(.*)$")
_TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
_DIRECTIVE = re.compile(r"(?:^|\s)#\s*(.*)$")
_RUN = re.compile(r"^RUN\s+(\S+)")
_SUBTEST = re.compile(r"^Subtest:\s*(.+?)\s*$")
_SELFTEST = re.compile(r"^selftests:\s*(\S+):\s*(\S+)")
_ASSERTION = re.compile(r"^\S+\.[ch]:\d+:|EXPECTATION FAILED|ASSERTION FAILED")
# Harness bookkeeping, never the reason for a failure.
_NOT_A_REASON = re.compile(r"^(RUN|OK|FAIL|SKIP|Subtest:|ENV:|PROFILE:|Starting \d+ tests)\b"
                           r"|Test terminated|^\w+: pass:\d+")


@dataclass
class Line:
    depth: int
    kind: str  # version | plan | result | diag | text
    text: str  # for diag: the text after '#'; else the stripped line
    raw: str


@dataclass
class TestDoc:
    version: str = ""
    plan: Optional[int] = None
    name: str = ""
    cases: List["Case"] = field(default_factory=list)
    missing: int = 0  # planned cases that never printed a result

    @property
    def has_content(self):
        return bool(self.version or self.plan is not None or self.cases)


@dataclass
class Case:
    name: str
    result: str  # pass | fail | skip
    number: Optional[int] = None
    reason: str = ""
    requirements: List[str] = field(default_factory=list)
    log: List[str] = field(default_factory=list)
    children: Optional[TestDoc] = None
    synthetic: bool = False  # made up for a result that never came

    def all_requirements(self):
        """This case's IDs plus every descendant's, in first-seen order."""
        ids = list(self.requirements)
        for child in self.children.cases if self.children else []:
            ids += [i for i in child.all_requirements() if i not in ids]
        return ids


def is_structural(text):
    return bool(_VERSION.match(text) or _PLAN.match(text) or _RESULT.match(text))


def tokenize(raw):
    """Classify one line and find its nesting depth."""
    s = _TIMESTAMP.sub("", raw.rstrip("\r\n"), count=1).expandtabs(4)
    depth = 0
    while True:
        body = s.lstrip(" ")
        indent = len(s) - len(body)
        depth += (indent + 2) // 4
        if not body.startswith("#"):
            break
        rest = body[1:]
        if rest.startswith(" "):
            rest = rest[1:]
        # "# ok 1 x" and "# # REQ" are one level deeper; "#  RUN x" is not.
        if is_structural(rest.lstrip(" ")) or rest.startswith("#"):
            depth += 1
            s = rest
            continue
        return Line(depth, "diag", rest.strip(), raw)
    if _VERSION.match(body):
        return Line(depth, "version", body.strip(), raw)
    if _PLAN.match(body):
        return Line(depth, "plan", body.strip(), raw)
    if _RESULT.match(body):
        return Line(depth, "result", body.strip(), raw)
    return Line(depth, "text", body.strip(), raw)


def parse_requirements(text):
    """'REQ: S2-1 SEC-1' -> ['S2-1', 'SEC-1'] (None if not a REQ line)."""
    if not text.startswith("REQ:"):
        return None
    return [t.upper() for t in re.split(r"[\s,]+", text[4:].strip()) if t]


def parse_result(text):
    """'not ok 2 name # SKIP why' -> (result, number, name, reason)."""
    m = _RESULT.match(text)
    ok, number, rest = m.group(1) == "ok", int(m.group(2)), m.group(3)
    name, directive = rest, ""
    d = _DIRECTIVE.search(rest)
    if d:
        name, directive = rest[:d.start()].strip(), d.group(1).strip()
    word, _, why = directive.partition(" ")
    word = word.upper()
    if word == "SKIP":
        return "skip", number, name, why.strip()
    if word == "TODO":
        # TAP: a failing TODO is not a failure, but nothing was shown either.
        return ("pass" if ok else "skip"), number, name, "TODO: " + why.strip()
    if word == "XFAIL" and ok:
        return "pass", number, name, "expected failure (XFAIL): " + why.strip()
    return ("pass" if ok else "fail"), number, name, directive


def failure_reason(notes):
    """The assertion line if there is one, else the last informative note."""
    for note in notes:
        if _ASSERTION.search(note):
            return note
    informative = [n for n in notes if n and not _NOT_A_REASON.search(n)]
    return informative[-1] if informative else ""


class _Level:
    """What is pending at one nesting depth until its next result line."""

    def __init__(self):
        self.doc = TestDoc()
        self.requirements = []
        self.log = []
        self.notes = []  # diagnostics printed at exactly this depth
        self.name_hint = ""  # from "#  RUN x", "selftests: c: t", "Subtest: x"


class _Parser:
    def __init__(self):
        self.docs = []
        self.levels = {}

    def level(self, depth):
        if depth not in self.levels:
            self.levels[depth] = _Level()
            if depth == 0:
                self.docs.append(self.levels[0].doc)
        return self.levels[depth]

    def feed(self, line):
        d = line.depth
        for k in range(d + 1):
            self.level(k).log.append(line.raw.rstrip("\r\n"))
        if line.kind == "version":
            self.new_doc(d, line.text)
        elif line.kind == "plan":
            doc = self.level(d).doc
            if doc.plan is None:
                doc.plan = int(_PLAN.match(line.text).group(1))
        elif line.kind == "result":
            self.result(d, line.text)
        elif line.kind == "diag":
            self.diag(d, line.text)

    def diag(self, d, text):
        lvl = self.level(d)
        ids = parse_requirements(text)
        if ids is not None:
            lvl.requirements += [i for i in ids if i not in lvl.requirements]
            return
        lvl.notes.append(text)
        m = _RUN.match(text) or _SELFTEST.match(text)
        if m:
            lvl.name_hint = text if m.re is _SELFTEST else m.group(1)
        m = _SUBTEST.match(text)
        if m:
            lvl.doc.name = m.group(1)
            if d > 0:
                self.level(d - 1).name_hint = m.group(1)

    def new_doc(self, d, version):
        self.close_deeper_than(d)
        old = self.levels.get(d)
        if old and old.doc.has_content:
            if d == 0:
                self.finish(old)
                del self.levels[0]
            else:
                self.close_deeper_than(d - 1)
        self.level(d).doc.version = version

    def result(self, d, text):
        self.close_deeper_than(d + 1)
        child = self.levels.pop(d + 1, None)
        leftover = []
        if child:
            self.finish(child)
            leftover = [] if child.doc.missing else child.requirements
        lvl = self.level(d)
        res, number, name, reason = parse_result(text)
        if res == "fail" and not reason:
            reason = failure_reason(lvl.notes)
        case = Case(name=name or lvl.name_hint, result=res, number=number,
                    reason=reason, log=lvl.log,
                    requirements=lvl.requirements + [i for i in leftover if i not in lvl.requirements],
                    children=child.doc if child and child.doc.has_content else None)
        lvl.doc.cases.append(case)
        lvl.requirements, lvl.log, lvl.notes, lvl.name_hint = [], [], [], ""

    def finish(self, lvl):
        """Turn planned-but-missing results into failing cases."""
        doc = lvl.doc
        if doc.plan is None or len(doc.cases) >= doc.plan:
            return
        doc.missing = doc.plan - len(doc.cases)
        # The first missing case is the one that was running: it gets the
        # pending name ("#  RUN x") and REQ lines.
        for n in range(len(doc.cases) + 1, doc.plan + 1):
            first = n == doc.plan - doc.missing + 1
            doc.cases.append(Case(
                name=(lvl.name_hint if first and lvl.name_hint
                      else f"{doc.name} #{n}" if doc.name else f"#{n}"),
                result="fail", number=n, reason=NO_RESULT, synthetic=True,
                requirements=lvl.requirements if first else [],
                log=lvl.log if first else []))

    def close_deeper_than(self, d):
        """Close open documents below depth d whose parent result never came."""
        for k in sorted((k for k in self.levels if k > d), reverse=True):
            lvl = self.levels.pop(k)
            self.finish(lvl)
            if not lvl.doc.has_content and not lvl.requirements:
                continue
            parent = self.level(k - 1)
            parent.doc.cases.append(Case(
                name=parent.name_hint or lvl.doc.name or "unnamed test",
                result="fail", reason=NO_RESULT, synthetic=True,
                requirements=parent.requirements + [i for i in lvl.requirements
                                                    if i not in parent.requirements],
                log=parent.log,
                children=lvl.doc if lvl.doc.has_content else None))
            parent.requirements, parent.log, parent.notes, parent.name_hint = [], [], [], ""

    def end(self):
        self.close_deeper_than(0)
        if 0 in self.levels:
            self.finish(self.levels[0])
        return [d for d in self.docs if d.has_content]


def parse_lines(lines: Iterable[str]) -> List[TestDoc]:
    """Parse a whole stream; returns its top-level documents in order."""
    p = _Parser()
    for raw in lines:
        p.feed(tokenize(raw))
    return p.end()
