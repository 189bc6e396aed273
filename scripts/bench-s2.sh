#!/usr/bin/env bash
# The stage-2 fault benchmarks of pfnmap_block_bench, run in one QEMU cell
# per kernel: a guest sweeps a 4 GiB PFNMAP region, then a hugetlb-backed
# memslot; then 1 GiB whose last page breaks contiguity, against blocks off
# and against a contiguous GiB; then 8 GiB broken in each GiB, first touched
# by 2 vCPUs, against blocks off. Fault counts, times and ratios are "# BENCH:"
# lines. Benchmarked, not asserted; the figures go to OUT/bench-s2.txt.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 BUILD_DIR OUT_DIR [KERNEL...]
  Needs a finished conformance build in BUILD_DIR (kernels, selftests,
  provider modules). KERNEL defaults to "baseline patched".
  BENCH_S2_MODES: "s c m" (default) or some of them: s is PFNMAP against
  hugetlb over 4 GiB, c the contiguity break against blocks off, m 8 GiB
  broken in the middle of each GiB, first touched by 2 vCPUs, against
  blocks off (the worst case of the block proofs).
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -ge 2 ] || { usage >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "$1") out=$(realpath -m "$2")
shift 2
kernels=${*:-baseline patched}
kst="$build/selftests/kselftest_install"
[ -x "$kst/kvm/pfnmap_block_bench" ] || { echo "bench-s2: build the selftests first (make conformance)" >&2; exit 1; }

mkdir -p "$out"
stage=$(mktemp -d "$out/.kst.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp -a "$kst/." "$stage/"
mkdir -p "$stage/bench"
# The benchmark program is built with the suite (TEST_GEN_PROGS_EXTENDED)
# but is not part of it: this list runs only it, in both of its modes.
modes=${BENCH_S2_MODES:-s c m}
for mode in $modes; do
	case "$mode" in s|c|m) ;; *) echo "bench-s2: unknown mode '$mode' in BENCH_S2_MODES" >&2; exit 2 ;; esac
	cat >"$stage/bench/pfnmap_sweep_$mode.sh" <<SH
#!/bin/sh
cd /kselftest/kvm && exec ./pfnmap_block_bench -$mode
SH
	chmod +x "$stage/bench/pfnmap_sweep_$mode.sh"
	echo "bench:pfnmap_sweep_$mode.sh"
done >"$stage/kselftest-list.txt"
printf 'timeout=1200\n' >"$stage/bench/settings"

: >"$out/bench-s2.txt"
for k in $kernels; do
	ko=$(find "$build/kernels/$k/modules-root" -name test_pfnmap.ko 2>/dev/null | head -n1)
	[ -n "$ko" ] || ko="$build/provider/$k/test_pfnmap.ko"
	"$top/scripts/mkinitramfs.sh" "$stage" "$out/$k.cpio.gz" "$ko" >/dev/null
	# 768 huge pages (1.5 GiB) of the guest's 2 GiB for the hugetlb sweep.
	RIG_NVGRACE=0 "$top/scripts/boot-cell.sh" --image "$build/kernels/$k/arch/arm64/boot/Image" \
		--initrd "$out/$k.cpio.gz" --cpu max --mode vhe --mte off --kernel "$k" \
		--cell bench --out "$out/$k" --append-extra "rig.hugepages=768" --test-timeout 1500
	{
		echo "== $k ($(grep -m1 '^# ENV: kernel=' "$out/$k/results.tap" | cut -d= -f2))"
		grep -h 'BENCH:' "$out/$k/results.tap" | sed 's/^[# ]*//'
	} | tee -a "$out/bench-s2.txt"
done
echo "bench-s2: $out/bench-s2.txt ($(qemu-system-aarch64 --version | head -n1), cpu max, VHE)"
