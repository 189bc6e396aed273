#!/usr/bin/env bash
# Make the one artefact that runs both in QEMU and on real arm64 hardware:
# the kselftest install tree plus the reporter, as a tarball.
set -euo pipefail

usage() { echo "usage: $0 SELFTEST_BUILD_DIR OUT.tar.gz"; }
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -eq 2 ] || { usage >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
kst="$1/kselftest_install"
[ -x "$kst/run_kselftest.sh" ] || { echo "package-kselftest: no kselftest install in $1" >&2; exit 1; }

mkdir -p "$kst/pfnmap-report"
# The reporter and the data files it reads beside itself (console_scan.py
# cannot even be imported without splat-patterns, nor case_requirements.py
# without its table; report.html comes from
# templates/).
cp "$top"/rig/*.py "$top/rig/splat-patterns" "$top/rig/case-requirements.tsv" "$kst/pfnmap-report/"
cp -r "$top/rig/templates" "$kst/pfnmap-report/"
tar -C "$(dirname "$kst")" -czf "$2" "$(basename "$kst")"
echo "package-kselftest: $2"
