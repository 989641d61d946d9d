#!/bin/bash
# Operands as cp reads them: a DST with a trailing slash means a directory
# (made for a directory SRC, refused for a file, refused when it names a
# file); several SRC go into an existing directory, each by cp's rules, the
# exit status the worst of them, progress and stats added up over all.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m
src=$W/tree
cp -a "$FIXTURES/sample" "$src" || fail "cannot copy fixtures/sample"
echo hello >"$W/file"

for mode in thread process; do
	d=$W/$mode
	mkdir "$d"

	# a file onto a missing DST/: refused, nothing made (cp: Not a directory)
	assert_exit 2 "$PCOPY" --mode="$mode" "$W/file" "$d/newfile/"
	assert_grep "$T/err" "'$d/newfile/': Not a directory"
	[ ! -e "$d/newfile" ] || fail "$mode: a file copied onto newfile/ made newfile"
	# a file onto an existing file with a slash: refused, the file untouched
	echo old >"$d/existing"
	assert_exit 2 "$PCOPY" --mode="$mode" "$W/file" "$d/existing/"
	assert_grep "$T/err" "Not a directory"
	assert_eq "$(cat "$d/existing")" old "$mode: existing file after a refused copy"
	# a directory onto a missing DST/: made, as rsync does
	pcopy_ok --mode="$mode" "$src" "$d/newdir/"
	[ -d "$d/newdir" ] || fail "$mode: newdir/ was not made"
	treecmp "$src" "$d/newdir"

	# several sources into a directory: each lands as DIR/basename
	mkdir "$d/into"
	pcopy_ok --mode="$mode" --stats=json "$src" "$W/file" "$src/docs" "$d/into/"
	treecmp "$src" "$d/into/tree"
	treecmp "$W/file" "$d/into/file"
	treecmp "$src/docs" "$d/into/docs"
	files=$(find "$src" "$W/file" "$src/docs" -type f | wc -l)
	assert_grep "$T/out" "\"files\":$files,"
	# the target must be a directory: nothing is copied otherwise
	assert_exit 2 "$PCOPY" --mode="$mode" "$src" "$W/file" "$d/nodir"
	assert_grep "$T/err" "target '$d/nodir' is not a directory"
	[ ! -e "$d/nodir" ] || fail "$mode: several sources made a non-directory target"
	assert_exit 2 "$PCOPY" --mode="$mode" "$src" "$W/file" "$d/existing"
	assert_eq "$(cat "$d/existing")" old "$mode: file target after refused sources"
	# -T takes one source only
	assert_exit 2 "$PCOPY" --mode="$mode" -T "$src" "$W/file" "$d/into"
	assert_grep "$T/err" "extra operand"
	# one missing source: the others are copied, its line names it, status 2
	mkdir "$d/some"
	assert_exit 2 "$PCOPY" --mode="$mode" "$src" "$W/missing" "$W/file" "$d/some"
	assert_grep "$T/err" "'$W/missing': No such file or directory"
	treecmp "$src" "$d/some/tree"
	treecmp "$W/file" "$d/some/file"
	# one source with a failing entry: status 1, the rest copied
	if [ "$(id -u)" -ne 0 ]; then
		log "$mode: not root: skipping the unreadable-entry case"
	else
		chmod 0755 "$T" "$W" "$d"
		chmod a+r "$W/file"
		mkdir "$d/bad" "$d/partial"
		echo secret >"$d/bad/locked"
		chmod 000 "$d/bad/locked"
		chown -R 65534:65534 "$d/partial"
		assert_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$PCOPY" --mode="$mode" "$d/bad" "$W/file" "$d/partial"
		assert_grep "$T/err" "'$d/bad/locked': Permission denied"
		cmp -s "$W/file" "$d/partial/file" || fail "$mode: file not copied beside a failing source"
	fi
	# progress over several sources: one final line at 100, never going down
	if command -v python3 >/dev/null 2>&1; then
		mkdir "$d/prog"
		pcopy_ok --mode="$mode" --progress=json "$src" "$src/docs" "$d/prog"
		python3 - "$T/err" <<'PY' || fail "$mode: bad progress over several sources"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines, "no progress lines"
last = -1
for n, obj in enumerate(lines, 1):
    assert obj["percent"] >= last, f"line {n}: percent went down"
    last = obj["percent"]
    assert obj["done"] == (n == len(lines)), f"line {n}: done is {obj['done']}"
assert lines[-1]["percent"] == 100
PY
	fi
done
no_temporaries "$W"
exit 0
