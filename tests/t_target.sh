#!/bin/bash
# Where the copy goes (cp rules): DST missing -> DST is the copy; DST an
# existing directory -> DST/basename(SRC); -T merges into DST; a trailing
# slash on SRC changes nothing; SRC a single file or symlink; re-running
# with -T into an existing copy replaces changed files.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m
src=$W/tree
cp -a "$FIXTURES/sample" "$src" || fail "cannot copy fixtures/sample"
mkdir -p "$src/empty/nested"
find "$src" -depth -exec touch -h -d '2001-02-03 04:05:06.123456789' {} +

# the names in directory $1, one per line
names() {
	(cd "$1" && find . -mindepth 1 -maxdepth 1 -printf '%f\n' | sort)
}

# DST missing: DST becomes the copy
pcopy_ok "$src" "$W/new"
treecmp "$src" "$W/new"

# DST an existing directory: the copy lands in DST/basename(SRC)
mkdir "$W/into"
pcopy_ok "$src" "$W/into"
assert_eq "$(names "$W/into")" tree "entries of existing DST"
treecmp "$src" "$W/into/tree"

# trailing slash on SRC: same rules
mkdir "$W/slash"
pcopy_ok "$src/" "$W/slash"
assert_eq "$(names "$W/slash")" tree "entries of DST after SRC/"
treecmp "$src" "$W/slash/tree"
pcopy_ok "$src/" "$W/slash-new"
treecmp "$src" "$W/slash-new"
mkdir "$W/slash2"
pcopy_ok "$src//" "$W/slash2/"
treecmp "$src" "$W/slash2/tree"

# -T: merge SRC's contents into the existing DST, keeping DST's other entries
mkdir "$W/merge"
echo keep >"$W/merge/keep"
pcopy_ok -T "$src" "$W/merge"
[ "$(cat "$W/merge/keep")" = keep ] || fail "-T lost an entry of DST"
[ ! -e "$W/merge/tree" ] || fail "-T copied into DST/tree"
rm "$W/merge/keep"
treecmp --ignore-top-times "$src" "$W/merge"

# -T onto a missing DST: DST becomes the copy
pcopy_ok -T "$src" "$W/merge-new"
treecmp "$src" "$W/merge-new"

# SRC a single file: to a new name, into a directory, over an existing file
pcopy_ok "$src/src/run.sh" "$W/run-copy"
treecmp "$src/src/run.sh" "$W/run-copy"
mkdir "$W/filedir"
pcopy_ok "$src/data/words.txt" "$W/filedir"
assert_eq "$(names "$W/filedir")" words.txt "entries after a file copy into a dir"
treecmp "$src/data/words.txt" "$W/filedir/words.txt"
echo old >"$W/over"
pcopy_ok "$src/data/numbers.csv" "$W/over"
treecmp "$src/data/numbers.csv" "$W/over"

# SRC a symlink: copied as a symlink
pcopy_ok "$src/guide-link" "$W/link-copy"
[ -L "$W/link-copy" ] || fail "symlink SRC was not copied as a symlink"
treecmp "$src/guide-link" "$W/link-copy"

# re-run with -T into an existing copy: changed, added and removed-mode files
pcopy_ok "$src" "$W/again"
echo "changed, longer content" >"$src/docs/notes.txt"
printf 'X' | dd of="$src/data/words.txt" bs=1 seek=3 conv=notrunc status=none
echo added >"$src/docs/added"
chmod 0600 "$src/data/config.ini"
chmod 0444 "$W/again/data/words.txt"
ln -sfn docs/notes.txt "$src/guide-link"
find "$src" -depth -exec touch -h -d '2002-02-03 04:05:06.5' {} +
pcopy_ok -T "$src" "$W/again"
treecmp "$src" "$W/again"
no_temporaries "$W"
exit 0
