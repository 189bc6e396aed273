#!/usr/bin/env bash
# Configure and build one arm64 kernel out of tree: allnoconfig plus the
# selftests' config fragments plus the rig's boot plumbing (plus the debug
# fragment for VARIANT=debug). ccache and an out-of-tree folder per kernel
# keep rebuilds incremental.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 SRC_TREE OUT_DIR [release|debug[-64k]] [SEED_TREE]
  Builds Image, modules and uapi headers of SRC_TREE into OUT_DIR.
  When OUT_DIR is a direct child of SRC_TREE, kbuild uses relative paths,
  and a first build of OUT_DIR can start from SEED_TREE/<basename OUT_DIR>,
  the same build of another git tree of the same history: the files that
  differ between the two trees are touched so kbuild compiles them, and
  what depends on them, again.
  Environment: JOBS (default: nproc), CCACHE_DIR (default: SRC_TREE/../ccache),
  RIG_EXTRA_FRAGMENTS (more config fragments, space-separated paths).
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -ge 2 ] && [ $# -le 4 ] || { usage >&2; exit 2; }

src=$(realpath "$1")
out=$(realpath -m "$2")
variant=${3:-release}
seed=${4:-}
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc)}
name=$(basename "$src")/$(basename "$out")

die() { echo "build-kernel[$name]: $*" >&2; exit 1; }
for t in aarch64-linux-gnu-gcc ccache make bc flex bison; do
	command -v "$t" >/dev/null || die "missing tool '$t' (run scripts/install-deps.sh)"
done

frags=("$top/tools/testing/selftests/kvm/config" "$top/tools/testing/selftests/vfio/config"
       "$top/rig/kconfig/rig.config")
# VARIANT is release or debug, with -64k for a 64 KiB page kernel.
case "$variant" in
release|release-64k) ;;
debug|debug-64k) frags+=("$top/rig/kconfig/debug.config") ;;
*) die "unknown variant '$variant' (release or debug, optionally with -64k)" ;;
esac
case "$variant" in *-64k) frags+=("$top/rig/kconfig/64k.config") ;; esac
# More fragments, for the caller's reasons (conformance.sh: other trees).
for f in ${RIG_EXTRA_FRAGMENTS:-}; do
	[ -f "$f" ] || die "no config fragment $f (RIG_EXTRA_FRAGMENTS)"
	frags+=("$f")
done

# Seed a first build from the other tree's (see usage). Only when both are
# git trees with a common commit; otherwise the build is simply cold.
if [ -n "$seed" ] && [ ! -e "$out/vmlinux" ] && [ "$(dirname "$out")" = "$src" ] &&
   [ -f "$seed/$(basename "$out")/vmlinux" ] &&
   seed_head=$(git -C "$seed" rev-parse -q --verify HEAD 2>/dev/null) &&
   git -C "$src" cat-file -e "$seed_head^{commit}" 2>/dev/null; then
	echo "build-kernel[$name]: starting from the build of $(basename "$seed")"
	rm -rf "$out"
	cp -a --reflink=auto "$seed/$(basename "$out")" "$out.seed"
	rm -f "$out.seed/.frag-sum"
	mv "$out.seed" "$out"
	# Newer than every seeded object: kbuild rebuilds exactly these.
	git -C "$src" diff --name-only -z "$seed_head" HEAD -- |
		(cd "$src" && xargs -0 -r touch -c --)
fi

mkdir -p "$out"
export CCACHE_DIR=${CCACHE_DIR:-$(dirname "$src")/ccache}
export CCACHE_BASEDIR=$(dirname "$(dirname "$src")")
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=time_macros
export KBUILD_BUILD_TIMESTAMP="2024-01-01" KBUILD_BUILD_USER=rig KBUILD_BUILD_HOST=rig
mk=(make -s -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
    CC="ccache aarch64-linux-gnu-gcc" -j"$jobs")
log="$out/build.log"

# Regenerate .config only when a fragment changed, so an unchanged config
# never forces a rebuild.
# The tree's Kconfig files count too: a tree with new options (the series
# adds two) must get them merged from the fragments.
sum=$( { cat "${frags[@]}"; find "$src" -path "$src/out-*" -prune -o -name 'Kconfig*' -type f -print0 |
	sort -z | xargs -0 cat; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/.frag-sum" 2>/dev/null)" != "$sum" ] || [ ! -f "$out/.config" ]; then
	"${mk[@]}" allnoconfig >"$log" 2>&1 || { tail -20 "$log" >&2; die "allnoconfig failed"; }
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >>"$log" 2>&1 ||
		die "merge_config failed (see $log)"
	"${mk[@]}" olddefconfig >>"$log" 2>&1 || { tail -20 "$log" >&2; die "olddefconfig failed"; }
	# Say which requested options the tree does not have (the baseline
	# lacks the series' own options; that is expected there).
	: >"$out/config-missing.txt"
	grep -h '^CONFIG_[A-Z0-9_]*=[ym]' "${frags[@]}" | sort -u | while IFS= read -r want; do
		grep -qx "$want" "$out/.config" || echo "$want" >>"$out/config-missing.txt"
	done
	echo "$sum" >"$out/.frag-sum"
fi
if [ -s "$out/config-missing.txt" ]; then
	echo "build-kernel[$name]: options not set in this tree: $(tr '\n' ' ' <"$out/config-missing.txt")"
fi

start=$(date +%s)
# Progress, kunit.py-style, only on a terminal: how many files kbuild has
# compiled so far (the log gets kbuild's short lines for that).
ticker=
if [ -t 1 ]; then
	( while sleep 5; do
		printf 'build-kernel[%s]: %s files compiled, %ss\n' "$name" \
			"$(grep -c '^  CC' "$log" 2>/dev/null || echo 0)" "$(( $(date +%s) - start ))"
	done ) &
	ticker=$!
	trap '[ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true' EXIT
fi
mkv=()	# the same make, with kbuild's short lines in the log
for a in "${mk[@]}"; do [ "$a" = -s ] || mkv+=("$a"); done
if ! "${mkv[@]}" Image modules >"$log" 2>&1; then
	[ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true
	echo "build-kernel[$name]: build failed; last errors:" >&2
	# The compiler's and the linker's own lines, not make's "Error 2" echoes
	{ grep -E 'error:|undefined reference|ld: ' "$log" | grep -v '^make' ||
		tail -5 "$log"; } | head -8 | sed 's/^/  /' >&2
	die "build failed (full log: $log)"
fi
[ -z "$ticker" ] || { kill "$ticker" 2>/dev/null || true; ticker=; }
rm -rf "$out/modules-root"
"${mk[@]}" INSTALL_MOD_PATH="$out/modules-root" INSTALL_MOD_STRIP=1 modules_install >>"$log" 2>&1 ||
	die "modules_install failed (see $log)"
"${mk[@]}" INSTALL_HDR_PATH="$out/hdr" headers_install >>"$log" 2>&1 ||
	die "headers_install failed (see $log)"
"${mk[@]}" -s --no-print-directory kernelrelease >"$out/kernelrelease"
echo "$variant" >"$out/variant"
echo "build-kernel[$name]: $(cat "$out/kernelrelease") ($variant) built in $(( $(date +%s) - start ))s"
