#!/bin/bash
# SIGINT and SIGTERM mid-copy: 100 x 8 MB files, the signal 0.4 s after the
# start.  pcopy must exit 130 (SIGINT) or 143 (SIGTERM) within 5 s, leave no
# process (workers reaped), and DST must hold only complete files identical to
# their source and no temporaries.  Both worker modes, O_TMPFILE and named
# temporaries (PCOPY_FORCE=no_tmpfile), the signal sent to pcopy alone and
# (SIGINT, as a terminal's ^C does) to its whole process group.
# If a run finishes before the signal arrives, it must be a complete copy and
# the case is run again slowed down by the fault shim (a delay on each write).
. "$(dirname "$0")/lib.sh"
need_pcopy
need_cmd python3 setsid

need_faultshim

use_tmpfs 2g
src=$W/src
make_hundred_8mb "$src"
dst=$W/dst

# interrupt SIG WANT MODE FORCE TARGET: copy, send SIG after 0.4 s to pcopy
# (TARGET=pid) or its process group (TARGET=group), check the aftermath
interrupt() {
	local sig=$1 want=$2 mode=$3 force=$4 target=$5 slow rc workers w what comm
	what="$mode SIG$sig to $target${force:+ $force}"
	for slow in no yes; do
		rm -rf "$dst"
		local vars=()
		[ -n "$force" ] && vars+=("PCOPY_FORCE=$force")
		if [ "$slow" = yes ]; then
			vars=("PCOPY_FORCE=no_copy_file_range${force:+,$force}" LD_PRELOAD="$FAULTSHIM"
				FAULT_OP=write FAULT_DELAY_US=5000)
		fi
		# setsid: pcopy leads its own process group; a background job of a
		# script has SIGINT ignored, env --default-signal undoes that
		setsid env --default-signal=INT "${vars[@]}" "$PCOPY" --mode="$mode" -j 2 \
			"$src" "$dst" >"$T/out" 2>"$T/err" &
		local pid=$!
		sleep 0.4
		comm=$(cat "/proc/$pid/comm" 2>/dev/null)
		case $comm in
		setsid | env) fail "$what: pid $pid is $comm, not pcopy (did setsid fork?)" ;;
		esac
		workers=$(pgrep -P "$pid" | tr '\n' ' ')
		if [ "$target" = group ]; then
			kill -s "$sig" -- "-$pid" 2>/dev/null
		else
			kill -s "$sig" "$pid" 2>/dev/null
		fi
		reap_signalled "$pid" 5 "$what"
		rc=$RC
		if [ "$rc" -eq 0 ] && [ "$slow" = no ]; then
			# finished before the signal: must be whole; try again slowed down
			treecmp "$src" "$dst"
			log "note: $what: copy finished within 0.4 s; running it slowed down"
			continue
		fi
		if [ "$rc" -ne "$want" ]; then
			head -n 20 "$T/err" >&2
			fail "$what: exit status $rc, expected $want"
		fi
		check_messages "$T/err"
		check_subset "$src" "$dst"
		for w in $workers; do
			alive "$w" && fail "$what: worker $w still alive after pcopy exited"
		done
		w=$(pgrep -af -- "$dst") && fail "$what: processes left: $w"
		[ "$slow" = yes ] && what="$what (slowed)"
		log "$what: exit $rc, $NFILES files complete"
		return 0
	done
	fail "$what: the slowed-down copy was not interrupted either"
}

for mode in thread process; do
	for force in "" no_tmpfile; do
		interrupt INT 130 "$mode" "$force" pid
		interrupt TERM 143 "$mode" "$force" pid
	done
	interrupt INT 130 "$mode" no_tmpfile group
done
exit 0
