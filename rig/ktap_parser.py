"""Parse TAP 13 / KTAP 1 output into a tree of test documents and cases.

It reads what kselftest and KUnit print: several documents in a row,
nesting by indentation (KTAP: any consistent indent, two spaces in
Documentation/dev-tools/ktap.rst, four from KUnit) or by a "# " prefix per
level (run_kselftest.sh wraps each binary's output that way), and harness
diagnostics such as "#  RUN name ...", "# REQ: S2-1 SEC-1" and KVM's
"==== Test Assertion Failure ====" block.

Lines that are not TAP (a binary's stderr, kernel messages, the assertion
block) belong to the innermost open test: the one whose result line comes
next. Directives: SKIP (also spelled "SKIP:", "SKIPPED", "Skipped:"); an
"ok # TODO" is its own result "todo" (neither a pass nor a skip) and a
"not ok # TODO" stays a failure; XFAIL (the test saw the failure it
expected) fails: a conformance check that expects to fail proved nothing;
TIMEOUT and ERROR fail. kunit.py parse counts XFAIL as a pass: this is the
one place the reporter is stricter, on purpose. "Bail out!" becomes the
reason of the test it interrupted. A repeated test number or more results
than the plan are errors (the document cannot be trusted); other
numbering problems are warnings.

Nothing here knows about the rig; rig_stream.py adds that layer.
"""
import re
from dataclasses import dataclass, field
from typing import Iterable, List, Optional

NO_RESULT = "no result: the test binary crashed or timed out"
ASSERTION_HEADER = "==== Test Assertion Failure ===="

_VERSION = re.compile(r"^(K?TAP) version (\d+)\s*$")
_PLAN = re.compile(r"^1\.\.(\d+)\b\s*(?:#\s*(.*))?$")
# A number is mandatory: it keeps diagnostics such as "ok, next" out.
_RESULT = re.compile(r"^(not ok|ok) (\d+)\b\s*(?:-\s+)?(.*)$")
_BAIL = re.compile(r"^Bail out!\s*(.*)$")
# printk's prefixes: the time, then with CONFIG_PRINTK_CALLER the caller
# ("[  T123]" or "[  C1]"), as kunit.py parse also takes them off.
_TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?(?:\[\s*[TC]\d+\]\s?)?")
# A directive is a known word after "#"; the name may hold other "#"s
# ("case #3"). Without a known word, " # text" (kunit.py: the name ends at
# " # ") is a comment such as run_kselftest.sh's "exit=254".
_DIRECTIVE_WORD = re.compile(r"(?:^|\s)#\s*(SKIP(?:PED)?|TODO|XFAIL|TIMEOUT|ERROR)\b:?\s*(.*)$",
                             re.IGNORECASE)
_COMMENT = re.compile(r"(?:^|\s)#\s+(.*)$")
_RUN = re.compile(r"^RUN\s+(\S+)")
_SUBTEST = re.compile(r"^Subtest:\s*(.+?)\s*$")
_SELFTEST = re.compile(r"^selftests:\s*(\S+):\s*(\S+)")
_ASSERTION = re.compile(r"^\S+\.[ch]:\d+:|EXPECTATION FAILED|ASSERTION FAILED")
# Harness bookkeeping, never the reason for a failure.
_NOT_A_REASON = re.compile(r"^(RUN|OK|FAIL|SKIP|Subtest:|ENV:|PROFILE:|Starting \d+ tests)\b"
                           r"|Test terminated|^\w+: pass:\d+")
# Per-case time: a "# time: 1.5s" diagnostic before the result, or TAP 13's
# YAML block ("  duration_ms: 1500") after it.
_TIME = re.compile(r"^(?:time|duration)[:=]\s*([\d.]+)\s*(ms|s)?$")
_YAML_DURATION = re.compile(r"^duration_ms:\s*([\d.]+)\s*$")
# Inside the assertion block: the stack dump (addr2line | cat -n), or the
# shell's complaint when the guest has no addr2line.
_FRAME = re.compile(r"^\d+\s+0x[0-9a-fA-F]+|^\(stack trace empty\)$|addr2line|^\?\?")
_ERRNO_LINE = re.compile(r"^pid=\d+ tid=\d+ errno=")
_LOCATION = re.compile(r"^\S+:\d+: ")
_EXIT = re.compile(r"^exit=(\d+)\b")
# Exit codes of a test killed by a signal (128 + signo); 254 and 255 are
# TEST_ASSERT's and exit(-1), i.e. the test decided to fail.
_SIGNAL_EXITS = range(129, 192)

STRUCTURAL = ("version", "plan", "result", "bailout")


@dataclass
class Line:
    depth: int  # nesting guessed from this line alone (4 spaces or one "# " a level)
    kind: str  # version | plan | result | bailout | diag | text
    text: str  # for diag: the text after '#'; else the stripped line
    raw: str
    col: tuple = (0,)  # indent before each "# " prefix level, then before the body


@dataclass
class TestDoc:
    version: str = ""
    plan: Optional[int] = None
    name: str = ""
    cases: List["Case"] = field(default_factory=list)
    missing: int = 0  # planned cases that never printed a result
    skip_reason: str = ""  # from "1..0 # SKIP why"
    bailout: Optional[str] = None  # from "Bail out! why"
    warnings: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # the document's results cannot be trusted

    @property
    def has_content(self):
        return bool(self.version or self.plan is not None or self.cases)


@dataclass
class Case:
    name: str
    result: str  # pass | fail | skip | todo
    number: Optional[int] = None
    reason: str = ""
    requirements: List[str] = field(default_factory=list)
    log: List[str] = field(default_factory=list)
    children: Optional[TestDoc] = None
    synthetic: bool = False  # made up for a result that never came
    time: Optional[float] = None  # seconds, when the stream says

    def all_requirements(self):
        """This case's IDs plus every descendant's, in first-seen order."""
        ids = list(self.requirements)
        for child in self.children.cases if self.children else []:
            ids += [i for i in child.all_requirements() if i not in ids]
        return ids


def is_structural(text):
    return bool(_VERSION.match(text) or _PLAN.match(text) or _RESULT.match(text)
                or _BAIL.match(text))


def tokenize(raw):
    """Classify one line and find where it sits (depth and column)."""
    s = _TIMESTAMP.sub("", raw.rstrip("\r\n"), count=1).expandtabs(4)
    depth = 0
    col = []
    while True:
        body = s.lstrip(" ")
        indent = len(s) - len(body)
        depth += (indent + 2) // 4
        col.append(indent)
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
        return Line(depth, "diag", rest.strip(), raw, tuple(col))
    for kind, rx in (("version", _VERSION), ("plan", _PLAN), ("result", _RESULT),
                     ("bailout", _BAIL)):
        if rx.match(body):
            return Line(depth, kind, body.strip(), raw, tuple(col))
    return Line(depth, "text", body.strip(), raw, tuple(col))


def parse_requirements(text):
    """'REQ: S2-1 SEC-1' -> ['S2-1', 'SEC-1'] (None if not a REQ line)."""
    if not text.startswith("REQ:"):
        return None
    return [t.upper() for t in re.split(r"[\s,]+", text[4:].strip()) if t]


def parse_result(text):
    """'not ok 2 name # SKIP why' -> (result, number, name, reason)."""
    m = _RESULT.match(text)
    ok, number, rest = m.group(1) == "ok", int(m.group(2)), m.group(3)
    d = _DIRECTIVE_WORD.search(rest)
    if d:
        name, word, why = rest[:d.start()].strip(), d.group(1).upper(), d.group(2).strip()
    else:
        c = _COMMENT.search(rest)
        name, word, why = (rest[:c.start()].strip(), "", c.group(1).strip()) if c else (rest, "", "")
    if word in ("SKIP", "SKIPPED"):
        return "skip", number, name, why
    if word == "TODO":
        # "ok # TODO": known not to work yet, and it passed: no evidence
        # either way. "not ok # TODO": the check failed, whatever the plan.
        if ok:
            return "todo", number, name, "TODO (passed): " + why
        return "fail", number, name, "TODO: " + why
    if word == "XFAIL":
        return "fail", number, name, "XFAIL: the test saw the failure it expected: " + why
    directive = f"{word} {why}".strip() if word else why
    return ("pass" if ok else "fail"), number, name, directive


def failure_kind(result, reason):
    """'timeout' | 'crash' | 'error' for a failure that is not a verdict on
    the kernel's behaviour (junit <error>), 'failure' otherwise, '' if the
    case did not fail."""
    if result != "fail":
        return ""
    word = reason.split(" ", 1)[0].upper()
    if word == "TIMEOUT":
        return "timeout"
    if word == "ERROR":
        return "error"
    m = _EXIT.match(reason)
    if reason.startswith(NO_RESULT) or (m and int(m.group(1)) in _SIGNAL_EXITS):
        return "crash"
    return "failure"


def is_assertion(reason, log=()):
    """The failure came from a check in the test (TEST_ASSERT's block, a
    harness EXPECT/ASSERT line, a KUnit expectation), not from a crash,
    a timeout or an exit with nothing said."""
    return bool(_ASSERTION.search(reason)) or any(
        _unprefix(raw)[1].strip() == ASSERTION_HEADER for raw in log)


def _unprefix(raw):
    """(number of '# ' prefixes, the rest with its indentation kept)."""
    s = _TIMESTAMP.sub("", raw.rstrip("\r\n"), count=1).expandtabs(4)
    hashes = 0
    while s.startswith("#"):
        s = s[2:] if s.startswith("# ") else s[1:]
        hashes += 1
    return hashes, s


def _assertion_block(lines, start):
    """The indented lines after a header at lines[start] (the header's own
    prefix depth), plus the shell's addr2line noise in between."""
    depth, _ = _unprefix(lines[start])
    block = []
    for raw in lines[start + 1:]:
        hashes, rest = _unprefix(raw)
        if hashes == depth and rest.startswith(" ") and rest.strip():
            block.append(rest.strip())
        elif hashes == depth and "addr2line" in rest:
            continue
        else:
            break
    return block


def assertion_summary(lines):
    """'file:line: expr; message' from the last KVM assertion block
    (TEST_ASSERT, or GUEST_ASSERT reported by the host) in lines, or ''."""
    starts = [i for i, raw in enumerate(lines) if _unprefix(raw)[1].strip() == ASSERTION_HEADER]
    if not starts:
        return ""
    block = _assertion_block(lines, starts[-1])
    where = next((b for b in block if _LOCATION.match(b)), "")
    message = [b for b in block if b != where and not _FRAME.search(b)
               and not _ERRNO_LINE.match(b)]
    summary = "; ".join(p for p in (where, " ".join(message)) if p)
    return summary or ASSERTION_HEADER


def failure_reason(notes):
    """The assertion line if there is one, else the last informative note."""
    for note in notes:
        if _ASSERTION.search(note):
            return note
    informative = [n for n in notes if n and not _NOT_A_REASON.search(n)]
    return informative[-1] if informative else ""


class _Level:
    """One open document, at one column, until its parent's result line."""

    def __init__(self, col):
        self.col = col
        self.doc = TestDoc()
        self.requirements = []
        self.log = []
        self.notes = []  # diagnostics for the next result at this level
        self.name_hint = ""  # from "#  RUN x", "selftests: c: t", "Subtest: x"
        self.time = None

    def reset_pending(self):
        self.requirements, self.log, self.notes, self.name_hint = [], [], [], ""
        self.time = None


class _Parser:
    def __init__(self):
        self.docs = []
        self.stack = []  # open levels, outermost first; columns increase

    # ---- where a line goes -------------------------------------------------

    def place(self, col):
        """Index of the level at exactly col, opened if needed."""
        for i, lvl in enumerate(self.stack):
            if lvl.col == col:
                return i
        if self.stack and col < self.stack[0].col:
            return 0  # shallower than the first document: still the top level
        i = sum(1 for lvl in self.stack if lvl.col < col)
        self.stack.insert(i, _Level(col))
        if len(self.stack) == 1:
            self.docs.append(self.stack[0].doc)
        return i

    def target(self, line):
        if line.kind in STRUCTURAL:
            return self.place(line.col)
        if not self.stack:
            return self.place(line.col if line.kind == "diag" else (0,))
        inner = self.stack[-1]
        # Unknown lines, and a wrapped binary's own unprefixed output (it
        # shows one "# " fewer than its TAP lines), belong to the test that
        # is running: the innermost open one.
        if line.kind == "text" or len(line.col) < len(inner.col):
            return len(self.stack) - 1
        if line.col > inner.col:
            return self.place(line.col)  # e.g. "# Subtest:" before its version line
        return max([i for i, lvl in enumerate(self.stack) if lvl.col <= line.col] or [0])

    def feed(self, line):
        i = self.target(line)
        for lvl in self.stack[:i + 1]:
            lvl.log.append(line.raw.rstrip("\r\n"))
        if line.kind == "version":
            self.new_doc(i, line.text)
        elif line.kind == "plan":
            self.plan(i, line.text)
        elif line.kind == "result":
            self.result(i, line.text)
        elif line.kind == "bailout":
            self.bail(i, _BAIL.match(line.text).group(1).strip())
        elif line.kind == "diag":
            self.diag(i, line.text)
        else:
            self.text(i, line.text)

    # ---- line kinds ---------------------------------------------------------

    def plan(self, i, text):
        doc = self.stack[i].doc
        m = _PLAN.match(text)
        if doc.plan is not None:
            doc.warnings.append(f"second plan line '{text}' ignored")
            return
        doc.plan = int(m.group(1))
        word, _, why = (m.group(2) or "").partition(" ")
        if doc.plan == 0 and word.upper() == "SKIP":
            doc.skip_reason = why.strip() or "skipped"

    def bail(self, i, why):
        lvl = self.stack[i]
        lvl.doc.bailout = why
        lvl.notes.append(f"Bail out! {why}".strip())

    def diag(self, i, text):
        lvl = self.stack[i]
        ids = parse_requirements(text)
        if ids is not None:
            lvl.requirements += [x for x in ids if x not in lvl.requirements]
            return
        t = _TIME.match(text)
        if t:
            lvl.time = float(t.group(1)) / (1000 if t.group(2) == "ms" else 1)
        lvl.notes.append(text)
        m = _RUN.match(text) or _SELFTEST.match(text)
        if m:
            lvl.name_hint = text if m.re is _SELFTEST else m.group(1)
        m = _SUBTEST.match(text)
        if m:
            lvl.doc.name = m.group(1)
            if i > 0:
                self.stack[i - 1].name_hint = m.group(1)

    def text(self, i, text):
        m = _YAML_DURATION.match(text)
        cases = self.stack[i].doc.cases
        if m and cases and cases[-1].time is None:
            cases[-1].time = float(m.group(1)) / 1000

    def new_doc(self, i, version):
        self.close_deeper_than(i)
        lvl = self.stack[i]
        if lvl.doc.has_content:
            if i == 0:
                self.finish(lvl)
                self.stack[0] = _Level(lvl.col)
                self.docs.append(self.stack[0].doc)
            else:
                self.close_deeper_than(i - 1)
                i = self.place(lvl.col)
        self.stack[i].doc.version = version

    def result(self, i, text):
        self.close_deeper_than(i + 1)
        child = self.stack.pop(i + 1) if len(self.stack) > i + 1 else None
        lvl = self.stack[i]
        leftover = []
        if child:
            self.finish(child)
            leftover = [] if child.doc.missing else child.requirements
            if not child.doc.has_content:
                lvl.notes += child.notes  # diagnostics indented deeper than their test
        res, number, name, reason = parse_result(text)
        kids = child.doc if child and child.doc.has_content else None
        res, reason = self.inherit(res, reason, kids, lvl)
        self.check_number(lvl.doc, number)
        lvl.doc.cases.append(Case(
            name=name or lvl.name_hint, result=res, number=number, reason=reason,
            log=lvl.log, time=lvl.time, children=kids,
            requirements=lvl.requirements + [x for x in leftover if x not in lvl.requirements]))
        lvl.reset_pending()

    @staticmethod
    def inherit(res, reason, kids, lvl):
        """A result's final (result, reason) from its children and notes."""
        if kids and kids.plan == 0 and kids.skip_reason and res in ("pass", "skip"):
            # "1..0 # SKIP why": nothing ran, whatever the parent says.
            return "skip", reason or kids.skip_reason
        if res != "fail":
            return res, reason
        if kids and kids.bailout is not None:
            return res, f"Bail out! {kids.bailout}".strip() + (f" ({reason})" if reason else "")
        assertion = assertion_summary(lvl.log)
        if assertion and failure_kind(res, reason) != "timeout":
            return res, assertion + (f" ({reason})" if reason else "")
        return res, reason or failure_reason(lvl.notes)

    @staticmethod
    def check_number(doc, number):
        """KTAP: numbers start at 1 and go up by one at each level."""
        seen = [c.number for c in doc.cases if not c.synthetic]
        expected = len(seen) + 1
        if number in seen:
            doc.errors.append(f"test number {number} repeated")
        elif number != expected:
            doc.warnings.append(f"test number {number} out of order (expected {expected})")

    def finish(self, lvl):
        """Turn planned-but-missing results into failing cases."""
        doc = lvl.doc
        if doc.plan is not None and len(doc.cases) > doc.plan:
            doc.errors.append(f"{len(doc.cases)} results for a plan of {doc.plan}")
        if doc.plan is None or len(doc.cases) >= doc.plan:
            return
        doc.missing = doc.plan - len(doc.cases)
        stopped = (f"Bail out! {doc.bailout}".strip() if doc.bailout is not None else NO_RESULT)
        # The first missing case is the one that was running: it gets the
        # pending name ("#  RUN x"), REQ lines and assertion, if any.
        assertion = assertion_summary(lvl.log)
        for n in range(len(doc.cases) + 1, doc.plan + 1):
            first = n == doc.plan - doc.missing + 1
            reason = stopped
            if first and assertion and doc.bailout is None:
                reason = f"{assertion} (then no result: the test binary exited)"
            doc.cases.append(Case(
                name=(lvl.name_hint if first and lvl.name_hint
                      else f"{doc.name} #{n}" if doc.name else f"#{n}"),
                result="fail", number=n, reason=reason, synthetic=True,
                requirements=lvl.requirements if first else [],
                log=lvl.log if first else []))

    def close_deeper_than(self, d):
        """Close open documents below depth d whose parent result never came."""
        while len(self.stack) > d + 1:
            lvl = self.stack.pop()
            self.finish(lvl)
            if not lvl.doc.has_content and not lvl.requirements:
                continue
            parent = self.stack[-1]
            reason = NO_RESULT
            if lvl.doc.bailout is not None:
                reason = f"Bail out! {lvl.doc.bailout}".strip()
            parent.doc.cases.append(Case(
                name=parent.name_hint or lvl.doc.name or "unnamed test",
                result="fail", reason=reason, synthetic=True,
                requirements=parent.requirements + [i for i in lvl.requirements
                                                    if i not in parent.requirements],
                log=parent.log,
                children=lvl.doc if lvl.doc.has_content else None))
            parent.reset_pending()

    def end(self):
        self.close_deeper_than(0)
        if self.stack:
            self.finish(self.stack[0])
        return [d for d in self.docs if d.has_content]


def parse_lines(lines: Iterable[str]) -> List[TestDoc]:
    """Parse a whole stream; returns its top-level documents in order."""
    p = _Parser()
    for raw in lines:
        p.feed(tokenize(raw))
    return p.end()


def warnings(docs, where="", kind="warnings"):
    """Every document's warnings (or errors), each naming the test it is about."""
    out = []
    for n, doc in enumerate(docs, 1):
        here = where or (f"document {n}" if len(docs) > 1 else "top level")
        out += [f"{here}: {w}" for w in getattr(doc, kind)]
        for case in doc.cases:
            if case.children:
                out += warnings([case.children], case.name, kind)
    return out
