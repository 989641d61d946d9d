#!/bin/bash
# -L (follow symbolic links in SRC): a symlink loop is reported as what it
# is, "Too many levels of symbolic links" (as cp -L says), not as a
# directory cycle: a link to itself (loop -> loop) and two links to each
# other (a -> b, b -> a); each gets its one line, the rest is copied, exit 1.
# A real directory cycle (d/up -> ..) still says "directory cycle, not
# followed", exit 1.  Thread and process mode, and pcopy-mpi on 3 ranks when
# it is built.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 16m

loops=$W/loops
mkdir -p "$loops/d"
echo data >"$loops/d/f"
echo top >"$loops/g"
ln -s loop "$loops/loop"
ln -s b "$loops/a"
ln -s a "$loops/b"
q=$(re_quote "$loops")

cycle=$W/cycle
mkdir -p "$cycle/d"
echo data >"$cycle/d/f"
ln -s .. "$cycle/d/up"
qc=$(re_quote "$cycle")

# pcopy's own lines of the last run (mpirun's report of a failed job, a
# block between lines of dashes, left out)
pcopy_lines() {
	awk '/^-----/ { inside = !inside; next } !inside' "$T/err" >"$T/err-pcopy"
}

set_kinds default
for kind in "${KINDS[@]}"; do
	assert_exit 1 run_kind "$kind" -L "$loops" "$W/loops-$kind"
	pcopy_lines
	check_messages "$T/err-pcopy"
	if grep -q 'directory cycle' "$T/err-pcopy"; then
		fail "$kind: a symlink loop called a directory cycle: $(cat "$T/err-pcopy")"
	fi
	for n in loop a b; do
		assert_grep "$T/err-pcopy" "^pcopy: '$q/$n': Too many levels of symbolic links$"
	done
	assert_eq "$(wc -l <"$T/err-pcopy")" 3 "$kind: lines on stderr for the loops"
	for f in d/f g; do
		cmp -s "$loops/$f" "$W/loops-$kind/$f" || fail "$kind: $f not copied beside the loops"
	done

	assert_exit 1 run_kind "$kind" -L "$cycle" "$W/cycle-$kind"
	pcopy_lines
	check_messages "$T/err-pcopy"
	assert_grep "$T/err-pcopy" "^pcopy: '$qc/d/up': directory cycle, not followed$"
	assert_eq "$(wc -l <"$T/err-pcopy")" 1 "$kind: lines on stderr for the cycle"
	cmp -s "$cycle/d/f" "$W/cycle-$kind/d/f" || fail "$kind: d/f not copied beside the cycle"
done
exit 0
