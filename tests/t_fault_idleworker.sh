#!/bin/bash
# A worker process that dies while it has nothing to do is still a failure
# of the run: process mode, -j 4, one 16 MiB file copied slowly (the fault
# shim delays each write) while the other three workers wait for work; one
# of those idle workers (a child of pcopy with no file of SRC open) is
# SIGKILLed.  pcopy must finish the copy, and exit 1 with one line saying a
# worker died (the word "worker" or "signal" or "killed" in it); nothing
# partial, no temporaries, no process left.  Done twice, with O_TMPFILE and
# with named temporaries.  (Thread mode has no worker process to kill;
# pcopy-mpi's killed rank is tests/t_mpi.sh's.)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_pcopy
need_faultshim
# LeakSanitizer's tracer is a child of pcopy too: no leak check here (as in
# t_fault_workerkill.sh)
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

use_tmpfs 256m
src=$W/src
mkdir -p "$src"
head -c $((16 << 20)) /dev/urandom >"$src/big"
echo small >"$src/small"
real=$(realpath "$src")

# has process $1 a file of SRC open?
has_src_open() {
	local fd
	for fd in "/proc/$1/fd/"*; do
		case $(readlink "$fd" 2>/dev/null) in "$real"/*) return 0 ;; esac
	done
	return 1
}

# the workers (children of $1) with a file of SRC open, and those without
busy_workers() {
	local w
	for w in $(pgrep -P "$1"); do
		has_src_open "$w" && echo "$w"
	done
}
idle_workers() {
	local w
	for w in $(pgrep -P "$1"); do
		has_src_open "$w" || echo "$w"
	done
}

for force in "" no_tmpfile; do
	what="idle worker SIGKILL${force:+ $force}"
	dst=$W/dst
	rm -rf "$dst"
	env PCOPY_FORCE="no_copy_file_range${force:+,$force}" LD_PRELOAD="$FAULTSHIM" \
		FAULT_OP=write FAULT_DELAY_US=20000 \
		"$PCOPY" --mode=process -j 4 "$src" "$dst" >"$T/out" 2>"$T/err" &
	PID=$!
	# wait until one worker copies big (then small is done, and the queue empty)
	busy=
	for _ in $(seq 100); do
		busy=$(busy_workers "$PID")
		[ -n "$busy" ] && [ -s "$dst/small" ] && break
		alive "$PID" || break
		sleep 0.05
	done
	[ -n "$busy" ] || {
		kill -KILL "$PID" 2>/dev/null
		fail "$what: no worker seen copying big"
	}
	# let small's worker get back to waiting for work
	sleep 0.1
	victim=$(idle_workers "$PID" | head -n 1)
	[ -n "$victim" ] || {
		kill -KILL "$PID" 2>/dev/null
		fail "$what: no idle worker found"
	}
	kill -KILL "$victim" || fail "$what: worker $victim gone before the kill"
	log "$what: killed idle worker $victim (busy: $busy)"
	if ! wait_gone "$PID" 60; then
		kill -KILL "$PID"
		fail "$what: pcopy hangs (still running 60 s after the kill)"
	fi
	RC=0
	wait "$PID" 2>/dev/null || RC=$?
	if [ "$RC" -ne 1 ]; then
		head -n 20 "$T/err" >&2
		fail "$what: exit status $RC, expected 1 (stderr: '$(head -c 300 "$T/err")')"
	fi
	assert_eq "$(wc -l <"$T/err")" 1 "$what: lines on stderr"
	grep -Eiq '^pcopy: .*(worker|signal|killed)' "$T/err" ||
		fail "$what: the line does not say a worker died: $(cat "$T/err")"
	check_subset "$src" "$dst"
	treecmp "$src" "$dst"
	w=$(pgrep -af -- "$dst") && fail "$what: processes left: $w"
done
exit 0
