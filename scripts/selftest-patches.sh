#!/usr/bin/env bash
# Make the "KVM: arm64: selftests:" patches that end the series from this
# repository's tools/, so that a maintainer who applies kernel-patch/ gets
# the tests, registered in the kernel's own selftest Makefiles. tools/ is the
# one source; --check (run by `make check`) fails when the patches in
# kernel-patch/ are not what it makes now.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 [--check] [--tree KERNEL_TREE] [--patches DIR]
  Writes DIR/NNNN-*.patch, numbered after the highest kernel patch of DIR,
  from tools/testing/selftests/{kvm,vfio}/ and the commit messages in
  scripts/selftest-patches/, and removes the selftest patches it no longer
  makes. A patch whose subject starts "KVM: arm64: selftests:" is one of
  them; every other NNNN-*.patch but 0000 is a kernel patch.

  --tree     the kernel tree the series applies to (default:
             build/src/baseline). Its layout decides the paths: aarch64/ and
             kvm/Makefile up to 6.13, arm64/ and kvm/Makefile.kvm from 6.14;
             a new vfio/ directory, or the tests beside an existing one.
             Only read: the kernel patches are applied to copies of the
             few files the selftest patches change.
  --patches  the series (default: kernel-patch/)
  --check    write nothing; fail if DIR's selftest patches differ from what
             would be made, or if DIR/0000-cover-letter.patch does not list
             their subjects
USAGE
}

top=$(cd "$(dirname "$0")/.." && pwd)
tree="$top/build/src/baseline" patches="$top/kernel-patch" check=0
while [ $# -gt 0 ]; do
	case "$1" in
	--tree) tree=${2:?--tree needs a directory}; shift ;;
	--patches) patches=${2:?--patches needs a directory}; shift ;;
	--check) check=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

die() { echo "selftest-patches: $*" >&2; exit 1; }

[ -d "$tree/tools/testing/selftests/kvm" ] ||
	die "$tree is not a kernel tree (no tools/testing/selftests/kvm; run scripts/prepare-source.sh build -)"
[ -d "$patches" ] || die "no patch directory $patches"
tree=$(realpath "$tree") patches=$(realpath "$patches")
msgs="$top/scripts/selftest-patches"
src="$top/tools/testing/selftests"
st=tools/testing/selftests
author="Cacheable PFNMAP <pfnmap@localhost>"
# Fixed, so that the patches are the same bytes on every run.
date="2026-11-30T00:00:00+0000"
tag="KVM: arm64: selftests:"

# --- The target tree's layout -----------------------------------------------
ad=aarch64
[ -d "$tree/$st/kvm/arm64" ] && ad=arm64
kmk=$st/kvm/Makefile
[ -f "$tree/$st/kvm/Makefile.kvm" ] && kmk=$st/kvm/Makefile.kvm
grep -q "^TEST_GEN_PROGS_$ad += $ad/" "$tree/$kmk" ||
	die "$kmk has no 'TEST_GEN_PROGS_$ad += $ad/...' lines: unknown KVM selftest layout"
vfio_new=1
[ -f "$tree/$st/vfio/Makefile" ] && vfio_new=0

# --- The series: kernel patches, and the selftest patches made before -------
# The Subject header, unfolded, without its "[PATCH ...]" prefix.
subject_of() {
	awk '/^Subject: / { s = $0; while ((getline l) > 0 && l ~ /^[ \t]/) s = s l; print s; exit }' "$1" |
		sed 's/^Subject: \(\[[^]]*\] \)\{0,1\}//'
}
kernel=() old=()
for p in "$patches"/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -f "$p" ] || continue
	case "${p##*/}" in 0000-*) continue ;; esac
	case "$(subject_of "$p")" in
	"$tag"*) old+=("$p") ;;
	*) kernel+=("$p") ;;
	esac
done
[ "${#kernel[@]}" -gt 0 ] || die "no kernel patches in $patches"
last=${kernel[-1]##*/}
last=$((10#${last%%-*}))
# "[PATCH v2 10/10] ..." -> "PATCH v2"
prefix=$(sed -n '/^Subject: \[/{s/^Subject: \[\(.*\) [0-9]*\/[0-9]*\].*/\1/p;q}' "${kernel[-1]}")
[ -n "$prefix" ] || prefix=PATCH

# --- A scratch repository holding only the files the patches change ---------
work=$(mktemp -d "${TMPDIR:-/tmp}/selftest-patches.XXXXXX")
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
repo="$work/repo"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$work"
export GIT_AUTHOR_NAME="${author% <*}" GIT_AUTHOR_EMAIL=pfnmap@localhost
export GIT_COMMITTER_NAME="${author% <*}" GIT_COMMITTER_EMAIL=pfnmap@localhost
export GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date"
g() { git -C "$repo" -c core.abbrev=12 -c core.autocrlf=false -c diff.renames=false "$@"; }
git init -q "$repo"

changed=(MAINTAINERS "$kmk" "$st/kvm/config")
if [ "$vfio_new" = 1 ]; then
	changed+=("$st/Makefile")
else
	changed+=("$st/vfio/Makefile" "$st/vfio/config")
fi
for f in "${changed[@]}"; do
	[ -f "$tree/$f" ] || { [ "$f" = "$st/vfio/config" ] && continue; die "$tree has no $f"; }
	mkdir -p "$(dirname "$repo/$f")"
	cp "$tree/$f" "$repo/$f"
done
g add -A && g commit -q -m "target tree"
# The kernel patches' changes to these files (MAINTAINERS, so far).
includes=()
for f in "${changed[@]}"; do includes+=(--include="$f"); done
for p in "${kernel[@]}"; do
	g apply --allow-empty "${includes[@]}" "$p" 2>"$work/apply.err" ||
		die "${p##*/} does not apply to $tree: $(head -n 3 "$work/apply.err")"
done
g add -A && g commit -q --allow-empty -m "kernel patches"
base=$(g rev-parse HEAD)

# --- Editing helpers ----------------------------------------------------------
# insert_sorted FILE REGEX LINE: LINE goes before the first line matching
# REGEX that sorts after it (after the last match if none does), as the
# kernel keeps its lists.
insert_sorted() {
	local f="$repo/$1"
	grep -qE "$2" "$f" || die "$1 has no line matching '$2'"
	LC_ALL=C awk -v re="$2" -v new="$3" '
		{ line[NR] = $0 }
		$0 ~ re { last = NR; if (!at && $0 > new) at = NR }
		END {
			if (!at) at = last + 1
			for (i = 1; i <= NR + 1; i++) {
				if (i == at) print new
				if (i <= NR) print line[i]
			}
		}' "$f" >"$f.new"
	mv "$f.new" "$f"
}
# maintainers_f SECTION PATTERN: an F: line in that MAINTAINERS section,
# in sorted place among its F: lines.
maintainers_f() {
	local f="$repo/MAINTAINERS" new
	new=$(printf 'F:\t%s' "$2")
	grep -qxF "$1" "$f" || die "MAINTAINERS has no section '$1'"
	grep -qxF "$new" "$f" && return 0
	LC_ALL=C awk -v sec="$1" -v new="$new" '
		{ line[NR] = $0 }
		$0 == sec { in_sec = 1 }
		in_sec && $0 == "" { in_sec = 0; if (!end) end = NR }
		in_sec && /^F:\t/ { last = NR; if (!at && $0 > new) at = NR }
		END {
			if (!at) at = last ? last + 1 : end
			for (i = 1; i <= NR + 1; i++) {
				if (i == at) print new
				if (i <= NR) print line[i]
			}
		}' "$f" >"$f.new"
	mv "$f.new" "$f"
}
# append_missing FILE SOURCE: the lines of SOURCE that FILE lacks, at its end.
append_missing() {
	local f="$repo/$1" l
	[ -f "$f" ] || : >"$f"
	[ ! -s "$f" ] || [ -z "$(tail -c1 "$f")" ] || echo >>"$f"
	while IFS= read -r l || [ -n "$l" ]; do
		case "$l" in ''|'#'*) continue ;; esac
		grep -qxF -- "$l" "$f" || printf '%s\n' "$l" >>"$f"
	done <"$2"
}
# add FILE DEST: a new file, with its mode.
add() {
	mkdir -p "$repo/$(dirname "$2")"
	cp -p "$1" "$repo/$2"
	used+=("$1")
}
# commit N: the patch from scripts/selftest-patches/N-*.txt.
commit() {
	local m
	m=$(ls "$msgs/$1"-*.txt 2>/dev/null | head -n1)
	[ -n "$m" ] || die "no commit message $msgs/$1-*.txt"
	g add -A
	{ cat "$m"; printf '\nSigned-off-by: %s\n' "$author"; } | g commit -q -F -
}
# mentions N NAME...: the commit message of patch N names every one of them.
mentions() {
	local m n
	m=$(ls "$msgs/$1"-*.txt | head -n1)
	shift
	for n in "$@"; do
		grep -qw -- "$n" "$m" || die "${m#"$top"/} does not describe $n"
	done
}

# The files of a directory of this repository, as git sees them (tracked or
# new, not ignored: no editor or build leftovers), NUL-separated, sorted.
repo_files() {
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$top" ls-files -z --cached --others --exclude-standard -- "$1" |
			while IFS= read -r -d '' f; do
				[ -f "$top/$f" ] && printf '%s\0' "$top/$f"
			done | LC_ALL=C sort -z
	else
		find "$1" -type f -print0 | LC_ALL=C sort -z
	fi
}

used=()
ksrc="$src/kvm" vsrc="$src/vfio"

# --- 1: the KVM library --------------------------------------------------------
for f in "$ksrc"/include/aarch64/pfnmap_* "$ksrc"/lib/aarch64/pfnmap_*; do
	rel=${f#"$ksrc"/}
	add "$f" "$st/kvm/${rel/aarch64/$ad}"
done
# Linked into the pfnmap tests only, not into every $ad test (the library
# has a constructor): their own objects, added to their link line, after
# upstream's rules.
cat >>"$repo/$kmk" <<MK

# The cacheable PFNMAP tests' library, linked into those tests only.
LIBPFNMAP := \$(wildcard lib/$ad/pfnmap_*.c lib/$ad/pfnmap_*.S)
LIBPFNMAP_OBJS := \$(patsubst %,\$(OUTPUT)/%.o,\$(basename \$(LIBPFNMAP)))
PFNMAP_PROGS := \$(filter \$(OUTPUT)/$ad/pfnmap_%,\$(TEST_GEN_PROGS) \$(TEST_GEN_PROGS_EXTENDED))
\$(PFNMAP_PROGS): LIBKVM_OBJS += \$(LIBPFNMAP_OBJS)
\$(PFNMAP_PROGS): \$(LIBPFNMAP_OBJS)
\$(OUTPUT)/lib/$ad/pfnmap_%.o: lib/$ad/pfnmap_%.c \$(GEN_HDRS)
	\$(CC) \$(CFLAGS) \$(CPPFLAGS) \$(TARGET_ARCH) -c \$< -o \$@
\$(OUTPUT)/lib/$ad/pfnmap_%.o: lib/$ad/pfnmap_%.S \$(GEN_HDRS)
	\$(CC) \$(CFLAGS) \$(CPPFLAGS) \$(TARGET_ARCH) -c \$< -o \$@
EXTRA_CLEAN += \$(LIBPFNMAP_OBJS)
-include \$(LIBPFNMAP_OBJS:.o=.d)
# From 6.17 the library gives each VM a vGIC, which a VM built by hand must
# finish with kvm_arch_vm_finalize_vcpus() once its vCPUs exist.
ifneq (\$(shell grep -s -l kvm_arch_vm_finalize_vcpus include/kvm_util.h),)
\$(PFNMAP_PROGS): CFLAGS += -DPFNMAP_LIB_FINALIZES_VCPUS
endif
MK
# No MAINTAINERS line: KVM/arm64's "F: $st/kvm/*/$ad/" covers the library.
commit 1

# --- 2: the KVM tests, one line each; their config options --------------------
# A *_bench.c is a program the suite builds and installs but does not run.
tests=()
for f in "$ksrc"/aarch64/pfnmap_*.c; do
	t=${f##*/}; t=${t%.c}
	tests+=("$t")
	add "$f" "$st/kvm/$ad/${f##*/}"
	case "$t" in
	*_bench) insert_sorted "$kmk" "^TEST_GEN_PROGS_(EXTENDED_)?$ad [+]= $ad/" \
			"TEST_GEN_PROGS_EXTENDED_$ad += $ad/$t" ;;
	*) insert_sorted "$kmk" "^TEST_GEN_PROGS_$ad [+]= $ad/" "TEST_GEN_PROGS_$ad += $ad/$t" ;;
	esac
done
# The tests' own headers (the SPEC oracle), beside them.
for f in "$ksrc"/aarch64/pfnmap_*.h; do
	[ -f "$f" ] && add "$f" "$st/kvm/$ad/${f##*/}"
done
[ "${#tests[@]}" -gt 0 ] || die "no tests in $ksrc/aarch64"
mentions 2 "${tests[@]}"
append_missing "$st/kvm/config" "$ksrc/config"
used+=("$ksrc/config")
# No MAINTAINERS line: KVM/arm64's "F: $st/kvm/$ad/" covers the tests.
commit 2

# --- 3: the VFIO tests -----------------------------------------------------------
# Makefile, .gitignore, config and settings belong to the directory: they
# come with it on kernels without vfio/ and are never put over upstream's.
vprogs=$(sed -n 's/^PFNMAP_VFIO_PROGS += //p' "$vsrc/Makefile")
[ -n "$vprogs" ] || die "$vsrc/Makefile has no 'PFNMAP_VFIO_PROGS += ' lines"
# shellcheck disable=SC2086
mentions 3 $vprogs
while IFS= read -r -d '' f; do
	rel=${f#"$vsrc"/}
	case "$rel" in
	Makefile|.gitignore|config|settings)
		[ "$vfio_new" = 1 ] || continue ;;
	esac
	add "$f" "$st/vfio/$rel"
done < <(repo_files "$vsrc")
if [ "$vfio_new" = 1 ]; then
	insert_sorted "$st/Makefile" '^TARGETS [+]= ' "TARGETS += vfio"
	maintainers_f "VFIO DRIVER" "$st/vfio/"
else
	used+=("$vsrc/Makefile" "$vsrc/config" "$vsrc/settings" "$vsrc/.gitignore")
	# Our registration block, before upstream's "include ../lib.mk", and our
	# rules after upstream's includes.
	f="$repo/$st/vfio/Makefile"
	grep -q '^include \.\./lib\.mk' "$f" || die "$st/vfio/Makefile has no 'include ../lib.mk'"
	sed -n '/^# In run order/,/^$/p' "$vsrc/Makefile" >"$work/block"
	LC_ALL=C awk -v blk="$work/block" '
		/^include \.\.\/lib\.mk/ && !done { while ((getline l < blk) > 0) print l; done = 1 }
		{ print }' "$f" >"$f.new"
	mv "$f.new" "$f"
	last_inc=$(grep -n '^include ' "$f" | tail -n1 | cut -d: -f1)
	sed -i "${last_inc}a include lib/pfnmap_vfio.mk" "$f"
	append_missing "$st/vfio/config" "$vsrc/config"
fi
commit 3

# Nothing under tools/ may be left out of the patches.
while IFS= read -r -d '' f; do
	printf '%s\n' "${used[@]}" | grep -qxF -- "$f" ||
		die "${f#"$top"/} is in no selftest patch (give it a place in $0)"
done < <(repo_files "$top/tools")

# --- The patches ------------------------------------------------------------------
out="$work/out"
g format-patch -q -n --zero-commit --no-signature --subject-prefix="$prefix" \
	--start-number=$((last + 1)) -o "$out" "$base..HEAD" >/dev/null

cover="$patches/0000-cover-letter.patch"
missing=()
for p in "$out"/*.patch; do
	s=$(subject_of "$p")
	[ -f "$cover" ] && grep -qF -- "$s" "$cover" || missing+=("$s")
done

if [ "$check" = 1 ]; then
	bad=0
	for p in "$out"/*.patch; do
		n=${p##*/}
		if [ ! -f "$patches/$n" ]; then
			echo "selftest-patches: $n is missing from ${patches#"$top"/}/" >&2; bad=1
		elif ! cmp -s "$p" "$patches/$n"; then
			echo "selftest-patches: ${patches#"$top"/}/$n differs from tools/:" >&2
			diff -u "$patches/$n" "$p" | sed -n '3,12p' | sed 's/^/  /' >&2
			bad=1
		fi
	done
	for p in "${old[@]}"; do
		[ -f "$out/${p##*/}" ] || { echo "selftest-patches: ${p##*/} is stale" >&2; bad=1; }
	done
	for s in "${missing[@]}"; do
		echo "selftest-patches: the cover letter does not list '$s'" >&2; bad=1
	done
	[ "$bad" = 0 ] || die "out of sync with tools/: run scripts/selftest-patches.sh"
	where="beside the tree's own vfio/"
	[ "$vfio_new" = 0 ] || where="in a new vfio/"
	echo "selftest-patches: $(ls "$out" | wc -l) patches in sync with tools/ ($ad layout, VFIO tests $where)"
	exit 0
fi

for p in "${old[@]}"; do
	[ -f "$out/${p##*/}" ] || rm -f "$p"
done
for p in "$out"/*.patch; do
	cmp -s "$p" "$patches/${p##*/}" 2>/dev/null || cp "$p" "$patches/"
	echo "selftest-patches: ${patches#"$top"/}/${p##*/}"
done
for s in "${missing[@]}"; do
	echo "selftest-patches: warning: add '$s' to the cover letter" >&2
done
