#!/bin/bash
# A source file that changes under pcopy.  Deterministic cases use the fault
# shim's FAULT_ACTION, which changes the victim right before pcopy's first
# read (or copy_file_range) of it, i.e. after pcopy opened it:
#   - shrinks, grows or is rewritten in place (same size, new ctime): the
#     copy is thrown away and the file copied again, which then gets its
#     new content (exit 0);
#   - is unlinked (its data stays readable through the open fd): either copied
#     whole (exit 0) or, the unlink having moved its ctime, judged changed and
#     found gone when opened again: "vanished", a warning, not copied (exit 24);
# or right before pcopy opens it (PCOPY_FORCE=no_openat2, so the open goes
# through openat): removed: "vanished" (exit 24, rsync's status for a source
# file that disappeared; t_vanished tests it further); or replaced by a FIFO,
# a directory or a symlink to an outside file: reported (exit 1), never hangs
# on the FIFO, nothing read through the symlink.
# A racy case then runs pcopy while a loop replaces, removes and truncates
# files; only what must always hold is checked: exit 0, 1 or 24, well-formed
# messages, every file in DST a complete version of its source, no temporary.
# Other files are always copied identically.  Both worker modes.
. "$(dirname "$0")/lib.sh"
need_pcopy

need_faultshim

use_tmpfs 256m
src=$W/src
orig=$W/orig
mkdir -p "$src/sub" "$orig"
for i in 1 2 3 4 5; do
	head -c $((i * 50000)) /dev/urandom >"$src/keep$i"
done
head -c 70000 /dev/urandom >"$src/sub/keep6"
# 4 MiB, a multiple of any power-of-two buffer: growth shows only if pcopy
# asks for more than the size it expected
head -c $((4 << 20)) /dev/urandom >"$orig/victim-file"
echo "outside secret" >"$T/outside-secret"
q=$(re_quote "$src")
real=$(realpath "$W")

# the files that must always be copied identically
check_keepers() {
	local f
	for f in keep1 keep2 keep3 keep4 keep5 sub/keep6; do
		cmp -s "$src/$f" "$1/$f" || fail "$2: $f not copied identically"
	done
	no_temporaries "$1"
}

# vanish_case WHAT [VAR=value]...: put a fresh victim in SRC, copy it under
# the shim (vars as given), sets RC, FIRED; stderr in $T/err
vanish_case() {
	local what=$1
	shift
	rm -rf "$src/victim-file" "$dst"
	cp "$orig/victim-file" "$src/victim-file"
	rm -f "$T/shim.log"
	RC=0
	timeout -k 5 30 env LD_PRELOAD="$FAULTSHIM" FAULT_LOG="$T/shim.log" FAULT_NTH=1 \
		FAULT_LINK_TARGET="$T/outside-secret" "$@" \
		"$PCOPY" --mode="$mode" "$src" "$dst" >"$T/out" 2>"$T/err" || RC=$?
	[ "$RC" -ne 124 ] && [ "$RC" -ne 137 ] || fail "$what: pcopy hangs"
	FIRED=0
	[ -f "$T/shim.log" ] && FIRED=$(wc -l <"$T/shim.log")
	no_process_left
	check_messages "$T/err"
	check_keepers "$dst" "$what"
}

# the victim was reported (with exit status $2, default 1; with 24 as
# vanished, and nothing else), and no regular file stands under its name in DST
expect_reported() {
	local want=${2:-1}
	if [ "$RC" -ne "$want" ]; then
		head -n 20 "$T/err" >&2
		fail "$1: exit status $RC, expected $want"
	fi
	assert_grep "$T/err" "^pcopy: '$q/victim-file': "
	if [ "$want" -eq 24 ]; then
		assert_grep "$T/err" "^pcopy: '$q/victim-file': vanished$"
		[ "$(wc -l <"$T/err")" -eq 1 ] || fail "$1: more than the vanished line on stderr"
	fi
	if [ -f "$dst/victim-file" ] && [ ! -L "$dst/victim-file" ]; then
		fail "$1: a file was copied under the victim's name"
	fi
}

for mode in thread process; do
	dst=$W/dst-$mode

	# changed after open, before the first read / copy_file_range
	for op in read copy_file_range; do
		force=()
		[ "$op" = read ] && force=(PCOPY_FORCE=no_copy_file_range)
		for action in shrink grow rewrite unlink; do
			what="$mode: $action before the first $op"
			vanish_case "$what" "${force[@]}" FAULT_OP=$op FAULT_ACTION=$action \
				FAULT_PATH_SUBSTR="$real/src/victim-file"
			if [ "$FIRED" -eq 0 ]; then
				[ "$op" = read ] && fail "$what: the shim did not fire"
				log "note: $what: copy_file_range not seen by the shim; case not checked"
				continue
			fi
			if [ "$action" != unlink ]; then
				# changed once: the retry copies what it has become
				[ "$RC" -eq 0 ] || {
					head -n 20 "$T/err" >&2
					fail "$what: exit status $RC, expected 0 (copied again)"
				}
				cmp -s "$src/victim-file" "$dst/victim-file" ||
					fail "$what: the copy is not the file's new content"
			elif [ "$RC" -eq 0 ]; then
				# the data was still there to read: a whole copy is fine too
				cmp -s "$orig/victim-file" "$dst/victim-file" ||
					fail "$what: exit 0 but the copy differs from the file's data"
			else
				expect_reported "$what" 24
			fi
		done
	done

	# changed between the walk and the open
	for action in unlink fifo dir symlink; do
		what="$mode: $action between walk and open"
		vanish_case "$what" PCOPY_FORCE=no_openat2 FAULT_OP=open FAULT_ACTION=$action \
			FAULT_PATH_SUBSTR=victim-file
		[ "$FIRED" -eq 1 ] ||
			fail "$what: the shim did not see the open (PCOPY_FORCE=no_openat2 should open with openat)"
		if [ "$action" = unlink ]; then
			expect_reported "$what" 24
		else
			expect_reported "$what"
		fi
		if [ -f "$dst/victim-file" ] && grep -q "outside secret" "$dst/victim-file"; then
			fail "$what: read through the planted symlink"
		fi
	done
	rm -rf "$src/victim-file" "$dst"
	cp "$orig/victim-file" "$src/victim-file"
done

# racy: files replaced (rename), removed and truncated while pcopy copies
race=$W/race
mkdir -p "$race/src/r" "$race/src/s" "$race/v"
head -c 3000000 /dev/urandom >"$race/v/A"
head -c 2000000 /dev/urandom >"$race/v/B"
head -c 1500000 "$race/v/A" >"$race/v/Ahalf"
cp "$race/v/Ahalf" "$race/v/Azero"
truncate -s 3000000 "$race/v/Azero"
for i in $(seq 0 19); do
	cp "$race/v/A" "$race/src/r/f$i"
	cp "$race/v/A" "$race/src/s/f$i"
done
# the versions a file of the racy tree may be copied as
version_ok() {
	local v
	for v in A B Ahalf Azero; do
		cmp -s "$1" "$race/v/$v" && return 0
	done
	return 1
}
# the racer stops at $race/stop, or when this script has gone
(
	n=0
	while [ ! -e "$race/stop" ] && [ -d "$race/src" ] && kill -0 $$ 2>/dev/null; do
		i=$((n / 4 % 20))
		case $((n % 4)) in
		0) cp "$race/v/B" "$race/stage" && mv -f "$race/stage" "$race/src/r/f$i" ;;
		1) rm -f "$race/src/r/f$i" ;;
		2) cp "$race/v/A" "$race/stage" && mv -f "$race/stage" "$race/src/r/f$i" ;;
		3) truncate -s 1500000 "$race/src/s/f$i" && truncate -s 3000000 "$race/src/s/f$i" ;;
		esac
		n=$((n + 1))
	done
) &
racer=$!
for mode in thread process; do
	for _ in 1 2 3 4 5; do
		rm -rf "$race/dst"
		rc=0
		timeout -k 5 30 "$PCOPY" --mode="$mode" -j 4 "$race/src" "$race/dst" \
			>"$T/out" 2>"$T/err" || rc=$?
		case $rc in
		0 | 1 | 24) ;;
		*)
			touch "$race/stop"
			head -n 20 "$T/err" >&2
			fail "racy $mode: exit status $rc, expected 0, 1 or 24"
			;;
		esac
		check_messages "$T/err"
		no_temporaries "$race/dst"
		while IFS= read -r -d '' f; do
			version_ok "$f" || { touch "$race/stop"; fail "racy $mode: $f is no complete version of its source"; }
		done < <(find "$race/dst" -type f -print0)
	done
done
touch "$race/stop"
wait "$racer"
no_process_left
exit 0
