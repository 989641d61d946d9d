#!/bin/bash
# run.sh -- the pcopy benchmark behind `make bench`; QUICK=1 is a first look
# of about a minute (a small tree, a big-file tree, the no-op backup row, 3
# rounds, 3 pairs).  It picks the suites, each a file of bench/ sourcing
# lib.sh, and writes under bench/results/ runs-DATE.csv (every timed run:
# tree,command,jobs,mode,run,seconds), table-DATE.txt (the table printed,
# with the machine it ran on), workers-DATE.svg (gnuplot) and log-DATE.txt
# (every command and its output):
#
#   copy.sh         the main table: TREES copied by pcopy in each mode at
#                   each -j of JOBS_LIST, by the peers, by pcopy-mpi (mpi.sh)
#   small.sh        small-tree extras: peak RSS, system calls, the pairs
#   incremental.sh  the backup rows (BENCH_INCREMENTAL)
#   walk.sh         the walk-only rows (BENCH_WALK; not in QUICK)
#   scale.sh        the scale rows: pcopy-mpi on the many tree (300,000
#                   files) against pcopy, dcp and dsync (BENCH_SCALE; not
#                   in QUICK)
#   remote.sh       the remote rows: pcopy SRC HOST:DST over ssh to a
#                   private sshd on 127.0.0.1 against rsync -e, tar | ssh
#                   and scp (BENCH_REMOTE; root; not in QUICK)
#   disk.sh         the real-storage rows (BENCH_DISK; not in QUICK)
#   ab.sh           with PCOPY_B set, only A (PCOPY) against B, instead
#
# bench/README lists the knobs.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for s in lib copy mpi small incremental walk scale remote disk ab; do
	# shellcheck source=/dev/null
	. "$here/$s.sh"
done

# off_in_quick NAME KNOB: a table line for rows QUICK leaves out by default.
off_in_quick() {
	[ "$quick" = 1 ] && [ -z "${!2:-}" ] && skipped+=("$1: not in QUICK ($2=1 runs them)")
}

main() {
	if [ -n "${PCOPY_B:-}" ]; then
		ab_main
		return
	fi
	bench_start
	copy_commands
	scale_commands
	remote_commands
	knob BENCH_WALK 0 1 || off_in_quick "walk rows" BENCH_WALK
	knob BENCH_DISK 0 1 || off_in_quick "disk rows" BENCH_DISK
	for s in "${skipped[@]}"; do
		say "skipped: $s"
	done
	say "generating trees: $trees"
	# shellcheck disable=SC2086 # a list of words
	make_trees $trees || die "tree generation failed"
	copy_trees
	{
		print_machine
		print_table
	} >"$table"
	if [ -n "${tree_entries[small]:-}" ]; then
		small_extras >>"$table"
		[ -x "$pcopy" ] && knob BENCH_INCREMENTAL 1 1 && bench_incremental >>"$table"
	fi
	print_targets >>"$table"
	print_incremental_targets >>"$table"
	if knob BENCH_WALK 0 1; then
		bench_walk
		print_walk >>"$table"
	fi
	bench_scale
	bench_remote
	{
		print_scale
		print_remote
		draw_chart
		echo "runs: $csv"
	} >>"$table"
	cat "$table"
	if knob BENCH_DISK 0 1; then
		disk_main
	else
		say "disk rows skipped (BENCH_DISK=0$([ "$quick" = 1 ] && echo ' or QUICK'))"
	fi
	say "done; table: $table"
}

main "$@"
