#!/usr/bin/env bash
# Time the rig as a user meets it: a cold `make conformance` (packages
# present, empty build folder and ccache), a re-run after editing one
# selftest, and a re-run after editing one kernel C file. Figures go to
# BUILD/bench.txt; nothing is asserted.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 BUILD_DIR [CELLS]
  CELLS defaults to the whole matrix. Writes BUILD_DIR/bench.txt.
  BENCH_COLD=1 also times a cold run first: it deletes every kernel build,
  the ccache, the selftests and initramfs (the unpacked sources stay), and
  writes the ratios issue 11 asks for: the patched kernel's cost (copy of
  the tree, the series, its build) over the baseline's cold build, and the
  whole run over the baseline's cold build.
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -ge 1 ] && [ $# -le 2 ] || { usage >&2; exit 2; }
# An option is not a build folder: refuse it rather than create "-x/".
case "$1" in -*) echo "bench-rig: unknown option '$1'" >&2; usage >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "$1")
cells=${2:-}
out="$build/bench.txt"
mkdir -p "$build"

# The figures a cold run's log holds, and their ratios (issue 11).
cold_ratios() {
	local log=$1 base pat prep st total
	base=$(sed -n 's/^build-kernel\[baseline\/[^]]*\]: .* built in \([0-9]*\)s$/\1/p' "$log" | head -n1)
	pat=$(sed -n 's/^build-kernel\[patched\/[^]]*\]: .* built in \([0-9]*\)s$/\1/p' "$log" | head -n1)
	prep=$(sed -n 's/^sources: patched tree ready in \([0-9]*\)s$/\1/p' "$log" | head -n1)
	st=$(sed -n 's/^selftests: built in \([0-9]*\)s$/\1/p' "$log" | head -n1)
	total=$(sed -n 's/^time: .* total \([0-9]*\)s$/\1/p' "$log" | head -n1)
	[ -n "$base" ] && [ -n "$pat" ] && [ -n "$prep" ] && [ -n "$total" ] ||
		{ echo "cold: the log lacks a build figure (see $log)"; return 0; }
	echo "cold: baseline kernel ${base}s; patched tree ${prep}s + patched kernel ${pat}s; selftests ${st:-?}s; whole run ${total}s"
	awk -v b="$base" -v p="$pat" -v q="$prep" -v t="$total" 'BEGIN {
		printf "cold: patched/baseline = %.2f (kernel build only %.2f); run/baseline = %.2f\n",
		       (p + q) / b, p / b, t / b }'
}

timed() {
	local what=$1; shift
	local t0 rc=0
	t0=$(date +%s)
	"$@" >"$build/bench-$what.log" 2>&1 || rc=$?
	printf '%-28s %5ds  (exit %d)\n' "$what" $(( $(date +%s) - t0 )) "$rc" | tee -a "$out"
}

{
	echo "# rig benchmark, $(date -Is)"
	echo "# host: $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1048576)" GiB"}' /proc/meminfo), $(qemu-system-aarch64 --version | head -n1)"
	echo "# cells: ${cells:-all}"
} >"$out"
run=(make -C "$top" conformance BUILD="$build" CELLS="$cells")

if [ "${BENCH_COLD:-0}" = 1 ]; then
	rm -rf "$build"/src/*/out-* "$build/src/patched" "$build/src/.am" "$build/src/.patched-sum" \
		"$build/ccache" "$build/kernels" "$build/selftests" "$build/initramfs" "$build/provider"
	timed cold "${run[@]}"
	cold_ratios "$build/bench-cold.log" | tee -a "$out"
else
	timed warm-no-change "${run[@]}"
fi

touch "$top"/tools/testing/selftests/kvm/aarch64/pfnmap_memslot_test.c
timed edit-one-selftest "${run[@]}"

# A touched file has the same content, which ccache would serve from its
# cache; an edited one would not. Bypass ccache for this step so the
# figure includes the real compile of the file and what depends on it.
touch "$build/src/patched/arch/arm64/kvm/mmu.c"
CCACHE_DISABLE=1 timed edit-one-kernel-file "${run[@]}"
echo "bench: $out"
