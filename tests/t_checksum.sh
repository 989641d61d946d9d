#!/bin/bash
# -c, --checksum: with --update=changed (which -c alone implies), a regular
# file whose size and mtime match is also compared byte for byte.  A DST
# file changed behind pcopy's back keeping its size and mtime (silent
# corruption) is left alone by the quick check and replaced with -c; the
# unchanged files are not rewritten (same inode, same ctime); -n -c decides
# the same and writes nothing; the result is what rsync -a -c makes from
# the same start.  -c with another --update mode is a usage error.  Both
# worker modes, -j 1 and -j 8.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 128m

# path, type, size, mode, mtime, ctime and inode of every entry under $1
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %T@ %C@ %i\n' | sort)
}

# the -i lines of file $1 (no stats), sorted
items() {
	grep -v '^{' "$1" | sort
}

# overwrite the start of file $1 with $2, keeping its size and times
corrupt() {
	local ref=$T/ref
	touch -r "$1" "$ref"
	printf '%s' "$2" | dd of="$1" conv=notrunc status=none || fail "cannot change $1"
	touch -r "$ref" "$1"
}

# overwrite the last byte of file $1, keeping its size and times
corrupt_last() {
	local ref=$T/ref size
	touch -r "$1" "$ref"
	size=$(stat -c %s "$1")
	printf 'Z' | dd of="$1" bs=1 seek=$((size - 1)) conv=notrunc status=none ||
		fail "cannot change $1"
	touch -r "$ref" "$1"
}

src=$W/src
mkdir -p "$src/a/b" "$src/c"
echo "first file" >"$src/a/one"
echo "second file" >"$src/a/b/two"
: >"$src/c/empty"
head -c $((3 * 1024 * 1024 + 5)) /dev/urandom >"$src/c/big" || fail "cannot make big"
ln -s ../a/one "$src/c/sym"
for i in $(seq 1 40); do echo "file $i" >"$src/c/f$i"; done

for mode in thread process; do
	for j in 1 8; do
		dst=$W/dst-$mode-$j
		run=(--mode="$mode" -j "$j" -T)
		pcopy_ok "${run[@]}" "$src" "$dst"
		corrupt "$dst/a/b/two" "XY"
		corrupt_last "$dst/c/big"
		corrupt "$dst/c/f7" "F"

		# the quick check sees nothing
		before=$(snapshot "$dst")
		pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
		assert_empty "$T/out"
		assert_eq "$(snapshot "$dst")" "$before" "$mode -j$j: DST after --update=changed"
		cmp -s "$src/a/b/two" "$dst/a/b/two" && fail "$mode -j$j: two was replaced without -c"

		# a copy of this start for rsync
		rdst=$W/rsync-$mode-$j
		cp -a "$dst" "$rdst"

		# -n -c: the same decisions, nothing written
		pcopy_ok "${run[@]}" -n -i -c "$src" "$dst"
		cp "$T/out" "$T/dry"
		assert_eq "$(snapshot "$dst")" "$before" "$mode -j$j: DST after -n -c"
		expected=$(printf '%s\n' ">f $dst/a/b/two" ">f $dst/c/big" ">f $dst/c/f7" | sort)
		assert_eq "$(items "$T/dry")" "$expected" "$mode -j$j: -n -i -c"

		# -c: the three replaced, everything else untouched
		pcopy_ok "${run[@]}" -i -c --stats=json "$src" "$dst"
		assert_eq "$(items "$T/out")" "$expected" "$mode -j$j: -i -c"
		assert_grep "$T/out" '"updated":3[,}]'
		treecmp "$src" "$dst"
		no_temporaries "$dst"
		# (directories holding a replaced file have a new ctime)
		assert_eq "$(snapshot "$dst" | grep -Ev '^\./(a/b/two|c/big|c/f7) | d ')" \
			"$(printf '%s\n' "$before" | grep -Ev '^\./(a/b/two|c/big|c/f7) | d ')" \
			"$mode -j$j: files -c did not change"

		# again: nothing to do, nothing written (explicit --update=changed too)
		before=$(snapshot "$dst")
		pcopy_ok "${run[@]}" -i --update=changed --checksum "$src" "$dst"
		assert_empty "$T/out"
		assert_eq "$(snapshot "$dst")" "$before" "$mode -j$j: DST after a no-op -c run"

		# rsync -a -c from the same start: the same files replaced, the same tree
		if command -v rsync >/dev/null 2>&1; then
			rsync -a -c -i "$src/" "$rdst/" >"$T/rsync" || fail "rsync -a -c failed"
			assert_eq "$(grep '^>f' "$T/rsync" | awk '{print $2}' | sort)" \
				"$(printf '%s\n' a/b/two c/big c/f7)" "$mode -j$j: files rsync -c replaced"
			# (rsync leaves the directories' mtimes moved: compare the rest)
			diff -r "$rdst" "$dst" >&2 || fail "$mode -j$j: contents differ from rsync -c's"
			assert_eq "$(cd "$rdst" && find . ! -type d -printf '%p %y %s %m %T@\n' | sort)" \
				"$(cd "$dst" && find . ! -type d -printf '%p %y %s %m %T@\n' | sort)" \
				"$mode -j$j: entries vs rsync -c's"
		fi
	done
done

# -c is a change test: with an --update mode that compares no data, refused
assert_exit 2 "$PCOPY" -c --update=older "$src" "$W/x"
assert_grep "$T/err" "checksum.*--update=changed"
assert_exit 2 "$PCOPY" -u -c "$src" "$W/x"
[ ! -e "$W/x" ] || fail "a refused -c run wrote DST"
exit 0
