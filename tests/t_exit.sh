#!/bin/bash
# Exit status and refusals: 2 for usage errors (missing SRC, unknown option,
# bad -j/--queue/--mode/... values, DST inside SRC also through a symlink,
# SRC dir onto a non-dir, same file also as a hard link, missing DST parent)
# with nothing written; 0 for --help/--version; 1 when one entry fails while
# the rest is copied.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m
src=$W/src
cp -a "$FIXTURES/sample" "$src" || fail "cannot copy fixtures/sample"
mkdir "$src/sub"

# a listing of everything under $W with sizes and mtimes, to prove no change
snapshot() {
	find "$W" -printf '%p %y %s %T@ %m\n' | sort
}

# pcopy ARGS must exit 2 with a "pcopy: " message and change nothing
refused() {
	local before
	before=$(snapshot)
	assert_exit 2 "$PCOPY" "$@"
	assert_grep "$T/err" "^pcopy: "
	assert_empty "$T/out"
	[ "$(snapshot)" = "$before" ] || fail "pcopy $* changed the filesystem"
}

# usage errors: message plus the hint to --help
usage_error() {
	refused "$@"
	assert_grep "$T/err" "^Try 'pcopy --help' for more information\.$"
}

usage_error --bogus "$src" "$W/dst"
usage_error -Z "$src" "$W/dst"
usage_error "$src"
usage_error
# several sources need a directory to go into (cp's message, no --help hint)
refused "$src" "$W/dst" "$W/extra"
assert_grep "$T/err" "target '$W/extra' is not a directory"
for j in 0 1025 abc -1 2x ""; do
	usage_error -j "$j" "$src" "$W/dst"
done
usage_error --jobs=0 "$src" "$W/dst"
usage_error --mode=fork "$src" "$W/dst"
usage_error --mode= "$src" "$W/dst"
usage_error --queue=0 "$src" "$W/dst"
usage_error --queue=65537 "$src" "$W/dst"
usage_error --progress=fancy "$src" "$W/dst"
usage_error --stats=xml "$src" "$W/dst"
usage_error --no-preserve=colour "$src" "$W/dst"

# SRC missing, DST's parent missing
refused "$W/no-such" "$W/dst"
refused "$src" "$W/no-such-dir/dst"

# DST inside SRC: directly, as SRC itself (lands in SRC/src), via a symlink
refused "$src" "$src/sub/dst"
refused "$src" "$src/dst"
refused "$src" "$src"
refused "$src/" "$src/sub"
ln -s src "$W/alias"
refused "$src" "$W/alias/sub/dst"
refused "$src" "$W/alias"
refused "$W/alias/" "$src/sub/dst"

# SRC a directory, DST an existing non-directory
echo file >"$W/plain"
refused "$src" "$W/plain"
refused -T "$src" "$W/plain"

# the same file, by name and by hard link; contents intact
echo precious >"$W/f"
refused "$W/f" "$W/f"
ln "$W/f" "$W/g"
refused "$W/f" "$W/g"
ln -s f "$W/f-link"
refused "$W/f" "$W/f-link"
[ "$(cat "$W/f")" = precious ] || fail "same-file copy damaged the file"

# --help and --version
assert_exit 0 "$PCOPY" --help
assert_grep "$T/out" "pcopy"
assert_grep "$T/out" "--no-preserve"
assert_empty "$T/err"
assert_exit 0 "$PCOPY" -h
assert_grep "$T/out" "--jobs"
assert_exit 0 "$PCOPY" --version
assert_grep "$T/out" "^pcopy [0-9]"
assert_empty "$T/err"
assert_exit 0 "$PCOPY" -V
assert_grep "$T/out" "^pcopy [0-9]"

# valid edge values are accepted
pcopy_ok -j 1024 --queue=65536 "$src" "$W/edge"
treecmp "$src" "$W/edge"

# exit 1: one entry cannot be written (a non-empty directory is in the way of
# a file in DST); the rest is still copied and one error line names the entry
for mode in thread process; do
	dst=$W/blocked-$mode
	pcopy_ok "$src" "$dst"
	rm "$dst/data/words.txt"
	mkdir -p "$dst/data/words.txt/inner"
	echo "new content" >"$src/README.txt"
	assert_exit 1 "$PCOPY" --mode="$mode" -j 4 -T "$src" "$dst"
	assert_grep "$T/err" "^pcopy: '.*data/words\.txt': "
	assert_eq "$(grep -c '^pcopy: ' "$T/err")" 1 "error lines ($mode)"
	cmp -s "$src/README.txt" "$dst/README.txt" || fail "other files not copied after an error"
	[ -d "$dst/data/words.txt/inner" ] || fail "blocking directory was removed"
	no_temporaries "$dst"
done

# exit 1: an unreadable source file, as an unprivileged user (root only)
chmod 0755 "$T"
if can_be_nobody "the unreadable-file case"; then
	u=$W/user
	mkdir -p "$u/src/a"
	echo readable >"$u/src/a/ok"
	echo secret >"$u/src/a/secret"
	chown -R 65534:65534 "$u"
	chown 0:0 "$u/src/a/secret"
	chmod 0600 "$u/src/a/secret"
	for mode in thread process; do
		assert_exit 1 as_nobody "$PCOPY" --mode="$mode" "$u/src" "$u/dst-$mode"
		assert_grep "$T/err" "^pcopy: '.*a/secret': Permission denied$"
		assert_eq "$(grep -c '^pcopy: ' "$T/err")" 1 "error lines ($mode)"
		cmp -s "$u/src/a/ok" "$u/dst-$mode/a/ok" || fail "readable file not copied"
		no_temporaries "$u/dst-$mode"
	done
fi
exit 0
