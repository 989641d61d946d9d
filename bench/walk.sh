# shellcheck shell=bash
# walk.sh -- the walk-only rows of `make bench` (issue 13, item 4), sourced
# by run.sh: the walk tree (mktrees.sh walk: 500,000 empty files in 5,000
# directories; a tenth with QUICK=1) read with -n, nothing copied:
#
#   pcopy thread -j2 -n                      for reference: one reader
#   pcopy-mpi -n at each -np of MPI_NP_LIST  the other ranks list directories
#   the same with PCOPY_FORCE=walker_lists   rank 0 lists them all, as before
#
# commands alternating within each of $runs rounds, medians; then issue
# 13's target (-np 3 faster than -np 2) with the ratio measured, and from
# pcopy-mpi's --stats=json (medians over the runs) its own time without
# MPI's start-up, and what rank 0's walker waited for listings and spent
# on a CPU: a walker that waits is held up by the ranks listing, not the
# other way round.  Every run goes to results/walk-DATE.csv
# (command,run,seconds,elapsed_s,wait_s,cpu_s).  Needs mpirun
# and pcopy-mpi; BENCH_WALK=0 skips it.  Uses run.sh's time_cmd, median,
# ratio and say.

walk_csv=$results/walk-$stamp.csv
walk_label=()
walk_np=()
walk_force=()
declare -A walk_med walk_own walk_wait walk_cpu

# walk_add LABEL NP FORCE: one command of the walk rows (NP 0: pcopy
# thread -j2), with PCOPY_FORCE=FORCE
walk_add() {
	walk_label+=("$1")
	walk_np+=("$2")
	walk_force+=("$3")
}

walk_commands() {
	local np
	walk_add "pcopy thread -j2 -n" 0 ""
	for np in $mpi_np_list; do
		walk_add "pcopy-mpi -np$np -n" "$np" ""
		walk_add "pcopy-mpi -np$np -n (walker_lists)" "$np" walker_lists
	done
}

# walk_argv IDX SRC: sets $argv to walk row IDX's command reading SRC
walk_argv() {
	local np=${walk_np[$1]}
	if ((np == 0)); then
		argv=("$pcopy" --mode=thread -j 2 -n --progress=none "$2" "$work/dst/walk")
	else
		argv=(mpirun --oversubscribe -np "$np" "$pcopy_mpi" -n --progress=none \
			--stats=json "$2" "$work/dst/walk")
	fi
}

# walk_stat FILE KEY: KEY of the --stats=json line in FILE (a pcopy-mpi run's stdout)
walk_stat() {
	awk -v k="\"$2\":" 'index($0, "{\"mode\"") == 1 {
		i = index($0, k); if (i) { v = substr($0, i + length(k)); sub(/[,}].*/, "", v); print v } }' "$1"
}

# bench_walk: time every command RUNS times, alternating; fill walk_med etc.
bench_walk() {
	local src=$work/src/walk n r k i out
	if ! command -v mpirun >/dev/null 2>&1 || [ ! -x "$pcopy_mpi" ]; then
		say "walk rows skipped: mpirun or pcopy-mpi missing"
		return 0
	fi
	bash "$here/mktrees.sh" "$work/src" walk >&2 || {
		say "walk rows skipped: the walk tree could not be made"
		return 0
	}
	walk_commands
	n=${#walk_label[@]}
	say "walk: $(find "$src" -mindepth 1 | wc -l) entries, -n; $n commands x $runs rounds"
	out=$work/tmp/walk-out
	echo "command,run,seconds,elapsed_s,wait_s,cpu_s" >"$walk_csv"
	for ((r = 0; r < runs; r++)); do
		for ((k = 0; k < n; k++)); do
			i=$(((k + r) % n))
			rm -f "$out"
			walk_argv "$i" "$src"
			# shellcheck disable=SC2016 # $0 and $@ belong to sh -c
			PCOPY_FORCE=${walk_force[$i]} time_cmd sh -c 'exec "$@" >"$0"' "$out" "${argv[@]}"
			printf '%s,%d,%s,%s,%s,%s\n' "${walk_label[$i]}" $((r + 1)) "$elapsed" \
				"$(walk_stat "$out" elapsed_s)" "$(walk_stat "$out" listing_wait_s)" \
				"$(walk_stat "$out" walker_cpu_s)" >>"$walk_csv"
			((rc == 0)) || say "walk: ${walk_label[$i]} exited $rc (see $log)"
			cat "$out" >>"$log"
		done
		say "walk: round $((r + 1))/$runs done"
	done
	for ((i = 0; i < n; i++)); do
		walk_med[$i]=$(walk_column "${walk_label[$i]}" 3)
		walk_own[$i]=$(walk_column "${walk_label[$i]}" 4)
		walk_wait[$i]=$(walk_column "${walk_label[$i]}" 5)
		walk_cpu[$i]=$(walk_column "${walk_label[$i]}" 6)
	done
}

# walk_column LABEL N: the median of column N over the runs of LABEL, or
# nothing when it has none (the thread row has no --stats)
walk_column() {
	awk -F, -v l="$1" -v c="$2" '$1 == l && $c != "" { print $c }' "$walk_csv" >"$work/tmp/walk-col"
	[ -s "$work/tmp/walk-col" ] && median <"$work/tmp/walk-col"
}

# walk_index LABEL: the index of the walk row LABEL, or nothing
walk_index() {
	local i
	for ((i = 0; i < ${#walk_label[@]}; i++)); do
		[ "${walk_label[$i]}" = "$1" ] && echo "$i" && return
	done
}

print_walk() {
	local i n2 n3
	((${#walk_label[@]} > 0)) || return 0
	echo
	echo "walk only (-n) on the walk tree, $(find "$work/src/walk" -mindepth 1 | wc -l) entries;" \
		"medians of $runs: the command, pcopy-mpi's own time (elapsed_s,"
	echo "without MPI's start-up), and rank 0's walker waiting for listings and on a CPU:"
	printf '  %-36s %9s %9s %9s %9s\n' command "median s" "own s" "wait s" "cpu s"
	for ((i = 0; i < ${#walk_label[@]}; i++)); do
		printf '  %-36s %9s %9s %9s %9s\n' "${walk_label[$i]}" "${walk_med[$i]}" \
			"${walk_own[$i]:--}" "${walk_wait[$i]:--}" "${walk_cpu[$i]:--}"
	done
	n2=$(walk_index "pcopy-mpi -np2 -n")
	n3=$(walk_index "pcopy-mpi -np3 -n")
	[ -n "$n2" ] && [ -n "$n3" ] || return 0
	awk -v r="$(ratio "${walk_med[$n3]}" "${walk_med[$n2]}")" 'BEGIN {
		printf "  %-46s %7.2f  <  1     %s\n", "walk: pcopy-mpi -np3 -n / -np2 -n", r,
			r < 1 ? "ok" : "OVER" }'
}
