#!/usr/bin/env bash
# Install the native Debian packages the rig needs, and fetch the one arm64
# binary the guest needs (Debian's static busybox) into the build folder.
# Idempotent. It never adds a foreign architecture to the host's dpkg and
# never installs a foreign-architecture package: an arm64 /bin/busybox on
# an x86 host breaks initramfs-tools at the next kernel upgrade.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--check] [--build DIR]
  Installs missing native Debian packages (uses sudo when not root) and
  unpacks busybox-static for arm64 under DIR/guest-tools (default: build/).
  --check  only report what is missing; exit 1 if anything is
USAGE
}

# Native (host-architecture) packages only.
PKGS=(
	qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	linux-source-6.12 bc bison flex libssl-dev libelf-dev cpio
	ccache make rsync xz-utils python3 python3-pytest python3-jsonschema
	device-tree-compiler kmod git perl file util-linux procps
	lava-dispatcher gdb-multiarch python3-hypothesis python3-jinja2 python3-yaml
)
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
check_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	-h|--help) usage; exit 0 ;;
	--check) check_only=1 ;;
	--build) build=$2; shift ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
tools="$build/guest-tools"
busybox="$tools/busybox"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# An earlier version of this script installed busybox-static:arm64 on the
# host. Say so, and how to undo it; do not change the host behind the
# user's back.
if installed busybox-static:arm64; then
	cat >&2 <<WARN
deps: WARNING: busybox-static:arm64 is installed on this host (an earlier
deps:   version of this script did that); /bin/busybox is then an arm64 binary.
deps:   Restore the host's own: apt-get install --reinstall busybox:$(dpkg --print-architecture)
deps:   (or busybox-static:$(dpkg --print-architecture)), which replaces the arm64 one;
deps:   then 'dpkg --remove-architecture arm64' if nothing else needs arm64.
WARN
fi

missing=()
for p in "${PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done
have_busybox() { [ -x "$busybox" ] && file -L "$busybox" | grep -q 'ARM aarch64.*statically'; }

have_qemu10() { "$top/scripts/fetch-qemu10.sh" --build "$build" --check >/dev/null 2>&1; }

if [ "${#missing[@]}" -eq 0 ] && have_busybox && have_qemu10; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$check_only" = 1 ]; then
	[ "${#missing[@]}" -eq 0 ] || echo "deps: missing packages: ${missing[*]} (run scripts/install-deps.sh)" >&2
	have_busybox || echo "deps: missing $busybox (run scripts/install-deps.sh)" >&2
	have_qemu10 || echo "deps: missing QEMU 10 under $build/qemu-10.0 (run scripts/install-deps.sh)" >&2
	exit 1
fi

if [ "${#missing[@]}" -gt 0 ]; then
	SUDO=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "deps: not root and no sudo; cannot install: ${missing[*]}" >&2; exit 1; }
		SUDO=(sudo)
	fi
	echo "deps: installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
	if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
		echo "deps: apt-get install failed for: ${missing[*]}" >&2
		exit 1
	fi
	# The rig runs lava-run only. lava-dispatcher's postinst enables the
	# lava-worker daemon (it polls a LAVA server) and a socket for
	# lava-dispatcher-host; switch them off again rather than leave them.
	case " ${missing[*]} " in *" lava-dispatcher "*)
		if command -v systemctl >/dev/null; then
			"${SUDO[@]}" systemctl disable --now lava-worker.service \
				lava-dispatcher-host.socket >/dev/null 2>&1 || true
			echo "deps: disabled lava-worker.service and lava-dispatcher-host.socket (the rig uses lava-run only)"
		fi ;;
	esac
fi

if ! have_busybox; then
	# A private apt state (lists and cache under the build folder) that knows
	# only arm64: the host's dpkg database and architectures stay untouched.
	echo "deps: fetching busybox-static (arm64) into $tools"
	apt="$build/apt-arm64"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$tools"
	aptopt=(-qq -o APT::Architecture=arm64 -o APT::Architectures::=arm64
		-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache"
		-o Dir::State::status=/dev/null -o APT::Sandbox::User="$(id -un)")
	apt-get "${aptopt[@]}" update || { echo "deps: apt-get update (arm64 index) failed" >&2; exit 1; }
	rm -f "$apt"/busybox-static_*.deb
	(cd "$apt" && apt-get "${aptopt[@]}" download busybox-static) ||
		{ echo "deps: could not download busybox-static for arm64" >&2; exit 1; }
	rm -rf "$apt/root"
	dpkg-deb -x "$apt"/busybox-static_*.deb "$apt/root"
	cp "$apt/root/bin/busybox" "$busybox.tmp"
	mv "$busybox.tmp" "$busybox"
	have_busybox || { echo "deps: $busybox is not a static arm64 binary" >&2; exit 1; }
fi
# The qemu-10.0 cells' emulator, unpacked beside the host's QEMU 7.2.
have_qemu10 || "$top/scripts/fetch-qemu10.sh" --build "$build"
echo "deps: done"
