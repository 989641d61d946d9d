#!/bin/bash
# Issue 12: the adaptive default.  Without -j the pool starts at one worker
# per CPU and may grow; this machine's tmpfs would never make it grow, so
# PCOPY_FORCE=adapt_grow makes the monitor double the pool at every look,
# and the fault shim slows every write so that the copy outlasts the growth.
#  - the grown pool copies the full-fidelity tree (holes, hard-link groups)
#    identically, in both modes, also with --queue=1, and --stats says it
#    grew (jobs > jobs_start, adaptive true);
#  - -j N stays exactly N, forced or not;
#  - under ulimit -n 64, thread mode grows only as far as the fds allow
#    and copies everything;
#  - SIGINT once the pool has grown: exit 130 within 5 s, only whole files
#    under their names, no temporaries, every worker gone (in process mode
#    the added ones too, each of which is a child of pcopy).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
need_cmd python3 setsid
need_faultshim
use_tmpfs 2g
src=$W/src
make_fidelity_tree "$src"
# 300 one-write files: at 20 ms a write, even 32 workers need 0.2 s
mkdir "$src/slow"
for i in $(seq 1 300); do echo "file $i" >"$src/slow/f$i"; done
touch -d '2003-04-05 06:07:08.000000001' "$src/slow" "$src"

slow=(env "PCOPY_FORCE=adapt_grow,no_copy_file_range" LD_PRELOAD="$FAULTSHIM" FAULT_OP=write
	FAULT_DELAY_US=20000)

# check_grown FILE WANT_GROWN: the --stats=json in FILE says the pool grew
# (WANT_GROWN=1, and not past 32) or stayed at its -j (0)
check_grown() {
	python3 - "$1" "$2" <<'PY' || fail "--stats=json: $(cat "$1")"
import json, sys
s = json.loads(open(sys.argv[1]).read())
if sys.argv[2] == "1":
    assert s["adaptive"] is True, s
    assert s["jobs_start"] < s["jobs"] <= 32, s
else:
    assert s["adaptive"] is False and s["jobs"] == s["jobs_start"], s
for k in ("cpu_s", "runq_s", "wait_s", "idle_s"):
    assert s[k] >= 0, (k, s)
PY
}

for mode in thread process; do
	for queue in 256 1; do
		dst=$W/dst
		assert_exit 0 "${slow[@]}" "$PCOPY" --mode="$mode" --queue="$queue" \
			--stats=json "$src" "$dst"
		treecmp "$src" "$dst"
		no_temporaries "$dst"
		check_grown "$T/out" 1
		log "$mode --queue=$queue: $(python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["jobs_start"], "->", s["jobs"], "workers")' <"$T/out")"
		remove_tree "$dst"
	done
	# an explicit -j is exactly that many workers, growth forced or not
	assert_exit 0 "${slow[@]}" "$PCOPY" --mode="$mode" -j 3 --stats=json "$src" "$W/fixed"
	treecmp "$src" "$W/fixed"
	check_grown "$T/out" 0
	assert_eq "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"])' <"$T/out")" 3 \
		"$mode -j 3: jobs"
	remove_tree "$W/fixed"
done

# thread mode shares one fd table: under ulimit -n 64 the pool grows only
# as far as the fds allow, and every file is still copied
rc=0
(
	ulimit -n 64
	exec "${slow[@]}" "$PCOPY" --mode=thread --stats=json "$src" "$W/fds"
) >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 0 ] || { head -n 20 "$T/err" >&2; fail "ulimit -n 64: exit status $rc, expected 0"; }
treecmp "$src" "$W/fds"
check_grown "$T/out" 1
remove_tree "$W/fds"

# ---- SIGINT once grown ----
big=$W/big
make_hundred_8mb "$big"

# workers_of PID MODE: the worker pids (process) or thread ids (thread)
workers_of() {
	if [ "$2" = process ]; then
		pgrep -P "$1"
	else
		local t
		for t in "/proc/$1/task/"*; do
			[ "${t##*/}" = "$1" ] || echo "${t##*/}"
		done
	fi
}

for mode in thread process; do
	dst=$W/int-$mode
	setsid env --default-signal=INT PCOPY_FORCE=adapt_grow,no_copy_file_range \
		LD_PRELOAD="$FAULTSHIM" FAULT_OP=write FAULT_DELAY_US=5000 \
		"$PCOPY" --mode="$mode" "$big" "$dst" >"$T/out" 2>"$T/err" &
	pid=$!
	# grown: more workers than 2 CPUs' worth plus the walker and monitor
	n=0
	for _ in $(seq 1 100); do
		n=$(workers_of "$pid" "$mode" | wc -l)
		[ "$n" -ge 16 ] && break
		sleep 0.05
	done
	[ "$n" -ge 16 ] || {
		kill -KILL -- "-$pid" 2>/dev/null
		fail "$mode: the pool did not grow (only $n workers after 5 s)"
	}
	workers=$(workers_of "$pid" "$mode" | tr '\n' ' ')
	kill -s INT "$pid"
	reap_signalled "$pid" 5 "$mode"
	rc=$RC
	assert_eq "$rc" 130 "$mode: exit status after SIGINT"
	check_messages "$T/err"
	check_subset "$big" "$dst"
	if [ "$mode" = process ]; then
		for w in $workers; do
			alive "$w" && fail "$mode: worker $w still alive after pcopy exited"
		done
	fi
	w=$(pgrep -af -- "$dst") && fail "$mode: processes left: $w"
	log "$mode: SIGINT with $n workers: exit 130, $NFILES whole files"
	remove_tree "$dst"
done
exit 0
