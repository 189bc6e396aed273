#!/usr/bin/env bash
# Install the Debian packages the rig needs. Idempotent: only missing
# packages are installed, and nothing runs when all are present.
set -euo pipefail

usage() {
	echo "usage: $0 [--check]"
	echo "  Installs missing Debian packages (uses sudo when not root)."
	echo "  --check  only report what is missing; exit 1 if anything is"
}

PKGS=(
	qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	linux-source-6.12 bc bison flex libssl-dev libelf-dev cpio
	ccache make rsync xz-utils python3 python3-pytest device-tree-compiler
	kmod git perl
)
ARM64_PKGS=(busybox-static:arm64)

check_only=0
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--check) check_only=1 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

missing=()
for p in "${PKGS[@]}" "${ARM64_PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$check_only" = 1 ]; then
	echo "deps: missing packages: ${missing[*]} (run scripts/install-deps.sh)" >&2
	exit 1
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "deps: not root and no sudo; cannot install: ${missing[*]}" >&2; exit 1; }
	SUDO=(sudo)
fi

echo "deps: installing: ${missing[*]}"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	"${SUDO[@]}" dpkg --add-architecture arm64
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
	echo "deps: apt-get install failed for: ${missing[*]}" >&2
	exit 1
fi
echo "deps: done"
