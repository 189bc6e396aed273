#!/usr/bin/env python3
"""maintainers-covers.py MAINTAINERS FILE...: exit 0 if every FILE is
matched by an F: pattern of some MAINTAINERS section (a pattern ending in
'/' covers everything below it; '*' and '?' are globs), else print the
first uncovered file and exit 1. checkpatch warns "does MAINTAINERS need
updating?" for any new file; this tells whether a line is in fact due."""
import fnmatch
import sys


def patterns(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line[2:].strip() for line in f if line.startswith("F:\t")]


def covered(name, pats):
    for p in pats:
        if p.endswith("/"):
            if fnmatch.fnmatchcase(name, p + "*"):
                return True
        elif fnmatch.fnmatchcase(name, p):
            return True
    return False


def main(argv):
    if len(argv) < 2:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    pats = patterns(argv[0])
    for name in argv[1:]:
        if not covered(name, pats):
            print(name)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
