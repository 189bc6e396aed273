#!/usr/bin/env bash
# Make the device tree that lets nvgrace-gpu-vfio-pci bind to an emulated
# PCI function: dump QEMU's own tree for the exact same machine, add a child
# node for the function under the PCIe host bridge carrying the two "GPU
# memory" properties the driver reads, and compile it back.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 OUT.dtb QEMU_PROGRAM [QEMU_ARGS...]
  QEMU_PROGRAM and QEMU_ARGS are the complete command line of the real boot.
  The PCI function is the device whose "addr=" matches RIG_NVGRACE_PCI_ADDR,
  its memory RIG_NVGRACE_BASE/RIG_NVGRACE_SIZE (rig/memory-layout.sh; the
  environment overrides them). Prints nothing on success; on failure one
  line with the cause on stderr and a non-zero exit.
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -ge 2 ] || { usage >&2; exit 2; }

die() { echo "nvgrace-dtb: $*" >&2; exit 1; }

out=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
layout_base=${RIG_NVGRACE_BASE:-} layout_size=${RIG_NVGRACE_SIZE:-}
layout_addr=${RIG_NVGRACE_PCI_ADDR:-}
# shellcheck source=../rig/memory-layout.sh
. "$top/rig/memory-layout.sh"
base=${layout_base:-$RIG_NVGRACE_BASE}
size=${layout_size:-$RIG_NVGRACE_SIZE}
addr=${layout_addr:-$RIG_NVGRACE_PCI_ADDR}
command -v dtc >/dev/null || die "missing tool 'dtc' (install device-tree-compiler)"

# PCI "addr=slot[.fn]" -> devfn; the node's reg starts with devfn << 8.
slot=${addr%%.*} fn=0
[ "$slot" = "$addr" ] || fn=${addr#*.}
devfn=$(( (slot << 3) | fn ))
reg_hi=$(printf '0x%x' $((devfn << 8)))

# The same command line, with dumpdtb added to the -M/-machine option and
# everything that would talk to the outside world dropped harmlessly: QEMU
# exits right after writing the tree.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
qemu=("$1")
shift
seen_machine=0
while [ $# -gt 0 ]; do
	case "$1" in
	-M|-machine)
		[ $# -ge 2 ] || die "$1 without a value"
		qemu+=("$1" "$2,dumpdtb=$work/qemu.dtb"); seen_machine=1; shift ;;
	-dtb) shift ;;	# a previous output must not feed back in
	-serial) qemu+=(-serial null); shift ;;
	-chardev)
		[ $# -ge 2 ] || die "$1 without a value"
		id=$(printf '%s\n' "$2" | sed -n 's/.*\bid=\([^,]*\).*/\1/p')
		qemu+=(-chardev "null,id=$id"); shift ;;
	*) qemu+=("$1") ;;
	esac
	shift
done
[ "$seen_machine" = 1 ] || die "the QEMU command line has no -M/-machine option"
"${qemu[@]}" >"$work/qemu.log" 2>&1 ||
	die "QEMU could not dump its device tree: $(tail -n1 "$work/qemu.log")"
[ -s "$work/qemu.dtb" ] || die "QEMU wrote no device tree"
dtc -q -I dtb -O dts -o "$work/qemu.dts" "$work/qemu.dtb" ||
	die "dtc cannot decompile QEMU's device tree"

# Insert the child right after the host bridge's properties, i.e. before its
# first child node or its closing brace.
u64() { printf '<0x%x 0x%x>' $(( $1 >> 32 )) $(( $1 & 0xffffffff )); }
node="		nvgrace-gpu@$(printf "%x,%x" "$slot" "$fn") {
			reg = <${reg_hi} 0x0 0x0 0x0 0x0>;
			nvidia,gpu-mem-base-pa = $(u64 "$base");
			nvidia,gpu-mem-size = $(u64 "$size");
		};"
NODE=$node awk '
	/^\tpcie@10000000 \{$/ { inside = 1; print; next }
	inside && (/^\t\t[^\t].*\{$/ || /^\t\};$/) { print ENVIRON["NODE"]; inside = 0; done = 1 }
	{ print }
	END { exit done ? 0 : 1 }
' "$work/qemu.dts" >"$work/nvgrace.dts" || die "QEMU's device tree has no pcie@10000000 node"
# A no-map firmware carve-out in the kernel's RAM, as UEFI machines have
# many: PRV-1 checks that the test provider refuses to be loaded over one.
carve="	reserved-memory {
		#address-cells = <0x02>;
		#size-cells = <0x02>;
		ranges;
		firmware-carve-out@${RIG_CARVE_OUT_BASE#0x} {
			reg = $(u64 "$RIG_CARVE_OUT_BASE"), $(u64 "$RIG_CARVE_OUT_SIZE");
			no-map;
		};
	};"
grep -q 'reserved-memory' "$work/nvgrace.dts" && die "QEMU's device tree already has a reserved-memory node"
CARVE=$carve awk '{ lines[NR] = $0 } END {
	for (i = 1; i < NR; i++) print lines[i]
	print ENVIRON["CARVE"]; print lines[NR] }' "$work/nvgrace.dts" >"$work/carve.dts"
mv "$work/carve.dts" "$work/nvgrace.dts"
dtc -q -I dts -O dtb -o "$work/out.dtb" "$work/nvgrace.dts" ||
	die "dtc cannot compile the amended device tree"
mv "$work/out.dtb" "$out"
