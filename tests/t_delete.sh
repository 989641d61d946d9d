#!/bin/bash
# --delete and --delete-excluded: what SRC does not have is removed from the
# copy (files, symlinks, FIFOs, directory trees, at every depth), and an
# entry whose type changes to or from a directory is deleted and made anew;
# the result equals SRC to the nanosecond (directory times restored after
# the deletions, --update=changed included) and holds the entries
# `rsync -a --delete` leaves.  Symbolic links planted in DST are removed as
# links, never followed: what they point at outside DST stays untouched.
# A source directory that cannot be read deletes nothing in or below its
# copy (exit 1, one line).  Excluded names are kept unless
# --delete-excluded.  -n -i prints exactly what the real run then does and
# changes nothing; --stats counts the deletions.  10,000 extraneous entries
# in one directory.  --files-from with --delete is refused.  Both worker
# modes, -j 1 and -j 8.  A tree deeper than PATH_MAX goes with 16 fds.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 256m

have_rsync=0
have_cmd rsync "the comparisons with rsync -a --delete" && have_rsync=1

# path, type, size, mode, mtime, ctime and inode of every entry under $1
snapshot() {
	(cd "$1" && find . -printf '%p %y %s %m %T@ %C@ %i\n' | sort)
}

# path and type of every entry under $1
entries() {
	(cd "$1" && find . -printf '%p %y\n' | sort)
}

# the -i lines of file $1 (no stats), sorted
items() {
	grep -v '^{' "$1" | sort
}

# the stats object's value of key $2 in file $1
stat_of() {
	grep '^{' "$1" | sed -E "s/.*\"$2\":([0-9]+).*/\\1/"
}

# the paths under $2 that $1 lacks, as "-X $2/path" -i lines would name them
extras_of() {
	comm -13 <(cd "$1" && find . -mindepth 1 | sort) <(cd "$2" && find . -mindepth 1 | sort) |
		sed "s|^\\./|$2/|" | sort
}

# give each directory of $2 that $1 also has the mtime of $1's, so that only
# what a run does in it changes its time
align_dir_times() {
	local rel
	while IFS= read -r -d '' rel; do
		[ -d "$1/$rel" ] && touch -h -r "$1/$rel" "$2/$rel"
	done < <(cd "$2" && find . -type d -print0)
}

# rsync -a --delete [ARGS...] SRC/ into a copy of $2 (as it is now) at $3
rsync_from() {
	local src=$1 start=$2 out=$3
	shift 3
	rm -rf "$out"
	cp -a "$start" "$out" || fail "cannot copy $start"
	rsync -a --delete "$@" "$src/" "$out/" || fail "rsync -a --delete $* failed"
}

# SRC: files, symlinks, a FIFO and directories three deep
make_src() {
	mkdir -p "$1/a/b/c" "$1/d" "$1/e/empty"
	echo top >"$1/top"
	echo one >"$1/a/one"
	echo two >"$1/a/b/two"
	head -c 100000 /dev/urandom >"$1/a/b/c/big"
	ln -s one "$1/a/sym"
	ln -s ../../d "$1/a/b/dsym"
	mkfifo "$1/d/fifo"
	echo x >"$1/e/x.tmp"
	mkdir "$1/e/cache"
	echo c >"$1/e/cache/c"
	touch -d '2010-05-06 07:08:09.123456789' "$1/a/b/c" "$1/e/empty"
}

# the outside world DST's planted links point at
outside=$W/outside
mkdir -p "$outside/sub"
echo canary >"$outside/canary"
echo deep >"$outside/sub/file"
outside_before=$(snapshot "$outside")

# plant extraneous entries of every kind at every depth of the copy $1
plant_extras() {
	local d=$1
	echo x >"$d/extra-file"
	mkdir -p "$d/extra-dir/n1/n2"
	echo y >"$d/extra-dir/n1/n2/deep"
	ln -s "$outside" "$d/extra-dir/n1/out"
	mkfifo "$d/extra-dir/fifo"
	ln -s "$outside" "$d/evil-dir"
	ln -s "$outside/canary" "$d/a/evil-file"
	mkfifo "$d/a/extra-fifo" "$d/top-fifo" "$d/a/b/c/deep-fifo"
	ln -s ../two "$d/a/b/c/deep-link"
	echo z >"$d/a/b/extra"
	mkdir -p "$d/a/b/c/extra-tree/sub"
	ln -s / "$d/a/b/c/extra-tree/sub/root-link"
	ln -s "$outside/sub" "$d/a/b/c/extra-tree/out"
	echo w >"$d/a/b/c/extra-tree/sub/w"
	ln -s nowhere "$d/d/dangling"
	mkdir "$d/e/empty/extra-empty"
}

outside_untouched() {
	assert_eq "$(snapshot "$outside")" "$outside_before" "$1: the outside of DST"
}

for mode in thread process; do
	for j in 1 8; do
		tag="$mode -j$j"
		src=$W/src-$mode-$j dst=$W/dst-$mode-$j
		make_src "$src"
		run=(--mode="$mode" -j "$j" -T)
		pcopy_ok "${run[@]}" "$src" "$dst"

		# extras everywhere, directory times as SRC's: -n -i first
		plant_extras "$dst"
		align_dir_times "$src" "$dst"
		cp -a "$dst" "$W/start"
		expected=$(extras_of "$src" "$dst")
		before=$(snapshot "$dst")
		pcopy_ok "${run[@]}" -n -i --stats=json --update=changed --delete "$src" "$dst"
		cp "$T/out" "$T/dry"
		assert_eq "$(snapshot "$dst")" "$before" "$tag: DST after -n --delete"
		outside_untouched "$tag -n"

		# the real run: exactly the extras, each once, deepest first
		pcopy_ok "${run[@]}" -i --stats=json --update=changed --delete "$src" "$dst"
		treecmp "$src" "$dst"
		outside_untouched "$tag"
		no_temporaries "$dst"
		assert_eq "$(items "$T/out")" "$(items "$T/dry")" "$tag: -n -i vs the real run"
		assert_eq "$(items "$T/out" | grep -v '^-' || true)" "" "$tag: -i lines other than -"
		assert_eq "$(items "$T/out" | cut -c4- | sort)" "$expected" "$tag: the paths deleted"
		assert_eq "$(stat_of "$T/out" deleted)" "$(echo "$expected" | wc -l)" \
			"$tag: stats deleted"
		assert_eq "$(stat_of "$T/dry" deleted)" "$(stat_of "$T/out" deleted)" \
			"$tag: stats deleted, -n"
		assert_grep "$T/out" "^-d $dst/extra-dir$"
		assert_grep "$T/out" "^-l $dst/evil-dir$"
		assert_grep "$T/out" "^-s $dst/a/extra-fifo$"
		assert_grep "$T/out" "^-f $dst/a/b/c/extra-tree/sub/w$"
		# a directory after what was in it
		grep -n "extra-dir" "$T/out" | tail -n 1 | grep -q -- "-d $dst/extra-dir$" ||
			fail "$tag: extra-dir reported before its contents"
		if [ "$have_rsync" = 1 ]; then
			rsync_from "$src" "$W/start" "$W/rsync"
			assert_eq "$(entries "$dst")" "$(entries "$W/rsync")" "$tag: entries vs rsync"
		fi
		rm -rf "$W/start"

		# nothing left to do: nothing said, nothing touched
		before=$(snapshot "$dst")
		pcopy_ok "${run[@]}" -i --update=changed --delete "$src" "$dst"
		assert_empty "$T/out"
		assert_eq "$(snapshot "$dst")" "$before" "$tag: DST after a no-op --delete"

		# without --update: the same result, times restored
		plant_extras "$dst"
		pcopy_ok "${run[@]}" --delete "$src" "$dst"
		treecmp "$src" "$dst"
		outside_untouched "$tag, no --update"

		# 10,000 extraneous entries in one directory, some of them trees
		(cd "$dst/d" && seq -f 'x%05g' 10000 | xargs touch &&
			seq -f 'y%03g' 50 | xargs mkdir && seq -f 'y%03g/f' 50 | xargs touch) ||
			fail "cannot make 10,000 entries"
		pcopy_ok "${run[@]}" --stats=json --update=changed --delete "$src" "$dst"
		treecmp "$src" "$dst"
		assert_eq "$(stat_of "$T/out" deleted)" 10100 "$tag: deleted of 10,000 files"
		remove_tree "$src"
		remove_tree "$dst"
	done
done

# make SRC $1 and DST $2 disagree on types under x/: a directory tree where
# SRC has a file, a file where SRC has a directory, a symlink (to outside)
# where SRC has a directory, a FIFO where SRC has a symlink
make_conflicts() {
	local s=$1 d=$2
	rm -rf "$s" "$d"
	mkdir -p "$s/x/dir-now/in" "$s/x/via-link"
	echo file >"$s/x/file-now"
	echo in >"$s/x/dir-now/in/f"
	echo v >"$s/x/via-link/v"
	ln -s file-now "$s/x/link-now"
	mkdir -p "$d/x/file-now/sub"
	echo old >"$d/x/file-now/sub/old"
	ln -s "$outside" "$d/x/file-now/sub/out"
	echo old >"$d/x/dir-now"
	ln -s "$outside" "$d/x/via-link"
	mkfifo "$d/x/link-now"
}

for mode in thread process; do
	for j in 1 8; do
		tag="$mode -j$j"
		src=$W/csrc dst=$W/cdst
		run=(--mode="$mode" -j "$j" -T)

		# without --delete: a type change with a directory is an error,
		# DST left as it was there; a symlink still gives way to a directory
		make_conflicts "$src" "$dst"
		keep=$( (cd "$dst/x" && find file-now dir-now -printf '%p %y %T@ %C@ %i\n') | sort)
		assert_exit 1 "$PCOPY" "${run[@]}" "$src" "$dst"
		assert_grep "$T/err" "^pcopy: '$(re_quote "$dst")/x/file-now': cannot overwrite directory with non-directory$"
		assert_grep "$T/err" "^pcopy: '$(re_quote "$dst")/x/dir-now': cannot overwrite non-directory with directory$"
		assert_eq "$(grep -c . "$T/err")" 2 "$tag: error lines without --delete"
		assert_eq "$( (cd "$dst/x" && find file-now dir-now -printf '%p %y %T@ %C@ %i\n') | sort)" \
			"$keep" "$tag: DST's conflicting entries without --delete"
		[ -d "$dst/x/via-link" ] && [ ! -L "$dst/x/via-link" ] ||
			fail "$tag: a symlink where SRC has a directory not replaced"
		outside_untouched "$tag, conflicts without --delete"

		# with --delete: the old entry deleted (a tree, deepest first), the
		# new one made; -n -i says the same and changes nothing
		make_conflicts "$src" "$dst"
		before=$(snapshot "$dst")
		pcopy_ok "${run[@]}" -n -i --delete "$src" "$dst"
		cp "$T/out" "$T/dry"
		assert_eq "$(snapshot "$dst")" "$before" "$tag: DST after -n, conflicts"
		pcopy_ok "${run[@]}" -i --stats=json --delete "$src" "$dst"
		treecmp "$src" "$dst"
		outside_untouched "$tag, conflicts"
		assert_eq "$(items "$T/out")" "$(items "$T/dry")" "$tag: -n -i vs the real run, conflicts"
		expected=$(printf '%s\n' "-f $dst/x/file-now/sub/old" "-l $dst/x/file-now/sub/out" \
			"-d $dst/x/file-now/sub" "-d $dst/x/file-now" "+f $dst/x/file-now" \
			"-f $dst/x/dir-now" "+d $dst/x/dir-now" "+d $dst/x/dir-now/in" \
			"+f $dst/x/dir-now/in/f" "-l $dst/x/via-link" "+d $dst/x/via-link" \
			"+f $dst/x/via-link/v" "!l $dst/x/link-now" ".d $dst/x" | sort)
		assert_eq "$(items "$T/out")" "$expected" "$tag: -i of the replacements"
		assert_eq "$(stat_of "$T/out" deleted)" 6 "$tag: stats deleted, conflicts"
		# what is deleted to make way is reported before what takes its place
		assert_eq "$(awk -v p="$dst/x/file-now" '$2 == p { printf "%s ", $1 }' "$T/out")" \
			"-d +f " "$tag: the order of x/file-now's lines"
	done
done

# excluded names are kept by --delete, removed by --delete-excluded (as rsync)
src=$W/fsrc dst=$W/fdst
make_src "$src"
filters=(--exclude='*.tmp' --exclude='cache/')
pcopy_ok -T "$src" "$dst"
for extra in e/more.tmp a/b/keep.tmp top.tmp; do echo k >"$dst/$extra"; done
mkdir -p "$dst/a/cache/in" "$dst/gone/cache"
echo k >"$dst/a/cache/in/k"
echo k >"$dst/gone/cache/k"
echo k >"$dst/gone/plain"
cp -a "$dst" "$W/fstart"
pcopy_ok -T -i --delete "${filters[@]}" "$src" "$dst"
for kept in e/x.tmp e/more.tmp a/b/keep.tmp top.tmp e/cache/c a/cache/in/k gone/cache/k; do
	[ -e "$dst/$kept" ] || fail "excluded $kept deleted by --delete"
done
[ ! -e "$dst/gone/plain" ] || fail "gone/plain survived --delete"
assert_grep "$T/out" "^-f $dst/gone/plain$"
if grep -q -- "-d $dst/gone$" "$T/out"; then fail "gone/ reported deleted, yet it holds an excluded entry"; fi
if [ "$have_rsync" = 1 ]; then
	rsync_from "$src" "$W/fstart" "$W/frsync" "${filters[@]}"
	assert_eq "$(entries "$dst")" "$(entries "$W/frsync")" "--delete with filters vs rsync"
fi
pcopy_ok -T -i --delete-excluded "${filters[@]}" "$src" "$dst"
for gone in e/x.tmp e/more.tmp a/b/keep.tmp top.tmp e/cache a/cache gone; do
	[ ! -e "$dst/$gone" ] || fail "excluded $gone kept by --delete-excluded"
done
assert_grep "$T/out" "^-d $dst/e/cache$"
if [ "$have_rsync" = 1 ]; then
	rsync_from "$src" "$W/fstart" "$W/frsync" --delete-excluded "${filters[@]}"
	assert_eq "$(entries "$dst")" "$(entries "$W/frsync")" "--delete-excluded vs rsync"
fi

# an extraneous tree deeper than PATH_MAX, with few fds: removed whole
if command -v python3 >/dev/null 2>&1; then
	mkdir -p "$W/deep-src" "$W/deep-dst"
	python3 - "$W/deep-dst" <<'PY' || fail "cannot make the deep tree"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(100):
    os.mkdir("d" * 200, dir_fd=fd)
    sub = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = sub
    os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
os.close(fd)
PY
	(ulimit -n 16 && exec "$PCOPY" -T --stats=json --delete "$W/deep-src" "$W/deep-dst") \
		>"$T/out" 2>"$T/err" || fail "deep tree: exit $?: $(head -n 3 "$T/err")"
	assert_eq "$(stat_of "$T/out" deleted)" 200 "deleted of the deep tree"
	assert_eq "$(find "$W/deep-dst" -mindepth 1 | wc -l)" 0 "entries left of the deep tree"
else
	log "no python3: skipping the tree deeper than PATH_MAX"
fi

# --files-from with --delete: refused before anything is done
echo a >"$T/list"
assert_exit 2 "$PCOPY" -T --delete --files-from="$T/list" "$src" "$dst"
assert_grep "$T/err" "files-from.*--delete"

# an unreadable source directory: nothing deleted in its copy or below it,
# one line, exit 1; elsewhere the deletions go on (root only)
chmod 0755 "$T"
if can_be_nobody "the unreadable-directory case"; then
	for mode in thread process; do
		u=$W/user-$mode
		mkdir -p "$u/src/locked/inner" "$u/src/open"
		echo s >"$u/src/locked/inner/s"
		echo o >"$u/src/open/o"
		pcopy_ok -T "$u/src" "$u/dst"
		echo e >"$u/dst/locked/extra"
		mkdir -p "$u/dst/locked/inner/below"
		echo e >"$u/dst/locked/inner/below/extra"
		echo e >"$u/dst/open/extra"
		echo e >"$u/dst/extra"
		chown -R 65534:65534 "$u"
		chmod 0300 "$u/src/locked"
		assert_exit 1 as_nobody "$PCOPY" --mode="$mode" -T --delete "$u/src" "$u/dst"
		assert_grep "$T/err" "^pcopy: '$(re_quote "$u/src")/locked': not deleting in its copy: the source directory could not be read$"
		assert_eq "$(grep -c 'not deleting' "$T/err")" 1 "$mode: 'not deleting' lines"
		for kept in locked/extra locked/inner/below/extra locked/inner/s; do
			[ -e "$u/dst/$kept" ] || fail "$mode: $kept deleted under an unreadable directory"
		done
		for gone in open/extra extra; do
			[ ! -e "$u/dst/$gone" ] || fail "$mode: $gone not deleted"
		done
		chmod 0755 "$u/src/locked"
	done
fi
exit 0
