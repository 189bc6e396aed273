#!/usr/bin/env bash
# Validate every LAVA job rig/lava_jobs.py generates, offline: LAVA's own
# job and device schemas (lava-schema.py), then lava-run --validate, which
# builds each QEMU job's pipeline against its device and checks it.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--out DIR]
  Generates the jobs of every cell of rig/matrix.tsv for both kernels and
  every variant of rig/variants.py (release, debug, and both with 64 KiB
  pages), and the real-hardware template, into DIR (default:
  build/lava/validate) against empty stand-in artefacts, and validates
  them. The hardware template is checked against the schema only: there is
  no device of its type here. lava-run needs root (sudo -n otherwise).
USAGE
}
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/build/lava/validate"
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
schema=/usr/share/lava-common/lava-schema.py
# Debian's modules: the Python on PATH may be another one.
py=/usr/bin/python3
command -v lava-run >/dev/null && [ -f "$schema" ] ||
	{ echo "lava-validate: missing lava-dispatcher (run scripts/install-deps.sh)" >&2; exit 1; }
root=()
if [ "$(id -u)" != 0 ]; then
	sudo -n true 2>/dev/null || { echo "lava-validate: lava-run must run as root (no sudo -n)" >&2; exit 1; }
	root=(sudo -n)
fi

rm -rf "$out"
mkdir -p "$out/artefacts/lava/dtb" "$out/jobs"
out=$(realpath "$out")
art="$out/artefacts"
# LAVA checks that a file:// artefact exists; empty files stand in.
while read -r cell _; do
	case "$cell" in ''|'#'*) continue ;; esac
	: >"$art/lava/dtb/$cell.dtb"
done <"$top/rig/matrix.tsv"
for variant in $($py "$top/rig/variants.py" names); do
	suffix=$($py "$top/rig/variants.py" suffix "$variant")
	for k in baseline patched; do
		mkdir -p "$art/kernels/$k$suffix/arch/arm64/boot" "$art/initramfs"
		: >"$art/kernels/$k$suffix/arch/arm64/boot/Image"
		: >"$art/initramfs/$k$suffix.cpio.gz"
	done
	$py "$top/rig/lava_jobs.py" jobs --out "$out/jobs" --build "$art" --variant "$variant" >/dev/null
done
$py "$top/rig/lava_jobs.py" hardware --out "$out/jobs/hardware-arm64.yaml" >/dev/null

jobs=() devices=()
for f in "$out"/jobs/*.yaml; do
	case "$(basename "$f")" in device-*) devices+=("$f") ;; *) jobs+=("$f") ;; esac
done
fail=0
$py "$schema" job --strict "${jobs[@]}" >"$out/schema.log" 2>&1 || fail=1
$py "$schema" device --no-render "${devices[@]}" >>"$out/schema.log" 2>&1 || fail=1
[ "$fail" = 0 ] || { cat "$out/schema.log" >&2; echo "lava-validate: schema check failed" >&2; exit 1; }

n=0
for job in "${jobs[@]}"; do
	name=$(basename "$job" .yaml)
	[ "$name" != hardware-arm64 ] || continue
	# KERNEL[-debug][-64k]-CELL; a 64K job has its own device
	# (lava_jobs.device_file()).
	cell=${name#*-}
	cell=${cell#debug-}
	pages=
	case "$cell" in 64k-*) cell=${cell#64k-} pages=-64k ;; esac
	id="rig-validate-$$-$name"
	if ! "${root[@]}" lava-run --validate --job-id "$id" --output-dir "$out/validate/$name" \
		--device "$out/jobs/device-$cell$pages.yaml" "$job" >"$out/validate-$name.log" 2>&1; then
		grep -E '"lvl": "(error|results)"' "$out/validate-$name.log" >&2 || tail -n5 "$out/validate-$name.log" >&2
		echo "lava-validate: $name: lava-run --validate failed (log: $out/validate-$name.log)" >&2
		fail=1
	fi
	# --validate populates the pipeline, which makes LAVA's download
	# folders, but never runs the job, which would remove them.
	"${root[@]}" rm -rf "/var/lib/lava/dispatcher/tmp/$id"
	n=$((n + 1))
done
[ "$fail" = 0 ] || exit 1
echo "lava-validate: ${#jobs[@]} jobs match LAVA's schema (strict), ${#devices[@]} devices too;" \
	"lava-run --validate passed for $n QEMU jobs ($out/jobs)"
