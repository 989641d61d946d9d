#!/bin/bash
# --link-dest=DIR: a regular file DIR has unchanged at the same path (type,
# size, mtime to the ns, mode, owner, xattrs; with -c its contents) is
# hard-linked from DIR instead of copied.  A snapshot of an unchanged tree
# shares every file's inode with DIR's, counts them "linked" and itemizes
# them "Lf"; a file changed in content, size, mtime, mode or xattrs is
# copied; DIR is never written; several DIRs are searched in order; a
# missing DIR warns and copies; a relative DIR is taken from DST; a
# symlink planted in DIR is never followed; -n -i says what the real run
# does; hard links inside SRC stay hard links; the set of linked files is
# rsync --link-dest's.  Both worker modes, -j 1 and -j 8.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 128m

# every entry under $1 with what a write to it would change: path, type,
# size, mode, owner, mtime, inode, and ctime but for files (a new hard link
# to a file moves its ctime and link count: that is the link, not a write)
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %U:%G %T@ %i ' \( -type f -printf '\n' \) -o -printf '%C@\n' | sort)
}

# the -i lines of file $1 (no stats), sorted
items() {
	grep -v '^{' "$1" | sort
}

# the stats object's value of key $2 in file $1
stat_of() {
	grep '^{' "$1" | sed -E "s/.*\"$2\":([0-9]+).*/\\1/"
}

# the regular files of tree $2 that share their inode with the same path in $1
linked_from() {
	local rel
	(cd "$2" && find . -type f -printf '%P\n' | sort) | while IFS= read -r rel; do
		[ "$(stat -c %d:%i "$1/$rel" 2>/dev/null)" = "$(stat -c %d:%i "$2/$rel")" ] &&
			printf '%s\n' "$rel"
	done
}

# change file $1's bytes keeping its size and times
same_size_and_time() {
	touch -r "$1" "$T/ref"
	printf 'X' | dd of="$1" conv=notrunc status=none || fail "cannot change $1"
	touch -r "$T/ref" "$1"
}

xattrs=0
touch "$W/probe"
if command -v setfattr >/dev/null 2>&1 && setfattr -n user.t -v 1 "$W/probe" 2>/dev/null; then
	xattrs=1
fi
rm -f "$W/probe"

src=$W/src
mkdir -p "$src/a/b/c" "$src/d" "$src/e"
for f in a/one a/b/two a/b/c/three d/four d/five e/six; do echo "this is $f" >"$src/$f"; done
: >"$src/e/empty"
head -c 300000 /dev/urandom >"$src/e/big"
ln "$src/a/one" "$src/e/one-again"
ln -s ../a/one "$src/d/sym"
mkfifo "$src/d/fifo"
[ "$xattrs" -eq 1 ] && setfattr -n user.note -v kept "$src/d/four"
chmod 0640 "$src/a/b/two"
# regular files, and the ones whose inode a snapshot links (one per inode)
nfiles=$(find "$src" -type f | wc -l)
ninodes=$((nfiles - 1))

for mode in thread process; do
	for j in 1 8; do
		top=$W/$mode-$j
		mkdir "$top"
		run=(--mode="$mode" -j "$j")
		pcopy_ok "${run[@]}" "$src" "$top/snap1"
		dir_before=$(snapshot "$top/snap1")

		# an unchanged tree: every file linked, a relative DIR taken from DST
		pcopy_ok "${run[@]}" -n -i --link-dest=../snap1 "$src" "$top/snap2"
		cp "$T/out" "$T/dry"
		[ ! -e "$top/snap2" ] || fail "$mode -j$j: -n made DST"
		pcopy_ok "${run[@]}" -i --stats=json --link-dest=../snap1 "$src" "$top/snap2"
		assert_eq "$(items "$T/dry")" "$(items "$T/out")" "$mode -j$j: -n -i vs the real run"
		assert_eq "$(stat_of "$T/out" linked)" "$ninodes" "$mode -j$j: linked"
		assert_eq "$(stat_of "$T/out" files)" 0 "$mode -j$j: files copied"
		assert_eq "$(grep -c '^Lf ' "$T/out")" "$ninodes" "$mode -j$j: Lf lines"
		assert_eq "$(linked_from "$top/snap1" "$top/snap2" | wc -l)" "$nfiles" \
			"$mode -j$j: files sharing DIR's inode"
		treecmp "$src" "$top/snap2"
		no_temporaries "$top/snap2"
		assert_eq "$(snapshot "$top/snap1")" "$dir_before" "$mode -j$j: DIR after linking"

		# changes of every kind; each changed file is copied, the rest linked
		cp -a "$src" "$top/src"
		s=$top/src
		echo "longer than before" >>"$s/a/one"            # size
		touch -d '2001-02-03 04:05:06.7' "$s/a/b/two"     # mtime
		chmod 0600 "$s/a/b/c/three"                       # mode
		[ "$xattrs" -eq 1 ] && setfattr -n user.note -v changed "$s/d/four"
		changed="a/one a/b/two a/b/c/three e/one-again"
		[ "$xattrs" -eq 1 ] && changed="$changed d/four"
		dir2_before=$(snapshot "$top/snap2")
		pcopy_ok "${run[@]}" -n -i --link-dest="$top/snap2" "$s" "$top/snap3"
		cp "$T/out" "$T/dry"
		pcopy_ok "${run[@]}" -i --link-dest="$top/snap2" "$s" "$top/snap3"
		assert_eq "$(items "$T/dry")" "$(items "$T/out")" "$mode -j$j: -n -i of the changes"
		treecmp "$s" "$top/snap3"
		assert_eq "$(linked_from "$top/snap2" "$top/snap3" | tr '\n' ' ')" \
			"$(cd "$s" && find . -type f -printf '%P\n' | sort | grep -Fxv -f <(tr ' ' '\n' <<<"$changed") | tr '\n' ' ')" \
			"$mode -j$j: the files linked"
		# the hard-link pair stays a pair (treecmp), copied as one
		assert_eq "$(stat -c %i "$top/snap3/a/one")" "$(stat -c %i "$top/snap3/e/one-again")" \
			"$mode -j$j: hard-link pair"
		assert_eq "$(snapshot "$top/snap2")" "$dir2_before" "$mode -j$j: DIR after the changes"

		# a change that keeps size and time: the quick check links it, -c copies it
		same_size_and_time "$s/d/five"
		pcopy_ok "${run[@]}" -i --link-dest="$top/snap2" "$s" "$top/snap3q"
		assert_grep "$T/out" "^Lf $top/snap3q/d/five\$"
		pcopy_ok "${run[@]}" -i -c --link-dest="$top/snap2" "$s" "$top/snap3c"
		treecmp "$s" "$top/snap3c"
		assert_grep "$T/out" "^\+f $top/snap3c/d/five\$"
		assert_grep "$T/out" "^Lf $top/snap3c/d/six|^Lf $top/snap3c/e/six"
		assert_eq "$(snapshot "$top/snap2")" "$dir2_before" "$mode -j$j: DIR after -c"

		# several DIRs, in order: the first with an equal file wins; a missing one warns
		pcopy_ok "${run[@]}" -i -c --link-dest=../missing --link-dest=../snap3 \
			--link-dest=../snap1 "$s" "$top/snap4"
		assert_grep "$T/err" "missing.*link-dest"
		assert_eq "$(stat -c %i "$top/snap4/a/one")" "$(stat -c %i "$top/snap3/a/one")" \
			"$mode -j$j: a/one from the first DIR that has it"
		assert_eq "$(stat -c %i "$top/snap4/e/six")" "$(stat -c %i "$top/snap3/e/six")" \
			"$mode -j$j: e/six from the first DIR"
		treecmp "$s" "$top/snap4"

		# only a missing DIR: a warning, a plain copy, exit 0
		pcopy_ok "${run[@]}" --stats=json --link-dest="$top/nowhere" "$s" "$top/snap5"
		assert_grep "$T/err" "nowhere.*link-dest"
		assert_eq "$(stat_of "$T/out" linked)" 0 "$mode -j$j: linked without a DIR"
		treecmp "$s" "$top/snap5"

		# symlinks planted in DIR pointing out of it are not followed
		mkdir -p "$top/outside/a/b"
		cp -a "$s/a/b/two" "$top/outside/a/b/two"
		cp -a "$s/d/six" "$top/outside/six" 2>/dev/null || cp -a "$s/e/six" "$top/outside/six"
		cp -a "$top/snap3" "$top/planted"
		rm -r "$top/planted/a/b" && ln -s "$top/outside/a/b" "$top/planted/a/b"
		rm "$top/planted/e/six" && ln -s "$top/outside/six" "$top/planted/e/six"
		pcopy_ok "${run[@]}" -c --link-dest=../planted "$s" "$top/snap6"
		treecmp "$s" "$top/snap6"
		[ "$(stat -c %i "$top/snap6/a/b/two")" != "$(stat -c %i "$top/outside/a/b/two")" ] ||
			fail "$mode -j$j: linked through a symlinked directory in DIR"
		[ "$(stat -c %i "$top/snap6/e/six")" != "$(stat -c %i "$top/outside/six")" ] ||
			fail "$mode -j$j: linked through a symlink in DIR"
		[ -f "$top/snap6/e/six" ] && [ ! -L "$top/snap6/e/six" ] ||
			fail "$mode -j$j: e/six is not a file"

		# rsync --link-dest links the same files
		if command -v rsync >/dev/null 2>&1; then
			rsync -aHX --link-dest="$top/snap2" "$s/" "$top/rsync3/" ||
				fail "rsync --link-dest failed"
			assert_eq "$(linked_from "$top/snap2" "$top/rsync3")" \
				"$(linked_from "$top/snap2" "$top/snap3")" "$mode -j$j: linked vs rsync's"
		fi
		remove_tree "$top"
	done
done

# a single file: linked as well, DIR taken from the directory it goes in
mkdir -p "$W/one/s1" "$W/one/s2"
pcopy_ok "$src/a/one" "$W/one/s1"
pcopy_ok -n -i --link-dest=../s1 "$src/a/one" "$W/one/s2"
assert_grep "$T/out" "^Lf $W/one/s2/one\$"
pcopy_ok -i --link-dest=../s1 "$src/a/one" "$W/one/s2"
assert_grep "$T/out" "^Lf $W/one/s2/one\$"
assert_eq "$(stat -c %i "$W/one/s2/one")" "$(stat -c %i "$W/one/s1/one")" "single file inode"
exit 0
