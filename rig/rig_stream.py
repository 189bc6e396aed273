"""Read one results stream (the rig's results.tap, or a raw run_kselftest.sh
log) into flat report cases, with the rig's own lines applied on top of TAP:

  # rig-begin / # rig-end     framing; a missing end means the stream was cut
  # ENV: key=value            environment (init: depth 0; test binary: deeper)
  # PROFILE: key=value        the kernel's observed policy profile
  # SPLAT: coll:test: line    a kernel splat during that binary: its cases fail

Each case's requirement IDs come from rig/case-requirements.tsv, by its
binary and name (case_requirements.py).
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import case_requirements
import ktap_parser
import requirements as reqs

_SELFTEST = re.compile(r"^selftests:\s*(\S+):\s*(\S+)\s*$")
# A value runs to the next " key=" so "where=QEMU 7.2 TCG" stays whole.
_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z_][\w.-]*)=")
_INIT_KEY = re.compile(r"^([a-z_][a-z0-9_]*):\s+(.+)$")


@dataclass
class ReportCase:
    name: str
    binary: str  # "collection:test", or "" for a bare document
    result: str  # pass | fail | skip | todo
    reason: str = ""
    requirements: List[str] = field(default_factory=list)
    log: List[str] = field(default_factory=list)
    time: Optional[float] = None  # seconds, when the stream gave it
    # Set by results.py: why this failure was the run's expectation (the
    # baseline failing what SPEC says it must fail), else "".
    expected: str = ""

    def __post_init__(self):
        self.requirements = sorted(set(self.requirements), key=reqs.sort_key)

    @property
    def kind(self):
        """'' | failure | timeout | crash | error (see ktap_parser.failure_kind)."""
        return ktap_parser.failure_kind(self.result, self.reason)

    @property
    def asserted(self):
        """A failure a check in the test decided (see ktap_parser.is_assertion)."""
        return self.kind == "failure" and ktap_parser.is_assertion(self.reason, self.log)


@dataclass
class Stream:
    cases: List[ReportCase] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    test_env: Dict[str, Dict[str, str]] = field(default_factory=dict)
    profile: Dict[str, str] = field(default_factory=dict)
    splats: Dict[str, List[str]] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)  # TAP numbering and plan problems
    bailout: Optional[str] = None  # a top-level "Bail out!": the whole stream stopped
    began: bool = False
    ended: bool = False

    @property
    def truncated(self):
        return self.began and not self.ended

    def splat_lines(self):
        return [s for lines in self.splats.values() for s in lines]


def key_values(text):
    """'a=1 where=QEMU 7.2 b=x' -> [('a', '1'), ('where', 'QEMU 7.2'), ('b', 'x')].
    Linear in the line's length: one scan for the keys, then slices (a
    lazy regex with a lookahead took 60 s on a 100 kB line)."""
    keys = list(_KEY.finditer(text))
    return [(m.group(1), text[m.end():keys[i + 1].start() if i + 1 < len(keys) else len(text)]
             .strip()) for i, m in enumerate(keys)]


def binary_name(name):
    """'selftests: kvm: foo' -> 'kvm:foo' (the form SPLAT lines use)."""
    m = _SELFTEST.match(name)
    return f"{m.group(1)}:{m.group(2)}" if m else name


def _leaves(case, binary, path):
    """Flatten one case. path: the names between the binary and this case.
    Leaves are reported; a container is reported itself only when it
    failed and no reported child explains why."""
    name = ".".join(path + [case.name])
    if not path and case.synthetic and case.name.startswith("#"):
        name = f"{binary or 'test'} {case.name}"  # an unnamed missing result
    kids = case.children.cases if case.children else []
    if not kids:
        return [ReportCase(name, binary, case.result, case.reason,
                           list(case.requirements), case.log, case.time)]
    out = []
    for kid in kids:
        out += _leaves(kid, binary, path + [case.name])
    return out + _container_failure(case, out, name, binary)


def _untrusted(doc):
    """Why a document's own results cannot be taken at their word, or ''."""
    why = [f"malformed TAP: {e}" for e in doc.errors]
    if doc.bailout is not None:
        why.insert(0, f"Bail out! {doc.bailout}".strip())
    return "; ".join(why)


def _container_failure(case, leaves, name, binary):
    incomplete = case.children.missing > 0
    untrusted = _untrusted(case.children)
    if untrusted and not incomplete:
        # A bail-out with no plan, or repeated numbers: what the binary
        # did not say cannot be known, so its IDs do not pass.
        return [ReportCase(name, binary, "fail", untrusted, case.all_requirements(),
                           case.log, case.time)]
    if case.result != "fail" or (not incomplete and any(c.result == "fail" for c in leaves)):
        return []
    reason = case.reason or ktap_parser.NO_RESULT
    if incomplete:
        got = len(case.children.cases) - case.children.missing
        reason += (f" (its output stopped after {got} of "
                   f"{len(case.children.cases)} planned results)")
    return [ReportCase(name, binary, "fail", reason, case.all_requirements(), case.log,
                       case.time)]


def _skipped_document(doc):
    """A top-level "1..0 # SKIP why": one skipped case keeps the reason."""
    return ReportCase(doc.name or "all tests", "", "skip", doc.skip_reason)


def flatten(docs):
    cases = []
    for doc in docs:
        if not doc.cases and doc.skip_reason:
            cases.append(_skipped_document(doc))
        for case in doc.cases:
            # A top-level case is a test binary (kselftest) or a suite (KUnit).
            binary = binary_name(case.name)
            kids = case.children.cases if case.children else []
            if not kids:
                # No inner document: a binary that timed out or printed no
                # TAP, or a case of a bare (non-nested) document.
                outer = binary != case.name or bool(case.children)
                result, reason = case.result, case.reason
                if case.children and case.children.plan is None and result != "fail":
                    # A TAP header and then nothing: no plan, no result
                    # (kunit.py parse: an error, not a pass).
                    result, reason = "fail", "no plan and no results after its TAP header"
                cases.append(ReportCase(binary, binary if outer else "", result, reason,
                                        list(case.requirements), case.log, case.time))
                continue
            leaves = []
            for kid in kids:
                leaves += _leaves(kid, binary, [])
            cases += leaves + _container_failure(case, leaves, binary, binary)
        if doc.errors:
            ids = sorted({i for c in doc.cases for i in c.all_requirements()}, key=reqs.sort_key)
            cases.append(ReportCase(doc.name or "top level", "", "fail", _untrusted(doc), ids))
    return cases


def _scan_rig_lines(lines, stream):
    """Collect framing, ENV, PROFILE and SPLAT lines."""
    binary = ""
    seen_tap = False
    for raw in lines:
        line = ktap_parser.tokenize(raw)
        if line.kind == "version":
            seen_tap = True
        if line.kind != "diag":
            continue
        text = line.text
        if line.depth == 0:
            if text == "rig-begin":
                stream.began = True
            elif text == "rig-end":
                stream.ended = True
            elif _SELFTEST.match(text):
                binary = binary_name(text)
            elif text.startswith("SPLAT:"):
                who, _, what = text[6:].strip().partition(": ")
                stream.splats.setdefault(who, []).append(what.strip())
        if text.startswith("ENV:"):
            pairs = dict(key_values(text[4:]))
            if line.depth == 0:
                stream.env.update(pairs)
            else:
                stream.test_env.setdefault(binary, {}).update(pairs)
        elif text.startswith("PROFILE:"):
            for key, value in key_values(text[8:]):
                old = stream.profile.get(key)
                # Two values for one key in one cell is itself a finding.
                stream.profile[key] = value if old in (None, value) else f"{old} / {value}"
        elif line.depth == 0 and not seen_tap and _INIT_KEY.match(text):
            # docs/interfaces.md's older "# key: value" form from the init.
            key, value = _INIT_KEY.match(text).groups()
            stream.env.setdefault(key, value.strip())


def _apply_splats(stream):
    for who, splats in stream.splats.items():
        why = "kernel splat: " + "; ".join(splats)
        hit = [c for c in stream.cases if c.binary == who]
        for case in hit:
            case.reason = why + (f" (test said: {case.reason})" if case.reason else "")
            case.result = "fail"
        if not hit:
            stream.cases.append(ReportCase(who or "kernel", who, "fail", why))


def _trace(cases):
    """Give each case the IDs the table names for it. A binary reported as
    a whole (it stopped, or printed no TAP) stands for all its IDs, unless
    its cases are of a suite the table does not know (an older log)."""
    known, has_leaves = set(), set()
    for case in cases:
        if case.binary and case.name != case.binary:
            has_leaves.add(case.binary)
            ids = case_requirements.ids_for(case.binary, case.name)
            if ids is not None:
                case.requirements = ids
                known.add(case.binary)
    for case in cases:
        if case.binary and case.name == case.binary and (
                case.binary in known or case.binary not in has_leaves):
            ids = case_requirements.ids_of_binary(case.binary)
            if ids is not None:
                case.requirements = ids


def read_stream(lines):
    """Parse a results stream (an iterable of lines) into a Stream."""
    lines = list(lines)
    stream = Stream()
    _scan_rig_lines(lines, stream)
    body = lines
    if stream.began:
        # Only what the init framed: anything before rig-begin is boot noise.
        start = next(i for i, l in enumerate(lines) if l.strip() == "# rig-begin")
        end = next((i for i, l in enumerate(lines) if l.strip() == "# rig-end"), len(lines))
        body = lines[start + 1:end]
    docs = ktap_parser.parse_lines(body)
    stream.cases = flatten(docs)
    stream.warnings = ktap_parser.warnings(docs)
    stream.bailout = next((d.bailout for d in docs if d.bailout is not None), None)
    _apply_splats(stream)
    _trace(stream.cases)
    return stream


def read_stream_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return read_stream(f)
