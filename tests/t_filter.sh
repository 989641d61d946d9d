#!/bin/bash
# --exclude, --include, --exclude-from, --include-from: on a tree with
# caches, logs and nested directories, each rule set copies (thread and
# process mode) exactly the paths `rsync -a` copies with the same rules
# (skipped with a message when rsync is missing; a few rule sets also have
# their answer written out here), every copied file is identical to its
# source; an excluded directory is not entered (a loop in it followed with
# -L, or an unreadable one, is no error); the --progress=json totals count
# what is copied, also while the counting scan runs; a rules file with
# comments, CRLF and "+ "/"- " lines, from a path and from stdin, and -0;
# a single-file SRC filtered by its name; an unreadable rules file: exit 2.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 128m
have_rsync=0
have_cmd rsync "the comparisons with rsync -a" && have_rsync=1

src=$W/src
mkdir -p "$src"/{logs,cache/sub,a/cache,a/b/logs,src/sub/deep,build/obj,empty,d}
for f in top.txt keep.log a.log logs/l1 logs/l2.log cache/c1 cache/sub/c2 a/x.c a/y.h \
	a/cache/c3 a/b/logs/l3 a/b/z.log src/main.c src/sub/m.o src/sub/b.c src/sub/deep/n.o \
	src/sub/deep/bz.c build/obj/o.o d/logs 'odd name.tmp' .hidden b.txt c.txt; do
	printf '%s\n' "content of $f" >"$src/$f"
done
head -c 70000 /dev/urandom >"$src/src/big.c"
ln -s top.txt "$src/link"
ln -s nowhere "$src/a/dangling.log"
mkfifo "$src/a/pipe"

# the paths of tree $1 with their types, one per line, sorted
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%y %p\n' | LC_ALL=C sort)
}

# every regular file in the copy $1 is identical to its source
same_files() {
	local rel
	while IFS= read -r -d '' rel; do
		cmp -s -- "$src/$rel" "$1/$rel" || fail "$1/$rel differs from its source"
	done < <(cd "$1" && find . -type f -print0)
	no_temporaries "$1"
}

# copy $src with pcopy in both modes and, if present, rsync -a, with the
# rules given as arguments; the listings must agree; $RESULT is pcopy's
# (thread mode) listing
compare_rules() {
	local mode want="" got
	if [ "$have_rsync" = 1 ]; then
		rm -rf "$W/rsync"
		rsync -a "$@" "$src/" "$W/rsync/" >"$T/rsync.out" 2>&1 ||
			fail "rsync -a $* failed: $(head -n 5 "$T/rsync.out")"
		want=$(listing "$W/rsync")
	fi
	for mode in thread process; do
		rm -rf "$W/dst"
		pcopy_ok --mode="$mode" "$@" "$src" "$W/dst"
		assert_empty "$T/err"
		same_files "$W/dst"
		got=$(listing "$W/dst")
		if [ "$have_rsync" = 1 ] && [ "$got" != "$want" ]; then
			log "pcopy --mode=$mode $* differs from rsync -a (< rsync, > pcopy):"
			diff <(echo "$want") <(echo "$got") >&2
			fail "rules $* copy other paths than rsync -a"
		fi
		[ "$mode" = thread ] && RESULT=$got
	done
	# the tree is left in $W/dst for the caller
}

# the sorted listing of the paths given as "type path" arguments
expect() {
	printf '%s\n' "$@" | LC_ALL=C sort
}

# rule sets checked against rsync only
compare_rules --exclude='logs/'
compare_rules --exclude='/logs'
compare_rules --exclude='cache/' --exclude='*.o'
compare_rules --exclude='sub/deep'
compare_rules --exclude='src/**/*.o'
compare_rules --exclude='/src/**/b*.c'
compare_rules --exclude='**/cache'
compare_rules --exclude='?.txt' --exclude='[a-c]*.c'
compare_rules --exclude='*.tmp' --exclude='.*' --exclude='link'
compare_rules --include='/src/***' --exclude='*'
compare_rules --exclude='*.log' --include='keep.log'
compare_rules --exclude='a/b/' --include='a/b/z.log'
compare_rules --exclude='*' --include='*'

# rule sets whose answer is also written out here
compare_rules --exclude='*.log'
assert_eq "$(grep -c 'log$' <<<"$RESULT")" 0 "*.log files left by --exclude='*.log'"
grep -q '^d ./logs$' <<<"$RESULT" || fail "the directory logs went with --exclude='*.log'"
compare_rules --include='keep.log' --exclude='*.log' --exclude='/logs'
grep -q '^f ./keep.log$' <<<"$RESULT" || fail "keep.log not kept by the earlier include"
grep -q 'l1$' <<<"$RESULT" && fail "/logs was entered"
grep -q '^d ./a/b/logs$' <<<"$RESULT" || fail "/logs excluded a/b/logs too"
compare_rules --include='*/' --include='*.c' --exclude='*'
assert_eq "$RESULT" "$(expect 'd ./a' 'd ./a/b' 'd ./a/b/logs' 'd ./a/cache' 'd ./build' \
	'd ./build/obj' 'd ./cache' 'd ./cache/sub' 'd ./d' 'd ./empty' 'd ./logs' 'd ./src' \
	'd ./src/sub' 'd ./src/sub/deep' 'f ./a/x.c' 'f ./src/big.c' 'f ./src/main.c' \
	'f ./src/sub/b.c' 'f ./src/sub/deep/bz.c')" "include dirs and *.c, exclude the rest"
compare_rules --exclude='logs/' --exclude='cache/'
assert_eq "$(grep -cE 'cache|/l[0-9]' <<<"$RESULT")" 0 "cache or logs entries copied"
grep -q '^f ./d/logs$' <<<"$RESULT" || fail "the file d/logs was taken for a directory"

# an excluded directory is not entered: a loop inside it, followed with -L,
# would be an error (the other loop shows the check can fail)
mkdir -p "$W/loops/skipme" "$W/loops/other"
ln -s .. "$W/loops/skipme/up"
ln -s .. "$W/loops/other/up"
for mode in thread process; do
	assert_exit 0 "$PCOPY" --mode="$mode" -L --exclude=skipme --exclude=other "$W/loops" "$W/l-$mode"
	assert_empty "$T/err"
	assert_exit 1 "$PCOPY" --mode="$mode" -L --exclude=skipme "$W/loops" "$W/l1-$mode"
	assert_grep "$T/err" "other/up': directory cycle"
done

# an unreadable excluded directory is no error (as a user who cannot read it)
if [ "$(id -u)" -ne 0 ]; then
	as_user() { "$@"; }
elif command -v setpriv >/dev/null 2>&1; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	chmod 0755 "$T" "$W"
	chmod -R a+rX "$src"
else
	as_user=
fi
if [ "$(type -t as_user)" = function ] && as_user test -x "$W" && as_user "$PCOPY" --version >/dev/null 2>&1; then
	mkdir -p "$W/locked/secret" "$W/out"
	echo x >"$W/locked/secret/f"
	echo y >"$W/locked/open"
	chmod 0755 "$W/locked"
	chmod 0000 "$W/locked/secret"
	chmod 0777 "$W/out"
	for mode in thread process; do
		assert_exit 0 as_user "$PCOPY" --mode="$mode" --exclude=secret/ "$W/locked" "$W/out/$mode"
		assert_empty "$T/err"
		assert_eq "$(listing "$W/out/$mode")" "f ./open" "copy of a tree with an excluded unreadable dir"
		assert_exit 1 as_user "$PCOPY" --mode="$mode" "$W/locked" "$W/out/$mode-all"
		assert_grep "$T/err" "secret': Permission denied"
	done
	chmod 0755 "$W/locked/secret"
else
	echo "cannot run pcopy as a user who cannot read a mode-000 directory: that check is skipped"
fi

# the progress totals count what is copied: at the end, and while the
# counting scan runs (a slowed copy through a queue of one, so lines come
# while the walker is held back and only the scan's count is known)
mkdir -p "$W/many/junk" "$W/many/kept"
for i in $(seq 1 300); do echo "$i" >"$W/many/junk/j$i"; done
for i in $(seq 1 40); do echo "$i" >"$W/many/kept/k$i"; done
need_faultshim
for mode in thread process; do
	rm -rf "$W/dst"
	LD_PRELOAD=$FAULTSHIM FAULT_OP=open FAULT_DELAY_US=40000 \
		pcopy_ok --mode="$mode" -j 1 --queue=1 --progress=json --stats=json \
		--exclude=junk/ "$W/many" "$W/dst"
	python3 - "$T/err" "$(find "$W/dst" ! -type d | wc -l)" \
		"$(find "$W/dst" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')" <<'PY' ||
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
nondirs, nbytes = int(sys.argv[2]), int(sys.argv[3])
final = lines[-1]
assert final["done"] and final["files_total"] == nondirs == final["files_done"], final
assert final["bytes_total"] == nbytes == final["bytes_done"], final
for obj in lines:
    assert obj["files_total"] <= nondirs, f"a total counted excluded entries: {obj}"
assert len(lines) >= 2, f"no progress line before the end ({len(lines)} lines)"
PY
		fail "$mode: --progress=json totals do not count what is copied ($(tail -n 2 "$T/err"))"
	assert_eq "$(listing "$W/dst" | grep -c junk)" 0 "$mode: junk copied"
done

# rules from a file: comments, blank lines, CRLF, "+ " and "- " lines
printf '# caches and logs\r\n; another comment\n\n+ keep.log\r\n*.log\n- cache/\n+ a/\n' >"$T/rules"
compare_rules --exclude-from="$T/rules"
grep -q '^f ./keep.log$' <<<"$RESULT" || fail "keep.log excluded despite '+ keep.log' in the file"
grep -q 'cache' <<<"$RESULT" && fail "cache copied despite '- cache/' in the file"
# the same from stdin, and after an --include given first
pcopy_ok --include='a.log' --exclude-from=- "$src" "$W/stdin" <"$T/rules"
listing "$W/stdin" | grep -q '^f ./a.log$' || fail "--include given before --exclude-from lost"
listing "$W/stdin" | grep -q 'l2.log' && fail "rules read from stdin not applied"
# --include-from, and -0 (even after the option it applies to)
printf '*.c\0*/\0' >"$T/rules0"
compare_rules -0 --include-from="$T/rules0" --exclude='*'
assert_eq "$(grep -c '^f' <<<"$RESULT")" 5 "files left by --include-from=*.c,*/ --exclude=*"
# (rsync reads the file as it meets the option, so there -0 must come first)
pcopy_ok --include-from="$T/rules0" --exclude='*' -0 "$src" "$W/late0"
assert_eq "$(listing "$W/late0")" "$RESULT" "-0 after --include-from"
# a single-file SRC is filtered by its name
pcopy_ok --exclude='*.log' "$src/keep.log" "$W/one.log"
[ ! -e "$W/one.log" ] || fail "an excluded single-file SRC was copied"
pcopy_ok --exclude='*.txt' "$src/keep.log" "$W/one.log"
cmp -s "$src/keep.log" "$W/one.log" || fail "a single-file SRC not excluded was not copied"
# a rules file that cannot be read: nothing starts
assert_exit 2 "$PCOPY" --exclude-from="$T/nonexistent" "$src" "$W/none"
assert_grep "$T/err" "nonexistent': No such file or directory"
[ ! -e "$W/none" ] || fail "something was copied with an unreadable rules file"
exit 0
