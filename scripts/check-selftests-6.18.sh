#!/usr/bin/env bash
# The selftests as a maintainer of an upstream tree gets them
# (kernel-patch/selftests-6.18/): check that they are what tools/ makes for
# that tree's layout, apply them to a copy of the tree, and build the pfnmap
# KVM and VFIO tests there with the tree's own selftest Makefiles. The
# user's tree is only read.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 TREE BUILD_DIR
  TREE       an unmodified 6.14+ kernel tree (e.g. a 6.18.y checkout)
  BUILD_DIR  the rig's build folder; the copy goes to BUILD_DIR/src/selftests-6.18
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -eq 2 ] || { usage >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "check-selftests-6.18: $*" >&2; exit 1; }
tree=$(realpath "$1" 2>/dev/null) || die "no tree at $1"
build=$(realpath -m "$2")
patches="$top/kernel-patch/selftests-6.18"
[ -f "$tree/Makefile" ] && [ -d "$tree/tools/testing/selftests/kvm" ] ||
	die "$tree is not a kernel tree"
[ -d "$tree/tools/testing/selftests/kvm/arm64" ] ||
	die "$tree has the pre-6.14 layout (kvm/aarch64/): use the 6.12 series in kernel-patch/"

"$top/scripts/selftest-patches.sh" --check --tree "$tree" --patches "$patches"

# A real copy (no hard links: applying a patch could write through one).
copy="$build/src/selftests-6.18"
rm -rf "$copy"
mkdir -p "$copy"
rsync -a --exclude /.git --exclude '/out-*' "$tree"/ "$copy"/
for p in "$patches"/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$p" in */0000-*) continue ;; esac
	# Not a repository: git must not find an enclosing one (the build folder
	# may sit in this project's checkout), or it would skip every path.
	(cd "$copy" && GIT_CEILING_DIRECTORIES=$(dirname "$copy") \
		git apply --whitespace=nowarn "$p") 2>"$build/src/selftests-6.18.err" ||
		die "$(basename "$p") does not apply to $tree: $(head -n1 "$build/src/selftests-6.18.err")"
done
hdr="$copy/out-headers/hdr"
make -s -C "$copy" O="$copy/out-headers" ARCH=arm64 INSTALL_HDR_PATH="$hdr" headers_install \
	>/dev/null || die "headers_install failed in $copy"

# In the tree, with the tree's own selftest Makefiles, as a maintainer
# builds (upstream's vfio/ Makefile has no rules for O= builds).
st="$copy/tools/testing/selftests"
cross="${CROSS_COMPILE:-aarch64-linux-gnu-}"
mapfile -t progs < <(sed -n 's|^TEST_GEN_PROGS_arm64 += \(arm64/pfnmap_.*\)|\1|p' "$st/kvm/Makefile.kvm")
[ "${#progs[@]}" -gt 0 ] || die "the patches registered no pfnmap tests in kvm/Makefile.kvm"
log="$build/selftests-6.18.log"
if ! make -C "$st" TARGETS="kvm vfio" ARCH=arm64 CROSS_COMPILE="$cross" \
	KHDR_INCLUDES="-isystem $hdr/include" EXTRA_CFLAGS=-static -j"${JOBS:-2}" >"$log" 2>&1; then
	die "build failed: $(grep -m1 -E 'error|Error' "$log" || tail -n1 "$log") (log: $log)"
fi
vprogs=$(sed -n 's/^PFNMAP_VFIO_PROGS += //p' "$st/vfio/Makefile")
for t in "${progs[@]/#/kvm/}" $vprogs; do
	case "$t" in vfio/*|kvm/*) ;; *) t=vfio/$t ;; esac
	[ -x "$st/$t" ] || die "$t was not built (log: $log)"
done
warn=$(grep -c 'warning:' "$log" || true)
echo "check-selftests-6.18: the patches apply to $tree and build there (${#progs[@]} KVM tests, vfio/ with $(echo $vprogs | wc -w) of ours; $warn compiler warnings, log: $log)"
