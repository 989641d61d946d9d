#!/bin/bash
# Source entries that vanish during the copy (rsync's "file has vanished"):
# a warning "pcopy: 'SRC/path': vanished", counted as "vanished" in --stats,
# and exit 24 when nothing else went wrong.  The fault shim removes the
# entry just before pcopy touches it:
#   - a file just before it is opened, a symlink just before readlink, a
#     directory just before the walker reads it (PCOPY_FORCE=no_openat2, so
#     the open goes through openat where the shim sees it);
#   - the first name of a hard-linked file: the other name is copied on its
#     own; both names: two vanished lines;
#   - a single-file SRC, between the operand checks and the copy;
# each with the rest of the tree copied (the copy compares equal with what
# is left of SRC), no temporaries, in both worker modes at -j 1 and -j 8.
# What is not a vanished source: a DST directory removed under pcopy is an
# error (exit 1, no vanished line); a vanished file plus a real error (an
# unreadable file as uid 65534, root only) exits 1; with several SRC operands
# the worst status wins.  The README and man page list status 24.
. "$(dirname "$0")/lib.sh"
need_pcopy
need_faultshim

use_tmpfs 256m
q_w=$(re_quote "$W")

# make_tree DIR: a small tree with a victim of each kind
make_tree() {
	rm -rf "$1"
	mkdir -p "$1/sub/deep" "$1/vdir/in"
	for i in 1 2 3 4 5 6; do
		head -c $((i * 3000)) /dev/urandom >"$1/f$i"
		head -c $((i * 1000)) /dev/urandom >"$1/sub/g$i"
	done
	echo deep >"$1/sub/deep/h"
	echo inside >"$1/vdir/in/x"
	echo victim >"$1/victim"
	ln -s f1 "$1/vlink"
	ln -s f2 "$1/keeplink"
	echo linked >"$1/hl-a"
	ln "$1/hl-a" "$1/hl-b"
}

# shimmed [VAR=value]... CMD...: run CMD under the shim (FAULT_* as given),
# exit status in RC, stdout/stderr in $T/out, $T/err; fails unless the
# shim fired (its log: $SHIM_LOG, default $T/shim.log)
shimmed() {
	local log=${SHIM_LOG:-$T/shim.log}
	RC=0
	rm -f "$log"
	timeout -k 5 60 env LD_PRELOAD="$FAULTSHIM" FAULT_LOG="$log" "$@" \
		>"$T/out" 2>"$T/err" || RC=$?
	[ -s "$log" ] || fail "the shim did not fire: $*"
}

# expect STATUS WHAT: the exit status, and every stderr line well-formed
expect_status() {
	if [ "$RC" -ne "$1" ]; then
		head -n 20 "$T/err" >&2
		fail "$2: exit status $RC, expected $1"
	fi
	check_messages "$T/err"
	no_process_left
}

# expect_vanished WHAT PATH...: exit 24, exactly these vanished lines and
# nothing else on stderr, "vanished":N and "errors":0 in the JSON stats
expect_vanished() {
	local what=$1 p n=0
	shift
	expect_status 24 "$what"
	for p in "$@"; do
		assert_grep "$T/err" "^pcopy: '$(re_quote "$p")': vanished$"
		n=$((n + 1))
	done
	[ "$(wc -l <"$T/err")" -eq "$n" ] || {
		cat "$T/err" >&2
		fail "$what: expected $n vanished line(s) and nothing else on stderr"
	}
	grep -q "\"vanished\":$n," "$T/out" || fail "$what: no \"vanished\":$n in: $(cat "$T/out")"
	grep -q '"errors":0,' "$T/out" || fail "$what: errors in: $(cat "$T/out")"
}

src=$W/src
for mode in thread process; do
	for j in 1 8; do
		opts=(--mode="$mode" -j "$j" --stats=json)
		dst=$W/dst

		# a file removed just before it is opened
		what="$mode -j$j: file removed before open"
		make_tree "$src"
		rm -rf "$dst"
		shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_NTH=1 FAULT_PATH_SUBSTR=victim \
			"$PCOPY" "${opts[@]}" "$src" "$dst"
		[ ! -e "$src/victim" ] || fail "$what: the shim did not remove the victim"
		expect_vanished "$what" "$src/victim"
		[ ! -e "$dst/victim" ] || fail "$what: something copied under the victim's name"
		treecmp "$src" "$dst"
		no_temporaries "$dst"

		# a symlink removed just before readlink
		what="$mode -j$j: symlink removed before readlink"
		make_tree "$src"
		rm -rf "$dst"
		shimmed FAULT_OP=readlink FAULT_ACTION=unlink FAULT_NTH=1 FAULT_PATH_SUBSTR=vlink \
			"$PCOPY" "${opts[@]}" "$src" "$dst"
		expect_vanished "$what" "$src/vlink"
		treecmp "$src" "$dst"

		# a directory removed (with what is inside) before the walker reads it;
		# its copy stays, empty, as pcopy had made it
		what="$mode -j$j: directory removed before it was read"
		make_tree "$src"
		rm -rf "$dst"
		shimmed PCOPY_FORCE=no_openat2 FAULT_OP=opendir FAULT_ACTION=unlink FAULT_NTH=1 \
			FAULT_PATH_SUBSTR=vdir "$PCOPY" "${opts[@]}" "$src" "$dst"
		[ ! -e "$src/vdir" ] || fail "$what: the shim did not remove the directory"
		expect_vanished "$what" "$src/vdir"
		[ -d "$dst/vdir" ] && [ -z "$(ls -A "$dst/vdir")" ] ||
			fail "$what: DST's vdir is not the empty directory pcopy made"
		rmdir "$dst/vdir" && touch -r "$src" "$dst" # rmdir moved DST's mtime
		treecmp "$src" "$dst"
		no_temporaries "$dst"

		# the first name of a hard-linked file vanishes: the other is copied
		what="$mode -j$j: first hard-link name removed"
		make_tree "$src"
		rm -rf "$dst"
		shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_NTH=1 FAULT_PATH_SUBSTR=hl- \
			"$PCOPY" "${opts[@]}" "$src" "$dst"
		gone=$src/hl-a
		[ -e "$gone" ] && gone=$src/hl-b
		expect_vanished "$what" "$gone"
		treecmp "$src" "$dst"

		# both names vanish, each when it is opened
		what="$mode -j$j: both hard-link names removed"
		make_tree "$src"
		rm -rf "$dst"
		shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_PATH_SUBSTR=hl- \
			"$PCOPY" "${opts[@]}" "$src" "$dst"
		expect_vanished "$what" "$src/hl-a" "$src/hl-b"
		treecmp "$src" "$dst"
		no_temporaries "$dst"
	done
done

# --stats text says it too
make_tree "$src"
rm -rf "$W/dst"
shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_NTH=1 FAULT_PATH_SUBSTR=victim \
	"$PCOPY" --stats "$src" "$W/dst"
[ "$RC" -eq 24 ] || fail "--stats text: exit status $RC, expected 24"
assert_grep "$T/err" "^pcopy: '$q_w/src/victim': vanished$"
assert_grep "$T/err" "errors: 0  vanished: 1$"

# a single-file SRC that vanishes between the operand checks and the copy
echo single >"$W/single"
shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_NTH=1 FAULT_PATH_SUBSTR=single \
	"$PCOPY" --stats=json "$W/single" "$W/single-copy"
expect_vanished "single-file SRC" "$W/single"
[ ! -e "$W/single-copy" ] || fail "single-file SRC: a copy was made"

# several SRC operands: the worst status wins; 24 beats 0, 2 beats 24
make_tree "$src"
echo other >"$W/other"
rm -rf "$W/into" && mkdir "$W/into"
shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_NTH=1 FAULT_PATH_SUBSTR=victim \
	"$PCOPY" --stats=json "$W/other" "$src" "$W/into"
expect_vanished "two SRCs, one with a vanished file" "$src/victim"
cmp -s "$W/other" "$W/into/other" || fail "two SRCs: the other SRC was not copied"
make_tree "$src"
rm -rf "$W/into" && mkdir "$W/into"
shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_NTH=1 FAULT_PATH_SUBSTR=victim \
	"$PCOPY" "$src" "$W/missing-src" "$W/into"
[ "$RC" -eq 2 ] || fail "a vanished file and a missing SRC operand: exit status $RC, expected 2"
assert_grep "$T/err" "^pcopy: '$q_w/src/victim': vanished$"

# ENOENT from DST is no vanished source: DST's copy of "only" removed right
# before the worker opens it.  "only" holds one file and no directory, so
# its opens come in order: the walker's in SRC, the worker's in SRC, the
# worker's in DST (the third).
for mode in thread process; do
	rm -rf "$W/dsrc" "$W/dst"
	mkdir -p "$W/dsrc/only"
	echo one >"$W/dsrc/only/file1"
	echo top >"$W/dsrc/top"
	shimmed PCOPY_FORCE=no_openat2 FAULT_OP=opendir FAULT_ACTION=unlink FAULT_NTH=3 \
		FAULT_PATH_SUBSTR=only "$PCOPY" --mode="$mode" -j 1 --stats=json "$W/dsrc" "$W/dst"
	[ -f "$W/dsrc/only/file1" ] || fail "$mode: the shim removed SRC's directory, not DST's"
	expect_status 1 "$mode: DST directory removed under pcopy"
	assert_grep "$T/err" "^pcopy: '$q_w/dsrc/only/file1': No such file or directory$"
	grep -q '"vanished":0,' "$T/out" || fail "$mode: DST removed: $(cat "$T/out")"
done

# a vanished file and a real error (unreadable as uid 65534): the error wins
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 0755 "$T" "$W"
	make_tree "$src"
	echo secret >"$src/secret"
	chmod -R a+rX "$src"
	chown -R 65534:65534 "$src" # so that the shim, as uid 65534, can remove the victim
	chmod 0000 "$src/secret"
	rm -rf "$W/nobody" && mkdir "$W/nobody" && chown 65534:65534 "$W/nobody"
	if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$W/nobody"; then
		SHIM_LOG=$W/nobody/shim.log shimmed FAULT_OP=open FAULT_ACTION=unlink FAULT_NTH=1 \
			FAULT_PATH_SUBSTR=victim setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$PCOPY" --stats=json "$src" "$W/nobody/dst"
		expect_status 1 "vanished file plus unreadable file"
		assert_grep "$T/err" "^pcopy: '$q_w/src/victim': vanished$"
		assert_grep "$T/err" "^pcopy: '$q_w/src/secret': Permission denied$"
		grep -q '"vanished":1,' "$T/out" || fail "vanished + error: $(cat "$T/out")"
		grep -q '"errors":1,' "$T/out" || fail "vanished + error: $(cat "$T/out")"
		no_temporaries "$W/nobody/dst"
	else
		log "note: uid 65534 cannot reach $W; the vanished-plus-error case not run"
	fi
else
	log "note: not root or no setpriv; the vanished-plus-error case not run"
fi

# the exit-status tables tell a script what 24 means
grep -Eq '^\| 24 \|.*vanish' "$SRCDIR/README.md" || fail "README's exit status table lacks 24"
sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$SRCDIR/man/pcopy.1" | grep -q '^24' ||
	sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$SRCDIR/man/pcopy.1" | grep -q 'It 24' ||
	fail "the man page's EXIT STATUS lacks 24"
exit 0
