# shellcheck shell=bash
# walk.sh -- the walk-only rows: the walk tree (mktrees.sh walk) read with
# -n, nothing copied, by
#
#   pcopy thread -j2 -n                      for reference: one reader
#   pcopy-mpi -n at each -np of MPI_NP_LIST  the other ranks list directories
#   the same with PCOPY_FORCE=walker_lists   rank 0 lists them all, as before
#
# commands alternating within each of RUNS rounds, medians; then the target
# that three ranks walk faster than two (-np 3 / -np 2 < 1), and from
# pcopy-mpi's --stats=json (medians over the runs) its own time without
# MPI's start-up, and what rank 0's walker waited for listings and spent
# on a CPU: a walker that waits is held up by the ranks listing, not the
# other way round.  Every run goes to results/walk-DATE.csv
# (command,run,seconds,elapsed_s,wait_s,cpu_s).  Needs mpirun and
# pcopy-mpi; BENCH_WALK=0 skips it, and QUICK runs it only with BENCH_WALK=1.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

walk_csv=$results/walk-$stamp.csv
walk_label=() walk_np=() walk_force=()
declare -A walk_own walk_wait walk_cpu

walk_add() {
	walk_label+=("$1") walk_np+=("$2") walk_force+=("$3")
}

# walk_stat FILE KEY: KEY of the --stats=json line in FILE (pcopy-mpi's stdout)
walk_stat() {
	awk -v k="\"$2\":" 'index($0, "{\"mode\"") == 1 {
		i = index($0, k); if (i) { v = substr($0, i + length(k)); sub(/[,}].*/, "", v); print v } }' "$1"
}

# The rounds' hooks; each run's stdout goes to $walk_out.
walk_prep() {
	local np=${walk_np[$1]}
	rm -f "$walk_out"
	if ((np == 0)); then
		argv=("$pcopy" --mode=thread -j 2 -n --progress=none "$walk_src" "$work/dst/walk")
	else
		argv=(mpirun --oversubscribe -np "$np" "$pcopy_mpi" -n --progress=none \
			--stats=json "$walk_src" "$work/dst/walk")
	fi
	# shellcheck disable=SC2016 # $0 and $@ belong to sh -c
	argv=(sh -c 'exec "$@" >"$0"' "$walk_out" "${argv[@]}")
	export PCOPY_FORCE=${walk_force[$1]}
	row=
}
walk_check() {
	unset PCOPY_FORCE
	printf '%s,%d,%s,%s,%s,%s\n' "${walk_label[$1]}" $(($2 + 1)) "$elapsed" \
		"$(walk_stat "$walk_out" elapsed_s)" "$(walk_stat "$walk_out" listing_wait_s)" \
		"$(walk_stat "$walk_out" walker_cpu_s)" >>"$walk_csv"
	((rc == 0)) || say "walk: ${walk_label[$1]} exited $rc (see $log)"
	cat "$walk_out" >>"$log"
}
walk_round() {
	say "walk: round $1/$2 done"
}

# walk_column LABEL N: the median of column N over the runs of LABEL, or
# nothing when it has none (the thread row has no --stats)
walk_column() {
	awk -F, -v l="$1" -v c="$2" '$1 == l && $c != "" { print $c }' "$walk_csv" >"$work/tmp/walk-col"
	[ -s "$work/tmp/walk-col" ] && median <"$work/tmp/walk-col"
}

bench_walk() {
	local np i
	walk_src=$work/src/walk walk_out=$work/tmp/walk-out
	if ! have_mpi; then
		say "walk rows skipped: mpirun or pcopy-mpi missing"
		return 0
	fi
	make_trees walk || { say "walk rows skipped: the walk tree could not be made"; return 0; }
	walk_add "pcopy thread -j2 -n" 0 ""
	for np in $mpi_np_list; do
		walk_add "pcopy-mpi -np$np -n" "$np" ""
		walk_add "pcopy-mpi -np$np -n (walker_lists)" "$np" walker_lists
	done
	say "walk: $(find "$walk_src" -mindepth 1 | wc -l) entries, -n; ${#walk_label[@]} commands x $runs rounds"
	echo "command,run,seconds,elapsed_s,wait_s,cpu_s" >"$walk_csv"
	local force_set=${PCOPY_FORCE+1} force=${PCOPY_FORCE:-}
	rounds walk "${#walk_label[@]}" "$runs" walk
	[ -n "$force_set" ] && export PCOPY_FORCE=$force
	for ((i = 0; i < ${#walk_label[@]}; i++)); do
		walk_own[$i]=$(walk_column "${walk_label[$i]}" 4)
		walk_wait[$i]=$(walk_column "${walk_label[$i]}" 5)
		walk_cpu[$i]=$(walk_column "${walk_label[$i]}" 6)
	done
}

print_walk() {
	local i n2='' n3=''
	((${#walk_label[@]} > 0)) || return 0
	echo
	echo "walk only (-n) on the walk tree, $(find "$walk_src" -mindepth 1 | wc -l) entries;" \
		"medians of $runs: the command, pcopy-mpi's own time (elapsed_s,"
	echo "without MPI's start-up), and rank 0's walker waiting for listings and on a CPU:"
	printf '  %-36s %9s %9s %9s %9s\n' command "median s" "own s" "wait s" "cpu s"
	for ((i = 0; i < ${#walk_label[@]}; i++)); do
		printf '  %-36s %9s %9s %9s %9s\n' "${walk_label[$i]}" "${med[walk/$i]}" \
			"${walk_own[$i]:--}" "${walk_wait[$i]:--}" "${walk_cpu[$i]:--}"
		[ "${walk_label[$i]}" = "pcopy-mpi -np2 -n" ] && n2=$i
		[ "${walk_label[$i]}" = "pcopy-mpi -np3 -n" ] && n3=$i
	done
	[ -n "$n2" ] && [ -n "$n3" ] || return 0
	awk -v r="$(ratio "${med[walk/$n3]}" "${med[walk/$n2]}")" 'BEGIN {
		printf "  %-46s %7.2f  <  1     %s\n", "walk: pcopy-mpi -np3 -n / -np2 -n", r,
			r < 1 ? "ok" : "OVER" }'
}
