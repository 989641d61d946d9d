#!/bin/bash
# A dry run (-n) makes the decisions of the real run: the same lines on
# -v, the same counts in --stats=json (but elapsed time), the same error
# lines and exit status, on a tree whose copy meets type conflicts in DST
# (a file where SRC has a directory, a directory where SRC has a file) and
# for a single-file SRC; and it writes nothing.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m
src=$W/src
cp -a "$FIXTURES/sample" "$src" || fail "cannot copy fixtures/sample"
mkdir -p "$src/sub/deeper" "$src/asdir"
echo a >"$src/sub/f"
echo b >"$src/plain"
echo c >"$src/asdir/x"
ln "$src/plain" "$src/plain-link"

# compare a dry run with the real run of the same arguments (DST last)
same_as_real() {
	local want=$1 dst=${!#} rc_dry=0 rc_real=0
	shift
	local before
	before=$(find "$dst" -printf '%p %y %s %T@\n' 2>/dev/null | sort)
	"$PCOPY" -n -v --stats=json "$@" >"$T/dry.out" 2>"$T/dry.err" || rc_dry=$?
	assert_eq "$(find "$dst" -printf '%p %y %s %T@\n' 2>/dev/null | sort)" "$before" \
		"DST after a dry run of $*"
	"$PCOPY" -v --stats=json "$@" >"$T/real.out" 2>"$T/real.err" || rc_real=$?
	assert_eq "$rc_dry" "$rc_real" "dry-run status vs real ($*)"
	assert_eq "$rc_real" "$want" "status of $*"
	assert_eq "$(grep -v '^{' "$T/dry.out" | sort)" "$(grep -v '^{' "$T/real.out" | sort)" \
		"-v lines of the dry run vs the real run ($*)"
	grep '^{' "$T/dry.out" >"$T/dry.json"
	grep '^{' "$T/real.out" >"$T/real.json"
	assert_eq "$(stats_counts "$T/dry.json")" "$(stats_counts "$T/real.json")" "stats ($*)"
	assert_eq "$(sort "$T/dry.err")" "$(sort "$T/real.err")" "error lines ($*)"
}

for mode in thread process; do
	d=$W/$mode
	mkdir "$d"
	# a fresh copy
	same_as_real 0 --mode="$mode" "$src" "$d/fresh"
	treecmp "$src" "$d/fresh"
	# conflicts: a file where SRC has a directory, a directory where SRC has a file
	mkdir -p "$d/conflict"
	echo x >"$d/conflict/sub"
	mkdir -p "$d/conflict/plain/inner"
	ln -s nowhere "$d/conflict/asdir"
	same_as_real 1 --mode="$mode" -T "$src" "$d/conflict"
	assert_grep "$T/real.err" "'$d/conflict/sub': cannot overwrite non-directory with directory"
	assert_grep "$T/real.err" "'$d/conflict/plain': cannot overwrite directory with non-directory"
	[ -d "$d/conflict/asdir" ] || fail "$mode: a symlink in DST was not replaced by a directory"
	# a single file, new and over an existing one
	same_as_real 0 --mode="$mode" "$src/plain" "$d/one"
	treecmp "$src/plain" "$d/one"
	echo older >"$d/two"
	same_as_real 0 --mode="$mode" "$src/plain" "$d/two"
	assert_grep "$T/dry.json" '"files":1,'
done
no_temporaries "$W"
exit 0
