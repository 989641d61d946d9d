#!/bin/bash
# Files that change while pcopy copies them, and files whose size lies.
#   - a log appended to every ~2 ms for the whole copy (each read of it
#     slowed by the fault shim, so every attempt sees an append): without
#     --changing it fails after its retries with "file changed while being
#     copied" (exit 1), nothing under its name, an old DST file untouched;
#     with --changing=copy it is installed with a warning (exit 0) and is a
#     complete prefix of the log;
#   - the same without the shim (whether an attempt sees an append is luck):
#     exit 0 with --changing=copy, every copy a prefix of the log;
#   - a file rewritten once during its first copy: copied again, exit 0, no
#     message, the new content;
#   - /proc and /sys files (size 0, or 4096 with no blocks): exit 0, content
#     equal to what cat reads.
# No temporaries are ever left.  Both worker modes.
. "$(dirname "$0")/lib.sh"
need_pcopy
need_faultshim

use_tmpfs 256m
src=$W/src
mkdir -p "$src/sub"
head -c 300000 /dev/urandom >"$src/keep"
head -c 70000 /dev/urandom >"$src/sub/keep2"
q=$(re_quote "$src")
real=$(realpath "$W")

# a line a writer appends; 64 bytes, so a torn line would show in cmp
log_line() {
	printf 'line %08d %049d\n' "$1" "$1"
}

# start a writer appending a line every ~2 ms to $1 until $W/stop exists
# or this script has gone; returns once it has appended at least once
start_writer() {
	local log=$1 size
	rm -f "$W/stop"
	size=$(stat -c %s "$log")
	(
		i=0
		while [ ! -e "$W/stop" ] && kill -0 $$ 2>/dev/null; do
			log_line "$i" >>"$log"
			i=$((i + 1))
			sleep 0.002
		done
	) &
	writer=$!
	while [ "$(stat -c %s "$log")" -eq "$size" ]; do sleep 0.01; done
}

stop_writer() {
	touch "$W/stop"
	wait "$writer"
}

# a fresh log of 2000 lines in SRC
make_log() {
	local i
	rm -f "$src/log"
	for ((i = 0; i < 2000; i++)); do log_line "$i"; done >"$src/log"
}

# the other files are copied identically, and no temporary is left
check_rest() {
	cmp -s "$src/keep" "$1/keep" || fail "$2: keep not copied identically"
	cmp -s "$src/sub/keep2" "$1/sub/keep2" || fail "$2: sub/keep2 not copied identically"
	no_temporaries "$1"
	check_messages "$T/err"
}

# $1 (a copy of the log) is a complete prefix of the log, and at least as
# long as the log was before the copy began (128000 bytes)
check_prefix() {
	local n
	n=$(stat -c %s "$1")
	[ "$n" -ge 128000 ] || fail "$2: the copy has $n bytes, less than the log had"
	cmp -s -n "$n" "$1" "$src/log" || fail "$2: the copy is not a prefix of the log"
	[ "$((n % 64))" -eq 0 ] || fail "$2: the copy ends inside a line ($n bytes)"
}

# run pcopy with the shim slowing each read of the log by 20 ms and
# appending 64 KiB (a whole number of lines' worth) to it first, so that
# every attempt sees the log change even when a loaded machine starves the
# writer (CI did: all four attempts once saw none of its lines); sets RC
slowed_pcopy() {
	RC=0
	timeout -k 5 60 env LD_PRELOAD="$FAULTSHIM" FAULT_OP=read FAULT_DELAY_US=20000 \
		FAULT_ACTION=grow \
		FAULT_PATH_SUBSTR="$real/src/log" PCOPY_FORCE=no_copy_file_range \
		"$PCOPY" --mode="$mode" "$@" >"$T/out" 2>"$T/err" || RC=$?
}

for mode in thread process; do
	dst=$W/dst-$mode

	# busy log, default policy: reported after the retries, nothing installed
	make_log
	rm -rf "$dst"
	start_writer "$src/log"
	slowed_pcopy "$src" "$dst"
	stop_writer
	[ "$RC" -eq 1 ] || { cat "$T/err" >&2; fail "$mode: busy log: exit $RC, expected 1"; }
	assert_grep "$T/err" "^pcopy: '$q/log': file changed while being copied$"
	[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "$mode: busy log: extra messages"; }
	[ ! -e "$dst/log" ] || fail "$mode: busy log: a file was installed under its name"
	check_rest "$dst" "$mode: busy log"

	# the same into an existing DST (-T): the old file stays as it was
	make_log
	echo "old content" >"$dst/log"
	start_writer "$src/log"
	slowed_pcopy --changing=fail -T "$src" "$dst"
	stop_writer
	[ "$RC" -eq 1 ] || { cat "$T/err" >&2; fail "$mode: busy log over old: exit $RC, expected 1"; }
	assert_grep "$T/err" "^pcopy: '$q/log': file changed while being copied$"
	[ "$(cat "$dst/log")" = "old content" ] || fail "$mode: busy log over old: old file changed"
	check_rest "$dst" "$mode: busy log over old"

	# --changing=copy: the last copy installed, a warning, exit 0
	make_log
	rm -rf "$dst"
	start_writer "$src/log"
	slowed_pcopy --changing=copy "$src" "$dst"
	stop_writer
	[ "$RC" -eq 0 ] || { cat "$T/err" >&2; fail "$mode: --changing=copy: exit $RC, expected 0"; }
	assert_grep "$T/err" "^pcopy: '$q/log': warning: file kept changing while being copied; "
	[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "$mode: --changing=copy: extra messages"; }
	check_prefix "$dst/log" "$mode: --changing=copy"
	check_rest "$dst" "$mode: --changing=copy"

	# unslowed, as a user would meet it: always exit 0 and a prefix
	make_log
	start_writer "$src/log"
	for _ in 1 2 3; do
		rm -rf "$dst"
		assert_exit 0 timeout -k 5 60 "$PCOPY" --mode="$mode" --changing=copy "$src" "$dst"
		check_prefix "$dst/log" "$mode: unslowed --changing=copy"
		check_rest "$dst" "$mode: unslowed --changing=copy"
	done
	stop_writer

	# rewritten in place once, during the first read: copied again
	make_log
	rm -rf "$dst"
	rm -f "$T/shim.log"
	RC=0
	timeout -k 5 60 env LD_PRELOAD="$FAULTSHIM" FAULT_OP=read FAULT_NTH=1 FAULT_ACTION=rewrite \
		FAULT_LOG="$T/shim.log" FAULT_PATH_SUBSTR="$real/src/log" \
		PCOPY_FORCE=no_copy_file_range \
		"$PCOPY" --mode="$mode" "$src" "$dst" >"$T/out" 2>"$T/err" || RC=$?
	[ -s "$T/shim.log" ] || fail "$mode: rewrite once: the shim did not fire"
	[ "$RC" -eq 0 ] || { cat "$T/err" >&2; fail "$mode: rewrite once: exit $RC, expected 0"; }
	assert_empty "$T/err"
	cmp -s "$src/log" "$dst/log" || fail "$mode: rewrite once: the copy is not the new content"
	[ "$(head -c 1 "$dst/log" | od -An -tx1 | tr -d ' ')" = 00 ] ||
		fail "$mode: rewrite once: the first, torn copy was kept"
	check_rest "$dst" "$mode: rewrite once"

	# procfs: st_size 0; read to the end
	for f in /proc/sys/kernel/ostype /proc/sys/kernel/osrelease /proc/version; do
		[ -r "$f" ] || continue
		rm -f "$W/pseudo"
		assert_exit 0 "$PCOPY" --mode="$mode" "$f" "$W/pseudo"
		assert_empty "$T/err"
		cat "$f" >"$W/expected"
		cmp -s "$W/expected" "$W/pseudo" || fail "$mode: $f: copy differs from its content"
	done

	# sysfs: st_size 4096, no blocks; the first readable stable file found
	found=
	for f in /sys/kernel/mm/transparent_hugepage/enabled /sys/power/state \
		/sys/devices/system/cpu/online /sys/kernel/profiling; do
		[ -f "$f" ] && [ -r "$f" ] && cat "$f" >/dev/null 2>&1 || continue
		found=$f
		break
	done
	if [ -z "$found" ]; then
		log "note: no readable sysfs file; sysfs case not checked"
		continue
	fi
	rm -f "$W/pseudo"
	assert_exit 0 "$PCOPY" --mode="$mode" "$found" "$W/pseudo"
	assert_empty "$T/err"
	cat "$found" >"$W/expected"
	cmp -s "$W/expected" "$W/pseudo" || fail "$mode: $found: copy differs from its content"
done
no_process_left
exit 0
