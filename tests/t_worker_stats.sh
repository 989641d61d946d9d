#!/bin/bash
# Regular files are stat'ed by the workers, not the walker (JOB_UNSTATED);
# multiply-linked ones come back to the walker through the spill file, and
# its walk-order rule decides which name is copied and which linked.  The
# result must be the one the walker's own stats give (PCOPY_FORCE=
# walker_stats): the same tree, the same -i lines, the same stats, in both
# modes, with one worker or many, a queue of one or more.  Faults in the
# spill file: a failed write keeps the data (the name is copied on its own,
# an error, exit 1); a failed read-back is an error naming the cause, exit 1.
. "$(dirname "$0")/lib.sh"
need_pcopy
need_faultshim

src=$W/src
mkdir -p "$src/a/deep/er" "$src/b" "$src/c"
for i in $(seq 1 40); do
	printf 'file %d\n' "$i" >"$src/a/f$i"
	ln "$src/a/f$i" "$src/b/g$i"
	((i % 4 == 0)) && ln "$src/a/f$i" "$src/c/h$i"
done
head -c 300000 /dev/urandom >"$src/a/deep/er/big"
ln "$src/a/deep/er/big" "$src/big-link"
for i in $(seq 1 30); do printf 'single %d\n' "$i" >"$src/c/s$i"; done
ln -s a/f1 "$src/sym"
mkfifo "$src/fifo"

# -i lines with the destination's name taken out, sorted (stats: stats_counts)
itemized() { grep -v '^{' "$1" | sed "s|$2|DST|" | sort; }

for mode in thread process; do
	for opts in "-j 1 --queue=1" "-j 2" "-j 4 --queue=2"; do
		# shellcheck disable=SC2086
		set -- --mode="$mode" $opts -i --stats=json
		rm -rf "$W/lazy" "$W/walker"
		pcopy_ok "$@" "$src" "$W/lazy"
		itemized "$T/out" "$W/lazy" >"$T/lazy.items"
		grep '^{' "$T/out" >"$T/lazy.stats"
		PCOPY_FORCE=walker_stats pcopy_ok "$@" "$src" "$W/walker"
		itemized "$T/out" "$W/walker" >"$T/walker.items"
		grep '^{' "$T/out" >"$T/walker.stats"
		treecmp "$src" "$W/lazy"
		treecmp "$W/walker" "$W/lazy"
		no_temporaries "$W/lazy"
		cmp -s "$T/lazy.items" "$T/walker.items" || {
			diff "$T/walker.items" "$T/lazy.items" >&2
			fail "$mode $opts: -i lines differ from the walker's stats"
		}
		assert_eq "$(stats_counts "$T/lazy.stats")" "$(stats_counts "$T/walker.stats")" \
			"$mode $opts: stats"
		# 40 + 10 + 1 later names linked, each once
		assert_eq "$(grep -c '^hf' "$T/lazy.items")" 51 "$mode $opts: hard links"
		# a second run changes nothing, and says so
		pcopy_ok --mode="$mode" $opts -i --update=changed -T "$src" "$W/lazy"
		assert_empty "$T/out"
	done
done

# spill_fault MODE OP ERRNO: copy $src to a fresh $W/dst in MODE with the
# first OP on the spill file failing with ERRNO; exit status in RC, output
# in $T/out and $T/err
spill_fault() {
	rm -rf "$W/dst" "$T/shim.log"
	RC=0
	timeout -k 5 60 env LD_PRELOAD="$FAULTSHIM" FAULT_OP="$2" FAULT_NTH=1 \
		FAULT_ERRNO="$3" FAULT_LOG="$T/shim.log" FAULT_PATH_SUBSTR=pcopy-spill \
		"$PCOPY" --mode="$1" -j 2 "$src" "$W/dst" >"$T/out" 2>"$T/err" || RC=$?
	[ -s "$T/shim.log" ] || fail "$1: spill $2: the shim did not fire"
}

# the spill file cannot be written: that name is then copied on its own
for mode in thread process; do
	spill_fault "$mode" write ENOSPC
	check_messages "$T/err"
	assert_eq "$RC" 1 "$mode: spill write: exit status"
	assert_eq "$(wc -l <"$T/err")" 1 "$mode: spill write: error lines"
	assert_grep "$T/err" "^pcopy: '$(re_quote "$src")/.+': cannot keep its hard links: No space left on device$"
	(cd "$src" && find . -type f) | while IFS= read -r f; do
		cmp -s "$src/$f" "$W/dst/$f" || fail "$mode: spill write: $f differs"
	done
	no_temporaries "$W/dst"
done

# the spill file cannot be read back: said once, exit 1, nothing partial
for mode in thread process; do
	spill_fault "$mode" read EIO
	assert_eq "$RC" 1 "$mode: spill read: exit status"
	assert_grep "$T/err" "^pcopy: cannot read back the list of multiply-linked files: Input/output error$"
	cmp -s "$src/c/s1" "$W/dst/c/s1" || fail "$mode: spill read: a single file was not copied"
	no_temporaries "$W/dst"
done
exit 0
