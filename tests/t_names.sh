#!/bin/bash
# Names are printed quoted (issue 10, item 2), in both worker modes:
# - -v and -n -v on a tree whose names hold a newline, a tab, ESC, a byte
#   that is not UTF-8 and a single quote print one line per entry; a line
#   with no quote is the path as is, a line with one is shell-escaped and
#   bash reads it back as the exact path; no raw ESC reaches stdout;
# - an error line for a name with a newline is one line, shows $'\n', and
#   bash reads the quoted name back: a conflict in DST (any user) and an
#   unreadable file (as uid 65534, root only);
# - a refusal naming a missing SRC with a newline is one line.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
use_tmpfs 64m
src=$W/src
odd=(
	$'new\nline' $'tab\there' $'esc\033[31mred' $'bad\377byte' "it's" $'\n' $'\033'
	'plain name' $'caf\303\251' $'\302\233csi' '$(echo no)'
)
sub=$'sub\ndir'
nl=$'new\nline'
mkdir -p "$src/$sub"
for n in "${odd[@]}"; do
	printf '%s' "$n" >"$src/$n" || fail "cannot make a file named $(printf %q "$n")"
	printf '%s' "$n" >"$src/$sub/$n"
done
mkdir "$src/"$'dir\033x'
ln -s $'target\nwith newline' "$src/"$'link\tname'

# decode FILE: each line of -v output to its path, NUL-terminated, sorted
decode() {
	local line
	while IFS= read -r line; do
		case $line in
		*"'"*) eval "printf '%s\0' $line" ;;
		*) printf '%s\0' "$line" ;;
		esac
	done <"$1" | sort -z
}

# check the -v output in $T/out against the entries of SRC under PREFIX
check_listing() {
	local prefix=$1 what=$2
	(cd "$src" && find . -mindepth 1 -printf "$prefix/%P\\0") | sort -z >"$T/want"
	decode "$T/out" >"$T/got"
	cmp -s "$T/want" "$T/got" || {
		log "want:" && tr '\0' '\n' <"$T/want" | cat -A >&2
		log "stdout:" && cat -A "$T/out" >&2
		fail "-v lines do not give back the names ($what)"
	}
	assert_eq "$(wc -l <"$T/out")" "$(tr -cd '\0' <"$T/want" | wc -c)" "lines ($what)"
	! grep -q $'\033' "$T/out" "$T/err" || fail "a raw ESC was printed ($what)"
	! grep -q "'" <(grep -v "^'" "$T/out") || fail "a bare line holds a quote ($what)"
}

for mode in thread process; do
	dst=$W/copy-$mode
	pcopy_ok --mode="$mode" -j 3 -v "$src" "$dst"
	treecmp "$src" "$dst"
	check_listing "$dst" "-v $mode"
	pcopy_ok --mode="$mode" -n -v "$src" "$W/dry-$mode"
	check_listing "$W/dry-$mode" "-n -v $mode"
	rm -rf "$dst"
done
# a single entry whose name needs quoting
pcopy_ok -v "$src/$nl" "$W/"$'one\033'
assert_eq "$(cat "$T/out")" "'$W/one'\$'\\033'" "-v of a single entry"

# $T/err must be one line "pcopy: PREFIX'quoted name': reason" that shows
# $'\n' and whose quoted name bash reads back as WANT ($1)
check_error_line() {
	local want=$1 prefix=${2:-} line quoted got
	assert_eq "$(wc -l <"$T/err")" 1 "lines on stderr"
	line=$(cat "$T/err")
	! grep -q $'\033' "$T/err" || fail "a raw ESC was printed: $line"
	case $line in *"\$'\\n'"*) ;; *) fail "no \$'\\n' in: $line" ;; esac
	quoted=${line#"pcopy: $prefix"}
	quoted="${quoted%"': "*}'"
	got=$(eval "printf '%s' $quoted" && echo .) || fail "bash cannot read: $line"
	assert_eq "${got%.}" "$want" "name in the error line"
}

# a conflict in DST: a non-empty directory where the file $'new\nline' goes
for mode in thread process; do
	dst=$W/blocked-$mode
	pcopy_ok "$src" "$dst"
	rm "$dst/$nl"
	mkdir -p "$dst/$nl/inner"
	assert_exit 1 "$PCOPY" --mode="$mode" -T "$src" "$dst"
	check_error_line "$dst/$nl"
done

# a refusal before anything starts
assert_exit 2 "$PCOPY" "$W/"$'no\nsuch' "$W/x"
check_error_line "$W/"$'no\nsuch' "cannot stat "

# an unreadable file named a<newline>b, as an unprivileged user (root only)
chmod 0755 "$T"
if can_be_nobody "the unreadable-file case"; then
	u=$W/user
	mkdir -p "$u/src"
	echo readable >"$u/src/ok"
	echo secret >"$u/src/"$'a\nb'
	chown -R 65534:65534 "$u"
	chown 0:0 "$u/src/"$'a\nb'
	chmod 0600 "$u/src/"$'a\nb'
	for mode in thread process; do
		assert_exit 1 as_nobody "$PCOPY" --mode="$mode" "$u/src" "$u/dst-$mode"
		check_error_line "$u/src/"$'a\nb'
		assert_grep "$T/err" "^pcopy: '.*/a'\\\$'\\\\n''b': Permission denied$"
		cmp -s "$u/src/ok" "$u/dst-$mode/ok" || fail "readable file not copied"
	done
fi
exit 0
