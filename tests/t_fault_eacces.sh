#!/bin/bash
# EACCES: run as uid 65534 over a tree holding a mode-000 file and a mode-000
# directory.  pcopy must name both in "Permission denied" messages, copy every
# readable file identically, complain about nothing else (ownership it cannot
# keep is not an error), exit 1 and leave no temporaries.  Both worker modes.
# Root only (setpriv to switch user; root itself ignores file modes).
. "$(dirname "$0")/lib.sh"
need_pcopy
need_root
need_cmd setpriv


chmod 0755 "$T" "$W"
as_nobody test -x "$W" || skip "uid 65534 cannot reach $W (set TMPDIR to a world-searchable dir)"
as_nobody "$PCOPY" --version >/dev/null 2>&1 || skip "uid 65534 cannot run $PCOPY"

src=$W/src
mkdir -p "$src/sub/deep" "$src/locked"
echo alpha >"$src/a.txt"
head -c 100000 /dev/urandom >"$src/sub/b.bin"
echo gamma >"$src/sub/deep/c.txt"
echo hidden >"$src/locked/inner.txt"
echo secret >"$src/secret"
chmod -R a+rX "$src"
chmod 0000 "$src/secret" "$src/locked"
q=$(re_quote "$src")

for mode in thread process; do
	out=$W/out-$mode
	mkdir "$out"
	chown 65534:65534 "$out"
	assert_exit 1 as_nobody timeout -k 5 60 "$PCOPY" --mode="$mode" "$src" "$out/copy"
	assert_grep "$T/err" "^pcopy: '$q/secret': Permission denied$"
	assert_grep "$T/err" "^pcopy: '$q/locked': Permission denied$"
	other=$(grep -Ev "^pcopy: '$q/(secret|locked)': " "$T/err" | head -n 5)
	[ -z "$other" ] || fail "$mode: unexpected messages: $other"
	# one line per failed entry, not one per attempt
	assert_eq "$(wc -l <"$T/err")" 2 "$mode: number of error lines"
	assert_eq "$(stat -c %a "$out/copy/locked")" 0 "$mode: mode of the unreadable dir's copy"
	for f in a.txt sub/b.bin sub/deep/c.txt; do
		cmp -s "$src/$f" "$out/copy/$f" || fail "$mode: readable file $f not copied identically"
	done
	[ ! -e "$out/copy/secret" ] || fail "$mode: unreadable file has a copy"
	[ ! -e "$out/copy/locked/inner.txt" ] || fail "$mode: file in unreadable dir has a copy"
	no_temporaries "$out"
	left=$(pgrep -af -- "$out") && fail "$mode: processes left: $left"
done
exit 0
