#!/bin/bash
# Run the whole-program tests: every tests/t_*.sh in name order, or only those
# whose name contains one of the arguments.  Each runs under a timeout (TEST_TIMEOUT seconds,
# default 300).  Prints PASS|FAIL|SKIP per script (a failing script's output
# follows its line) and a last line "N passed, N failed, N skipped".
# Exit 0 only when no script failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(dirname "$here")}
PCOPY=${PCOPY:-$SRCDIR/pcopy}
TREECMP=${TREECMP:-$SRCDIR/tests/tools/treecmp}
FAULTSHIM=${FAULTSHIM:-$SRCDIR/tests/tools/faultshim.so}
export SRCDIR PCOPY TREECMP FAULTSHIM

limit=${TEST_TIMEOUT:-300}
passed=0 failed=0 skipped=0
out=$(mktemp "${TMPDIR:-/tmp}/pcopy-run.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT

# run one script, print its verdict, count it
run_one() {
	local script=$1 name rc=0
	name=$(basename "$script" .sh)
	timeout -k 10 "$limit" bash "$script" >"$out" 2>&1 </dev/null || rc=$?
	case $rc in
	0)
		echo "PASS $name"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name ($(grep -m1 '^SKIP:' "$out" | sed 's/^SKIP: *//'))"
		skipped=$((skipped + 1))
		;;
	*)
		[ "$rc" -eq 124 ] && echo "timed out after ${limit}s" >>"$out"
		echo "FAIL $name (exit $rc)"
		sed 's/^/    /' "$out"
		failed=$((failed + 1))
		;;
	esac
}

# true if the test called $1 is selected by the arguments (none: all)
selected() {
	local f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do
		case $1 in *"$f"*) return 0 ;; esac
	done
	return 1
}

filters=("$@")
while IFS= read -r script; do
	selected "$(basename "$script" .sh)" && run_one "$script"
done < <(LC_ALL=C find "$here" -maxdepth 1 -name 't_*.sh' -type f | LC_ALL=C sort)

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
