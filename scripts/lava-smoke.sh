#!/usr/bin/env bash
# Run one rig cell through LAVA, offline: generate its job and device with
# rig/lava_jobs.py, run it with lava-run (LAVA boots QEMU and its monitor
# collects the results from the console), then compare LAVA's results with
# the rig's own parse of the same TAP. Uses an existing `make conformance`
# build; builds nothing.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--build DIR] [--out DIR] [--kernel NAME] [--cell NAME]
  Defaults: build/, build/lava/smoke, patched, max-vhe. Needs
  BUILD/kernels/KERNEL/arch/arm64/boot/Image and BUILD/initramfs/KERNEL.cpio.gz.
  Writes OUT/lava.log (lava-run's log), OUT/results.yaml (LAVA's results)
  and OUT/compare.txt. Exits 0 when LAVA and the rig agree on every case.
  lava-run needs root (sudo -n otherwise).
USAGE
}
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build" out= kernel=patched cell=max-vhe
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2 ;; --out) out=$2 ;; --kernel) kernel=$2 ;; --cell) cell=$2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift 2
done
build=$(realpath "$build")
out=${out:-$build/lava/smoke}
py=/usr/bin/python3	# Debian's, which has LAVA's modules and PyYAML
command -v lava-run >/dev/null ||
	{ echo "lava-smoke: missing lava-dispatcher (run scripts/install-deps.sh)" >&2; exit 1; }
image="$build/kernels/$kernel/arch/arm64/boot/Image" initrd="$build/initramfs/$kernel.cpio.gz"
for f in "$image" "$initrd"; do
	[ -f "$f" ] || { echo "lava-smoke: missing $f (run make conformance first)" >&2; exit 1; }
done
root=()
if [ "$(id -u)" != 0 ]; then
	sudo -n true 2>/dev/null || { echo "lava-smoke: lava-run must run as root (no sudo -n)" >&2; exit 1; }
	root=(sudo -n)
fi

rm -rf "$out"
mkdir -p "$out/dtb"
out=$(realpath "$out")
if [ "${RIG_NVGRACE:-1}" = 1 ]; then
	$py "$top/rig/lava_jobs.py" dtb --cell "$cell" --out "$out/dtb/$cell.dtb" \
		--image "$image" --initrd "$initrd"
fi
$py "$top/rig/lava_jobs.py" jobs --out "$out" --build "$build" --kernels "$kernel" \
	--cells "$cell" --dtb-url "file://$out/dtb/{cell}.dtb" >/dev/null
job="$out/$kernel-$cell.yaml" device="$out/device-$cell.yaml"
id="rig-smoke-$$"

# lava-run kills its QEMU when the job ends or is cancelled (TERM). If it
# is stopped, QEMU (its child, in a session of its own) is killed here by
# pid, so no emulator outlives the smoke run.
lpid=
stop_lava() {
	[ -n "$lpid" ] || return 0
	local kids
	kids=$(ps -o pid= --ppid "$lpid" 2>/dev/null || true)
	kill -TERM "$lpid" 2>/dev/null || true
	for _ in $(seq 30); do kill -0 "$lpid" 2>/dev/null || break; sleep 1; done
	kill -KILL "$lpid" 2>/dev/null || true
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$kids" ] || kill -KILL $kids 2>/dev/null || true
	lpid=
}
trap 'stop_lava; exit 130' INT
trap 'stop_lava; exit 143' TERM
trap 'stop_lava' EXIT

echo "lava-smoke: lava-run $kernel in $cell (log: $out/lava.log)"
start=$(date +%s)
"${root[@]}" lava-run --job-id "$id" --output-dir "$out/lava-output" \
	--device "$device" "$job" >"$out/lava.log" 2>&1 &
lpid=$!
rc=0
wait "$lpid" || rc=$?
lpid=
echo "lava-smoke: lava-run exited with status $rc after $(( $(date +%s) - start ))s"
"${root[@]}" rm -rf "/var/lib/lava/dispatcher/tmp/$id"

rig_tap=()
own="$top/results/latest/cells/$kernel-$cell/results.tap"
[ ! -f "$own" ] || rig_tap=(--rig-tap "$own")
cmp_rc=0
$py "$top/rig/lava_jobs.py" compare "$out/lava.log" --results-yaml "$out/results.yaml" \
	"${rig_tap[@]}" >"$out/compare.txt" || cmp_rc=$?
cat "$out/compare.txt"
exit $(( cmp_rc || rc ))
