#!/bin/bash
# Process mode, 100 x 8 MB files, -j 4:
#   - one worker (a child of pcopy) SIGKILLed 0.4 s after the start: pcopy
#     reaps it, reports the entry it was copying, finishes the rest and exits 1
#     without hanging (60 s bound); at least 97 files complete and identical,
#     nothing partial, no temporaries (also with named temporaries,
#     PCOPY_FORCE=no_tmpfile: the parent removes the dead worker's), no
#     zombie, no process left;
#   - pcopy itself SIGKILLed instead: 2 s later no worker is alive, and with
#     O_TMPFILE temporaries nothing partial is visible in DST.
# If the copy finishes before the kill, it must be complete and the case is
# run again slowed down by the fault shim (a delay on each write).
. "$(dirname "$0")/lib.sh"
need_pcopy
need_cmd python3

need_faultshim

# does process $1 exist at all (zombies included)?
exists() {
	[ -e "/proc/$1/stat" ]
}

# LeakSanitizer checks at exit from a tracer it clones as a child of
# pcopy; this test kills "a child of pcopy", and killing that tracer
# leaves pcopy spinning in the check forever.  No leak check here.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

use_tmpfs 2g
src=$W/src
make_hundred_8mb "$src"
dst=$W/dst

# start_pcopy FORCE SLOW: start pcopy --mode=process -j 4 in the background,
# slowed down by the shim when SLOW=yes; sets PID
start_pcopy() {
	local force=$1 slow=$2 vars=()
	rm -rf "$dst"
	[ -n "$force" ] && vars+=("PCOPY_FORCE=$force")
	if [ "$slow" = yes ]; then
		vars=("PCOPY_FORCE=no_copy_file_range${force:+,$force}" LD_PRELOAD="$FAULTSHIM"
			FAULT_OP=write FAULT_DELAY_US=5000)
	fi
	env "${vars[@]}" "$PCOPY" --mode=process -j 4 "$src" "$dst" >"$T/out" 2>"$T/err" &
	PID=$!
}

# kill_worker FORCE: SIGKILL one worker mid-copy
kill_worker() {
	local force=$1 slow victim rc what tenths w
	what="worker SIGKILL${force:+ $force}"
	for slow in no yes; do
		start_pcopy "$force" "$slow"
		sleep 0.4
		victim=$(pgrep -P "$PID" | head -n 1)
		[ -n "$victim" ] && kill -KILL "$victim"
		# the dead worker must be reaped while pcopy goes on (no zombie)
		tenths=20
		while [ -n "$victim" ] && exists "$victim" && alive "$PID" && [ "$tenths" -gt 0 ]; do
			tenths=$((tenths - 1))
			sleep 0.1
		done
		if [ -n "$victim" ] && exists "$victim" && alive "$PID"; then
			fail "$what: killed worker $victim not reaped 2 s later (zombie)"
		fi
		if ! wait_gone "$PID" 60; then
			kill -KILL "$PID"
			fail "$what: pcopy hangs (still running 60 s after the kill)"
		fi
		rc=0
		wait "$PID" 2>/dev/null || rc=$?
		if [ -z "$victim" ] || { [ "$rc" -eq 0 ] && [ "$slow" = no ]; }; then
			[ "$rc" -eq 0 ] || fail "$what: no worker found at 0.4 s, and exit status $rc"
			treecmp "$src" "$dst"
			log "note: $what: copy finished within 0.4 s; running it slowed down"
			continue
		fi
		if [ "$rc" -ne 1 ]; then
			head -n 20 "$T/err" >&2
			fail "$what: exit status $rc, expected 1"
		fi
		[ -s "$T/err" ] || fail "$what: the entry of the killed worker was not reported"
		check_messages "$T/err"
		check_subset "$src" "$dst"
		[ "$NFILES" -ge 97 ] || fail "$what: only $NFILES of 100 files copied"
		w=$(pgrep -af -- "$dst") && fail "$what: processes left: $w"
		[ "$slow" = yes ] && what="$what (slowed)"
		log "$what: exit $rc, $NFILES files complete; stderr: $(head -n 3 "$T/err")"
		return 0
	done
	fail "$what: the slowed-down copy was not interrupted either"
}

# kill_parent FORCE: SIGKILL pcopy itself; its workers must exit
kill_parent() {
	local force=$1 slow workers w rc what
	what="parent SIGKILL${force:+ $force}"
	for slow in no yes; do
		start_pcopy "$force" "$slow"
		sleep 0.4
		workers=$(pgrep -P "$PID" | tr '\n' ' ')
		kill -KILL "$PID" 2>/dev/null
		rc=0
		wait "$PID" 2>/dev/null || rc=$?
		if [ -z "$workers" ]; then
			[ "$rc" -eq 0 ] || fail "$what: no worker found at 0.4 s, and exit status $rc"
			[ "$slow" = no ] || fail "$what: no worker found in the slowed-down copy"
			log "note: $what: copy finished within 0.4 s; running it slowed down"
			continue
		fi
		sleep 2
		for w in $workers; do
			alive "$w" && fail "$what: worker $w still alive 2 s after the parent was killed"
		done
		w=$(pgrep -af -- "$dst") && fail "$what: processes left: $w"
		# O_TMPFILE temporaries vanish with their processes; named ones may
		# stay after a SIGKILL to everything, so check only the default
		[ -z "$force" ] && check_subset "$src" "$dst"
		return 0
	done
}

# kill_every_worker: one worker, a one-slot queue, and its worker killed
# over and over (more often than any fixed respawn budget): pcopy must keep
# replacing it, never hang, exit 1, and leave only complete files.
kill_every_worker() {
	local many=$W/many manydst=$W/many-dst i w rc=0
	mkdir -p "$many"
	for i in $(seq 1 1000); do echo "$i" >"$many/f$i"; done
	# 2 ms per open: the copy lasts seconds, so every kill lands mid-copy
	LD_PRELOAD=$FAULTSHIM FAULT_OP=open FAULT_DELAY_US=2000 \
		"$PCOPY" --mode=process -j 1 --queue=1 "$many" "$manydst" >"$T/out" 2>"$T/err" &
	PID=$!
	sleep 0.2
	for i in $(seq 1 60); do
		w=$(pgrep -P "$PID" | head -n 1)
		[ -n "$w" ] && kill -KILL "$w" 2>/dev/null
		sleep 0.01
	done
	if ! wait_gone "$PID" 60; then
		kill -KILL "$PID"
		fail "repeated kills: pcopy hangs"
	fi
	wait "$PID" 2>/dev/null || rc=$?
	[ "$rc" -eq 1 ] || fail "repeated kills: exit status $rc, expected 1"
	check_messages "$T/err"
	check_subset "$many" "$manydst"
	log "repeated kills: exit $rc, $NFILES of 1000 files complete"
}

kill_worker ""
kill_worker no_tmpfile
kill_parent ""
kill_parent no_tmpfile
kill_every_worker
exit 0
