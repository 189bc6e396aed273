#!/usr/bin/env bash
# Pack the cell initramfs: Debian's static arm64 busybox, the rig's init,
# the kselftest install tree and, when given, the test PFNMAP module.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 KSELFTEST_INSTALL OUT.cpio.gz [MODULE.ko] [GUEST_SCRIPTS_DIR]
  KSELFTEST_INSTALL  a run_kselftest.sh layout (kselftest install output)
  MODULE.ko          test_pfnmap.ko built for the kernel that will boot
  GUEST_SCRIPTS_DIR  extra scripts copied to /rig (setup.sh/cleanup.sh run
                     before/after the tests)
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -ge 2 ] && [ $# -le 4 ] || { usage >&2; exit 2; }

kst=$(realpath "$1")
out=$(realpath -m "$2")
ko=${3:-}
extra=${4:-}
top=$(cd "$(dirname "$0")/.." && pwd)
busybox=${RIG_BUSYBOX:-$(dirname "$out")/../guest-tools/busybox}

die() { echo "mkinitramfs: $*" >&2; exit 1; }
[ -x "$kst/run_kselftest.sh" ] || die "$kst has no run_kselftest.sh (build the selftests first)"
file -L "$busybox" 2>/dev/null | grep -q 'aarch64.*statically' ||
	die "$busybox is not a static arm64 busybox (run scripts/install-deps.sh, which unpacks it there)"
command -v cpio >/dev/null || die "missing tool 'cpio' (run scripts/install-deps.sh)"

stage=$(mktemp -d "${out%/*}/.initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,usr/bin,dev,proc,sys,tmp,lib/modules,rig}
cp "$busybox" "$stage/bin/busybox"
cp "$top/rig/guest/init" "$stage/init"
cp "$top/rig/guest/timeout" "$stage/usr/bin/timeout"
ln -s busybox "$stage/bin/sh"
cp -a "$kst" "$stage/kselftest"
[ -z "$ko" ] || cp "$ko" "$stage/lib/modules/test_pfnmap.ko"
for hook in setup.sh cleanup.sh; do
	[ ! -f "$top/rig/guest/$hook" ] || cp "$top/rig/guest/$hook" "$stage/rig/"
done
cp "$top/rig/test-timeouts" "$top/rig/splat-patterns" "$stage/rig/"
[ -z "$extra" ] || cp -a "$extra"/. "$stage/rig/"
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet -R 0:0) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $(du -h "$out" | cut -f1) $out"
