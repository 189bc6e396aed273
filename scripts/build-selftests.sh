#!/bin/bash
# Cross-build the pfnmap selftests into the kselftest install layout, the way
# a maintainer does after applying the series: the tests come with the tree
# (kernel-patch/'s "KVM: arm64: selftests:" patches), and the kernel's own
# selftest Makefiles build them. Nothing is copied into the tree; objects go
# to OUT/obj.
set -euo pipefail

usage() {
	cat <<USAGE
Usage: $(basename "$0") TREE KHDR OUT

  TREE  Linux source tree with the series applied (build/src/patched)
  KHDR  headers_install output (holds include/linux/kvm.h)
  OUT   output dir; objects go to OUT/obj, the install to OUT/kselftest_install

Environment:
  FULL=1          build every KVM selftest, not only the pfnmap_* ones
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
tree="$(realpath "$1")"
khdr="$(realpath "$2")"
out="$(realpath -m "$3")"
cross="${CROSS_COMPILE:-aarch64-linux-gnu-}"
jobs="${JOBS:-2}"
st="$tree/tools/testing/selftests"

[[ -d "$st/kvm" ]] || die "$tree is not a kernel tree (no tools/testing/selftests/kvm)"
[[ -f "$khdr/include/linux/kvm.h" ]] || die "$khdr has no include/linux/kvm.h (make ARCH=arm64 headers_install INSTALL_HDR_PATH=$khdr)"
command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found (install gcc-aarch64-linux-gnu)"

# The KVM selftests moved to arm64/ and Makefile.kvm in 6.14.
ad=aarch64
[[ -d "$st/kvm/arm64" ]] && ad=arm64
mk="$st/kvm/Makefile.kvm"
[[ -f "$mk" ]] || mk="$st/kvm/Makefile"
progs="$(sed -n "s|^TEST_GEN_PROGS_$ad += \\($ad/pfnmap_.*\\)|\\1|p" "$mk" | tr '\n' ' ')"
[[ -n "$progs" ]] || die "$tree has no pfnmap selftests in ${mk#"$tree"/}: apply the whole series (scripts/prepare-source.sh)"
[[ -f "$st/vfio/lib/pfnmap_vfio.mk" ]] || die "$tree has no pfnmap VFIO selftests: apply the whole series (scripts/prepare-source.sh)"

cc="${cross}gcc"
command -v ccache >/dev/null && cc="ccache $cc"

args=(-C "$st" -j"$jobs"
      TARGETS="kvm vfio" ARCH=arm64 CROSS_COMPILE="$cross" CC="$cc"
      KHDR_INCLUDES="-isystem $khdr/include" EXTRA_CFLAGS=-static)
# Upstream's vfio/ Makefile (6.18) has no rules for O= builds of its own
# tests: a 6.14+ tree builds in place (the rig's trees are its own copies).
[[ "$ad" = arm64 ]] || args+=(O="$out/obj")
if [[ "${FULL:-0}" != 1 ]]; then
	# A command-line value overrides every += in the Makefile: ours only.
	ext="$(sed -n "s|^TEST_GEN_PROGS_EXTENDED_$ad += \\($ad/pfnmap_.*\\)|\\1|p" "$mk" | tr '\n' ' ')"
	args+=(TEST_GEN_PROGS_$ad="$progs" TEST_GEN_PROGS_EXTENDED_$ad="$ext")
fi

mkdir -p "$out"
log="$out/build.log"
rm -rf "$out/kselftest_install"
if ! nice -n 10 make "${args[@]}" install INSTALL_PATH="$out/kselftest_install" >"$log" 2>&1; then
	echo "build-selftests: build failed; last errors:" >&2
	{ grep -E 'error:|Error [0-9]+' "$log" || tail -5 "$log"; } | head -8 | sed 's/^/  /' >&2
	die "build failed (full log: $log)"
fi

for f in run_kselftest.sh kselftest-list.txt; do
	[[ -f "$out/kselftest_install/$f" ]] || die "install produced no $f"
done
vprogs=$(sed -n 's/^PFNMAP_VFIO_PROGS += //p' "$st/vfio/Makefile")
if [[ "${FULL:-0}" != 1 ]]; then
	# The suite only: a 6.14+ tree's vfio/ installs its own tests too.
	list="$out/kselftest_install/kselftest-list.txt"
	grep -xF -f <(for p in $progs; do echo "kvm:${p#"$ad"/}"; done
		      for p in $vprogs; do echo "vfio:$p"; done) "$list" >"$list.new" || true
	mv "$list.new" "$list"
fi
for p in $progs; do
	grep -qx "kvm:${p#"$ad"/}" "$out/kselftest_install/kselftest-list.txt" ||
		die "kselftest-list.txt does not list kvm:${p#"$ad"/}"
done
# The kselftest Makefile goes on when one collection fails to build, and
# installs the others: every VFIO test must be there too, or the run would
# quietly lose NV-*.
for p in $vprogs; do
	[[ -x "$out/kselftest_install/vfio/$p" ]] ||
		die "vfio/$p was not built (see $log: $(grep -m1 -E 'error' "$log" || echo 'no error line'))"
done
echo "build-selftests: installed to $out/kselftest_install ($(grep -c . "$out/kselftest_install/kselftest-list.txt") tests)"
