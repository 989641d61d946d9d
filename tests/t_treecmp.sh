#!/bin/bash
# treecmp itself: identical trees compare equal, and each single mutation of
# a copy (content, size, mode, owner, ns mtime, symlink target, xattr, hard
# link broken or merged, hole filled, entry missing/extra, type, device,
# deep path) is reported, with exit status 1.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_cmd cp setfattr
use_tmpfs 64m
src=$W/src

# build the small source tree used for every mutation
make_src() {
	mkdir -p "$src/a" "$src/b"
	seq 1 20000 >"$src/a/file"
	echo small >"$src/b/small"
	ln "$src/a/file" "$src/b/hard"
	echo twin >"$src/a/twin1"
	echo twin >"$src/a/twin2"
	ln -s ../a/file "$src/b/link"
	setfattr -n user.color -v blue "$src/a/file"
	truncate -s 1M "$src/a/sparse"
	echo data | dd of="$src/a/sparse" bs=64K seek=8 conv=notrunc status=none
	find "$src" -depth -exec touch -h -d '2001-02-03 04:05:06.123456789' {} +
}

# fresh copy of the source at $W/dst
fresh_copy() {
	rm -rf "$W/dst"
	cp -a "$src" "$W/dst" || fail "cp -a failed"
}

# treecmp must exit 1 and print a line matching the regex $1
expect_diff() {
	local rc=0
	"$TREECMP" "$src" "$W/dst" >"$T/diff.out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || {
		cat "$T/diff.out" >&2
		fail "treecmp exit $rc, expected 1 (want: $1)"
	}
	assert_grep "$T/diff.out" "$1"
}

# restore the times of DST's $1 and its directory from SRC (after a mutation)
restore_times() {
	touch -h -r "$src/$1" "$W/dst/$1"
	touch -r "$src/$(dirname "$1")" "$W/dst/$(dirname "$1")"
}

make_src

fresh_copy
assert_exit 0 "$TREECMP" "$src" "$W/dst"
assert_empty "$T/out"
assert_exit 0 "$TREECMP" --no-atime "$src/a/file" "$W/dst/a/file"

# one content byte
fresh_copy
printf 'X' | dd of="$W/dst/a/file" bs=1 seek=1000 conv=notrunc status=none
restore_times a/file
expect_diff '^\./a/file: content differs at byte 1000$'
assert_exit 1 "$TREECMP" -q "$src" "$W/dst"
assert_empty "$T/out"

# size
fresh_copy
echo more >>"$W/dst/b/small"
restore_times b/small
expect_diff '^\./b/small: size 6 != 11$'

# mode
fresh_copy
chmod 0600 "$W/dst/b/small"
expect_diff '^\./b/small: mode 0644 != 0600$'

# setuid bit alone
fresh_copy
chmod u+s "$W/dst/b/small"
expect_diff '^\./b/small: mode 0644 != 4644$'

# owner and group
if [ "$(id -u)" -eq 0 ]; then
	fresh_copy
	chown -h 65534 "$W/dst/b/link"
	expect_diff '^\./b/link: uid 0 != 65534$'
	fresh_copy
	chgrp 65534 "$W/dst/b/small"
	expect_diff '^\./b/small: gid 0 != 65534$'
fi

# mtime differing only in nanoseconds, on a file, a symlink and the top dir
fresh_copy
touch -d '2001-02-03 04:05:06.123456788' "$W/dst/b/small"
expect_diff '^\./b/small: mtime 981173106\.123456789 != 981173106\.123456788$'
fresh_copy
touch -h -d '2001-02-03 04:05:06.1' "$W/dst/b/link"
expect_diff '^\./b/link: mtime '
fresh_copy
touch -d '2001-02-03 04:05:06' "$W/dst"
expect_diff '^\.: mtime '
assert_exit 0 "$TREECMP" --ignore-top-times "$src" "$W/dst"

# atime only with --atime
fresh_copy
touch -a -d '2010-01-01' "$W/dst/b/small"
assert_exit 0 "$TREECMP" "$src" "$W/dst"
assert_exit 1 "$TREECMP" --atime "$src" "$W/dst"
assert_grep "$T/out" '^\./b/small: atime '

# symlink target
fresh_copy
ln -sfn ../a/twin1 "$W/dst/b/link"
restore_times b/link
expect_diff "^\./b/link: symlink target '\.\./a/file' != '\.\./a/twin1'$"

# xattr value, xattr missing, extra xattr
fresh_copy
setfattr -n user.color -v red "$W/dst/a/file"
expect_diff '^\./a/file: xattr user\.color value differs$'
fresh_copy
setfattr -x user.color "$W/dst/a/file"
expect_diff '^\./a/file: xattr user\.color missing in DST$'
fresh_copy
setfattr -n user.extra -v 1 "$W/dst/b"
expect_diff '^\./b: xattr user\.extra only in DST$'

# hard link broken: same content, same metadata, separate inode
fresh_copy
cp -p "$W/dst/b/hard" "$W/dst/b/hard.new"
mv "$W/dst/b/hard.new" "$W/dst/b/hard"
restore_times b/hard
expect_diff 'hard link: shares an inode with .* in SRC but not in DST$'

# two separate files merged into one inode
fresh_copy
ln -f "$W/dst/a/twin1" "$W/dst/a/twin2"
restore_times a/twin2
expect_diff '^\./a/twin2: hard link: shares an inode with \./a/twin1 in DST but not in SRC$'

# hole filled with zeros
fresh_copy
cp -p --sparse=never "$W/dst/a/sparse" "$W/dst/a/sparse.new"
mv "$W/dst/a/sparse.new" "$W/dst/a/sparse"
restore_times a/sparse
expect_diff '^\./a/sparse: hole \[0,524288\) of SRC is data in DST$'
expect_diff '^\./a/sparse: hole \[[0-9]+,1048576\) of SRC is data in DST$'

# missing and extra entries
fresh_copy
rm "$W/dst/b/small"
touch -r "$src/b" "$W/dst/b"
expect_diff '^\./b/small: only in SRC$'
fresh_copy
mkdir "$W/dst/b/"$'new\nline'
touch -r "$src/b" "$W/dst/b"
expect_diff '^\./b/new\\x0aline: only in DST$'

# type: a file replaced by a directory
fresh_copy
rm "$W/dst/b/small"
mkdir "$W/dst/b/small"
expect_diff '^\./b/small: type file != directory$'

# device numbers and special types (root)
if [ "$(id -u)" -eq 0 ]; then
	fresh_copy
	mknod "$src/dev" c 1 3
	cp -a "$src/dev" "$W/dst/dev"
	assert_exit 0 "$TREECMP" "$src/dev" "$W/dst/dev"
	rm "$W/dst/dev"
	mknod "$W/dst/dev" c 1 5
	touch -h -r "$src/dev" "$W/dst/dev"
	assert_exit 1 "$TREECMP" "$src/dev" "$W/dst/dev"
	assert_grep "$T/out" '^\.: device 1:3 != 1:5$'
	rm "$src/dev"
fi

# usage errors and missing operands exit 2
assert_exit 2 "$TREECMP" "$src"
assert_exit 2 "$TREECMP" --bogus "$src" "$W/dst"
assert_exit 2 "$TREECMP" "$src" "$W/no-such"

# trees deeper than PATH_MAX: same names and times on both sides, then a
# one-byte change at the bottom
make_deep() {
	local stem i
	stem=$(printf 'x%.0s' $(seq 1 200))
	mkdir "$1"
	(
		cd "$1" || exit 1
		for i in $(seq -w 1 25); do
			mkdir "${stem}_$i" && cd "${stem}_$i" || exit 1
		done
		echo bottom >file
	) || fail "cannot build deep tree"
	find "$1" -depth -execdir touch -h -d '2001-02-03 04:05:06.5' {} +
}
make_deep "$W/deep1"
make_deep "$W/deep2"
assert_exit 0 "$TREECMP" "$W/deep1" "$W/deep2"
(
	cd "$W/deep2" || exit 1
	while [ ! -e file ]; do cd x* || exit 1; done
	echo BOTTOM >file && touch -d '2001-02-03 04:05:06.5' file
) || fail "cannot change the deep file"
assert_exit 1 "$TREECMP" "$W/deep1" "$W/deep2"
assert_grep "$T/out" '_25/file: content differs at byte 0$'
exit 0
