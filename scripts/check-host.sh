#!/usr/bin/env bash
# Check that the rig left the host's package set alone: no foreign-
# architecture busybox on the host and no arm64 package installed by us.
# `make check` runs it after install-deps.sh.
set -euo pipefail
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { echo "usage: $0  (exit 1 if the host carries arm64 binaries the rig could have put there)"; exit 0; }
bad=0
if [ -e /bin/busybox ] && file -L /bin/busybox | grep -q 'ARM aarch64'; then
	echo "check-host: /bin/busybox is an arm64 binary (see scripts/install-deps.sh for how to restore it)" >&2
	bad=1
fi
if dpkg-query -W -f='${Status}' busybox-static:arm64 2>/dev/null | grep -q 'ok installed'; then
	echo "check-host: busybox-static:arm64 is installed on the host" >&2
	bad=1
fi
[ "$bad" = 0 ] && echo "check-host: no foreign-architecture binaries from the rig; foreign architectures: $(dpkg --print-foreign-architectures | tr '\n' ' ')"
exit "$bad"
