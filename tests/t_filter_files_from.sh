#!/bin/bash
# --files-from (and -0): only the listed paths are copied, with the
# directories leading to them (their modes and times kept), a listed
# directory with all inside it; the result is the list of paths that
# `rsync -a -r --files-from` copies (skipped with a message without
# rsync), in thread and process mode, also with --exclude; the list from
# stdin and NUL-separated (a name holding a newline); a listed path that
# is missing: exit 1 naming it, the rest copied; a ".." path: exit 2 and
# nothing written; --progress=json totals count what is copied.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m
have_rsync=0
have_cmd rsync "the comparisons with rsync" && have_rsync=1

src=$W/src
mkdir -p "$src"/{a/b/c,a/keep,x/y/z,docs,unlisted}
for f in a/b/c/f1 a/b/f2 a/f3 a/keep/k1 a/keep/k2.log x/y/z/deep x/y/g docs/readme top unlisted/u; do
	printf '%s\n' "content of $f" >"$src/$f"
done
ln -s top "$src/link"
chmod 0750 "$src/x/y"
touch -d '2001-02-03 04:05:06' "$src/x/y" "$src/x"

# the paths of tree $1 with their types, one per line, sorted
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%y %p\n' | LC_ALL=C sort)
}

# copy with pcopy (both modes) and rsync -a -r, the same options (the
# list among them); the listings must agree; RESULT is pcopy's listing
compare_list() {
	local mode want="" got
	if [ "$have_rsync" = 1 ]; then
		rm -rf "$W/rsync"
		rsync -a -r "$@" "$src/" "$W/rsync/" >"$T/rsync.out" 2>&1 ||
			fail "rsync -a -r $* failed: $(head -n 5 "$T/rsync.out")"
		want=$(listing "$W/rsync")
	fi
	for mode in thread process; do
		rm -rf "$W/dst"
		pcopy_ok --mode="$mode" "$@" "$src" "$W/dst"
		assert_empty "$T/err"
		got=$(listing "$W/dst")
		if [ "$have_rsync" = 1 ] && [ "$got" != "$want" ]; then
			log "pcopy --mode=$mode $* differs from rsync -a -r (< rsync, > pcopy):"
			diff <(echo "$want") <(echo "$got") >&2
			fail "$* copies other paths than rsync -a -r"
		fi
		[ "$mode" = thread ] && RESULT=$got
	done
}

printf '%s\n' '# a comment' 'a/b/f2' '/x/y/z' '' 'a/keep' 'top' 'a/b/f2' './docs//readme' \
	'link' 'a/keep/k1' >"$T/list"
compare_list --files-from="$T/list"
assert_eq "$RESULT" "$(printf '%s\n' 'd ./a' 'd ./a/b' 'd ./a/keep' 'd ./docs' 'd ./x' 'd ./x/y' \
	'd ./x/y/z' 'f ./a/b/f2' 'f ./a/keep/k1' 'f ./a/keep/k2.log' 'f ./docs/readme' \
	'f ./top' 'f ./x/y/z/deep' 'l ./link' | LC_ALL=C sort)" "paths copied from the list"
# directories leading to a listed path keep their metadata
assert_eq "$(stat -c '%a %Y' "$W/dst/x/y")" "$(stat -c '%a %Y' "$src/x/y")" "mode and mtime of x/y"
assert_eq "$(stat -c '%Y' "$W/dst/x")" "$(stat -c '%Y' "$src/x")" "mtime of x"
cmp -s "$src/x/y/z/deep" "$W/dst/x/y/z/deep" || fail "x/y/z/deep differs"
full=$RESULT
# with a filter too: it applies to the listed paths and what is inside
# them, not to the directories leading to them (as rsync)
compare_list --files-from="$T/list" --exclude='*.log' --exclude=docs/ --exclude=link
grep -qE 'k2.log|link' <<<"$RESULT" && fail "the filter was not applied to listed paths"
grep -q 'readme' <<<"$RESULT" || fail "a listed file under an excluded directory name went"

# the list from stdin, and NUL-separated with a name holding a newline
nl_name=$'new\nline'
printf 'x\n' >"$src/$nl_name"
pcopy_ok --files-from=- "$src" "$W/stdin" <"$T/list"
assert_eq "$(listing "$W/stdin")" "$full" "the list read from stdin"
printf 'top\0%s\0a/f3\0' "$nl_name" >"$T/list0"
compare_list -0 --files-from="$T/list0"
[ -f "$W/dst/$nl_name" ] || fail "-0: the name with a newline was not copied"
assert_eq "$(find "$W/dst" ! -type d -printf . | wc -c)" 3 "-0: entries copied"

# a listed path that is missing: exit 1, named, the rest copied
printf '%s\n' 'top' 'nothere' 'a/nothere/deeper' 'a/f3' >"$T/missing"
for mode in thread process; do
	assert_exit 1 "$PCOPY" --mode="$mode" --files-from="$T/missing" "$src" "$W/m-$mode"
	assert_grep "$T/err" "^pcopy: '$(re_quote "$src")/nothere': No such file or directory$"
	assert_grep "$T/err" "/a/nothere/deeper': No such file or directory$"
	assert_eq "$(wc -l <"$T/err")" 2 "$mode: error lines"
	[ -f "$W/m-$mode/top" ] && [ -f "$W/m-$mode/a/f3" ] || fail "$mode: listed files not copied"
done

# a path with "..": refused before anything is written
printf '%s\n' 'top' 'a/../../etc/passwd' >"$T/dotdot"
assert_exit 2 "$PCOPY" --files-from="$T/dotdot" "$src" "$W/dotdot"
assert_grep "$T/err" "'a/\.\./\.\./etc/passwd': a path with '\.\.' is refused"
[ ! -e "$W/dotdot" ] || fail "something was written with a '..' in the list"
# one SRC only, and a directory
assert_exit 2 "$PCOPY" --files-from="$T/list" "$src" "$src/a" "$W/two"
assert_exit 2 "$PCOPY" --files-from="$T/list" "$src/top" "$W/file"

# --progress=json totals count what the list copies
for mode in thread process; do
	rm -rf "$W/dst"
	pcopy_ok --mode="$mode" --progress=json --files-from="$T/list" "$src" "$W/dst"
	last=$(tail -n 1 "$T/err")
	n=$(find "$W/dst" ! -type d | wc -l)
	bytes=$(find "$W/dst" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
	case $last in
	*"\"files_done\":$n,\"files_total\":$n,\"bytes_done\":$bytes,\"bytes_total\":$bytes,"*) ;;
	*) fail "$mode: final progress $last, expected $n entries and $bytes bytes" ;;
	esac
done
exit 0
