#!/bin/bash
# A DST file whose inode has another name outside the copy is never changed
# in place: its metadata is fixed on a new copy instead.
#   - --link-dest snapshots: snap2 made with --link-dest=../snap1 shares f's
#     inode with snap1; SRC's f then changes mode, owner, group or xattrs (not
#     its data nor mtime) and the same --update=changed --link-dest run is made
#     again: snap1 keeps every inode, mode, owner, group, xattr and mtime;
#     snap2's files have the new state and no longer share snap1's inode; a
#     file changed in mtime only is copied as before; a third run says nothing
#     (-i) and changes nothing in snap1 or snap2.
#   - a name outside the copy (ln dst/f elsewhere/f): after SRC's f changes
#     mode and xattrs, --update=changed leaves elsewhere/f as it was.
#   - names SRC links together (a pair in SRC and DST) are still fixed in place,
#     both at once: the pair stays one inode with the new mode.
# Thread and process mode, and pcopy-mpi on 3 ranks when it is built.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_cmd setfattr getfattr
use_tmpfs 64m

touch "$W/probe"
setfattr -n user.t -v 1 "$W/probe" 2>/dev/null || skip "no user xattrs on $W"
rm -f "$W/probe"
root=no
if [ "$(id -u)" -eq 0 ]; then
	root=yes
else
	log "not root: owner and group changes are not checked"
fi

# the -i lines of the last run, with $1/ cut, sorted
items() {
	grep -v '^{' "$T/out" | sed "s|$1/||" | sort
}

# the SRC tree: f (the reproducer's), one file per kind of metadata change,
# one left alone, a hard-linked pair, a directory
make_src() {
	local s=$1
	mkdir -p "$s/sub"
	echo hello >"$s/f"
	for n in mode owner group xattr mtime same; do echo "this is $n" >"$s/sub/$n"; done
	echo pair >"$s/sub/p1"
	ln "$s/sub/p1" "$s/sub/p2"
	setfattr -n user.v -v 1 "$s/f"
	setfattr -n user.v -v 1 "$s/sub/xattr"
	# mtimes in the past: a change later never lands in the same tick
	find "$s" -exec touch -h -d '2020-01-02 03:04:05.123456789' {} +
}

set_kinds default
for kind in "${KINDS[@]}"; do
	top=$W/$kind
	src=$top/src
	mkdir -p "$top"
	make_src "$src"

	# ---- --link-dest snapshots ----
	kind_ok "$kind" -T "$src" "$top/snap1"
	kind_ok "$kind" -T -i --update=changed --link-dest=../snap1 "$src" "$top/snap2"
	[ "$top/snap2/f" -ef "$top/snap1/f" ] || fail "$kind: f not linked from snap1 (setup)"
	save_state "$T/snap1.before" "$top/snap1"

	chmod 600 "$src/f" "$src/sub/mode"
	setfattr -n user.v -v 2 "$src/f"
	setfattr -n user.v -v 2 "$src/sub/xattr"
	touch -d '2021-01-01 00:00:00.5' "$src/sub/mtime"
	changed="f sub/mode sub/xattr sub/mtime"
	if [ "$root" = yes ]; then
		chown 1234 "$src/f" "$src/sub/owner"
		chgrp 4321 "$src/sub/group"
		changed="$changed sub/owner sub/group"
	fi
	kind_ok "$kind" -T -i --update=changed --link-dest=../snap1 "$src" "$top/snap2"
	cp "$T/out" "$T/out.change"
	state_unchanged "$T/snap1.before" "$kind: snap1 after re-running the snap2 command" "$top/snap1"
	treecmp "$src" "$top/snap2"
	no_temporaries "$top/snap2"
	for n in $changed; do
		[ "$top/snap2/$n" -ef "$top/snap1/$n" ] &&
			fail "$kind: snap2/$n still shares its inode with snap1/$n"
		grep -Eq " $(re_quote "$top/snap2/$n")\$" "$T/out.change" ||
			fail "$kind: -i says nothing of snap2/$n: $(cat "$T/out.change")"
	done
	assert_eq "$(stat -c %a "$top/snap2/f")" 600 "$kind: snap2/f mode"
	assert_eq "$(getfattr --absolute-names --only-values -n user.v "$top/snap2/f")" 2 "$kind: snap2/f user.v"
	assert_eq "$(stat -c %a "$top/snap1/f")" 644 "$kind: snap1/f mode"
	assert_eq "$(getfattr --absolute-names --only-values -n user.v "$top/snap1/f")" 1 "$kind: snap1/f user.v"
	if [ "$root" = yes ]; then
		assert_eq "$(stat -c %u "$top/snap2/f")" 1234 "$kind: snap2/f owner"
		assert_eq "$(stat -c %u "$top/snap1/f")" 0 "$kind: snap1/f owner"
		assert_eq "$(stat -c %g "$top/snap2/sub/group")" 4321 "$kind: snap2/sub/group group"
	fi
	[ "$top/snap2/sub/same" -ef "$top/snap1/sub/same" ] ||
		fail "$kind: an unchanged file is no longer linked from snap1"
	[ "$top/snap2/sub/p1" -ef "$top/snap2/sub/p2" ] || fail "$kind: the pair p1/p2 is split in snap2"

	# settled: the same run again says nothing and changes nothing
	save_state "$T/both.before" "$top/snap1" "$top/snap2"
	kind_ok "$kind" -T -i --update=changed --link-dest=../snap1 "$src" "$top/snap2"
	assert_eq "$(items "$top/snap2")" "" "$kind: -i of the run after the change"
	state_unchanged "$T/both.before" "$kind: snap1 and snap2 after a settled run" \
		"$top/snap1" "$top/snap2"

	# ---- a name outside the copy ----
	rm -rf "$src"
	make_src "$src"
	kind_ok "$kind" -T "$src" "$top/dst"
	mkdir "$top/elsewhere"
	ln "$top/dst/f" "$top/elsewhere/f"
	ln "$top/dst/sub/xattr" "$top/elsewhere/xattr"
	save_state "$T/elsewhere.before" "$top/elsewhere"
	chmod 600 "$src/f" "$src/sub/p1"
	setfattr -n user.v -v 3 "$src/sub/xattr"
	[ "$root" = yes ] && chown 1234:4321 "$src/f"
	kind_ok "$kind" -T -i --update=changed "$src" "$top/dst"
	state_unchanged "$T/elsewhere.before" "$kind: elsewhere/ (other names of DST's inodes)" \
		"$top/elsewhere"
	treecmp "$src" "$top/dst"
	assert_eq "$(stat -c %a "$top/dst/f")" 600 "$kind: dst/f mode"
	assert_eq "$(stat -c %a "$top/elsewhere/f")" 644 "$kind: elsewhere/f mode"
	assert_eq "$(getfattr --absolute-names --only-values -n user.v "$top/elsewhere/xattr")" 1 \
		"$kind: elsewhere/xattr user.v"
	# the pair SRC links: one inode, new mode
	[ "$top/dst/sub/p1" -ef "$top/dst/sub/p2" ] || fail "$kind: the pair p1/p2 is split in dst"
	assert_eq "$(stat -c %a "$top/dst/sub/p2")" 600 "$kind: dst/sub/p2 mode"
	save_state "$T/dst.before" "$top/dst" "$top/elsewhere"
	kind_ok "$kind" -T -i --update=changed "$src" "$top/dst"
	assert_eq "$(items "$top/dst")" "" "$kind: -i of the run after the change (elsewhere)"
	state_unchanged "$T/dst.before" "$kind: dst and elsewhere after a settled run" \
		"$top/dst" "$top/elsewhere"
	remove_tree "$top"
done
exit 0
