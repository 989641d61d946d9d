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

for mode in thread process; do
	src=$W/$mode-src dst=$W/$mode-dst
	cp -a "$FIXTURES/sample" "$src" || fail "cannot copy fixtures/sample"
	mkdir -p "$src/deep/er"
	echo one >"$src/deep/er/one"
	ln "$src/deep/er/one" "$src/deep/one-link"
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
	ino=$(stat -c %i "$dst/deep/er/one")
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
	assert_eq "$(stat -c %i "$dst/deep/er/one")" "$ino" "$mode: inode after a metadata-only change"
	# one.txt's mode, deep's mode, and deep/er's mtime (its symlink was replaced)
	assert_eq "$(stat_of "$T/out" meta_updated)" 3 "$mode: meta_updated"
	assert_eq "$(stat_of "$T/out" files)" 1 "$mode: files copied"
	assert_eq "$(stat_of "$T/out" symlinks)" 1 "$mode: symlinks copied"
	assert_eq "$(grep -v '^{' "$T/dry" | sort)" "$(grep -v '^{' "$T/out" | sort)" \
		"$mode: -v lines of the dry run vs the real run"
	assert_eq "$(sed -E 's/"(elapsed_s|bytes_per_s|files_per_s)":[0-9.e+-]+,?//g' "$T/dry" | grep '^{')" \
		"$(sed -E 's/"(elapsed_s|bytes_per_s|files_per_s)":[0-9.e+-]+,?//g' "$T/out" | grep '^{')" \
		"$mode: stats of the dry run vs the real run"

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
