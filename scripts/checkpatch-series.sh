#!/usr/bin/env bash
# Run checkpatch --strict on every patch of the series; fail on any error or
# warning (CHECKs are reported; each patch justifies its own in its message).
set -euo pipefail

usage() { echo "usage: $0 KERNEL_TREE PATCH_DIR"; }
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -eq 2 ] || { usage >&2; exit 2; }
tree=$(realpath "$1") dir=$(realpath "$2")
bad=0
for p in "$dir"/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in */0000-*) continue ;; esac
	# New files that a MAINTAINERS F: line already covers need no line of
	# their own: then checkpatch's "does MAINTAINERS need updating?" is
	# not due. Coverage is judged by the baseline tree's MAINTAINERS; a
	# patch that edits MAINTAINERS itself is left to checkpatch.
	ignore=()
	mapfile -t new < <(awk '/^diff --git /{f=$4; sub(/^b\//,"",f)} /^new file mode/{print f}' "$p")
	if [ "${#new[@]}" -gt 0 ] && [ -f "$tree/MAINTAINERS" ] &&
	   ! grep -q '^+++ b/MAINTAINERS' "$p" &&
	   python3 "$(dirname "$0")/maintainers-covers.py" "$tree/MAINTAINERS" "${new[@]}" >/dev/null; then
		ignore=(--ignore FILE_PATH_CHANGES)
	fi
	out=$(cd "$tree" && perl scripts/checkpatch.pl --strict "${ignore[@]}" "$p" 2>&1) || true
	line=$(printf '%s\n' "$out" | grep -Eo 'total: [0-9]+ errors, [0-9]+ warnings, [0-9]+ checks' || echo "total: ?")
	echo "checkpatch: $(basename "$p"): $line"
	if ! printf '%s\n' "$line" | grep -q '^total: 0 errors, 0 warnings'; then
		printf '%s\n' "$out" | grep -E '^(ERROR|WARNING)' | head -5 | sed 's/^/  /'
		bad=1
	fi
done
[ "$bad" = 0 ] || { echo "checkpatch: the series has errors or warnings" >&2; exit 1; }
