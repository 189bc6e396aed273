#!/usr/bin/env bash
# Run the series' KUnit tests (SPEC KU-1) with the tree's own kunit.py: it
# configures from arch/arm64/kvm/.kunitconfig, builds, boots QEMU and parses
# the KTAP result. kunit.py's default arm64 machine (cortex-a57, no EL2) is
# enough: the tests exercise decision helpers, not a running KVM.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 KERNEL_TREE BUILD_DIR [JSON_OUT]
  Runs tools/testing/kunit/kunit.py run --arch=arm64 in KERNEL_TREE, building
  in BUILD_DIR (best a direct child of the tree, e.g. TREE/out-kunit), and writes kunit.py's JSON result to
  JSON_OUT when given. Exits non-zero when a test fails.
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -ge 2 ] && [ $# -le 3 ] || { usage >&2; exit 2; }
tree=$(realpath "$1") bdir=$(realpath -m "$2") json=
[ $# -lt 3 ] || json=$(realpath -m "$3")
[ -f "$tree/arch/arm64/kvm/.kunitconfig" ] ||
	{ echo "kunit: $tree has no arch/arm64/kvm/.kunitconfig (is kernel-patch/ applied?)" >&2; exit 1; }
command -v qemu-system-aarch64 >/dev/null ||
	{ echo "kunit: missing qemu-system-aarch64 (run scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$bdir"
# With BUILD_DIR a direct child of the tree, kbuild records relative paths:
# two trees of the same history then share their objects through ccache.
export CCACHE_BASEDIR=$(dirname "$tree") CCACHE_NOHASHDIR=1
cd "$tree"
exec python3 tools/testing/kunit/kunit.py run --arch=arm64 \
	--cross_compile=aarch64-linux-gnu- \
	--kunitconfig=arch/arm64/kvm/.kunitconfig \
	--build_dir="$bdir" --jobs="${JOBS:-$(nproc)}" --timeout=300 \
	--make_options="CC=ccache aarch64-linux-gnu-gcc" ${json:+--json="$json"}
