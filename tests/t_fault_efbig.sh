#!/bin/bash
# EFBIG: under `ulimit -f 1024` (1 MiB) a 4 MiB file cannot be written.
# pcopy must survive SIGXFSZ (ignore it), report "File too large" for that
# file, copy the smaller files identically, exit 1, leave no temporaries and
# no process.  Both worker modes, copy_file_range and read/write paths.
. "$(dirname "$0")/lib.sh"
need_pcopy

use_tmpfs 64m
src=$W/src
mkdir -p "$src/sub"
for i in 1 2 3 4 5; do
	head -c $((i * 10000)) /dev/urandom >"$src/small$i"
done
head -c 300000 /dev/urandom >"$src/sub/mid"
head -c $((1 << 20)) /dev/urandom >"$src/sub/limit" # exactly the limit: fits
head -c $((4 << 20)) /dev/urandom >"$src/big"
q=$(re_quote "$src")

for mode in thread process; do
	for force in "" no_copy_file_range; do
		what="$mode${force:+ $force}"
		dst=$W/dst
		rc=0
		(
			ulimit -f 1024
			exec timeout -k 5 60 env ${force:+PCOPY_FORCE=$force} \
				"$PCOPY" --mode="$mode" "$src" "$dst"
		) >"$T/out" 2>"$T/err" || rc=$?
		if [ "$rc" -eq 153 ]; then
			fail "$what: pcopy was killed by SIGXFSZ (exit 153); it must ignore SIGXFSZ and report EFBIG"
		fi
		if [ "$rc" -ne 1 ]; then
			head -n 20 "$T/err" >&2
			fail "$what: exit status $rc, expected 1"
		fi
		assert_grep "$T/err" "^pcopy: '$(re_quote "$dst")/big': File too large$"
		check_messages "$T/err"
		[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: more than one error: $(cat "$T/err")"
		[ ! -e "$dst/big" ] || fail "$what: big exists in DST"
		check_subset "$src" "$dst"
		assert_eq "$NFILES" 7 "$what: files copied"
		left=$(pgrep -af -- "$dst") && fail "$what: processes left: $left"
		rm -rf "$dst"
	done
done
exit 0
