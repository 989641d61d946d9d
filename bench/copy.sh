# shellcheck shell=bash
# copy.sh -- the main table: each tree of TREES copied by pcopy in thread
# and process mode at each -j of JOBS_LIST, by pcopy-mpi and dcp (mpi.sh),
# and by the peers cp -a, tar | tar and rsync -a (those installed), the
# commands alternating within each of RUNS rounds, the destination removed
# untimed between runs and each command's first copy checked; then the
# chart (gnuplot) and the project's targets beside what the run measured.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -A tree_entries tree_bytes tree_sig

# The commands: parallel arrays; cmd_argv I SRC DST sets $argv.
cmd_kind=() cmd_jobs=() cmd_mode=() cmd_label=() cmd_name=()

add_cmd() {
	cmd_kind+=("$1") cmd_jobs+=("$2") cmd_mode+=("$3") cmd_label+=("$4") cmd_name+=("$5")
}

copy_commands() {
	local mode j
	add_cmd cp "" "" "cp -a" "cp -a"
	if command -v tar >/dev/null 2>&1; then
		add_cmd tar "" "" "tar|tar" "tar|tar"
	else
		skipped+=("tar not installed")
	fi
	if command -v rsync >/dev/null 2>&1; then
		add_cmd rsync "" "" "rsync -a" "rsync -a"
	else
		skipped+=("rsync not installed")
	fi
	if [ -x "$pcopy" ]; then
		for mode in thread process; do
			for j in $jobs_list; do
				add_cmd pcopy "$j" "$mode" "pcopy $mode -j$j" pcopy
			done
		done
	else
		skipped+=("pcopy not built at $pcopy (make pcopy)")
	fi
	mpi_commands
}

cmd_argv() {
	local i=$1 src=$2 dst=$3 np=$((${cmd_jobs[$1]:-0} + 1))
	# shellcheck disable=SC2016 # tar's $1 and $2 belong to sh -c
	case ${cmd_kind[$i]} in
	cp) argv=(cp -a "$src" "$dst") ;;
	tar) argv=(sh -c 'mkdir "$2" && tar -C "$1" -cf - . | tar -C "$2" -xf -' sh "$src" "$dst") ;;
	rsync) argv=(rsync -a "$src/" "$dst") ;;
	pcopy) argv=("$pcopy" --mode="${cmd_mode[$i]}" -j "${cmd_jobs[$i]}" --progress=none "$src" "$dst") ;;
	mpi) argv=(mpirun --oversubscribe -np "$np" "$pcopy_mpi" --progress=none "$src" "$dst") ;;
	dcp) argv=(mpirun --oversubscribe -np "$np" "$BENCH_DCP" -p "$src" "$dst") ;;
	esac
}

# index_of MODE J: the index of pcopy --mode=MODE -j J; index_of_kind KIND
# J: of command KIND (mpi, dcp) at J copying workers; or nothing.
index_of() {
	local i
	for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
		[ "${cmd_kind[$i]}" = pcopy ] && [ "${cmd_mode[$i]}" = "$1" ] &&
			[ "${cmd_jobs[$i]}" = "$2" ] && echo "$i" && return
	done
}
index_of_kind() {
	local i
	for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
		[ "${cmd_kind[$i]}" = "$1" ] && [ "${cmd_jobs[$i]}" = "$2" ] && echo "$i" && return
	done
}

# The rounds' hooks for one tree ($ct, $csrc, $cdst).
copy_prep() {
	rm -rf "$cdst"
	cmd_argv "$1" "$csrc" "$cdst"
	row="$ct,${cmd_name[$1]},${cmd_jobs[$1]},${cmd_mode[$1]}"
}
copy_check() {
	check_run "$ct" "$1" "${cmd_label[$1]}" "$2" "$csrc" "$cdst" "${tree_sig[$ct]}"
}
copy_round() {
	say "$ct: round $1/$2 done"
}

copy_tree() {
	ct=$1 csrc=$work/src/$1 cdst=$work/dst/$1
	tree_sig[$ct]=$(signature "$csrc")
	tree_entries[$ct]=$(find "$csrc" -mindepth 1 ! -type d | wc -l)
	tree_bytes[$ct]=${tree_sig[$ct]##*bytes=}
	say "$ct: ${tree_entries[$ct]} files, ${tree_bytes[$ct]} bytes;" \
		"${#cmd_kind[@]} commands x $runs rounds"
	# One untimed copy first: the first use of fresh memory costs more than
	# its reuse (very much so in a VM), and no command should pay for that.
	rm -rf "$cdst"
	cp -a "$csrc" "$cdst" >>"$log" 2>&1
	rounds "$ct" "${#cmd_kind[@]}" "$runs" copy
	rm -rf "$cdst"
}

copy_trees() {
	local tree
	for tree in $trees; do
		if [ -d "$work/src/$tree" ]; then
			copy_tree "$tree"
		else
			say "skipped tree $tree: not generated"
		fi
	done
}

print_table() {
	local tree i
	printf '\n%-6s %-20s %9s %7s %9s %10s %9s\n' tree command "median s" \
		"min s" "MB/s" "files/s" "vs cp -a"
	for tree in $trees; do
		[ -n "${tree_entries[$tree]:-}" ] || continue
		for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
			table_row '%-6s %-20s %9.3f %7.3f %9s %10s %9s\n' "$tree" "$i" "${cmd_label[$i]}" \
				"${tree_bytes[$tree]}" "${tree_entries[$tree]}" "${med[$tree/0]}"
		done
	done
	echo
	echo "MB/s: 10^6 bytes of regular-file data per second; files/s: non-directory"
	echo "entries per second; vs cp -a: cp's median time / this median time;"
	echo "min s: the fastest run (a median far above it means a noisy machine)."
	for tree in $trees; do
		[ -n "${tree_entries[$tree]:-}" ] && echo "$tree: ${tree_sig[$tree]}"
	done
	for tree in $trees; do
		[[ " ${!mark[*]} " == *" $tree/"* ]] || continue
		echo "* a run exited non-zero or its first copy was incomplete: see $log"
		break
	done
}

# The chart: median time against -j, thread vs process (and pcopy-mpi at -j
# copying ranks, when run), one panel per tree, cp -a a dashed line.
draw_chart() {
	local dat=$work/tmp/chart.dat tree i j n=0 th pr mp plots='' xtics xrange mpi_plot=
	if ! command -v gnuplot >/dev/null 2>&1; then
		say "skipped chart: gnuplot not installed"
		echo "skipped chart: gnuplot not installed"
		return
	fi
	[ -x "$pcopy" ] || return
	xtics=$(awk '{ $1 = $1; gsub(/ /, ", "); print }' <<<"$jobs_list")
	xrange=$(awk '{ min = max = $1; for (i = 2; i <= NF; i++) {
		if ($i < min) min = $i; if ($i > max) max = $i }
		printf "%g:%g", min * 0.8, max * 1.25 }' <<<"$jobs_list")
	: >"$dat"
	for tree in $trees; do
		[ -n "${tree_entries[$tree]:-}" ] || continue
		for j in $jobs_list; do
			th='?' pr='?' mp='?'
			for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
				[ "${cmd_jobs[$i]}" = "$j" ] || continue
				[ "${cmd_mode[$i]}" = thread ] && th=${med[$tree/$i]}
				[ "${cmd_mode[$i]}" = process ] && pr=${med[$tree/$i]}
				[ "${cmd_kind[$i]}" = mpi ] && mp=${med[$tree/$i]} mpi_plot=yes
			done
			echo "$j $th $pr ${med[$tree/0]} $mp" >>"$dat"
		done
		printf '\n\n' >>"$dat"
		plots+="set title '$tree (${tree_entries[$tree]} files)'
plot '$dat' index $n using 1:2 with linespoints lw 2 pt 7 ps 0.8 title 'thread', \\
     '' index $n using 1:3 with linespoints lw 2 pt 5 ps 0.8 title 'process', \\
${mpi_plot:+     '' index $n using 1:5 with linespoints lw 2 pt 9 ps 0.8 title 'mpi (copying ranks)', \\
}     '' index $n using 1:4 with lines dt 2 lc rgb 'gray40' title 'cp -a'
"
		n=$((n + 1))
	done
	gnuplot >>"$log" 2>&1 <<EOF
set terminal svg size $((420 * n)),380 dynamic font 'sans,11'
set output '$svg'
set multiplot layout 1,$n title 'pcopy: median time against workers ($runs runs, $(stat -f -c %T "$work"), $(nproc) CPUs)'
set logscale x 2
set xtics ($xtics)
set xrange [$xrange]
set xlabel 'workers (-j)'
set ylabel 'seconds'
set datafile missing '?'
set yrange [0:*]
set key bottom left
set grid
$plots
unset multiplot
EOF
	if [ -s "$svg" ]; then
		say "chart: $svg"
		echo "chart: $svg"
	else
		say "chart failed (see $log)"
	fi
}

# The project's performance targets, as measured by this run (with the
# small-tree figures of small.sh and the MPI ones of mpi.sh).
print_targets() {
	local tree t2 worst wj j th pr r rss k v
	[ -x "$pcopy" ] || return 0
	echo
	echo "targets of the project (time ratios: lower is faster):"
	[ "$quick" = 1 ] && echo "  (QUICK: small trees and few runs, indicative only)"
	t2=$(index_of thread 2)
	for tree in $trees; do
		[ -n "${tree_entries[$tree]:-}" ] && [ -n "$t2" ] || continue
		case $tree in
		small) target "small: thread -j2 / cp -a" "$(ratio "${med[$tree/$t2]}" "${med[$tree/0]}")" 0.60
			target "small: thread -j8 / thread -j2 ($pair_rounds pairs)" "$ex_scaling" 1.10
			target "small: thread default / thread -j2 ($pair_rounds pairs)" "$ex_default" 1.05
			[ -n "$ex_default" ] && target "small: thread default / cp -a (from the pairs)" \
				"$(awk -v d="$ex_default" -v t="${med[$tree/$t2]}" -v c="${med[$tree/0]}" \
					'BEGIN { if (c > 0) printf "%.3f", d * t / c }')" 0.60 ;;
		big) target "big: thread -j2 / cp -a" "$(ratio "${med[$tree/$t2]}" "${med[$tree/0]}")" 1.00 ;;
		real) target "real: thread -j2 / cp -a" "$(ratio "${med[$tree/$t2]}" "${med[$tree/0]}")" 0.65 ;;
		esac
		worst='' wj=''
		for j in $jobs_list; do
			th=$(index_of thread "$j")
			pr=$(index_of process "$j")
			[ -n "$th" ] && [ -n "$pr" ] || continue
			r=$(ratio "${med[$tree/$pr]}" "${med[$tree/$th]}")
			[ "$tree" = small ] && r=${ex_modes[$j]:-$r}
			if [ -n "$r" ] && { [ -z "$worst" ] ||
				awk -v a="$r" -v b="$worst" 'BEGIN { exit !(a > b) }'; }; then
				worst=$r wj=$j
			fi
		done
		k=
		[ "$tree" = small ] && [ -n "${ex_modes[$wj]:-}" ] && k=", $pair_rounds pairs"
		target "$tree: process / thread (worst: -j$wj$k)" "$worst" 1.10
	done
	rss=
	for k in "pcopy thread -j2" "pcopy process -j2"; do
		v=${ex_rss[$k]:-}
		[ -n "$v" ] && { [ -z "$rss" ] || ((v > rss)); } && rss=$v
	done
	[ -n "$rss" ] && target "small: peak RSS of pcopy -j2, MiB" \
		"$(awk -v k="$rss" 'BEGIN { printf "%.2f", k / 1024 }')" 32
	target "small: peak RSS, whole tree / a tenth" \
		"$(ratio "${ex_rss[pcopy thread -j2]:-}" "$ex_rss_tenth")" 1.50
	for k in "pcopy thread -j2" "pcopy process -j2"; do
		target "small: syscalls/file, ${k#pcopy } / cp -a" \
			"$(ratio "${ex_calls[$k]:-}" "${ex_calls[cp -a]:-}")" 1.00
	done
	target "small: --progress=json cost, % ($pair_rounds pairs)" "$ex_progress" 3
	print_mpi_targets
}
