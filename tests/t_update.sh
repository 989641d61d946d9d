#!/bin/bash
# -u, --update[=all|older|none|changed]: which existing DST entries are
# replaced.  changed is rsync's quick check: an unchanged tree costs no
# write at all (every ctime in DST stays as it was), equal data with other
# metadata is fixed in place (same inode), a changed size or mtime or a
# retargeted symlink is copied; older replaces only what SRC has newer;
# none never replaces; a dry run decides the same; both worker modes.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m

# path, type, size, mode, owner, mtime and ctime of every entry under $1
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %U:%G %T@ %C@ %i\n' | sort)
}

# the stats object's value of key $2 in file $1
stat_of() {
	grep '^{' "$1" | sed -E "s/.*\"$2\":([0-9]+).*/\\1/"
}

# the -i lines of the last run, with DST's path cut, sorted
itemized() {
	grep -v '^{' "$T/out" | sed "s|$dst/||" | sort
}

# path, mode, ctime and inode of every entry under $1 (the xattr tests' snapshot)
ctimes() {
	(cd "$1" && find . -printf '%p %m %C@ %i\n' | sort)
}

# the ACL entry of user 1000 on $1
acl_of_1000() {
	getfacl -cn "$1" 2>/dev/null | grep '^user:1000:'
}

# a user.x change to a file and a directory, then an ACL change, in mode $1
attrs_changed() {
	local mode=$1 ino dino before
	ino=$(stat -c %i "$dst/data/numbers.csv")
	dino=$(stat -c %i "$dst/data")
	sleep 0.05
	setfattr -n user.x -v 1 "$src/data/numbers.csv"
	setfattr -n user.x -v 1 "$src/data"
	pcopy_ok "${run[@]}" -n -i --update=changed "$src" "$dst"
	cp "$T/out" "$T/dry"
	pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
	assert_eq "$(itemized)" "$(printf '.d data\n.f data/numbers.csv')" "$mode: -i after setfattr"
	assert_eq "$(grep -v '^{' "$T/dry" | sort)" "$(grep -v '^{' "$T/out" | sort)" \
		"$mode: -i of the dry run vs the real run after setfattr"
	assert_eq "$(getfattr --only-values -n user.x "$dst/data/numbers.csv")" 1 "$mode: file's user.x"
	assert_eq "$(getfattr --only-values -n user.x "$dst/data")" 1 "$mode: directory's user.x"
	assert_eq "$(stat -c %i "$dst/data/numbers.csv")" "$ino" "$mode: inode after setfattr"
	assert_eq "$(stat -c %i "$dst/data")" "$dino" "$mode: directory inode after setfattr"
	treecmp "$src" "$dst"

	sleep 0.05
	setfacl -m u:1000:r "$src/data/numbers.csv" "$src/data"
	pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
	assert_eq "$(itemized)" "$(printf '.d data\n.f data/numbers.csv')" "$mode: -i after setfacl"
	assert_eq "$(acl_of_1000 "$dst/data/numbers.csv")" "user:1000:r--" "$mode: ACL of data/numbers.csv"
	assert_eq "$(acl_of_1000 "$dst/data")" "user:1000:r--" "$mode: ACL of data"
	assert_eq "$(stat -c %i "$dst/data/numbers.csv")" "$ino" "$mode: inode after setfacl"
	treecmp "$src" "$dst"

	# --no-preserve=xattr: a user.x change stays behind, an ACL change does not
	sleep 0.05
	setfattr -n user.x -v 2 "$src/data/numbers.csv"
	pcopy_ok "${run[@]}" -i --update=changed --no-preserve=xattr "$src" "$dst"
	assert_eq "$(itemized)" "" "$mode: -i of a user.x change under --no-preserve=xattr"
	assert_eq "$(getfattr --only-values -n user.x "$dst/data/numbers.csv")" 1 \
		"$mode: user.x carried under --no-preserve=xattr"
	setfacl -m u:1000:rw "$src/data/numbers.csv"
	pcopy_ok "${run[@]}" -i --update=changed --no-preserve=xattr "$src" "$dst"
	assert_eq "$(itemized)" ".f data/numbers.csv" "$mode: -i of an ACL change under --no-preserve=xattr"
	assert_eq "$(acl_of_1000 "$dst/data/numbers.csv")" "user:1000:rw-" "$mode: ACL of data/numbers.csv"
	assert_eq "$(getfattr --only-values -n user.x "$dst/data/numbers.csv")" 1 \
		"$mode: user.x carried with the ACL under --no-preserve=xattr"
	# the copy was written after that change: only -c looks at user.x again
	pcopy_ok "${run[@]}" -i -c "$src" "$dst"
	assert_eq "$(itemized)" ".f data/numbers.csv" "$mode: -i of -c once xattrs are kept again"
	assert_eq "$(getfattr --only-values -n user.x "$dst/data/numbers.csv")" 2 \
		"$mode: user.x with -c once xattrs are kept again"
	treecmp "$src" "$dst"

	# a symbolic link and a FIFO (only trusted.* fits them; as root)
	if [ "$(id -u)" -eq 0 ]; then
		mkfifo "$src/data/fifo"
		pcopy_ok "${run[@]}" --update=changed "$src" "$dst"
		sleep 0.05
		setfattr -h -n trusted.x -v 1 "$src/guide-link"
		setfattr -n trusted.x -v 1 "$src/data/fifo"
		pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
		assert_eq "$(itemized)" "$(printf '.l guide-link\n.s data/fifo')" \
			"$mode: -i after setfattr on a symlink and a FIFO"
		assert_eq "$(getfattr -h --only-values -n trusted.x "$dst/guide-link")" 1 \
			"$mode: symlink's trusted.x"
		assert_eq "$(getfattr --only-values -n trusted.x "$dst/data/fifo")" 1 \
			"$mode: FIFO's trusted.x"
		treecmp "$src" "$dst"
		sleep 0.05
		setfattr -h -x trusted.x "$src/guide-link"
		setfattr -x trusted.x "$src/data/fifo"
		pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
		assert_eq "$(itemized)" "$(printf '.l guide-link\n.s data/fifo')" \
			"$mode: -i after setfattr -x on a symlink and a FIFO"
		treecmp "$src" "$dst"
	fi

	# attributes SRC no longer has go from DST too, in place
	sleep 0.05
	setfattr -x user.x "$src/data/numbers.csv"
	setfattr -x user.x "$src/data"
	pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
	assert_eq "$(itemized)" "$(printf '.d data\n.f data/numbers.csv')" "$mode: -i after setfattr -x"
	if getfattr -n user.x "$dst/data/numbers.csv" >/dev/null 2>&1 ||
		getfattr -n user.x "$dst/data" >/dev/null 2>&1; then
		fail "$mode: user.x removed in SRC is still in DST"
	fi
	assert_eq "$(stat -c %i "$dst/data/numbers.csv")" "$ino" "$mode: inode after setfattr -x"
	treecmp "$src" "$dst"

	# nothing changed since: nothing said, no ctime in DST moved
	sleep 0.05
	before=$(ctimes "$dst")
	pcopy_ok "${run[@]}" -i --update=changed "$src" "$dst"
	assert_eq "$(itemized)" "" "$mode: -i of an unchanged re-run after the attribute changes"
	assert_eq "$(ctimes "$dst")" "$before" "$mode: DST ctimes after an unchanged re-run"
}

# can this file system hold user attributes and ACLs?
attrs=no
touch "$W/probe"
if setfattr -n user.probe -v 1 "$W/probe" 2>/dev/null && setfacl -m u:1000:r "$W/probe" 2>/dev/null &&
	command -v getfattr >/dev/null && command -v getfacl >/dev/null; then
	attrs=yes
else
	log "note: no user xattrs or ACLs here; their --update=changed checks are skipped"
fi
rm -f "$W/probe"

for mode in thread process; do
	src=$W/$mode-src dst=$W/$mode-dst
	cp -a "$FIXTURES/sample" "$src" || fail "cannot copy fixtures/sample"
	mkdir -p "$src/deep/er"
	echo one >"$src/deep/er/one"
	ln "$src/deep/er/one" "$src/deep/one-link"
	echo solo >"$src/deep/er/solo"
	ln -s one "$src/deep/er/sym"
	run=(--mode="$mode" --stats=json -T)
	pcopy_ok "${run[@]}" "$src" "$dst"
	treecmp "$src" "$dst"
	nondirs=$(find "$src" ! -type d | wc -l)

	# nothing changed: nothing written, every entry counted unchanged
	sleep 0.05
	before=$(snapshot "$dst")
	pcopy_ok "${run[@]}" --update=changed "$src" "$dst"
	assert_eq "$(snapshot "$dst")" "$before" "$mode: DST after an unchanged --update=changed run"
	assert_eq "$(stat_of "$T/out" unchanged)" "$nondirs" "$mode: unchanged count"
	assert_eq "$(stat_of "$T/out" files)" 0 "$mode: files copied by a no-op run"
	# -v names nothing (hard links already in place included), nor does -n -v
	for dry in "" -n; do
		pcopy_ok "${run[@]}" $dry -v --update=changed "$src" "$dst"
		assert_eq "$(grep -vc '^{' "$T/out")" 0 "$mode: $dry -v lines of a no-op run"
		assert_eq "$(stat_of "$T/out" unchanged)" "$nondirs" "$mode: $dry unchanged"
	done
	assert_eq "$(snapshot "$dst")" "$before" "$mode: DST after the -v no-op runs"
	# a single file: the same decisions
	pcopy_ok "${run[@]}" -v --update=changed "$src/deep/er/one" "$dst/deep/er/one"
	assert_eq "$(stat_of "$T/out" unchanged)" 1 "$mode: single unchanged file"
	assert_eq "$(grep -vc '^{' "$T/out")" 0 "$mode: -v line for a single unchanged file"

	# a mode change: fixed in place (same inode), data not copied
	ino=$(stat -c %i "$dst/deep/er/solo")
	chmod 0600 "$src/deep/er/solo"
	# the same of a hard-linked pair: an inode with other names is never
	# changed in place (one could be an older snapshot's), so a fresh
	# copy, told as a metadata fix, to which the other name is linked again
	pair=$(stat -c %i "$dst/deep/er/one")
	chmod 0600 "$src/deep/er/one"
	# a changed size: copied
	echo "a longer line than before" >>"$src/data/words.txt"
	# a symlink pointing elsewhere, same length and mtime: copied
	t=$(stat -c %y "$src/deep/er/sym")
	ln -sfn two "$src/deep/er/sym"
	touch -h -d "$t" "$src/deep/er/sym"
	# a directory's mode: fixed
	chmod 0700 "$src/deep"
	pcopy_ok "${run[@]}" -n -v --update=changed "$src" "$dst"
	cp "$T/out" "$T/dry"
	pcopy_ok "${run[@]}" -v --update=changed "$src" "$dst"
	treecmp "$src" "$dst"
	assert_eq "$(stat -c %i "$dst/deep/er/solo")" "$ino" "$mode: inode after a metadata-only change"
	[ "$(stat -c %i "$dst/deep/er/one")" != "$pair" ] ||
		fail "$mode: the mode of a hard-linked pair was changed in place"
	assert_eq "$(stat -c %i "$dst/deep/one-link")" "$(stat -c %i "$dst/deep/er/one")" \
		"$mode: the pair after a metadata-only change"
	# solo's and one's modes, deep's mode, and deep/er's mtime (its symlink
	# was replaced); one-link linked again to one
	assert_eq "$(stat_of "$T/out" meta_updated)" 4 "$mode: meta_updated"
	assert_eq "$(stat_of "$T/out" hardlinks)" 1 "$mode: hard links made"
	assert_eq "$(stat_of "$T/out" files)" 1 "$mode: files copied"
	assert_eq "$(stat_of "$T/out" symlinks)" 1 "$mode: symlinks copied"
	assert_eq "$(grep -v '^{' "$T/dry" | sort)" "$(grep -v '^{' "$T/out" | sort)" \
		"$mode: -v lines of the dry run vs the real run"
	assert_eq "$(stats_counts "$T/dry")" "$(stats_counts "$T/out")" \
		"$mode: stats of the dry run vs the real run"

	# attributes and ACLs changed in SRC (which moves its ctime): fixed in
	# place, as -i says; only those kept count (ACLs go with the mode)
	if [ "$attrs" = yes ]; then
		attrs_changed "$mode"
	fi

	# older (-u): DST's newer file stays, SRC's newer file replaces
	echo "dst is newer" >"$dst/docs/notes.txt"
	touch -d '2035-01-01' "$dst/docs/notes.txt"
	echo "src is newer" >"$src/data/config.ini"
	touch -d '2036-01-01' "$src/data/config.ini"
	pcopy_ok "${run[@]}" -u "$src" "$dst"
	assert_eq "$(cat "$dst/docs/notes.txt")" "dst is newer" "$mode: -u replaced a newer DST file"
	assert_eq "$(cat "$dst/data/config.ini")" "src is newer" "$mode: -u kept an older DST file"

	# none: what exists stays, what is new is copied
	echo "changed again" >"$src/data/config.ini"
	echo new >"$src/deep/new-file"
	pcopy_ok "${run[@]}" --update=none "$src" "$dst"
	assert_eq "$(cat "$dst/data/config.ini")" "src is newer" "$mode: --update=none replaced a file"
	assert_eq "$(cat "$dst/deep/new-file")" new "$mode: --update=none skipped a new file"

	# all (the default) replaces everything again
	pcopy_ok "${run[@]}" --update=all "$src" "$dst"
	treecmp "$src" "$dst"
	no_temporaries "$dst"
done

# bad values are usage errors
assert_exit 2 "$PCOPY" --update=sometimes "$W/thread-src" "$W/x"
assert_grep "$T/err" "invalid argument 'sometimes' for '--update'"
exit 0
