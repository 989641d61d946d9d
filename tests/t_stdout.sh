#!/bin/bash
# Standard output is checked (issue 10, item 1), in both worker modes:
# - a write error (stdout on /dev/full, or closed) under --stats=json, -v,
#   -n -v, a single-entry -v and --help/--version: status 1, exactly one
#   "pcopy: write error on standard output: ..." line on stderr however many
#   lines failed, and the data still copied;
# - a reader that goes away (-v | head -1 on a tree whose listing is far
#   larger than a pipe holds): status 141 (128+SIGPIPE), nothing on stderr
#   (no message, no stats), the run stopped early, no temporaries in DST, no
#   process left.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
[ -c /dev/full ] && [ -w /dev/full ] || skip "needs a writable /dev/full"
use_tmpfs 256m
src=$W/src
cp -a "$FIXTURES/sample" "$src" || fail "cannot copy fixtures/sample"
mkdir -p "$src/more"
for i in $(seq 1 40); do echo "$i" >"$src/more/f$i"; done

# run pcopy ARGS with stdout on /dev/full; status 1, one message, copy intact
# (DST is the last argument; "-" for none)
full() {
	local dst=${*: -1} rc=0
	"$PCOPY" "$@" >/dev/full 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ] || {
		cat "$T/err" >&2
		fail "pcopy $* >/dev/full: status $rc, expected 1"
	}
	assert_eq "$(cat "$T/err")" \
		"pcopy: write error on standard output: No space left on device" "stderr of $*"
	case $dst in -* | "") ;; *) [ -e "$dst" ] && treecmp "$src" "$dst" ;; esac
}

for mode in thread process; do
	full --mode="$mode" -j 4 --stats=json "$src" "$W/json-$mode"
	full --mode="$mode" -j 4 -v "$src" "$W/v-$mode"
	full --mode="$mode" -j 1 -v --stats=json "$src" "$W/vj-$mode"
	full --mode="$mode" -n -v "$src" "$W/dry-$mode"
	[ ! -e "$W/dry-$mode" ] || fail "-n wrote DST"
	rm -rf "$W/json-$mode" "$W/v-$mode" "$W/vj-$mode"
done
# a single entry, copied by the parent itself
rc=0
"$PCOPY" -v "$src/README.txt" "$W/single" >/dev/full 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "status of a single-entry -v >/dev/full"
assert_eq "$(grep -c 'write error on standard output' "$T/err")" 1 "messages (single)"
cmp -s "$src/README.txt" "$W/single" || fail "single entry not copied"

# --help and --version: the stdio stream is checked when it is closed
for opt in --help --version; do
	rc=0
	"$PCOPY" "$opt" >/dev/full 2>"$T/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "pcopy $opt >/dev/full exited 0"
	assert_eq "$(cat "$T/err")" \
		"pcopy: write error on standard output: No space left on device" "stderr of $opt"
done

# stdout closed: EBADF is a write error like any other
rc=0
"$PCOPY" -v "$src" "$W/closed" >&- 2>"$T/err" || rc=$?
assert_eq "$rc" 1 "status of -v with stdout closed"
assert_eq "$(grep -c '^pcopy: write error on standard output: ' "$T/err")" 1 "messages (closed)"
treecmp "$src" "$W/closed"
rm -rf "$W/closed"

# a listing far larger than a pipe holds: 5000 entries (~300 KB of -v lines),
# a few big files first so that copies are in flight when the pipe closes
big=$W/big
mkdir -p "$big/a-big"
for i in 1 2 3 4; do head -c 4M /dev/urandom >"$big/a-big/blob$i"; done
for d in $(seq -w 1 20); do
	mkdir "$big/d$d"
	(cd "$big/d$d" && touch $(seq -f 'file-with-a-long-name-%03g' 1 250))
done
total=$(find "$big" | wc -l)

# head_one MODE ARGS...: pcopy -v ARGS | head -1; status 141, quiet, stopped
head_one() {
	local mode=$1 dst=$W/piped-$mode
	shift
	rm -rf "$dst"
	PCOPY_FORCE=no_tmpfile "$PCOPY" --mode="$mode" -j 2 "$@" "$big" "$dst" 2>"$T/err" |
		head -n 1 >"$T/first"
	local st=("${PIPESTATUS[@]}")
	assert_eq "${st[0]}" 141 "status of pcopy $* | head -1 ($mode)"
	assert_empty "$T/err"
	[ "$(wc -l <"$T/first")" -eq 1 ] || fail "head got no line ($mode)"
	if [ -e "$dst" ]; then
		no_temporaries "$dst"
		[ "$(find "$dst" | wc -l)" -lt "$total" ] || fail "the run was not stopped ($mode)"
	fi
	no_process_left
}

for mode in thread process; do
	head_one "$mode" -v
	head_one "$mode" -v --stats
	head_one "$mode" -v --stats=json --progress=plain
	head_one "$mode" -n -v
done
exit 0
