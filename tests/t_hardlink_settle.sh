#!/bin/bash
# Hard links that SRC changes are followed by --update=changed, in one run:
#   - split: a and b are one inode when copied, then SRC makes b a file of
#     its own (same data, mode 600, an xattr of its own); one run leaves a and
#     b in DST separate inodes, each with its own source's mode, xattrs and
#     content; the next runs say nothing (-i) and change nothing in DST; also
#     with a group of three (one split off, two left linked) and a split in
#     which b's data changes too;
#   - joined: c and d copied as separate files, then linked in SRC: linked in
#     DST after one run, and the next run says nothing.
# Thread and process mode at -j 1 and -j 8 (where the split flipped between
# runs), and pcopy-mpi on 3 ranks when it is built.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_cmd setfattr getfattr
use_tmpfs 64m

touch "$W/probe"
setfattr -n user.t -v 1 "$W/probe" 2>/dev/null || skip "no user xattrs on $W"
rm -f "$W/probe"

# the -i lines of the last run, with $1/ cut, sorted
items() {
	grep -v '^{' "$T/out" | sed "s|$1/||" | sort
}

# settles KIND SRC DST: two more runs say nothing and change nothing in DST
settles() {
	local kind=$1 s=$2 d=$3 i
	save_state "$T/dst.before" "$d"
	for i in 2 3; do
		kind_ok "$kind" -T -i --update=changed "$s" "$d"
		assert_eq "$(items "$d")" "" "$kind: -i of run $i"
		state_unchanged "$T/dst.before" "$kind: DST after run $i" "$d"
	done
}

# same_inode WHAT P Q / other_inode WHAT P Q
same_inode() {
	[ "$2" -ef "$3" ] || fail "$1: $2 and $3 are not one inode"
}
other_inode() {
	[ "$2" -ef "$3" ] && fail "$1: $2 and $3 are still one inode"
	return 0
}

set_kinds j
for kind in "${KINDS[@]}"; do
	top=$W/$kind
	src=$top/src dst=$top/dst
	mkdir -p "$src"
	echo data >"$src/a"
	ln "$src/a" "$src/b"
	echo three >"$src/t1"
	ln "$src/t1" "$src/t2"
	ln "$src/t1" "$src/t3"
	echo before >"$src/m"
	ln "$src/m" "$src/n"
	echo same >"$src/c"
	cp -a "$src/c" "$src/d"
	kind_ok "$kind" -T "$src" "$dst"
	same_inode "$kind: setup" "$dst/a" "$dst/b"

	# split a/b (same data, own mode and xattr), t3 out of t1/t2/t3, and
	# m/n with new data in n; join c and d
	rm "$src/b" "$src/t3" "$src/n" "$src/d"
	cp -a "$src/a" "$src/b"
	chmod 600 "$src/b"
	setfattr -n user.b -v 1 "$src/b"
	cp -a "$src/t1" "$src/t3"
	chmod 640 "$src/t3"
	echo after >"$src/n"
	ln "$src/c" "$src/d"

	kind_ok "$kind" -T -i --update=changed "$src" "$dst"
	other_inode "$kind: after one run" "$dst/a" "$dst/b"
	assert_eq "$(stat -c %a "$dst/a")" 644 "$kind: dst/a mode"
	assert_eq "$(stat -c %a "$dst/b")" 600 "$kind: dst/b mode"
	assert_eq "$(getfattr --absolute-names --only-values -n user.b "$dst/b" 2>/dev/null)" 1 \
		"$kind: dst/b user.b"
	getfattr --absolute-names -n user.b "$dst/a" >/dev/null 2>&1 && fail "$kind: dst/a has b's user.b"
	cmp -s "$src/a" "$dst/a" || fail "$kind: dst/a content"
	cmp -s "$src/b" "$dst/b" || fail "$kind: dst/b content"
	same_inode "$kind: after one run" "$dst/t1" "$dst/t2"
	other_inode "$kind: after one run" "$dst/t1" "$dst/t3"
	assert_eq "$(stat -c %a "$dst/t3")" 640 "$kind: dst/t3 mode"
	assert_eq "$(stat -c %a "$dst/t1")" 644 "$kind: dst/t1 mode"
	other_inode "$kind: after one run" "$dst/m" "$dst/n"
	assert_eq "$(cat "$dst/m")/$(cat "$dst/n")" before/after "$kind: m and n content"
	same_inode "$kind: after one run (joined)" "$dst/c" "$dst/d"
	treecmp "$src" "$dst"
	no_temporaries "$dst"
	settles "$kind" "$src" "$dst"
	remove_tree "$top"
done
exit 0
