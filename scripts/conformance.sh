#!/usr/bin/env bash
# The whole job behind `make conformance`: packages, sources, both kernels,
# the selftests, one initramfs per kernel, the QEMU matrix, the report.
# Build, boot/run and report times are shown separately, as kunit.py does.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--kernels "baseline patched"] [--cells "CELL..."] [--variant release|debug]
          [--tests GLOB] [--build DIR] [--results DIR] [--no-deps]
  Environment: JOBS (parallel build jobs), RIG_TEST_TIMEOUT, RIG_BOOT_TIMEOUT,
  RIG_CELL_TIMEOUT, RIG_NVGRACE=1 (add the emulated nvgrace-gpu device).
USAGE
}
top=$(cd "$(dirname "$0")/.." && pwd)
kernels="baseline patched" cells= variant=release tests='*'
build="$top/build" results="$top/results" deps=1
while [ $# -gt 0 ]; do
	case "$1" in
	--kernels) kernels=$2; shift ;; --cells) cells=$2; shift ;;
	--variant) variant=$2; shift ;; --tests) tests=$2; shift ;;
	--build) build=$2; shift ;; --results) results=$2; shift ;;
	--no-deps) deps=0 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case "$variant" in release) suffix= ;; debug) suffix=-debug ;;
*) echo "conformance: VARIANT must be release or debug, not '$variant'" >&2; exit 2 ;; esac
mkdir -p "$build" "$results"
build=$(realpath "$build") results=$(realpath "$results")
t0=$(date +%s)
step() { echo "==> $*"; }

[ "$deps" = 0 ] || "$top/scripts/install-deps.sh"
"$top/scripts/install-deps.sh" --check >/dev/null

step "sources"
"$top/scripts/prepare-source.sh" "$build" "$top/kernel-patch"

step "kernels ($variant)"
for k in $kernels; do
	"$top/scripts/build-kernel.sh" "$build/src/$k" "$build/kernels/$k$suffix" "$variant"
done

step "selftests"
# Built once, from the patched tree (it has the series' uapi), and run on
# every kernel: the same artefact a vendor runs on hardware.
"$top/scripts/build-selftests.sh" "$build/src/patched" "$build/kernels/patched$suffix/hdr" "$build/selftests"
"$top/scripts/package-kselftest.sh" "$build/selftests" "$build/kselftest-pfnmap.tar.gz"

step "initramfs"
mkdir -p "$build/initramfs"
for k in $kernels; do
	kdir="$build/kernels/$k$suffix"
	ko=$(find "$kdir/modules-root" -name test_pfnmap.ko 2>/dev/null | head -n1)
	if [ -z "$ko" ]; then
		"$top/scripts/build-provider-module.sh" "$build/src/patched" "$kdir" "$build/provider/$k$suffix"
		ko="$build/provider/$k$suffix/test_pfnmap.ko"
	fi
	"$top/scripts/mkinitramfs.sh" "$build/selftests/kselftest_install" "$build/initramfs/$k$suffix.cpio.gz" "$ko"
done
t_build=$(( $(date +%s) - t0 ))

step "matrix"
run_id=$(date +%Y%m%d-%H%M%S)
run="$results/$run_id"
"$top/scripts/run-info.py" "$run" --build "$build" --patches "$top/kernel-patch" \
	--kernels "$kernels" --variant "$variant"
t1=$(date +%s)
matrix_rc=0
"$top/scripts/run-matrix.sh" --run-dir "$run" --build "$build" --kernels "$kernels" \
	${cells:+--cells "$cells"} --variant "$variant" --tests "$tests" || matrix_rc=$?
t_run=$(( $(date +%s) - t1 ))

step "report"
report_rc=0
python3 "$top/rig/report.py" report "$run" --results-root "$results" || report_rc=$?
echo "time: build ${t_build}s, boot+run ${t_run}s, total $(( $(date +%s) - t0 ))s"
[ "$matrix_rc" = 0 ] || echo "conformance: at least one cell did not run to the end (see the table above)" >&2
exit $(( report_rc || matrix_rc ))
