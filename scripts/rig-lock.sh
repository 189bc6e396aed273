#!/usr/bin/env bash
# Run a command holding BUILD/.rig.lock, the lock conformance.sh and
# mutation.sh take: two rig commands never rewrite or boot one build folder
# at once. The command keeps the lock (fd 9) until it exits.
set -euo pipefail
case "${1:-}" in -h|--help|'') echo "usage: $0 BUILD COMMAND [ARG...]"; [ -n "${1:-}" ]; exit $? ;; esac
build=$1; shift
mkdir -p "$build"
exec 9>"$build/.rig.lock"
flock -n 9 || { echo "rig-lock: another rig run is using $build (lock $build/.rig.lock)" >&2; exit 1; }
exec "$@"
