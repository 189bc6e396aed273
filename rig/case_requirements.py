"""Which SPEC requirements a selftest case checks: rig/case-requirements.tsv,
read here and nowhere else. The tests print no IDs; the report traces each
ID to the cases that check it through this table.

Logs of suites older than the table carry "# REQ:" lines instead; a case
no row names keeps those (ktap_parser reads them).
"""
import fnmatch
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Tuple

import requirements as reqs

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "case-requirements.tsv")


@dataclass(frozen=True)
class Row:
    binary: str  # "collection:test"
    case: str  # fnmatch glob over "fixture.variant.test"
    ids: Tuple[str, ...]
    line: int


def parse(text, where="case-requirements.tsv"):
    """The table's rows; a malformed row or an ID SPEC does not have is an
    error naming its line."""
    rows = []
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cols = raw.split("\t")
        if len(cols) != 3 or not all(c.strip() for c in cols):
            raise ValueError(f"{where}:{n}: want BINARY<TAB>CASE<TAB>IDS, got {raw!r}")
        ids = tuple(cols[2].split())
        unknown = [i for i in ids if i not in reqs.TITLES]
        if unknown:
            raise ValueError(f"{where}:{n}: IDs not in SPEC.md: {' '.join(unknown)}")
        rows.append(Row(cols[0].strip(), cols[1].strip(), ids, n))
    return rows


@lru_cache(maxsize=None)
def load(path=TABLE):
    with open(path, encoding="utf-8") as f:
        return tuple(parse(f.read(), os.path.basename(path)))


def _sorted(ids):
    return sorted(set(ids), key=reqs.sort_key)


def ids_for(binary, case, rows=None) -> Optional[List[str]]:
    """The IDs of every row @case of @binary matches; None where no row
    matches (the case is not the table's: a log of another suite)."""
    hits = [r for r in (load() if rows is None else rows)
            if r.binary == binary and fnmatch.fnmatchcase(case, r.case)]
    return _sorted(i for r in hits for i in r.ids) if hits else None


def ids_of_binary(binary, rows=None) -> Optional[List[str]]:
    """Every ID @binary's cases check: for a binary that stopped before it
    said which case it was in. None if the table does not know it."""
    hits = [r for r in (load() if rows is None else rows) if r.binary == binary]
    return _sorted(i for r in hits for i in r.ids) if hits else None
