#!/bin/bash
# Cross-build the pfnmap KVM selftests (and vfio, when present) into the
# kselftest install layout.
set -euo pipefail

usage() {
	cat <<USAGE
Usage: $(basename "$0") TREE KHDR OUT

  TREE  Linux source tree (6.12); our tools/ is copied over TREE/tools/
  KHDR  headers_install output (holds include/linux/kvm.h)
  OUT   output dir; the install goes to OUT/kselftest_install

Environment:
  FULL=1          build every KVM selftest, not only aarch64/pfnmap_*
  JOBS=N          parallel make jobs (default 2)
  CROSS_COMPILE   default aarch64-linux-gnu-
USAGE
}

die() { echo "build-selftests: $*" >&2; exit 1; }

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
	usage
	exit 0
fi
[[ $# -eq 3 ]] || { usage >&2; exit 2; }

[[ -d "$1" ]] || die "TREE $1 does not exist"
[[ -d "$2" ]] || die "KHDR $2 does not exist (make ARCH=arm64 headers_install INSTALL_HDR_PATH=$2)"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tree="$(realpath "$1")"
khdr="$(realpath "$2")"
out="$(realpath -m "$3")"
cross="${CROSS_COMPILE:-aarch64-linux-gnu-}"
jobs="${JOBS:-2}"
kvm="$tree/tools/testing/selftests/kvm"

[[ -d "$kvm" ]] || die "$tree is not a kernel tree (no tools/testing/selftests/kvm)"
[[ -f "$khdr/include/linux/kvm.h" ]] || die "$khdr has no include/linux/kvm.h (make ARCH=arm64 headers_install INSTALL_HDR_PATH=$khdr)"
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found (install gcc-aarch64-linux-gnu)"

rsync -a "$repo/tools/" "$tree/tools/"

# 6.12 keeps the lists in Makefile; later kernels moved them to Makefile.kvm.
mk="$kvm/Makefile.kvm"
[[ -f "$mk" ]] || mk="$kvm/Makefile"
if ! grep -q '^include aarch64/pfnmap.mk' "$mk"; then
	grep -q '^include \.\./lib\.mk' "$mk" || die "$mk has no 'include ../lib.mk' line"
	sed -i 's|^include \.\./lib\.mk|include aarch64/pfnmap.mk\n&|' "$mk"
fi

targets="kvm"
[[ -f "$tree/tools/testing/selftests/vfio/Makefile" ]] && targets="kvm vfio"

cc="${cross}gcc"
command -v ccache >/dev/null && cc="ccache $cc"

args=(-C "$tree/tools/testing/selftests" -j"$jobs"
      TARGETS="$targets" ARCH=arm64 CROSS_COMPILE="$cross" CC="$cc"
      KHDR_INCLUDES="-isystem $khdr/include" EXTRA_CFLAGS=-static)
if [[ "${FULL:-0}" != 1 ]]; then
	# A command-line value overrides every += in the Makefile: ours only.
	progs="$(sed -n 's|^TEST_GEN_PROGS_aarch64 += ||p' "$kvm/aarch64/pfnmap.mk" | tr '\n' ' ')"
	args+=(TEST_GEN_PROGS_aarch64="$progs")
fi

mkdir -p "$out"
log="$out/build.log"
if ! nice -n 10 make "${args[@]}" install INSTALL_PATH="$out/kselftest_install" >"$log" 2>&1; then
	echo "build-selftests: build failed; last errors:" >&2
	{ grep -E 'error:|Error [0-9]+' "$log" || tail -5 "$log"; } | head -8 | sed 's/^/  /' >&2
	die "build failed (full log: $log)"
fi

for f in run_kselftest.sh kselftest-list.txt; do
	[[ -f "$out/kselftest_install/$f" ]] || die "install produced no $f"
done
echo "build-selftests: installed to $out/kselftest_install ($targets)"
