#!/usr/bin/env bash
# Run the series' KUnit tests (SPEC KU-1) with the tree's own kunit.py: it
# configures, builds, boots QEMU and parses the KTAP result. kunit.py's
# default arm64 machine (no EL2) is enough: the tests exercise decision
# helpers, not a running KVM.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--seed OUT_DIR] KERNEL_TREE BUILD_DIR [JSON_OUT]
  Runs tools/testing/kunit/kunit.py run --arch=arm64 in KERNEL_TREE, building
  in BUILD_DIR (a direct child of the tree, e.g. TREE/out-kunit), and writes
  kunit.py's JSON result to JSON_OUT when given. Exits non-zero when a test
  fails.
  Without --seed the configuration is arch/arm64/kvm/.kunitconfig alone and
  the first build is a whole kernel compile. With --seed OUT_DIR (a built
  rig kernel of the same tree, e.g. TREE/out-release) the configuration is
  that kernel's .config plus .kunitconfig, and BUILD_DIR starts as a copy of
  OUT_DIR: kbuild then compiles only what the KUnit options change.
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
seed=
[ "${1:-}" != --seed ] || { seed=$(realpath -m "${2:-}"); shift 2 || { usage >&2; exit 2; }; }
[ $# -ge 2 ] && [ $# -le 3 ] || { usage >&2; exit 2; }
tree=$(realpath "$1") bdir=$(realpath -m "$2") json=
[ $# -lt 3 ] || json=$(realpath -m "$3")
die() { echo "kunit: $*" >&2; exit 1; }
kcfg="$tree/arch/arm64/kvm/.kunitconfig"
[ -f "$kcfg" ] || die "$tree has no arch/arm64/kvm/.kunitconfig (is kernel-patch/ applied?)"
command -v qemu-system-aarch64 >/dev/null || die "missing qemu-system-aarch64 (run scripts/install-deps.sh)"

if [ -n "$seed" ]; then
	[ -f "$seed/.config" ] && [ -f "$seed/vmlinux" ] || die "--seed $seed is not a built kernel (no .config or vmlinux)"
	[ "$(dirname "$seed")" = "$tree" ] && [ "$(dirname "$bdir")" = "$tree" ] ||
		die "--seed and BUILD_DIR must both be direct children of $tree (kbuild's relative paths)"
	# The options .kunitconfig sets, and the PL010 console kunit.py's arm64
	# machine asks for, replace the seed's own lines for them; the rest of
	# the seed's .config is kept.
	stamp=$( { sha256sum "$seed/.config" "$kcfg" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$bdir/.kunit-seed" 2>/dev/null)" != "$stamp" ]; then
		echo "kunit: starting from the build in $(basename "$seed")"
		rm -rf "$bdir" "$bdir.seed"
		cp -a --reflink=auto "$seed" "$bdir.seed"
		rm -rf "$bdir.seed/modules-root" "$bdir.seed/hdr" "$bdir.seed/.frag-sum"
		mv "$bdir.seed" "$bdir"
		echo "$stamp" >"$bdir/.kunit-seed"
	fi
	own=$(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p' \
		"$kcfg" | sort -u)
	own+=$'\n'CONFIG_SERIAL_AMBA_PL010
	{
		grep -v -w -F -f <(echo "$own") "$seed/.config" | grep -E '^(CONFIG_|# CONFIG_.* is not set$)'
		grep -E '^CONFIG_|^# CONFIG_' "$kcfg"
	} >"$bdir/kunitconfig.seeded"
	kcfg="$bdir/kunitconfig.seeded"
fi
mkdir -p "$bdir"
# With BUILD_DIR a direct child of the tree, kbuild records relative paths:
# two trees of the same history then share their objects through ccache.
export CCACHE_BASEDIR=$(dirname "$tree") CCACHE_NOHASHDIR=1
# The same as build-kernel.sh, so a seeded build keeps init/version.o.
export KBUILD_BUILD_TIMESTAMP="2024-01-01" KBUILD_BUILD_USER=rig KBUILD_BUILD_HOST=rig
cd "$tree"
exec python3 tools/testing/kunit/kunit.py run --arch=arm64 \
	--cross_compile=aarch64-linux-gnu- \
	--kunitconfig="$kcfg" \
	--build_dir="$bdir" --jobs="${JOBS:-$(nproc)}" --timeout=300 \
	--make_options="CC=ccache aarch64-linux-gnu-gcc" ${json:+--json="$json"}
