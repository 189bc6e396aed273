#!/usr/bin/env bash
# Build the series' test PFNMAP provider (lib/test_pfnmap.c) as an
# out-of-tree module against a kernel build that does not carry it, i.e.
# the unpatched baseline. The baseline's KVM stays untouched; only the
# test-only module that hands out PFNMAP VMAs is added, so both kernels are
# measured with the same provider.
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
# Linux 6.17 removed pfn_t: vmf_insert_mixed() takes a plain pfn. The
# module is written for 6.12; give newer trees a stand-in header.
ksrc=$(realpath "$kbuild/source" 2>/dev/null || echo "$kbuild")
if [ ! -f "$ksrc/include/linux/pfn_t.h" ]; then
	mkdir -p "$out/compat/linux"
	cat >"$out/compat/linux/pfn_t.h" <<'SHIM'
/* Stand-in for kernels without pfn_t (6.17+), written by the test rig */
#define PFN_DEV 0
#define __pfn_to_pfn_t(pfn, flags) (pfn)
SHIM
	echo "ccflags-y += -I$out/compat" >>"$out/Kbuild"
	echo "build-provider-module: $ksrc has no pfn_t (6.17+): using the rig's stand-in"
fi
log="$out/build.log"
if ! make -C "$kbuild" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	CC="ccache aarch64-linux-gnu-gcc" M="$out" modules >"$log" 2>&1; then
	grep -m5 'error' "$log" >&2 || tail -5 "$log" >&2
	die "module build failed (see $log)"
fi
aarch64-linux-gnu-strip --strip-debug "$out/test_pfnmap.ko"
echo "build-provider-module: $out/test_pfnmap.ko"
