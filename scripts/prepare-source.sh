#!/usr/bin/env bash
# Unpack Debian's linux-source-6.12 into $BUILD/src/baseline as a git tree
# (commit tagged "baseline"), then make $BUILD/src/patched, a worktree with
# the kernel-patch/ series applied by `git am`. Re-runs are cheap: the
# unpack happens once per package version, the series is re-applied only
# when a patch changed.
set -euo pipefail

usage() {
	cat <<USAGE
usage: $0 BUILD_DIR PATCH_DIR
  Unpacks /usr/src/linux-source-6.12.tar.xz into BUILD_DIR/src/baseline and
  applies PATCH_DIR/*.patch (not the cover letter) in BUILD_DIR/src/patched.
  PATCH_DIR "-" prepares the baseline only.
USAGE
}
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { usage; exit 0; }
[ $# -eq 2 ] || { usage >&2; exit 2; }

build=$(realpath -m "$1")
patches=$2
[ "$patches" = - ] || patches=$(realpath "$patches")
tarball=/usr/src/linux-source-6.12.tar.xz
base="$build/src/baseline"
patched="$build/src/patched"

die() { echo "prepare-source: $*" >&2; exit 1; }

[ -f "$tarball" ] || die "missing $tarball (package linux-source-6.12; run scripts/install-deps.sh)"
pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
	die "package linux-source-6.12 is not installed"

if [ "$(cat "$base/.debian-version" 2>/dev/null)" != "$pkgver" ]; then
	echo "prepare-source: unpacking linux-source-6.12 $pkgver"
	rm -rf "$base" "$patched" "$build/src/.am" "$build/src/.patched-sum"
	mkdir -p "$build/src"
	tmp=$(mktemp -d "$build/src/unpack.XXXXXX")
	tar -C "$tmp" -xf "$tarball"
	mv "$tmp"/linux-source-6.12 "$base"
	rmdir "$tmp"
	(
		cd "$base"
		# Debian's tree ignores everything ("/*"); drop that so git sees it.
		sed -i '\#^/\*$#d' .gitignore
		git init -q -b debian
		# Build folders live inside the tree (see build-kernel.sh).
		echo '/out-*/' >>.git/info/exclude
		git config user.name "pfnmap rig"
		git config user.email "rig@localhost"
		git config core.autocrlf false
		# No background "git gc --auto" after git am: it would outlive the
		# run holding build/.rig.lock (inherited fd 9) and lock out the next.
		git config gc.auto 0
		git add -A -f .
		git commit -q -m "Debian linux-source-6.12 $pkgver"
		git tag -f baseline >/dev/null
	)
	echo "$pkgver" >"$base/.debian-version"
	make -s -C "$base" kernelversion >"$base/.kernelversion"
fi

if [ "$patches" = - ]; then
	echo "prepare-source: baseline $(cat "$base/.kernelversion") (Debian $pkgver)"
	exit 0
fi

# The series' identity: hash of all patch files, so edits re-apply it.
series=( "$patches"/[0-9][0-9][0-9][0-9]-*.patch )
series=( $(printf '%s\n' "${series[@]}" | grep -v '/0000-') ) || true
[ "${#series[@]}" -gt 0 ] || die "no patches in $patches"
sum=$(cat "${series[@]}" | sha256sum | cut -d' ' -f1)

# The patched tree is a copy of the baseline repository, not a worktree of
# it: build-kernel.sh can then seed its objects from the baseline build (the
# build folder is a direct child of the tree, so kbuild records only relative
# paths), and only what the series changes is compiled again.
if [ "$(cat "$patched/.debian-version" 2>/dev/null)" != "$pkgver" ]; then
	echo "prepare-source: copying the baseline tree for the series"
	rm -rf "$patched" "$patched".tmp "$build/src/.am" "$build/src/.patched-sum"
	# Hard links, not copies: git replaces a file it changes (apply
	# removes the old path and writes a new one; index and refs are
	# renamed into place), so the baseline's files are never written
	# through the links, and the copy costs seconds, not a gigabyte.
	mkdir "$patched".tmp
	if ! (cd "$base" && find . -mindepth 1 -maxdepth 1 ! -name 'out-*' -exec cp -al {} "$patched".tmp/ \;) 2>/dev/null; then
		rm -rf "$patched".tmp
		rsync -a --exclude '/out-*' "$base"/ "$patched".tmp/
	fi
	rm -rf "$patched".tmp/.git/worktrees
	mv "$patched".tmp "$patched"
	git -C "$patched" checkout -q --detach refs/tags/baseline
	fresh=1
fi
# Trees made before gc.auto was set, too.
git -C "$base" config gc.auto 0
git -C "$patched" config gc.auto 0

apply_series() {
	local p
	for p in "${series[@]}"; do
		if ! git am -q --keep-cr "$p" >/dev/null 2>"$build/src/am.err"; then
			git am --abort >/dev/null 2>&1 || true
			echo "prepare-source: patch does not apply: $(basename "$p")" >&2
			sed 's/^/  /' "$build/src/am.err" | head -20 >&2
			rm -f "$build/src/.patched-sum"
			exit 1
		fi
	done
}

if [ "${fresh:-0}" = 1 ]; then
	# A fresh copy: apply in place, no scratch checkout needed.
	echo "prepare-source: applying ${#series[@]} patches"
	cd "$patched"
	apply_series
	git tag -f series HEAD >/dev/null
	echo "$sum" >"$build/src/.patched-sum"
elif [ "$(cat "$build/src/.patched-sum" 2>/dev/null)" != "$sum" ]; then
	echo "prepare-source: applying ${#series[@]} patches"
	cd "$patched"
	git worktree prune
	# git am runs in a scratch worktree; the tree then moves to the result
	# with one checkout, which rewrites only the files whose content
	# changed. Editing one patch so rebuilds only what depends on it.
	scratch="$build/src/.am"
	[ -d "$scratch" ] || git worktree add -q -f --detach "$scratch" refs/tags/baseline
	cd "$scratch"
	git am --abort >/dev/null 2>&1 || true
	git reset -q --hard refs/tags/baseline
	apply_series
	head=$(git rev-parse HEAD)
	git tag -f series "$head" >/dev/null
	git -C "$patched" checkout -q -f --detach "$head"
	echo "$sum" >"$build/src/.patched-sum"
fi
echo "prepare-source: baseline $(cat "$base/.kernelversion") (Debian $pkgver), patched = baseline + ${#series[@]} patches"
