#!/usr/bin/env bash
# Unpack Debian bookworm-backports' QEMU 10.0 (qemu-system-arm, -common,
# -data) under BUILD/qemu-10.0, beside the host's own QEMU, and write a
# wrapper BUILD/qemu-10.0/qemu-system-aarch64 that points it at its own
# modules and firmware. Idempotent. The host's apt sources, lists and
# packages stay as they are: apt runs with a private sources list (the
# backports suite of the mirror the host's own sources name) and a private
# state under BUILD/apt-backports. bookworm's own libraries satisfy it.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--build DIR] [--check]
  --check  exit 1 (and say why) if the unpacked QEMU 10 is not there
USAGE
}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build} check_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;; --check) check_only=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
build=$(mkdir -p "$build" && cd "$build" && pwd)
dest="$build/qemu-10.0" wrapper="$build/qemu-10.0/qemu-system-aarch64"
PKGS=(qemu-system-arm qemu-system-common qemu-system-data)

works() { [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | grep -q 'version 10\.'; }
if works; then
	echo "fetch-qemu10: $("$wrapper" --version | head -n1) in $dest"
	exit 0
fi
if [ "$check_only" = 1 ]; then
	echo "fetch-qemu10: no QEMU 10 under $dest (run scripts/fetch-qemu10.sh)" >&2
	exit 1
fi

# The mirror the host's own apt sources use (deb822 or one-line form).
mirror=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ {print $2; exit}' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "fetch-qemu10: the host's apt sources name no Debian mirror" >&2; exit 1; }

apt="$build/apt-backports"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts"
echo "deb $mirror bookworm-backports main" >"$apt/sources.list"
aptopt=(-qq -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts="$apt/parts"
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache"
	-o Dir::State::status=/dev/null -o APT::Sandbox::User="$(id -un)")
echo "fetch-qemu10: fetching ${PKGS[*]} from $mirror bookworm-backports"
apt-get "${aptopt[@]}" update || { echo "fetch-qemu10: apt-get update (bookworm-backports) failed" >&2; exit 1; }
rm -f "$apt"/*.deb
(cd "$apt" && apt-get "${aptopt[@]}" download "${PKGS[@]}") ||
	{ echo "fetch-qemu10: could not download ${PKGS[*]} from bookworm-backports" >&2; exit 1; }
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/root"
for deb in "$apt"/*.deb; do dpkg-deb -x "$deb" "$dest.tmp/root"; done
bin="$dest/root/usr/bin/qemu-system-aarch64"
cat >"$dest.tmp/qemu-system-aarch64" <<WRAP
#!/bin/sh
# Debian bookworm-backports' QEMU 10.0, unpacked by scripts/fetch-qemu10.sh.
QEMU_MODULE_DIR="$dest/root/usr/lib/x86_64-linux-gnu/qemu"
export QEMU_MODULE_DIR
exec "$bin" -L "$dest/root/usr/share/qemu" "\$@"
WRAP
chmod +x "$dest.tmp/qemu-system-aarch64"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
missing=$(ldd "$bin" | awk '/not found/ {print $1}' | tr '\n' ' ')
[ -z "$missing" ] || { echo "fetch-qemu10: $bin needs libraries this host lacks: $missing" >&2; exit 1; }
works || { echo "fetch-qemu10: $wrapper does not run: $("$wrapper" --version 2>&1 | tail -n1)" >&2; exit 1; }
echo "fetch-qemu10: $("$wrapper" --version | head -n1) in $dest"
