#!/usr/bin/env bash
# Mutation check of the suite: build the patched kernel with one deliberate
# bug at a time and run the suite in the cells that can show it. A mutant
# is killed when a requirement fails (or a cell panics) on it; the patched
# kernel itself is conformant, so any red is the mutant's doing.
#
# Mutants are small patches in mutants/ against the patched tree, with a
# header: "Cells:" (matrix cells, and "kunit" for the series' KUnit tests),
# "Tests:" (kselftest globs, comma separated), "Expect:" (the requirement
# IDs that should go red). Leave-one-patch-out mutants are made from
# kernel-patch/ for every patch that touches arch/arm64/kvm.
#
# Every mutant is built in one tree, build/src/mutant, a copy of the patched
# tree whose first build starts from the patched objects: each mutant costs
# an incremental build.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--build DIR] [--results DIR] [--no-lopo] [MUTANT_NAME...]
  Runs every mutant in mutants/ plus the leave-one-patch-out mutants
  (lopo-NNNN), or only those named, and prints the kill table; writes
  RESULTS/mutation-<time>/.
  Needs a patched build and the selftests (make conformance KERNELS=patched).
USAGE
}
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build" results="$top/results" lopo=1 only=()
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift ;; --results) results=$2; shift ;;
	--no-lopo) lopo=0 ;;
	-h|--help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) only+=("$1") ;;
	esac
	shift
done
build=$(realpath "$build") results=$(realpath -m "$results")
patched="$build/src/patched" tree="$build/src/mutant"
die() { echo "mutation: $*" >&2; exit 1; }
[ -f "$patched/out-release/vmlinux" ] || die "no patched build in $patched/out-release: run make conformance KERNELS=patched first"
[ -x "$build/selftests/kselftest_install/run_kselftest.sh" ] || die "no selftests in $build/selftests: run make conformance first"
exec 9>"$build/.rig.lock"
flock -n 9 || die "another rig run is using $build"
# Stopped, it stops what it started: builds, cells, kunit.py and their
# children (run-matrix.sh in turn stops its QEMUs on TERM).
kill_tree() { local c; for c in $(pgrep -P "$1"); do kill_tree "$c"; done; kill -TERM "$1" 2>/dev/null || true; }
trap 'for c in $(pgrep -P $$); do kill_tree "$c"; done; echo "mutation: interrupted" >&2; exit 130' INT TERM
export CCACHE_DIR="$build/ccache" RIG_BUSYBOX="$build/guest-tools/busybox"

# Unique even for two runs started in the same second.
mkdir -p "$results"
out=$(mktemp -d "$results/mutation-$(date +%Y%m%d-%H%M%S)-XXXX")
table="$out/kill-table.txt"
series_head=$(git -C "$patched" rev-parse HEAD)

# The mutant tree: the patched tree's copy, reset to the series each time.
if [ ! -d "$tree/.git" ]; then
	rsync -a --exclude '/out-*' "$patched"/ "$tree"/
	rm -rf "$tree/.git/worktrees"
fi
# A series changed since the copy: bring its commits (and tags) over.
git -C "$tree" cat-file -e "$series_head^{commit}" 2>/dev/null ||
	git -C "$tree" fetch -q --tags -f "$patched" "$series_head" ||
	die "cannot bring the series into $tree"
reset_tree() {
	git -C "$tree" am --abort >/dev/null 2>&1 || true
	git -C "$tree" checkout -q -f --detach "$series_head"
	git -C "$tree" clean -q -fd -e '/out-*'
}

field() { sed -n "s/^$2: *//p" "$1" | head -n1; }

# run_mutant NAME CELLS TESTS: build the tree as it is and run it; prints
# the IDs that went red, "build-failed" or "none".
run_mutant() {
	local name=$1 cells=$2 tests=$3 qcells= red= c
	if ! "$top/scripts/build-kernel.sh" "$tree" "$tree/out-release" release "$patched" \
		>"$out/$name.build.log" 2>&1; then
		echo "build-failed"
		return
	fi
	ln -sfn "../src/mutant/out-release" "$build/kernels/mutant"
	for c in $cells; do [ "$c" = kunit ] || qcells+=" $c"; done
	if [ -n "$qcells" ]; then
		ko=$(find "$tree/out-release/modules-root" -name test_pfnmap.ko | head -n1)
		"$top/scripts/mkinitramfs.sh" "$build/selftests/kselftest_install" \
			"$build/initramfs/mutant.cpio.gz" "$ko" >/dev/null
		"$top/scripts/run-info.py" "$out/$name" --build "$build" --patches "$top/kernel-patch" \
			--kernels mutant --with-series mutant --tests "${tests:-*}" --cells "${qcells# }" \
			--matrix "$(awk '!/^#/ && NF {print $1}' "$top/rig/matrix.tsv" | tr '\n' ' ')"
		"$top/scripts/run-matrix.sh" --run-dir "$out/$name" --build "$build" \
			--kernels mutant --cells "${qcells# }" --tests "${tests:-*}" \
			>"$out/$name.run.log" 2>&1 || true
		python3 "$top/rig/report.py" report "$out/$name" --results-root "$out/$name" \
			>"$out/$name.report.log" 2>&1 || true
		red=$(python3 "$top/rig/report.py" red "$out/$name" --kernel mutant 2>>"$out/$name.report.log" || true)
	fi
	case " $cells " in *" kunit "*)
		if ! "$top/scripts/kunit.sh" --seed "$tree/out-release" "$tree" "$tree/out-kunit" \
			>"$out/$name.kunit.log" 2>&1; then
			red+=" KU-1"
		fi ;;
	esac
	red=$(echo $red)
	echo "${red:-none}"
}

printf '%-34s %-22s %-22s %s\n' MUTANT EXPECTED RED KILLED | tee "$table"
killed=0 total=0
record() {
	local name=$1 expect=$2 red=$3 verdict
	total=$((total + 1))
	case "$red" in
	none) verdict=no ;;
	build-failed) verdict="n/a (does not build)" ;;
	*) verdict=yes; killed=$((killed + 1)) ;;
	esac
	printf '%-34s %-22s %-22s %s\n' "$name" "${expect:--}" "$red" "$verdict" | tee -a "$table"
}

for m in "$top"/mutants/*.patch; do
	name=$(basename "$m" .patch)
	if [ "${#only[@]}" -gt 0 ]; then
		case " ${only[*]} " in *" $name "*) ;; *) continue ;; esac
	fi
	reset_tree
	git -C "$tree" apply "$m" || die "mutant $name does not apply to the series"
	record "$name" "$(field "$m" Expect)" \
		"$(run_mutant "$name" "$(field "$m" Cells)" "$(field "$m" Tests)")"
done

if [ "$lopo" = 1 ]; then
	series=( $(ls "$top"/kernel-patch/[0-9][0-9][0-9][0-9]-*.patch | grep -v /0000-) )
	for drop in "${series[@]}"; do
		grep -q '^diff --git a/arch/arm64/kvm/' "$drop" || continue
		name="lopo-$(basename "$drop" | cut -c1-4)"
		if [ "${#only[@]}" -gt 0 ]; then
			case " ${only[*]} " in *" $name "*) ;; *) continue ;; esac
		fi
		reset_tree
		git -C "$tree" reset -q --hard refs/tags/baseline
		applied=1
		for p in "${series[@]}"; do
			[ "$p" = "$drop" ] && continue
			git -C "$tree" am -q --keep-cr "$p" >/dev/null 2>&1 || { applied=0; break; }
		done
		if [ "$applied" = 0 ]; then
			git -C "$tree" am --abort >/dev/null 2>&1 || true
			printf '%-34s %-22s %-22s %s\n' "$name" - "-" "n/a (later patches need it)" | tee -a "$table"
			continue
		fi
		# kunit too: the series' KUnit tests are part of what a patch carries.
		record "$name" "" "$(run_mutant "$name" "max-vhe n1-vhe kunit" "kvm:*")"
	done
fi
reset_tree
echo "killed $killed of $total mutants that build" | tee -a "$table"
echo "mutation: $table"
