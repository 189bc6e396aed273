#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Bind PCI devices to a VFIO driver for the VFIO selftests, remembering the
# driver each one had so cleanup.sh can give it back. Every sysfs write is
# echoed as a "# echo VALUE > FILE" line (TAP diagnostics).
set -eu
(set -o pipefail) 2>/dev/null && set -o pipefail

usage() {
	cat <<USAGE
usage: $0 [-d DRIVER] [BDF...]
  Binds each BDF (default: \$VFIO_SELFTESTS_BDF) to DRIVER (default:
  nvgrace_gpu_vfio_pci; use vfio-pci for a plain device). The previous
  driver is recorded in \$VFIO_SELFTESTS_STATE (default /tmp/vfio-selftests)
  for cleanup.sh. Then run the tests with VFIO_SELFTESTS_BDF=BDF.
USAGE
}

driver=nvgrace_gpu_vfio_pci
while [ $# -gt 0 ]; do
	case "$1" in
	-d) [ $# -ge 2 ] || { usage >&2; exit 2; }; driver=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- ${VFIO_SELFTESTS_BDF:-}
[ $# -gt 0 ] || { echo "# setup.sh: no device: give a BDF or set VFIO_SELFTESTS_BDF" >&2; exit 2; }
state=${VFIO_SELFTESTS_STATE:-/tmp/vfio-selftests}
mkdir -p "$state"

die() { echo "# setup.sh: $*" >&2; exit 1; }
sysfs_write() {
	echo "# echo $1 > $2"
	echo "$1" >"$2" || die "writing '$1' to $2 failed"
}
driver_of() {
	if [ -L "$1/driver" ]; then basename "$(readlink "$1/driver")"; fi
}

for bdf in "$@"; do
	dev=/sys/bus/pci/devices/$bdf
	[ -d "$dev" ] || die "no PCI device $bdf"
	cur=$(driver_of "$dev")
	[ -f "$state/$bdf" ] || echo "$cur" >"$state/$bdf"
	if [ "$cur" = "$driver" ]; then
		echo "# $bdf: already bound to $driver"
		continue
	fi
	[ -z "$cur" ] || sysfs_write "$bdf" "$dev/driver/unbind"
	sysfs_write "$driver" "$dev/driver_override"
	sysfs_write "$bdf" /sys/bus/pci/drivers_probe
	now=$(driver_of "$dev")
	[ "$now" = "$driver" ] ||
		die "$bdf did not bind to $driver (now '${now:-nothing}'; see dmesg)"
	echo "# $bdf: bound to $driver (was ${cur:-unbound})"
done
