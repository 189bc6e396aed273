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
	git -C "$copy" apply --whitespace=nowarn "$p" 2>"$build/src/selftests-6.18.err" ||
		die "$(basename "$p") does not apply to $tree: $(head -n1 "$build/src/selftests-6.18.err")"
done
hdr="$copy/out-headers/hdr"
make -s -C "$copy" O="$copy/out-headers" ARCH=arm64 INSTALL_HDR_PATH="$hdr" headers_install \
	>/dev/null || die "headers_install failed in $copy"
"$top/scripts/build-selftests.sh" "$copy" "$hdr" "$build/selftests-6.18"
echo "check-selftests-6.18: the patches apply to $tree and build there"
