#!/bin/bash
# EIO and short transfers, injected with the LD_PRELOAD shim tests/tools/faultshim.so
# (inherited by process-mode workers; its call counter is shared with them):
#   - EIO on the 2nd write into the victim's directory (read/write path, O_TMPFILE
#     and named temporaries): exit 1, a message naming the copy (DST), the
#     victim absent; with an old version already in DST (-T), the old version
#     intact;
#   - EIO on copy_file_range into it, on the first and on the last sendfile
#     of it (PCOPY_FORCE=cross_fs, as across file systems), and EIO on
#     reading the victim: the same;
#   - every write, copy_file_range, sendfile or read short (half, at least
#     one byte): exit 0 and an identical copy.
# Everything else is copied identically, no temporaries, no process left.
# Both worker modes.
. "$(dirname "$0")/lib.sh"
need_pcopy

need_faultshim

# expect_rc WANT WHAT: fail unless the last shim_run exited WANT
expect_rc() {
	[ "$RC" -eq "$1" ] && return 0
	log "--- stderr:"
	head -n 20 "$T/err" >&2
	fail "$2: exit status $RC, expected $1"
}

# victim_failed WHAT [WHERE]: the last shim_run failed v/big alone: exit 1,
# its one I/O error line naming WHERE/v/big (a regex; default $q, SRC: a
# write error names DST), no v/big in $dst, and everything in $dst as in $src
victim_failed() {
	expect_rc 1 "$1"
	assert_grep "$T/err" "^pcopy: '${2:-$q}/v/big': Input/output error$"
	check_messages "$T/err"
	[ ! -e "$dst/v/big" ] || fail "$1: v/big exists in DST"
	check_subset "$src" "$dst"
}

use_tmpfs 512m
src=$W/src
mkdir -p "$src/v" "$src/sub"
for i in $(seq 10); do
	head -c $((i * 7919)) /dev/urandom >"$src/k$i"
done
head -c 1048577 /dev/urandom >"$src/sub/x"
head -c $((16 << 20)) /dev/urandom >"$src/v/big"
# the tree DST holds before the -T run: same files, an old version of v/big
old=$W/old
cp -a "$src" "$old"
head -c $((3 << 20)) /dev/urandom >"$old/v/big"
q=$(re_quote "$src")
# fds of the files pcopy writes into DST/v (an O_TMPFILE or a named temporary)
# read like "<realpath of DST>/v/..." in /proc/self/fd
real=$(realpath "$W")

for mode in thread process; do
	dst=$W/dst-$mode
	victim_fds="$real/dst-$mode/v/"

	# EIO on the 2nd write to the victim, new file: absent afterwards
	# (O_TMPFILE and named temporaries)
	for force in no_copy_file_range no_copy_file_range,no_tmpfile; do
		shim_run PCOPY_FORCE=$force FAULT_OP=write FAULT_NTH=2 FAULT_ERRNO=EIO \
			FAULT_PATH_SUBSTR="$victim_fds" -- --mode="$mode" "$src" "$dst"
		[ "$FIRED" -eq 1 ] ||
			fail "$mode $force: write EIO: the shim did not fire (pcopy does not write with write/pwrite?)"
		victim_failed "$mode $force: write EIO" "$(re_quote "$dst")"
		assert_eq "$NFILES" 11 "$mode $force: write EIO: files copied"
		rm -rf "$dst"
	done

	# the same over an old version (-T): the old version stays intact
	cp -a "$old" "$dst"
	shim_run PCOPY_FORCE=no_copy_file_range FAULT_OP=write FAULT_NTH=2 FAULT_ERRNO=EIO \
		FAULT_PATH_SUBSTR="$victim_fds" -- --mode="$mode" -T "$src" "$dst"
	[ "$FIRED" -eq 1 ] || fail "$mode: write EIO over old: the shim did not fire"
	expect_rc 1 "$mode: write EIO over an old version"
	assert_grep "$T/err" "^pcopy: '$(re_quote "$dst")/v/big': Input/output error$"
	check_messages "$T/err"
	cmp -s "$old/v/big" "$dst/v/big" || fail "$mode: write EIO: the old version of v/big was changed"
	check_subset "$old" "$dst"
	assert_eq "$NFILES" 12 "$mode: write EIO over old: files in DST"
	rm -rf "$dst"

	# EIO from copy_file_range into the victim (default copy path)
	shim_run FAULT_OP=copy_file_range FAULT_NTH=1 FAULT_ERRNO=EIO \
		FAULT_PATH_SUBSTR="$victim_fds" -- --mode="$mode" "$src" "$dst"
	if [ "$FIRED" -eq 0 ]; then
		log "note: $mode: copy_file_range not seen by the shim; EIO case not checked"
	else
		victim_failed "$mode: copy_file_range EIO"
	fi
	rm -rf "$dst"

	# EIO from sendfile (copy_file_range refused, as across file systems),
	# on the first call and on the second (the 16 MiB are copied, the call
	# that finds the end fails): the file fails, nothing falls back
	for nth in 1 2; do
		shim_run PCOPY_FORCE=cross_fs FAULT_OP=sendfile FAULT_NTH=$nth FAULT_ERRNO=EIO \
			FAULT_PATH_SUBSTR="$victim_fds" -- --mode="$mode" "$src" "$dst"
		[ "$FIRED" -ge 1 ] || fail "$mode: sendfile EIO #$nth: the shim did not fire"
		victim_failed "$mode: sendfile EIO #$nth"
		assert_eq "$NFILES" 11 "$mode: sendfile EIO #$nth: files copied"
		rm -rf "$dst"
	done

	# EIO reading the victim's source
	shim_run PCOPY_FORCE=no_copy_file_range FAULT_OP=read FAULT_NTH=1 FAULT_ERRNO=EIO \
		FAULT_PATH_SUBSTR="$real/src/v/" -- --mode="$mode" "$src" "$dst"
	[ "$FIRED" -eq 1 ] || fail "$mode: read EIO: the shim did not fire"
	victim_failed "$mode: read EIO"
	rm -rf "$dst"

	# short transfers on every call: retried until complete (the path that
	# makes each call forced: read/write, or sendfile across file systems)
	for way in no_copy_file_range:write no_copy_file_range:read cross_fs:sendfile; do
		op=${way#*:}
		shim_run PCOPY_FORCE=${way%%:*} FAULT_OP=$op FAULT_SHORT=1 \
			-- --mode="$mode" "$src" "$dst"
		[ "$FIRED" -gt 0 ] || fail "$mode: short $op: the shim did not fire"
		expect_rc 0 "$mode: short ${op}s"
		treecmp "$src" "$dst"
		rm -rf "$dst"
	done
	shim_run FAULT_OP=copy_file_range FAULT_SHORT=1 -- --mode="$mode" "$src" "$dst"
	[ "$FIRED" -gt 0 ] || log "note: $mode: copy_file_range not seen by the shim"
	expect_rc 0 "$mode: short copy_file_range"
	treecmp "$src" "$dst"
	rm -rf "$dst"
done
exit 0
