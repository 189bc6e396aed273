#!/usr/bin/env bash
# The whole job behind `make conformance`: packages, sources, both kernels,
# the selftests, one initramfs per kernel, the QEMU matrix, the report.
# Build, boot/run and report times are shown separately, as kunit.py does.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--kernels "baseline patched"] [--cells "CELL..."] [--variant release|debug]
          [--pages 4k|64k]
          [--tests GLOB] [--build DIR] [--results DIR] [--no-deps] [--suite-tree TREE]
  Kernels: "baseline" and "patched" are Debian's linux-source-6.12 without
  and with kernel-patch/. Any other NAME is the kernel tree given by the
  environment variable KSRC_NAME (e.g. KERNELS=mine KSRC_mine=~/linux),
  built out of tree in BUILD/kernels/NAME and judged by SPEC's invariants.
  --suite-tree: build the selftests in a copy of that 6.14+ tree with
  kernel-patch/selftests-6.18 applied (as its maintainer would), instead of
  in the patched 6.12 tree.
  Environment: JOBS (parallel build jobs), RIG_TEST_TIMEOUT, RIG_BOOT_TIMEOUT,
  RIG_CELL_TIMEOUT, RIG_NVGRACE=1 (add the emulated nvgrace-gpu device).
USAGE
}
top=$(cd "$(dirname "$0")/.." && pwd)
kernels="baseline patched" cells= variant=release tests='*' pages=4k
build="$top/build" results="$top/results" deps=1 suite_tree=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernels) kernels=$2; shift ;; --cells) cells=$2; shift ;;
	--variant) variant=$2; shift ;; --tests) tests=$2; shift ;;
	--pages) pages=$2; shift ;;
	--build) build=$2; shift ;; --results) results=$2; shift ;;
	--no-deps) deps=0 ;;
	--suite-tree) suite_tree=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case "$variant" in release|debug) ;;
*) echo "conformance: VARIANT must be release or debug, not '$variant'" >&2; exit 2 ;; esac
# PAGES=64k builds 64 KiB page kernels ("release-64k"), in their own folders.
case "$pages" in 4k) ;; 64k) variant+=-64k ;;
*) echo "conformance: PAGES must be 4k or 64k, not '$pages'" >&2; exit 2 ;; esac
suffix=$(python3 "$top/rig/variants.py" suffix "$variant")
die() { echo "conformance: $*" >&2; exit 2; }
# Catch bad input before anything is built.
matrix_cells=$(awk '!/^#/ && NF {print $1}' "$top/rig/matrix.tsv" | tr '\n' ' ')
for c in $cells; do
	case " $matrix_cells " in *" $c "*) ;;
	*) die "unknown cell '$c' (rig/matrix.tsv has: $matrix_cells)" ;; esac
done
[ -n "$kernels" ] || die "KERNELS is empty"
if [ -n "$suite_tree" ]; then
	[ -d "$suite_tree/tools/testing/selftests/kvm/arm64" ] ||
		die "SUITE_TREE=$suite_tree is not a 6.14+ kernel tree (no tools/testing/selftests/kvm/arm64)"
	suite_tree=$(realpath "$suite_tree")
fi
declare -A ksrc
for k in $kernels; do
	case "$k" in
	baseline|patched) continue ;;
	*[!A-Za-z0-9_]*) die "kernel name '$k' must be letters, digits or _ (it names KSRC_$k)" ;;
	esac
	v="KSRC_$k"
	[ -n "${!v:-}" ] || die "unknown kernel '$k': set $v=/path/to/kernel/tree (or use baseline, patched)"
	[ -f "${!v}/Makefile" ] && [ -d "${!v}/arch/arm64" ] ||
		die "$v=${!v} is not a kernel source tree (no Makefile or arch/arm64)"
	ksrc[$k]=$(realpath "${!v}")
done
command -v file >/dev/null || die "missing tool 'file' (run scripts/install-deps.sh)"
mkdir -p "$build" "$results" || die "cannot create $build or $results"
build=$(realpath "$build") results=$(realpath "$results")
case "$build" in *' '*|*:*) die "the build folder path must not contain spaces or ':' (kbuild cannot use it): $build" ;; esac
# One run at a time per build folder: two would race on the same trees.
exec 9>"$build/.rig.lock"
flock -n 9 || { echo "conformance: another rig run is using $build (lock $build/.rig.lock)" >&2; exit 1; }
t0=$(date +%s)
step() { echo "==> $*"; }

[ "$deps" = 0 ] || "$top/scripts/install-deps.sh" --build "$build"
"$top/scripts/install-deps.sh" --check --build "$build" >/dev/null
export RIG_BUSYBOX="$build/guest-tools/busybox"

step "sources"
"$top/scripts/prepare-source.sh" "$build" -
# The series ends with the selftests, made from tools/ into a copy of the
# series under build/ (kernel-patch/ is never written by a run): an edited
# test reaches the patched tree, and the build, through its patch.
series="$build/series"
mkdir -p "$series"
rsync -a --delete --include='[0-9][0-9][0-9][0-9]-*.patch' --exclude='*' \
	"$top/kernel-patch/" "$series/"
"$top/scripts/selftest-patches.sh" --tree "$build/src/baseline" --patches "$series" >/dev/null

step "kernels ($variant)"
export CCACHE_DIR="$build/ccache"
mkdir -p "$build/kernels"
# The baseline first: the patched tree is a copy of it, and its first build
# starts from the baseline's objects (see build-kernel.sh), so a cold run
# costs about one kernel compile plus what the series touches.
for k in baseline patched; do
	case " $kernels " in *" $k "*) ;; *) continue ;; esac
	if [ "$k" = patched ]; then
		ts=$(date +%s)
		"$top/scripts/prepare-source.sh" "$build" "$series"
		echo "sources: patched tree ready in $(( $(date +%s) - ts ))s"
	fi
	"$top/scripts/build-kernel.sh" "$build/src/$k" "$build/src/$k/out-$variant" "$variant" \
		"$build/src/baseline"
	ln -sfn "../src/$k/out-$variant" "$build/kernels/$k$suffix"
done
# Any other tree is the user's: built out of tree, never written into.
for k in "${!ksrc[@]}"; do
	RIG_EXTRA_FRAGMENTS="$top/rig/kconfig/other-trees.config" \
		"$top/scripts/build-kernel.sh" "${ksrc[$k]}" "$build/kernels/$k$suffix" "$variant"
done
# The selftests are built from the patched tree (it has the series' uapi).
[ -d "$build/src/patched" ] || "$top/scripts/prepare-source.sh" "$build" "$series"

step "selftests"
# Built once, from the patched tree (it has the series' uapi), and run on
# every kernel: the same artefact a vendor runs on hardware.
ts=$(date +%s)
# The uapi headers are the same in every variant: any patched build's will
# do, else they are installed from the tree alone (a run of other kernels).
hdr=
for h in "$build/kernels/patched$suffix/hdr" "$build/src/patched"/out-*/hdr; do
	[ -f "$h/include/linux/kvm.h" ] && { hdr=$h; break; }
done
if [ -z "$hdr" ]; then
	hdr="$build/src/patched/out-headers/hdr"
	make -s -C "$build/src/patched" O="$build/src/patched/out-headers" ARCH=arm64 \
		INSTALL_HDR_PATH="$hdr" headers_install >/dev/null ||
		die "headers_install of the patched tree failed"
fi
if [ -n "$suite_tree" ]; then
	# As a maintainer of that tree gets them: applied, then built there.
	"$top/scripts/check-selftests-6.18.sh" "$suite_tree" "$build"
	"$top/scripts/build-selftests.sh" "$build/src/selftests-6.18" \
		"$build/src/selftests-6.18/out-headers/hdr" "$build/selftests"
else
	"$top/scripts/build-selftests.sh" "$build/src/patched" "$hdr" "$build/selftests"
fi
echo "selftests: built in $(( $(date +%s) - ts ))s"
"$top/scripts/package-kselftest.sh" "$build/selftests" "$build/kselftest-pfnmap.tar.gz"

step "initramfs"
mkdir -p "$build/initramfs"
for k in $kernels; do
	kdir="$build/kernels/$k$suffix"
	# Every kernel but the patched one gets the suite's own provider, built
	# out of tree: the same uapi as the selftests, whatever the tree has.
	ko=
	[ "$k" != patched ] || ko=$(find "$kdir/modules-root" -name test_pfnmap.ko 2>/dev/null | head -n1)
	if [ -z "$ko" ]; then
		"$top/scripts/build-provider-module.sh" "$build/src/patched" "$kdir" "$build/provider/$k$suffix"
		ko="$build/provider/$k$suffix/test_pfnmap.ko"
	fi
	"$top/scripts/mkinitramfs.sh" "$build/selftests/kselftest_install" "$build/initramfs/$k$suffix.cpio.gz" "$ko"
done
t_build=$(( $(date +%s) - t0 ))

step "matrix"
# Unique even for two runs started in the same second (other build folders
# may share the results folder).
run=$(mktemp -d "$results/$(date +%Y%m%d-%H%M%S)-XXXX")
chmod 755 "$run"
srcargs=()
for k in "${!ksrc[@]}"; do srcargs+=(--src "$k=${ksrc[$k]}"); done
"$top/scripts/run-info.py" "$run" --build "$build" --patches "$series" \
	--kernels "$kernels" --variant "$variant" "${srcargs[@]}" --tests "$tests" \
	--cells "$cells" --matrix "$matrix_cells" --tarball "$build/kselftest-pfnmap.tar.gz" \
	--suite-tree "$suite_tree"
# What was tested, with the run: the series as applied (KCIDB's
# patchset_files come from here, never from the checkout at export time).
mkdir -p "$run/patches"
cp "$series"/[0-9][0-9][0-9][0-9]-*.patch "$run/patches/"
t1=$(date +%s)
matrix_rc=0
"$top/scripts/run-matrix.sh" --run-dir "$run" --build "$build" --kernels "$kernels" \
	${cells:+--cells "$cells"} --variant "$variant" --tests "$tests" || matrix_rc=$?
t_run=$(( $(date +%s) - t1 ))

# KU-1: the series' KUnit tests, with the patched tree's own kunit.py,
# recorded as one more cell of the patched kernel, in every run. The KUnit
# kernel is this run's patched kernel plus the test (see kunit.sh --seed):
# an incremental build, with the run's page size and debug options.
t_kunit=0
case " $kernels " in *" patched "*)
	if [ "${RIG_KUNIT:-1}" = 1 ]; then
		case "$tests" in '*'|*kunit*)
		step "kunit"
		t2=$(date +%s)
		kst=ok
		"$top/scripts/kunit.sh" --seed "$build/src/patched/out-$variant" \
			"$build/src/patched" "$build/src/patched/out-kunit-$variant" "$run/kunit.json" \
			>"$run/kunit.log" 2>&1 || [ -s "$run/kunit.json" ] ||
			kst="kunit.py did not finish (see kunit.log)"
		t_kunit=$(( $(date +%s) - t2 ))
		python3 "$top/rig/kunit_tap.py" "$run/kunit.json" "$run/cells/patched-kunit" \
			--kernel patched --duration "$t_kunit" --status "$kst" \
			--cmdline "scripts/kunit.sh --seed out-$variant: kunit.py run --arch=arm64 --kunitconfig=<out-$variant/.config + arch/arm64/kvm/.kunitconfig>"
		cp "$run/kunit.log" "$run/cells/patched-kunit/console.log"
		grep -E '^\[[0-9:]+\] (Testing complete|Elapsed)' "$run/kunit.log" || true
		;; esac
	fi
;; esac

step "report"
report_rc=0
python3 "$top/rig/report.py" report "$run" --results-root "$results" || report_rc=$?
echo "time: build ${t_build}s, boot+run ${t_run}s, kunit ${t_kunit}s, total $(( $(date +%s) - t0 ))s"
[ "$matrix_rc" = 0 ] || echo "conformance: the matrix was interrupted (exit $matrix_rc)" >&2
exit $(( report_rc || matrix_rc ))
