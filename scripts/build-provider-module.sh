#!/usr/bin/env bash
# Build the series' test PFNMAP provider (lib/test_pfnmap.c) as an
# out-of-tree module against a kernel build that does not carry it: the
# unpatched baseline, or another tree (6.18 too: the module builds with and
# without pfn_t). That kernel's KVM stays untouched; only the test-only
# module that hands out PFNMAP VMAs is added, so every kernel is measured
# with the same provider.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 PATCHED_SRC KERNEL_BUILD_DIR OUT_DIR
  Compiles PATCHED_SRC/lib/test_pfnmap.c against KERNEL_BUILD_DIR (an O= build
  with its source tree) and leaves OUT_DIR/test_pfnmap.ko.
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -eq 3 ] || { usage >&2; exit 2; }
src=$(realpath "$1") kbuild=$(realpath "$2") out=$(realpath -m "$3")

die() { echo "build-provider-module: $*" >&2; exit 1; }
for f in test_pfnmap.c test_pfnmap_uapi.h; do
	[ -f "$src/lib/$f" ] || die "the series did not provide lib/$f (is kernel-patch/ applied?)"
done
[ -f "$kbuild/Module.symvers" ] || die "$kbuild is not a built kernel (no Module.symvers)"

mkdir -p "$out"
cp "$src/lib/test_pfnmap.c" "$src/lib/test_pfnmap_uapi.h" "$out/"
echo 'obj-m := test_pfnmap.o' >"$out/Kbuild"
log="$out/build.log"
if ! make -C "$kbuild" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	CC="ccache aarch64-linux-gnu-gcc" M="$out" modules >"$log" 2>&1; then
	grep -m5 'error' "$log" >&2 || tail -5 "$log" >&2
	die "module build failed (see $log)"
fi
aarch64-linux-gnu-strip --strip-debug "$out/test_pfnmap.ko"
echo "build-provider-module: $out/test_pfnmap.ko"
