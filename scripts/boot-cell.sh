#!/usr/bin/env bash
# Boot one kernel in one matrix cell under qemu-system-aarch64, collect the
# console and the results channel, and classify how the boot ended.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 --image IMAGE --initrd INITRD --cpu CPU --mode vhe|nvhe --mte on|off
          --kernel NAME --cell NAME --out DIR [--boot-timeout S] [--cell-timeout S]
          [--test-timeout S] [--tests GLOB] [--dtb FILE] [--qemu-extra "ARGS"]
          [--append-extra "ARGS"] [--timeout-scale N] [--nvgrace] [--print-qemu]
          [--qemu BIN] [--emulator NAME]
  --qemu BIN runs that qemu-system-aarch64 (default: the host's); --emulator
  names it in cell.json (matrix.tsv's emulator column).
  --nvgrace adds the emulated nvgrace-gpu PCI function and its device tree.
  --print-qemu prints the QEMU command line (NUL-separated words; the device
  tree named, not made) and exits: rig/lava_jobs.py builds LAVA jobs from it.
  --timeout-scale N multiplies the per-test and cell timeouts (debug kernels).
  Writes DIR/console.log, DIR/results.tap and DIR/cell.json; exits 0 when the
  cell ran to the end, 1 otherwise, with a one-line cause on stderr.
USAGE
}

image= initrd= cpu= mode= mte= kernel= cell= out= dtb= qemu_extra= append_extra=
boot_timeout=${RIG_BOOT_TIMEOUT:-180} cell_timeout=${RIG_CELL_TIMEOUT:-2400}
test_timeout=${RIG_TEST_TIMEOUT:-900} tests='*' nvgrace=0 scale=1 print_qemu=0
qemu_bin=qemu-system-aarch64 emulator=qemu-7.2
while [ $# -gt 0 ]; do
	case "$1" in
	--image) image=$2 ;; --initrd) initrd=$2 ;; --cpu) cpu=$2 ;; --mode) mode=$2 ;;
	--mte) mte=$2 ;; --kernel) kernel=$2 ;; --cell) cell=$2 ;; --out) out=$2 ;;
	--boot-timeout) boot_timeout=$2 ;; --cell-timeout) cell_timeout=$2 ;;
	--test-timeout) test_timeout=$2 ;; --tests) tests=$2 ;; --dtb) dtb=$2 ;;
	--qemu-extra) qemu_extra=$2 ;; --append-extra) append_extra=$2 ;;
	--timeout-scale) scale=$2 ;; --qemu) qemu_bin=$2 ;; --emulator) emulator=$2 ;;
	--nvgrace) nvgrace=1; shift; continue ;;
	--print-qemu) print_qemu=1; shift; continue ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift 2
done
# One kernel argument carries the globs: comma separated, never spaces (a
# space would split the command line and drop every glob after it).
tests=$(printf '%s' "$tests" | tr -s '[:space:],' ',' | sed 's/^,//; s/,$//')
for v in image initrd cpu mode mte kernel cell out; do
	[ -n "${!v}" ] || { echo "boot-cell: --$v is required" >&2; exit 2; }
done
[ "$print_qemu" = 1 ] || command -v "$qemu_bin" >/dev/null ||
	{ echo "boot-cell: missing $qemu_bin for $emulator (run scripts/install-deps.sh)" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/rig/memory-layout.sh"
# The rig's lock (fd 9, conformance.sh) is not QEMU's to hold.
exec 9>&-

console="$out/console.log" results="$out/results.tap"
[ "$print_qemu" = 1 ] || { mkdir -p "$out"; rm -f "$console" "$results" "$out/cell.json" "$out/qemu.stderr" "$out/cpu-features.json"; }

machine="virt,virtualization=on,gic-version=3"
[ "$mte" = on ] && machine+=",mte=on"
# udmabuf.size_limit_mb: pfnmap_udmabuf_test needs one 512 MiB block's
# worth with 64 KiB pages (udmabuf's default limit is 64 MiB).
append="console=ttyAMA0 log_buf_len=4M mem=$RIG_LINEAR_MEM panic=-1 oops=panic rig.timeout=$test_timeout"
append+=" udmabuf.size_limit_mb=1024"
append+=" rig.provider=$RIG_PROVIDER_BASE,$RIG_PROVIDER_SIZE rig.tests=$tests"
[ "$mode" = nvhe ] && append+=" kvm-arm.mode=nvhe"
[ -z "$append_extra" ] || append+=" $append_extra"
[ "$nvgrace" = 0 ] || append+=" vfio.enable_unsafe_noiommu_mode=1 rig.vfio_bdf=$RIG_NVGRACE_BDF"
if [ "$scale" -gt 1 ]; then
	append+=" rig.timeout_scale=$scale"
	cell_timeout=$((cell_timeout * scale))
fi
qemu=("$qemu_bin" -M "$machine" -cpu "$cpu" -smp 2 -m "$RIG_QEMU_MEM"
      -display none -monitor none -no-reboot -nic none
      -kernel "$image" -initrd "$initrd" -append "$append"
      -serial "file:$console"
      -device virtio-serial-device -chardev "file,id=results,path=$results"
      -device virtconsole,chardev=results)
if [ "$nvgrace" = 1 ]; then
	qemu+=(-object "memory-backend-ram,id=gpubar,size=$RIG_IVSHMEM_SIZE"
	       -device "ivshmem-plain,memdev=gpubar,bus=pcie.0,addr=$RIG_NVGRACE_PCI_ADDR")
	dtb="$out/nvgrace.dtb"
	[ "$print_qemu" = 1 ] ||
	"$top/scripts/nvgrace-dtb.sh" "$dtb" "${qemu[@]}" >"$out/nvgrace-dtb.log" 2>&1 ||
		{ echo "boot-cell: cannot make the nvgrace device tree: $(tail -n1 "$out/nvgrace-dtb.log")" >&2; exit 1; }
fi
[ -z "$dtb" ] || qemu+=(-dtb "$dtb")
# shellcheck disable=SC2206 # extra QEMU arguments are word-split on purpose
[ -z "$qemu_extra" ] || qemu+=($qemu_extra)
if [ "$print_qemu" = 1 ]; then printf '%s\0' "${qemu[@]}"; exit 0; fi
# A gdbstub, so that the rig reads the vCPU's ID registers from the
# emulator (rig/cpu_features.py), not from the kernel under test. Unix
# socket paths are short (108 bytes): it lives in a private /tmp folder.
gdbdir=$(mktemp -d /tmp/rig-gdb.XXXXXX)
qemu+=(-gdb "unix:$gdbdir/sock,server=on,wait=off")
# The stage-2 inspector's channel: the cell's selftests ask rig/s2_service.py
# for their VM's stage 2, which it reads through the gdbstub.
qemu+=(-chardev "socket,id=s2,path=$gdbdir/s2.sock,server=on,wait=off"
       -device "virtserialport,chardev=s2,name=rig.s2")
# The report shows the command line; quote only what a shell would need.
cmdline=$(python3 -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "${qemu[@]}")

# QEMU is our direct child, never behind `timeout`: on every exit path
# (a timeout below, Ctrl-C, a CI cancel's TERM) the trap kills it, so no
# emulator outlives its cell. Background jobs of a non-interactive shell
# ignore SIGINT, so QEMU would not die of the user's Ctrl-C by itself.
qpid= fpid= spid=
kill_qemu() {
	[ -z "$qpid" ] || kill -KILL "$qpid" 2>/dev/null || true
	[ -z "$fpid" ] || kill -KILL "$fpid" 2>/dev/null || true
	[ -z "$spid" ] || kill -KILL "$spid" 2>/dev/null || true
	rm -rf "$gdbdir"
}
trap 'kill_qemu' EXIT
trap 'kill_qemu; echo "boot-cell[$kernel/$cell]: interrupted" >&2; exit 130' INT
trap 'kill_qemu; echo "boot-cell[$kernel/$cell]: terminated" >&2; exit 143' TERM

start=$(date +%s)
"${qemu[@]}" 2>"$out/qemu.stderr" &
qpid=$!
# In the background, so that a stop (TERM, Ctrl-C) is never held up by it.
python3 "$top/rig/cpu_features.py" --socket "$gdbdir/sock" --out "$out/cpu-features.json" \
	2>"$out/cpu-features.log" &
fpid=$!
python3 "$top/rig/s2_service.py" --port "$gdbdir/s2.sock" --gdb "$gdbdir/sock" \
	2>"$out/s2-service.log" &
spid=$!
status=ok detail=
booted=0 shown=
while kill -0 "$qpid" 2>/dev/null; do
	now=$(date +%s)
	# Progress on a terminal: which test the cell is running.
	if [ -t 1 ] && [ "$booted" = 1 ]; then
		cur=$(grep -a 'rig: running ' "$console" 2>/dev/null | tail -n1 | sed 's/.*rig: running //' | tr -d '\r')
		if [ -n "$cur" ] && [ "$cur" != "$shown" ]; then
			echo "boot-cell[$kernel/$cell]: running $cur ($((now - start))s)"
			shown=$cur
		fi
	fi
	if [ "$booted" = 0 ]; then
		if grep -qs "rig: init started" "$console"; then
			booted=1
		elif [ $((now - start)) -gt "$boot_timeout" ]; then
			kill_qemu
			status=boot-timeout detail="init not reached within ${boot_timeout}s"
			break
		fi
	fi
	if [ $((now - start)) -gt "$cell_timeout" ]; then
		kill_qemu
		status=cell-timeout detail="cell did not finish within ${cell_timeout}s"
		break
	fi
	sleep 1
done
set +e
wait "$qpid"
rc=$?
set -e
qpid=
wait "$fpid" 2>/dev/null || true
fpid=
kill -TERM "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
spid=
[ -s "$out/cpu-features.json" ] ||
	echo "boot-cell[$kernel/$cell]: CPU features not read from the emulator: $(tail -n1 "$out/cpu-features.log" 2>/dev/null)" >&2
duration=$(( $(date +%s) - start ))

if grep -qs "Kernel panic" "$console"; then
	status=panic detail=$(grep -m1 "Kernel panic" "$console" | tr -d '\r')
elif [ "$status" = ok ] && [ "$rc" = 137 ]; then
	# Not our kill (that set the status above): the OOM killer, or a user.
	status=qemu-killed detail="qemu was killed by SIGKILL from outside the rig (the host's OOM killer? see dmesg on the host)"
elif [ "$status" = ok ] && [ "$rc" != 0 ]; then
	status=qemu-crash detail="qemu exited with status $rc: $(tail -n1 "$out/qemu.stderr")"
elif [ "$status" = ok ] && ! grep -qs "^# rig-end" "$results"; then
	status=no-results detail="the results stream has no end marker"
fi

python3 "$top/rig/cell_record.py" "$out" --kernel "$kernel" --cell "$cell" --cpu "$cpu" \
	--mode "$mode" --mte "$mte" --cmdline "$cmdline" --duration "$duration" \
	--status "$status" --detail "$detail" --emulator "$emulator" \
	--qemu-version "$(timeout 10 "$qemu_bin" --version 2>/dev/null | head -n1 || true)" \
	--nvgrace "$nvgrace"
if [ "$status" != ok ]; then
	echo "boot-cell[$kernel/$cell]: $status: $detail" >&2
	exit 1
fi
echo "boot-cell[$kernel/$cell]: done in ${duration}s"
