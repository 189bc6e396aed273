#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Give devices bound by setup.sh back to the driver they had before. Every
# sysfs write is echoed as a "# echo VALUE > FILE" line (TAP diagnostics).
set -eu
(set -o pipefail) 2>/dev/null && set -o pipefail

usage() {
	cat <<USAGE
usage: $0 [BDF...]
  Restores each BDF (default: every device setup.sh recorded in
  \$VFIO_SELFTESTS_STATE, default /tmp/vfio-selftests): unbinds it, clears
  driver_override and binds the original driver, if there was one.
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; -*) usage >&2; exit 2 ;; esac
state=${VFIO_SELFTESTS_STATE:-/tmp/vfio-selftests}
if [ $# -eq 0 ] && [ -d "$state" ]; then
	set -- $(ls "$state")
fi

rc=0
sysfs_write() {
	echo "# echo $1 > $2"
	echo "$1" >"$2" || { echo "# cleanup.sh: writing '$1' to $2 failed" >&2; rc=1; }
}

for bdf in "$@"; do
	dev=/sys/bus/pci/devices/$bdf
	if [ ! -f "$state/$bdf" ]; then
		echo "# cleanup.sh: $bdf was not set up by setup.sh" >&2
		rc=1
		continue
	fi
	orig=$(cat "$state/$bdf")
	[ -d "$dev" ] || { rm -f "$state/$bdf"; continue; }
	[ ! -L "$dev/driver" ] || sysfs_write "$bdf" "$dev/driver/unbind"
	sysfs_write "" "$dev/driver_override"
	[ -z "$orig" ] || sysfs_write "$bdf" "/sys/bus/pci/drivers/$orig/bind"
	rm -f "$state/$bdf"
	echo "# $bdf: restored to ${orig:-no driver}"
done
exit "$rc"
