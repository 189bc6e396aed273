#!/usr/bin/env bash
# Boot every kernel in every selected matrix cell (rig/matrix.tsv) and keep
# each cell's console, results stream and metadata under RUN_DIR/cells/. A
# cell that fails to boot or crashes is recorded and the run goes on, so no
# earlier result is lost.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 --run-dir DIR --build DIR [--kernels "baseline patched"]
          [--cells "max-vhe ..."] [--variant release|debug[-64k]] [--tests GLOB[,GLOB...]]
  Expects DIR/kernels/<kernel>[-debug]/arch/arm64/boot/Image and
  DIR/initramfs/<kernel>[-debug].cpio.gz from the build steps.
  RIG_NVGRACE=0 leaves out the emulated nvgrace-gpu device (VFIO tests skip).
  RIG_PARALLEL=N boots up to N cells at once (default 2: a TCG guest
  running one KVM vCPU leaves the second host core mostly idle).
USAGE
}
run= build= kernels="baseline patched" cells= variant=release tests='*'
while [ $# -gt 0 ]; do
	case "$1" in
	--run-dir) run=$2 ;; --build) build=$2 ;; --kernels) kernels=$2 ;;
	--cells) cells=$2 ;; --variant) variant=$2 ;; --tests) tests=$2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift 2
done
[ -n "$run" ] && [ -n "$build" ] || { usage >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
suffix=$(python3 "$top/rig/variants.py" suffix "$variant") || exit 2
scale=$(python3 "$top/rig/variants.py" scale "$variant")

# The matrix file decides the cells; CELLS only selects among them.
declare -A cpu mode mte emu
all=()
while read -r name c m t e; do
	case "$name" in ''|'#'*) continue ;; esac
	cpu[$name]=$c mode[$name]=$m mte[$name]=$t emu[$name]=${e:-qemu-7.2}
	all+=("$name")
done <"$top/rig/matrix.tsv"
[ -n "$cells" ] || cells="${all[*]}"
# Which qemu-system-aarch64 runs each emulator of the matrix.
qemu_for() {
	case "$1" in
	qemu-7.2) echo qemu-system-aarch64 ;;
	qemu-10.0) echo "$build/qemu-10.0/qemu-system-aarch64" ;;
	*) return 1 ;;
	esac
}
for c in $cells; do
	[ -n "${cpu[$c]:-}" ] || { echo "run-matrix: unknown cell '$c' (see rig/matrix.tsv: ${all[*]})" >&2; exit 2; }
	q=$(qemu_for "${emu[$c]}") || { echo "run-matrix: cell '$c': unknown emulator '${emu[$c]}'" >&2; exit 2; }
	command -v "$q" >/dev/null ||
		{ echo "run-matrix: cell '$c' needs ${emu[$c]} ($q is missing: run scripts/install-deps.sh)" >&2; exit 2; }
done

# The cell timeout is never smaller than the sum of the timeouts of the
# tests it runs (scaled for debug kernels), plus the boot: a slow but
# healthy cell must not be cut short and blamed on the kernel.
cell_timeout=${RIG_CELL_TIMEOUT:-2400}
need=$(python3 "$top/rig/timeouts.py" --settings-dir "$build/selftests/kselftest_install" \
	--cell-timeout 0 --scale "$scale" --tests "$tests" \
	--boot-timeout "${RIG_BOOT_TIMEOUT:-180}" --print-required 2>/dev/null) || need=0
if [ "$(( need / scale ))" -gt "$cell_timeout" ]; then
	echo "run-matrix: cell timeout raised from ${cell_timeout}s to $(( need / scale ))s (x$scale): the selected tests' timeouts add up to that"
	cell_timeout=$(( need / scale ))
fi

mkdir -p "$run/cells"
parallel=${RIG_PARALLEL:-2}
# The emulated nvgrace-gpu function is in every cell unless RIG_NVGRACE=0.
nvgrace=(--nvgrace)
[ "${RIG_NVGRACE:-1}" = 1 ] || nvgrace=()
# Background jobs of a script ignore SIGINT, so pass an interrupt on to the
# cells as TERM: each boot-cell.sh then kills its QEMU before it exits.
stop_cells() { local p; p=$(jobs -p); [ -z "$p" ] || kill -TERM $p 2>/dev/null || true; wait || true; }
trap 'stop_cells; echo "run-matrix: interrupted; cells stopped" >&2; exit 130' INT
trap 'stop_cells; exit 143' TERM
# The rig's nvgrace-gpu function is an ivshmem-plain stand-in: it has the
# device-tree properties and RAM-backed memory, nothing in BAR0. Drivers
# that wait for the GPU's device-ready registers in BAR0 (upstream from
# 6.17 on) cannot use it, and a crash of the stand-in must never be
# reported as the kernel's: leave it out of that kernel's cells, and say so.
nvgrace_for() {
	local drv="$build/kernels/$1$suffix/source/drivers/vfio/pci/nvgrace-gpu/main.c"
	if [ -f "$drv" ] && grep -q 'wait_device_ready' "$drv"; then
		echo "run-matrix: $1: nvgrace-gpu device left out: this driver waits for device-ready registers in BAR0 that the rig's stand-in does not have (NV-* skip)" >&2
		return
	fi
	echo "${nvgrace[@]}"
}
for k in $kernels; do
	knv=$(nvgrace_for "$k")
	image="$build/kernels/$k$suffix/arch/arm64/boot/Image"
	initrd="$build/initramfs/$k$suffix.cpio.gz"
	for c in $cells; do
		out="$run/cells/$k-$c"
		echo "run-matrix: $k / $c (cpu ${cpu[$c]}, ${mode[$c]}, mte ${mte[$c]}, ${emu[$c]})"
		if [ ! -f "$image" ] || [ ! -f "$initrd" ]; then
			python3 "$top/rig/cell_record.py" "$out" --kernel "$k" --cell "$c" \
				--cpu "${cpu[$c]}" --mode "${mode[$c]}" --mte "${mte[$c]}" \
				--emulator "${emu[$c]}" --nvgrace "$([ -n "$knv" ] && echo 1 || echo 0)" \
				--status no-results --detail "kernel or initramfs was not built"
			continue
		fi
		while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
		"$top/scripts/boot-cell.sh" --image "$image" --initrd "$initrd" \
			--cpu "${cpu[$c]}" --mode "${mode[$c]}" --mte "${mte[$c]}" \
			--kernel "$k" --cell "$c" --out "$out" --tests "$tests" \
			--timeout-scale "$scale" --cell-timeout "$cell_timeout" \
			--qemu "$(qemu_for "${emu[$c]}")" --emulator "${emu[$c]}" $knv &
	done
done
wait
# Each cell's cell.json says how it ended; the reporter judges the run.
exit 0
