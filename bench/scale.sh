# shellcheck shell=bash
# scale.sh -- the scale rows: the many tree (mktrees.sh many: 300,000 files
# of 0-64 KiB in 3,000 directories, ~2.5 GB), where pcopy-mpi -np 3 (two
# copying ranks) is set against pcopy in process mode at -j 2 and against
# mpiFileUtils' dcp and dsync at -np 3:
#
#   copy   into a fresh DST: pcopy --mode=process -j 2, pcopy-mpi -np 3
#          --stats=json (each rank's peak RSS, its own elapsed_s), and dcp
#          -p -np 3 when BENCH_DCP names it (its default output: that is
#          the command the targets name)
#   no-op  over a copy pcopy made: pcopy process -j2 and pcopy-mpi -np 3
#          with -T --update=changed --delete, and dsync -D -np 3
#          (BENCH_DSYNC, or beside BENCH_DCP)
#
# each block's commands alternating within each of RUNS rounds, medians,
# the first run of each command checked (a complete copy; a no-op leaving
# DST as SRC); then the targets.  Needs mpirun and pcopy-mpi (with mpi.sh's
# mpi_env and startup_median: run.sh sources both) and room in the work
# directory for the tree, unless kept from an earlier run, and one copy
# (else skipped, saying why).  BENCH_SCALE=0 skips it, and QUICK runs it
# only with BENCH_SCALE=1.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scale_on=0    # 1: the rows run (scale_commands found what they need)
scale_skip='' # why they did not, found when they were to run
scale_dcp='' scale_dsync=''
scale_copy=() scale_noop=() # the kinds of command of each block
scale_stats=()              # per pcopy-mpi copy: "elapsed_s rss0 rss1 ..."
scale_startup='' scale_files='' scale_dirs='' scale_bytes='' scale_sig=''

# scale_commands: whether the rows run and with which commands; what is
# left out goes to the table header's skipped lines, as in mpi.sh.
scale_commands() {
	local why=''
	if ! knob BENCH_SCALE 0 1; then
		why=$(qf 'not in QUICK (BENCH_SCALE=1 runs them)' 'BENCH_SCALE=0')
	elif ! command -v mpirun >/dev/null 2>&1; then
		why='mpirun not installed (openmpi-bin)'
	elif [ ! -x "$pcopy_mpi" ]; then
		why="pcopy-mpi not built at $pcopy_mpi (make mpi)"
	elif [ ! -x "$pcopy" ]; then
		why="pcopy not built at $pcopy (make pcopy)"
	fi
	if [ -n "$why" ]; then
		skipped+=("scale rows (many tree): $why")
		return
	fi
	mpi_env
	scale_on=1
	scale_copy=(pcopy mpi) scale_noop=(pcopy mpi)
	if [ -z "${BENCH_DCP:-}" ]; then
		skipped+=("scale: dcp -p row: set BENCH_DCP=/path/to/dcp (mpiFileUtils)")
	elif [ ! -x "$BENCH_DCP" ]; then
		skipped+=("scale: dcp -p row: BENCH_DCP=$BENCH_DCP is not an executable")
	else
		scale_dcp=$BENCH_DCP
		scale_copy+=(dcp)
	fi
	scale_dsync=${BENCH_DSYNC:-${BENCH_DCP:+$(dirname "$BENCH_DCP")/dsync}}
	if [ -z "$scale_dsync" ]; then
		skipped+=("scale: dsync -D row: set BENCH_DSYNC, or BENCH_DCP with dsync beside it")
	elif [ ! -x "$scale_dsync" ]; then
		skipped+=("scale: dsync -D row: no executable $scale_dsync (set BENCH_DSYNC)")
		scale_dsync=
	else
		scale_noop+=(dsync)
	fi
}

# scale_room: is there room in the work directory for the many tree (unless
# mktrees.sh would keep the one there) and one copy, in KiB and in inodes?
# If not, says why in scale_skip.
scale_room() {
	local kib inodes made n avail itotal iavail what
	read -r _ kib inodes made < <(bash "$here/mktrees.sh" --status "$work/src" many)
	n=$((made == 1 ? 1 : 2))
	what=$([ "$made" = 1 ] && echo "a copy of the many tree" ||
		echo "the many tree and a copy")
	avail=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
	read -r itotal iavail < <(df -Pi "$work" | awk 'NR == 2 { print $2, $4 }')
	if [ -z "$avail" ] || ((kib * n > avail)); then
		scale_skip="no room in $work for $what: $((kib * n / 1024)) MiB needed,"
		scale_skip+=" $((${avail:-0} / 1024)) MiB free (BENCH_DIR can point elsewhere)"
		return 1
	fi
	# a file system that sets no limit (btrfs) reports 0 inodes
	if ((${itotal:-0} > 0 && inodes * n > ${iavail:-0})); then
		scale_skip="no room in $work for $what: $((inodes * n)) inodes needed,"
		scale_skip+=" $iavail free (BENCH_DIR can point elsewhere)"
		return 1
	fi
}

# scale_label KIND: a row's name in the table and in the CSV.
scale_label() {
	case $1 in
	pcopy) echo "pcopy process -j2" ;;
	mpi) echo "pcopy-mpi -np3" ;;
	dcp) echo "dcp -p -np3" ;;
	dsync) echo "dsync -D -np3" ;;
	esac
}

# The copy rounds' hooks: a fresh DST every run; pcopy-mpi's stdout (its
# --stats=json line) goes to $scale_out, then to the log.
scale_copy_prep() {
	rm -rf "$scale_dst"
	case ${scale_copy[$1]} in
	pcopy)
		argv=("$pcopy" --mode=process -j 2 --progress=none "$scale_src" "$scale_dst")
		row="many,pcopy,2,process" ;;
	mpi)
		rm -f "$scale_out"
		# shellcheck disable=SC2016 # $0 and $@ belong to sh -c
		argv=(sh -c 'exec "$@" >"$0"' "$scale_out" mpirun --oversubscribe -np 3
			"$pcopy_mpi" --progress=none --stats=json "$scale_src" "$scale_dst")
		row="many,pcopy-mpi,2,mpi" ;;
	dcp)
		argv=(mpirun --oversubscribe -np 3 "$scale_dcp" -p "$scale_src" "$scale_dst")
		row="many,dcp,2,mpi" ;;
	esac
}
scale_copy_check() {
	local kind=${scale_copy[$1]} stats
	check_run many "$1" "$(scale_label "$kind")" "$2" "$scale_src" "$scale_dst" "$scale_sig"
	[ "$kind" = mpi ] || return 0
	cat "$scale_out" >>"$log" 2>/dev/null
	stats=$(scale_json "$scale_out")
	if [ -n "$stats" ]; then
		scale_stats+=("$stats")
	else
		say "many: pcopy-mpi printed no --stats=json line with per_rank (see $log)"
	fi
}
scale_copy_round() {
	say "many: round $1/$2 of the copies done"
}

# The no-op rounds' hooks: DST stays the copy made before them.
scale_noop_prep() {
	case ${scale_noop[$1]} in
	pcopy)
		argv=("$pcopy" --mode=process -j 2 -T --update=changed --delete
			--progress=none "$scale_src" "$scale_dst")
		row="many,no-op pcopy -T --update=changed --delete,2,process" ;;
	mpi)
		argv=(mpirun --oversubscribe -np 3 "$pcopy_mpi" -T --update=changed --delete
			--progress=none "$scale_src" "$scale_dst")
		row="many,no-op pcopy-mpi -T --update=changed --delete,2,mpi" ;;
	dsync)
		argv=(mpirun --oversubscribe -np 3 "$scale_dsync" -D "$scale_src" "$scale_dst")
		row="many,no-op dsync -D,2,mpi" ;;
	esac
}
scale_noop_check() {
	check_run "many no-op" "$1" "$(scale_label "${scale_noop[$1]}")" "$2" \
		"$scale_src" "$scale_dst" "$scale_sig"
}
scale_noop_round() {
	say "many: round $1/$2 of the no-ops done"
}

# scale_json FILE: from the --stats=json line in FILE, "elapsed_s" and each
# rank's peak_rss_kib in rank order, or nothing.
scale_json() {
	awk 'index($0, "{\"mode\"") == 1 {
		k = "\"elapsed_s\":"; i = index($0, k)
		p = "\"per_rank\":["; j = index($0, p)
		if (!i || !j) exit
		e = substr($0, i + length(k)); sub(/[,}].*/, "", e)
		s = substr($0, j + length(p)); s = substr(s, 1, index(s, "]"))
		out = e; n = 0; k = "\"peak_rss_kib\":"
		while ((i = index(s, k)) > 0) {
			s = substr(s, i + length(k)); v = s; sub(/[,}].*/, "", v)
			out = out " " v; n++
		}
		if (n) print out
		exit }' "$1" 2>/dev/null
}

# scale_s SECONDS: with three decimals, or "unknown".
scale_s() {
	if [ -n "$1" ]; then awk -v s="$1" 'BEGIN { printf "%.3f", s }'; else echo unknown; fi
}

# scale_column N: the median of column N (1: elapsed_s, 2: rank 0's peak
# RSS, ...) over the pcopy-mpi copies, or nothing.
scale_column() {
	((${#scale_stats[@]} > 0)) || return 0
	printf '%s\n' "${scale_stats[@]}" | awk -v c="$1" 'NF >= c { print $c }' >"$work/tmp/scale-col"
	[ -s "$work/tmp/scale-col" ] && median <"$work/tmp/scale-col"
}

bench_scale() {
	[ "$scale_on" = 1 ] || return 0
	scale_src=$work/src/many scale_dst=$work/dst/many scale_out=$work/tmp/scale-out
	if ! scale_room; then
		say "scale rows skipped: $scale_skip"
		return 0
	fi
	if ! make_trees many; then
		scale_skip="the many tree could not be made (see the messages above)"
		say "scale rows skipped: $scale_skip"
		return 0
	fi
	scale_sig=$(signature "$scale_src")
	# "f=FILES d=DIRS l=... bytes=BYTES"
	scale_files=${scale_sig#f=} scale_dirs=${scale_sig#* d=}
	scale_files=${scale_files%% *} scale_dirs=${scale_dirs%% *}
	scale_bytes=${scale_sig##*bytes=}
	say "many: $scale_files files, $scale_bytes bytes; ${#scale_copy[@]} copies" \
		"and ${#scale_noop[@]} no-ops x $runs rounds"
	# One untimed copy first, as copy.sh does: the first use of fresh memory
	# costs more than its reuse, and no command should pay for that.
	rm -rf "$scale_dst"
	"$pcopy" --mode=process -j 2 --progress=none "$scale_src" "$scale_dst" >>"$log" 2>&1
	rounds many "${#scale_copy[@]}" "$runs" scale_copy
	# The no-ops run over a copy pcopy made, not whichever copy ran last:
	# what a no-op has to do may depend on how the copy it checks was made.
	rm -rf "$scale_dst"
	"$pcopy" --mode=process -j 2 --progress=none "$scale_src" "$scale_dst" >>"$log" 2>&1
	rounds "many no-op" "${#scale_noop[@]}" "$runs" scale_noop
	rm -rf "$scale_dst"
	scale_startup=$(startup_median)
}

# scale_row TAG I BYTES BASE: row I of block TAG: its median, fastest run,
# MB/s for BYTES (none for a no-op, which copies no data), files/s, and
# BASE / its median.
scale_row() {
	local tag=$1 i=$2 kinds t mbs fps vs
	if [ "$tag" = many ]; then kinds=("${scale_copy[@]}"); else kinds=("${scale_noop[@]}"); fi
	t=${med[$tag/$i]}
	read -r mbs fps vs < <(awk -v t="$t" -v b="$3" -v f="$scale_files" -v c="$4" 'BEGIN {
		if (t + 0 <= 0) { print "- - -"; exit }
		printf "%s %.0f %s\n", b == "" ? "-" : sprintf("%.1f", b / 1e6 / t), f / t,
			c == "" ? "-" : sprintf("%.2fx", c / t) }')
	printf '  %-28s %9.3f %7.3f %9s %10s %8s\n' "$(scale_label "${kinds[$i]}")${mark[$tag/$i]:-}" \
		"$t" "${low[$tag/$i]}" "$mbs" "$fps" "$vs"
}

print_scale() {
	local i c m p2 own rss
	[ "$scale_on" = 1 ] || return 0
	echo
	if [ -n "$scale_skip" ]; then
		echo "scale rows skipped: $scale_skip"
		return 0
	fi
	echo "scale rows: the many tree, $scale_files files in $scale_dirs directories," \
		"$scale_bytes bytes;"
	echo "medians of $runs alternating runs; -np 3 is two copying ranks, beside -j2:"
	printf '  %-28s %9s %7s %9s %10s %8s\n' "copy into a fresh DST" "median s" \
		"min s" "MB/s" "files/s" "vs -j2"
	for ((i = 0; i < ${#scale_copy[@]}; i++)); do
		scale_row many "$i" "$scale_bytes" "${med[many/0]}"
	done
	echo "  no-op over the copy (-T --update=changed --delete; dsync -D):"
	for ((i = 0; i < ${#scale_noop[@]}; i++)); do
		scale_row "many no-op" "$i" "" "${med[many no-op/0]}"
	done
	own=$(scale_column 1)
	echo "  pcopy-mpi -np3 copy: its own time (elapsed_s) $(scale_s "$own") s; MPI start-up"
	echo "  (mpirun -np 3 pcopy-mpi --version) $(scale_s "$scale_startup") s, in every MPI row"
	rss=()
	for ((c = 2; ; c++)); do
		m=$(scale_column "$c")
		[ -n "$m" ] || break
		rss+=("$m")
	done
	if ((${#rss[@]} > 0)); then
		printf '  pcopy-mpi -np3 copy: peak RSS'
		for ((i = 0; i < ${#rss[@]}; i++)); do
			printf '%s rank %d %s' "$([ "$i" = 0 ] || echo ',')" "$i" "$(mib "${rss[$i]}")"
		done
		echo
	else
		echo "  pcopy-mpi -np3 copy: peak RSS unknown (its --stats=json has no per_rank)"
	fi
	for i in "${!mark[@]}"; do
		[[ $i == many/* || $i == "many no-op/"* ]] || continue
		echo "* a run exited non-zero or its first run left DST unlike SRC: see $log"
		break
	done
	echo "targets (time ratios: lower is faster):"
	p2=${med[many/0]} m=${med[many/1]}
	target "many: (pcopy-mpi - start-up) / process -j2" \
		"$(awk -v m="$m" -v s="$scale_startup" -v p="$p2" \
			'BEGIN { if (m != "" && s != "" && p > 0) printf "%.3f", (m - s) / p }')" 1.10
	# dcp and dsync are the last of their blocks, when there
	[ -n "$scale_dcp" ] && target "many: pcopy-mpi -np3 / dcp -p -np3" \
		"$(ratio "$m" "${med[many/2]}")" 0.60
	[ -n "$scale_dsync" ] && target "many: no-op pcopy-mpi -np3 / dsync -D -np3" \
		"$(ratio "${med[many no-op/1]}" "${med[many no-op/2]}")" 0.35
	for ((i = 0; i < ${#rss[@]}; i++)); do
		target "many: peak RSS of pcopy-mpi rank $i, MiB" \
			"$(awk -v k="${rss[$i]}" 'BEGIN { printf "%.2f", k / 1024 }')" 32
	done
	return 0
}
