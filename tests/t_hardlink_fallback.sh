#!/bin/bash
# Hard links whose first name failed to copy.  pcopy copies the first name
# of an inode it meets and links the later ones to that copy; when the copy
# failed there is nothing to link to, so each later name is copied on its
# own, as cp does, and a failure names its own path and reason:
#   - EACCES (as uid 65534, root and setpriv only): three names of one
#     mode-000 file each get "Permission denied", none "No such file or
#     directory", exit 1;
#   - EIO on the first write of the first name's copy (fault shim): that
#     name alone is reported (exit 1), the second name is copied as a regular
#     file with the right content and the third becomes a hard link to it.
# Both worker modes.
. "$(dirname "$0")/lib.sh"
need_pcopy
need_faultshim

src=$W/src
mkdir -p "$src/H/x" "$src/H/y" "$src/H/z"
head -c 100000 /dev/urandom >"$src/H/x/f"
ln "$src/H/x/f" "$src/H/y/g"
ln "$src/H/x/f" "$src/H/z/h"
echo other >"$src/other"
q=$(re_quote "$src")
real=$(realpath "$W")
names="x/f y/g z/h"

# EIO on the first data write into DST/H: the first name met fails once
for mode in thread process; do
	dst=$W/dst-$mode
	rm -f "$T/shim.log"
	RC=0
	timeout -k 5 60 env LD_PRELOAD="$FAULTSHIM" FAULT_OP=write FAULT_NTH=1 FAULT_ERRNO=EIO \
		FAULT_LOG="$T/shim.log" FAULT_PATH_SUBSTR="$real/dst-$mode/H/" \
		PCOPY_FORCE=no_copy_file_range \
		"$PCOPY" --mode="$mode" "$src" "$dst" >"$T/out" 2>"$T/err" || RC=$?
	[ -s "$T/shim.log" ] || fail "$mode: EIO: the shim did not fire"
	check_messages "$T/err"
	[ "$RC" -eq 1 ] || { cat "$T/err" >&2; fail "$mode: EIO: exit $RC, expected 1"; }
	assert_eq "$(wc -l <"$T/err")" 1 "$mode: EIO: number of error lines"
	assert_grep "$T/err" "^pcopy: '$(re_quote "$dst")/H/(x/f|y/g|z/h)': Input/output error$"
	failed=$(sed -n "s|^pcopy: '$dst/H/\(.*\)': .*|\1|p" "$T/err")
	ids=()
	for n in $names; do
		if [ "$n" = "$failed" ]; then
			[ ! -e "$dst/H/$n" ] || fail "$mode: EIO: the failed name $n has a copy"
			continue
		fi
		cmp -s "$src/H/$n" "$dst/H/$n" || fail "$mode: EIO: $n not copied identically"
		ids+=("$(stat -c %i:%h "$dst/H/$n")")
	done
	# the two names left are one file with two links
	[ "${#ids[@]}" -eq 2 ] && [ "${ids[0]}" = "${ids[1]}" ] && [ "${ids[0]#*:}" = 2 ] ||
		fail "$mode: EIO: the two names left are not one file (inode:links ${ids[*]})"
	cmp -s "$src/other" "$dst/other" || fail "$mode: EIO: other not copied"
	no_temporaries "$dst"
done

# EACCES as uid 65534: every name reports its own "Permission denied"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	log "note: not root or no setpriv; the EACCES case is not checked"
	exit 0
fi
chmod 0755 "$T" "$W"
if ! as_nobody test -x "$W" || ! as_nobody "$PCOPY" --version >/dev/null 2>&1; then
	log "note: uid 65534 cannot reach $W or run $PCOPY; the EACCES case is not checked"
	exit 0
fi
chmod -R a+rX "$src"
chmod 0000 "$src/H/x/f"
for mode in thread process; do
	out=$W/out-$mode
	mkdir "$out"
	chown 65534:65534 "$out"
	assert_exit 1 as_nobody timeout -k 5 60 "$PCOPY" --mode="$mode" "$src" "$out/copy"
	check_messages "$T/err"
	for n in $names; do
		assert_grep "$T/err" "^pcopy: '$q/H/$n': Permission denied$"
		[ ! -e "$out/copy/H/$n" ] || fail "$mode: EACCES: $n has a copy"
	done
	assert_eq "$(wc -l <"$T/err")" 3 "$mode: EACCES: number of error lines"
	! grep -q "No such file or directory" "$T/err" || fail "$mode: EACCES: a false ENOENT"
	cmp -s "$src/other" "$out/copy/other" || fail "$mode: EACCES: other not copied"
	no_temporaries "$out"
done
no_process_left
exit 0
