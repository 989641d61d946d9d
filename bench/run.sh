#!/bin/bash
# run.sh -- the pcopy benchmark behind `make bench` (QUICK=1 for a short run).
#
# Generates the trees (bench/mktrees.sh) on a tmpfs when run as root, in a
# temporary directory otherwise, then copies each tree with pcopy in thread
# and process mode at each -j of JOBS_LIST and with the peers cp -a, rsync -a
# and tar | tar (those installed), all commands alternating within each of
# RUNS rounds.  Prints a table of medians on stdout and writes, under
# bench/results/:
#
#   runs-DATE.csv      every timed run: tree,command,jobs,mode,run,seconds
#   table-DATE.txt     the table printed on stdout, with the machine it ran on
#   workers-DATE.svg   time against -j, thread vs process (needs gnuplot)
#   log-DATE.txt       the commands run and everything they printed
#
# Then, on the small-file tree: peak RSS (GNU time, else VmHWM polling), also
# on a tenth of the tree, system calls per file (strace), and paired
# comparisons of thread -j2 with --progress=json, of process against thread
# mode at each -j, and of -j8 against -j2; last, the project's performance
# targets (issue 5) next to what this run measured.  After that, unless
# BENCH_DISK=0, the real-storage rows of bench/disk.sh (issue 12): trees on
# an ext4 and an XFS image (as root) or in BENCH_DISK_DIR, cold and warm,
# copied to tmpfs and to the same disk; they are appended to the table.
#
# Environment: QUICK=1, RUNS, PAIRS (rounds of each paired comparison,
# default 30, RUNS when QUICK), JOBS_LIST ("1 2 4 8"), TREES ("small big
# real"), PCOPY (binary, default ./pcopy), BENCH_DIR (use and keep this
# directory instead of a fresh tmpfs/temporary one), RESULTS_DIR,
# BENCH_VM_TUNE=0 (leave free page reporting on; see vm_steady),
# BENCH_INCREMENTAL=0, BENCH_WALK=0 (the walk-only rows, walk.sh), BENCH_DISK=0
# and disk.sh's own knobs.
# pcopy-mpi rows (issue 13), when mpirun is installed and pcopy-mpi built
# (make mpi): PCOPY_MPI (default ./pcopy-mpi), MPI_NP_LIST (ranks, "2 3 5":
# N ranks are N-1 copying workers, shown beside -j N-1), BENCH_DCP (a dcp
# binary from mpiFileUtils, run as dcp -p at the same ranks) and
# BENCH_DSYNC (its dsync, default: beside BENCH_DCP; a no-op dsync -D at
# -np 3 beside pcopy-mpi's no-op in the incremental rows).  Every rank runs
# on this machine, through Open MPI's shared-memory path (OMPI_MCA_btl
# self,vader and OMPI_MCA_pml ob1 unless set): its default also starts
# UCX, which here only costs start-up time; the start-up is printed both
# ways.

set -u
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")

case ${QUICK:-0} in
'' | 0 | no | false) quick=0 ;;
*) quick=1 ;;
esac
export QUICK=$quick

runs=${RUNS:-$([ "$quick" = 1 ] && echo 3 || echo 5)}
pair_rounds=${PAIRS:-$([ "$quick" = 1 ] && echo "$runs" || echo 30)}
jobs_list=${JOBS_LIST:-1 2 4 8}
trees=${TREES:-small big real}
pcopy=${PCOPY:-$top/pcopy}
pcopy_mpi=${PCOPY_MPI:-$top/pcopy-mpi}
mpi_np_list=${MPI_NP_LIST:-2 3 5}
results=${RESULTS_DIR:-$here/results}
stamp=$(date +%Y%m%d-%H%M%S)
csv=$results/runs-$stamp.csv
table=$results/table-$stamp.txt
svg=$results/workers-$stamp.svg
log=$results/log-$stamp.txt

say() {
	printf 'bench: [%3ds] %s\n' "$SECONDS" "$*" >&2
}

die() {
	say "$*"
	exit 2
}

mkdir -p "$results" || die "cannot create $results"
: >"$log" || die "cannot write $log"

# ---------------------------------------------------------------------------
# Where the trees live: a tmpfs (root), a temporary directory (not root), or
# BENCH_DIR.  Whatever is mounted or created here is removed by cleanup().

work=
mounted=0
keep_work=0

cleanup() {
	trap - EXIT INT TERM HUP
	# the disk rows' filesystems and images (disk.sh), when any were made
	declare -F disk_cleanup >/dev/null && disk_cleanup
	vm_restore
	cd / || return
	[ -n "$work" ] || return
	if [ "$mounted" = 1 ]; then
		umount "$work" 2>/dev/null || umount -l "$work" ||
			say "warning: could not unmount $work"
		rmdir "$work" 2>/dev/null
	elif [ "$keep_work" = 1 ]; then
		rm -rf "$work/dst" "$work/tmp"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 129' HUP
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# ---------------------------------------------------------------------------
# Free page reporting.  A VM whose kernel reports free memory to its host
# (virtio-balloon/virtio-mem free page reporting) has the host take back
# memory soon after it is freed; the next allocation of it then faults on the
# host.  Every run here frees its copy and the next run allocates one, so a
# run that overlaps a report pass takes two to four times as long (seen: 2 GiB
# in 0.6 s or 2.2 s, the slow runs exactly those during which the kernel's
# reported_kib grew, and a quarter of the big-file runs slow).  The kernel
# reports only free blocks of at least 2^page_reporting_order pages; the
# bench raises that order past the largest block the buddy allocator has
# (one more than the last column of /proc/buddyinfo), so that nothing is
# reported while it runs, and puts it back at exit.  BENCH_VM_TUNE=0 leaves
# it alone.

vm_knob=/sys/module/page_reporting/parameters/page_reporting_order
vm_saved=
vm_note=

vm_steady() {
	local want
	[ -e "$vm_knob" ] || return 0
	vm_saved=$(cat "$vm_knob" 2>/dev/null) || return 0
	if [ "${BENCH_VM_TUNE:-1}" = 0 ]; then
		vm_note="free page reporting left on (page_reporting_order $vm_saved, BENCH_VM_TUNE=0)"
		vm_saved=
		return 0
	fi
	want=$(awk '{ n = NF - 4 } END { print n + 0 }' /proc/buddyinfo 2>/dev/null)
	if [ -z "$want" ] || ((want <= 0 || vm_saved >= want)); then
		vm_saved=
		return 0
	fi
	if [ "$(id -u)" = 0 ] && echo "$want" 2>/dev/null >"$vm_knob"; then
		vm_note="free page reporting paused for this run (page_reporting_order $vm_saved -> $want)"
	else
		vm_note="free page reporting is on (page_reporting_order $vm_saved) and could not be paused: big-file times may be bimodal"
		vm_saved=
	fi
	say "$vm_note"
}

vm_restore() {
	[ -n "$vm_saved" ] || return 0
	echo "$vm_saved" 2>/dev/null >"$vm_knob" ||
		say "warning: could not put $vm_knob back to $vm_saved"
	vm_saved=
}

# tmpfs_kib: an upper bound of what the trees of $trees plus one copy of the
# largest need, in KiB (tmpfs only takes what is used; this is the limit).
tmpfs_kib() {
	local t kib sum=0 largest=0 real_src
	if [ "$quick" = 1 ]; then
		real_src=${REAL_SRC:-/usr/share/doc}
	else
		real_src=${REAL_SRC:-/usr/share}
	fi
	for t in $trees; do
		case $t in
		# the tree, and the incremental rows' four more copies of it
		small) kib=$((${SMALL_FILES:-$([ "$quick" = 1 ] && echo 10000 || echo 50000)} * 12 * 5)) ;;
		big) kib=$((${BIG_FILES:-4} * ${BIG_MIB:-$([ "$quick" = 1 ] && echo 256 || echo 512)} * 1024)) ;;
		real) kib=$(du -sk "$real_src" 2>/dev/null | cut -f1)
			kib=$((${kib:-0} * 11 / 10)) ;;
		*) kib=0 ;;
		esac
		sum=$((sum + kib))
		((kib > largest)) && largest=$kib
	done
	# the walk rows' tree: empty files, but 5,000 directories of pages
	[ "${BENCH_WALK:-1}" != 0 ] && sum=$((sum + 128 * 1024))
	echo $((sum + largest + 512 * 1024))
}

setup_work() {
	local need avail
	if [ -n "${BENCH_DIR:-}" ]; then
		work=$BENCH_DIR
		keep_work=1
		mkdir -p "$work" || die "cannot create $work"
		say "trees in BENCH_DIR=$work ($(stat -f -c %T "$work")), kept after the run"
		return
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-bench.XXXXXX") ||
		die "cannot create a temporary directory"
	if [ "$(id -u)" != 0 ]; then
		say "not root: source and destination in the temporary directory" \
			"$work ($(stat -f -c %T "$work")), not a tmpfs; removed at exit"
		return
	fi
	need=$(tmpfs_kib)
	avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	if [ -n "$avail" ] && ((need + 1024 * 1024 > avail)); then
		say "root, but the trees need $((need / 1024)) MiB and only" \
			"$((avail / 1024)) MiB of memory is available: using the" \
			"temporary directory $work ($(stat -f -c %T "$work")) instead of a tmpfs"
		return
	fi
	if mount -t tmpfs -o "size=${need}k,mode=0700" pcopy-bench "$work"; then
		mounted=1
		say "root: source and destination on a tmpfs mounted at $work" \
			"(size $((need / 1024)) MiB), unmounted at exit"
	else
		say "root, but mounting a tmpfs failed: using the temporary" \
			"directory $work ($(stat -f -c %T "$work"))"
	fi
}

# ---------------------------------------------------------------------------
# Timing.  With python3, a monotonic clock read around posix_spawn + wait4 in
# one process (its start-up is not timed); without it, bash's $EPOCHREALTIME
# (wall clock, microseconds) read in the shell itself.

py=
for p in /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
	if [ -n "$p" ] && [ -x "$p" ]; then
		py=$p
		break
	fi
done

read -r -d '' timer_py <<'PY'
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_DFL)
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
try:
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
except OSError as e:
    sys.stderr.write("bench: %s: %s\n" % (argv[0], e.strerror))
    sys.exit(127)
_, status, usage = os.wait4(pid, 0)
t1 = time.monotonic()
with open(out, "w") as f:
    f.write("%.6f\n" % (t1 - t0))
if os.WIFSIGNALED(status):
    sys.exit(128 + os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
PY

# time_cmd ARGV...: run ARGV with its output appended to the log (stderr to
# $errfile when set); sets $elapsed (seconds) and $rc.
time_cmd() {
	local err=${errfile:-$log} t0 t1 us
	echo "+ $*" >>"$log"
	if [ -n "$py" ]; then
		rm -f "$work/tmp/elapsed"
		"$py" -S -c "$timer_py" "$work/tmp/elapsed" "$@" >>"$log" 2>>"$err"
		rc=$?
		elapsed=$(cat "$work/tmp/elapsed" 2>/dev/null)
		elapsed=${elapsed:-0}
		return
	fi
	if [ -n "${EPOCHREALTIME:-}" ]; then
		t0=${EPOCHREALTIME//[!0-9]/}
		"$@" >>"$log" 2>>"$err"
		rc=$?
		t1=${EPOCHREALTIME//[!0-9]/}
	else
		t0=$(date +%s%6N)
		"$@" >>"$log" 2>>"$err"
		rc=$?
		t1=$(date +%s%6N)
	fi
	us=$((10#$t1 - 10#$t0))
	printf -v elapsed '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

# ---------------------------------------------------------------------------
# The commands compared.  cmd_kind/jobs/mode/label are parallel arrays;
# cmd_argv IDX SRC DST sets $argv to the command line copying SRC to a DST
# that does not exist yet.

cmd_kind=()
cmd_jobs=()
cmd_mode=()
cmd_label=()
cmd_name=()
skipped=()

add_cmd() {
	cmd_kind+=("$1")
	cmd_jobs+=("$2")
	cmd_mode+=("$3")
	cmd_label+=("$4")
	cmd_name+=("$5")
}

setup_commands() {
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
	setup_mpi_commands
	for s in "${skipped[@]}"; do
		say "skipped: $s"
	done
}

# pcopy-mpi and dcp rows: ranks, jobs = copying workers (ranks - 1).
setup_mpi_commands() {
	local np
	if ! command -v mpirun >/dev/null 2>&1; then
		skipped+=("pcopy-mpi and dcp rows: mpirun not installed (openmpi-bin)")
		return
	fi
	# Open MPI refuses root without these; all ranks here, over shared
	# memory: ob1 and vader are that path, and pml ucx (for network
	# fabrics) would add about 0.17 s of start-up to every run.
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
	export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
	bench_dsync=${BENCH_DSYNC:-${BENCH_DCP:+$(dirname "$BENCH_DCP")/dsync}}
	if [ -x "$pcopy_mpi" ]; then
		for np in $mpi_np_list; do
			add_cmd mpi "$((np - 1))" mpi "pcopy-mpi -np$np" pcopy-mpi
		done
	else
		skipped+=("pcopy-mpi rows: not built at $pcopy_mpi (make mpi)")
	fi
	if [ -n "${BENCH_DCP:-}" ] && [ -x "$BENCH_DCP" ]; then
		for np in $mpi_np_list; do
			add_cmd dcp "$((np - 1))" mpi "dcp -p -np$np" dcp
		done
	else
		skipped+=("dcp rows: set BENCH_DCP=/path/to/dcp (mpiFileUtils)")
	fi
}

cmd_argv() {
	local i=$1 src=$2 dst=$3
	# shellcheck disable=SC2016 # tar's $1 and $2 belong to sh -c
	case ${cmd_kind[$i]} in
	cp) argv=(cp -a "$src" "$dst") ;;
	tar) argv=(sh -c 'mkdir "$2" && tar -C "$1" -cf - . | tar -C "$2" -xf -' \
		sh "$src" "$dst") ;;
	rsync) argv=(rsync -a "$src/" "$dst") ;;
	pcopy) argv=("$pcopy" --mode="${cmd_mode[$i]}" -j "${cmd_jobs[$i]}" \
		--progress=none "$src" "$dst") ;;
	mpi) argv=(mpirun --oversubscribe -np "$((cmd_jobs[i] + 1))" "$pcopy_mpi" \
		--progress=none "$src" "$dst") ;;
	dcp) argv=(mpirun --oversubscribe -np "$((cmd_jobs[i] + 1))" "$BENCH_DCP" -p \
		"$src" "$dst") ;;
	esac
}

# signature DIR: entry counts by type and the bytes of regular files, to
# check that a copy is complete (the first run of every command is checked).
signature() {
	find "$1" -mindepth 1 -printf '%y %s\n' 2>/dev/null | awk '
		{ n[$1]++; if ($1 == "f") b += $2 }
		END { printf "f=%d d=%d l=%d other=%d bytes=%.0f", n["f"], n["d"],
			n["l"], NR - n["f"] - n["d"] - n["l"], b }'
}

# median: the median of the numbers on stdin.
median() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
			else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# fastest: the smallest of the numbers on stdin.
fastest() {
	sort -g | awk 'NR == 1 { v = $1 } END { print (NR ? v : "nan") }'
}

# ---------------------------------------------------------------------------
# The main comparison.

declare -A med low mark tree_entries tree_bytes tree_sig

# times_of TREE IDX: the seconds of every run of command IDX on TREE.
times_of() {
	awk -F, -v t="$1" -v c="${cmd_name[$2]}" -v j="${cmd_jobs[$2]}" \
		-v m="${cmd_mode[$2]}" \
		'$1 == t && $2 == c && $3 == j && $4 == m { print $6 }' "$csv"
}

bench_tree() {
	local tree=$1 src=$work/src/$1 dst=$work/dst/$1 n r k i sig
	n=${#cmd_kind[@]}
	tree_sig[$tree]=$(signature "$src")
	tree_entries[$tree]=$(find "$src" -mindepth 1 ! -type d | wc -l)
	tree_bytes[$tree]=${tree_sig[$tree]##*bytes=}
	say "$tree: ${tree_entries[$tree]} files, ${tree_bytes[$tree]} bytes;" \
		"$n commands x $runs rounds"
	# One untimed copy first: the first use of fresh memory costs more than
	# its reuse (very much so in a VM), and no command should pay for that.
	rm -rf "$dst"
	cp -a "$src" "$dst" >>"$log" 2>&1
	for ((r = 0; r < runs; r++)); do
		for ((k = 0; k < n; k++)); do
			# Rotate the order every round so no command always
			# runs first or right after the same neighbour.
			i=$(((k + r) % n))
			rm -rf "$dst"
			cmd_argv "$i" "$src" "$dst"
			time_cmd "${argv[@]}"
			echo "$tree,${cmd_name[$i]},${cmd_jobs[$i]},${cmd_mode[$i]},$((r + 1)),$elapsed" >>"$csv"
			if ((rc != 0)); then
				mark[$tree/$i]='*'
				say "$tree: ${cmd_label[$i]} exited $rc (see $log)"
			elif ((r == 0)); then
				sig=$(signature "$dst")
				if [ "$sig" != "${tree_sig[$tree]}" ]; then
					mark[$tree/$i]='*'
					say "$tree: ${cmd_label[$i]}: incomplete copy:" \
						"$sig, source ${tree_sig[$tree]}"
				fi
			fi
		done
		say "$tree: round $((r + 1))/$runs done"
	done
	rm -rf "$dst"
	for ((i = 0; i < n; i++)); do
		times_of "$tree" "$i" >"$work/tmp/times"
		med[$tree/$i]=$(median <"$work/tmp/times")
		low[$tree/$i]=$(fastest <"$work/tmp/times")
	done
}

print_machine() {
	local cpu mem fs version=
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	fs=$(stat -f -c %T "$work")
	[ -x "$pcopy" ] && version=$("$pcopy" --version 2>/dev/null | head -n 1)
	echo "pcopy benchmark, $(date '+%Y-%m-%d %H:%M')$([ "$quick" = 1 ] && echo ', QUICK')"
	echo "machine: ${cpu:-unknown CPU}, $(nproc) CPUs, $mem RAM," \
		"Linux $(uname -r)"
	echo "trees on: $fs$([ "$mounted" = 1 ] && echo ' (mounted for this run)');" \
		"median of $runs alternating runs; ${version:-pcopy not built}"
	[ -n "$vm_note" ] && echo "$vm_note"
	for s in "${skipped[@]}"; do
		echo "skipped: $s"
	done
}

print_table() {
	local tree i base t mbs fps speed
	printf '\n%-6s %-20s %9s %7s %9s %10s %9s\n' tree command "median s" \
		"min s" "MB/s" "files/s" "vs cp -a"
	for tree in $trees; do
		[ -n "${tree_entries[$tree]:-}" ] || continue
		base=${med[$tree/0]}
		for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
			t=${med[$tree/$i]}
			read -r mbs fps speed < <(awk -v t="$t" -v b="${tree_bytes[$tree]}" \
				-v f="${tree_entries[$tree]}" -v c="$base" 'BEGIN {
				if (t + 0 <= 0) { print "- - -"; exit }
				printf "%.1f %.0f %.2fx\n", b / 1e6 / t, f / t, c / t }')
			printf '%-6s %-20s %9.3f %7.3f %9s %10s %9s\n' "$tree" \
				"${cmd_label[$i]}${mark[$tree/$i]:-}" "$t" "${low[$tree/$i]}" \
				"$mbs" "$fps" "$speed"
		done
	done
	echo
	echo "MB/s: 10^6 bytes of regular-file data per second; files/s: non-directory"
	echo "entries per second; vs cp -a: cp's median time / this median time;"
	echo "min s: the fastest run (a median far above it means a noisy machine)."
	for tree in $trees; do
		[ -n "${tree_entries[$tree]:-}" ] || continue
		echo "$tree: ${tree_sig[$tree]}"
	done
	if [ -n "${mark[*]}" ]; then
		echo "* a run exited non-zero or its first copy was incomplete: see $log"
	fi
}

# ---------------------------------------------------------------------------
# The chart: median time against -j, thread vs process (and pcopy-mpi at
# -j copying ranks, when run), one panel per tree, cp -a as a dashed
# reference line.

draw_chart() {
	local dat=$work/tmp/chart.dat tree i j n=0 th pr mp plots='' xtics xrange mpi_plot=
	if ! command -v gnuplot >/dev/null 2>&1; then
		say "skipped chart: gnuplot not installed"
		echo "skipped chart: gnuplot not installed" >>"$table"
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
plot '$dat' index $n using 1:2 with linespoints lw 2 pt 7 ps 0.8 title 'thread', \
     '' index $n using 1:3 with linespoints lw 2 pt 5 ps 0.8 title 'process', \
${mpi_plot:+     '' index $n using 1:5 with linespoints lw 2 pt 9 ps 0.8 title 'mpi (copying ranks)', \
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
		echo "chart: $svg" >>"$table"
	else
		say "chart failed (see $log)"
	fi
}

# ---------------------------------------------------------------------------
# Extras on the small-file tree.

# peak_rss_kib ARGV...: the peak RSS of ARGV in KiB (for several processes,
# the largest one), printed on stdout; empty when it cannot be measured.
peak_rss_kib() {
	local out=$work/tmp/rss pid hwm=0 k v
	if [ "$gnu_time" = 1 ]; then
		echo "+ /usr/bin/time -f %M $*" >>"$log"
		/usr/bin/time -f %M -o "$out" "$@" >>"$log" 2>&1
		tail -n 1 "$out"
		return
	fi
	# No GNU time: poll the high-water mark of the main process.
	echo "+ (VmHWM polling) $*" >>"$log"
	"$@" >>"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		while read -r k v _; do
			[ "$k" = VmHWM: ] && ((v > hwm)) && hwm=$v
		done <"/proc/$pid/status" 2>/dev/null
		sleep 0.01
	done
	wait "$pid"
	((hwm > 0)) && echo "$hwm"
}

# syscalls ARGV...: total system calls of ARGV and its threads and children.
syscalls() {
	local out=$work/tmp/strace
	echo "+ strace -c -f $*" >>"$log"
	strace -c -f -o "$out" "$@" >>"$log" 2>&1
	awk '$NF == "total" { print $4 }' "$out"
}

# small_tenth: a tree of the first tenth of the small tree's directories,
# for the memory-flatness check and (QUICK) the strace counts.
small_tenth() {
	local src=$work/src/small sub=$work/tmp/small-tenth d n k=0
	if [ ! -d "$sub" ]; then
		n=$(find "$src" -mindepth 1 -maxdepth 1 -type d | wc -l)
		n=$(((n + 9) / 10))
		mkdir "$sub"
		for d in "$src"/*/; do
			((k++ < n)) || break
			cp -a "${d%/}" "$sub/" >>"$log" 2>&1
		done
	fi
	echo "$sub"
}

# mib KIB: KiB as MiB with one decimal, or "unknown".
mib() {
	if [ -n "$1" ]; then
		awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
	else
		echo unknown
	fi
}

# Filled by extras_small, read by print_targets.
declare -A ex_rss ex_calls
ex_rss_tenth=
ex_progress=
ex_scaling=
ex_default=
declare -A ex_modes

# pair_runs SRC DST NAME "ARGS A" "ARGS B": pcopy with ARGS A against ARGS
# B, alternating which goes first, in pair_rounds pairs.  Prints both
# medians, the ratio of the medians (B / A, set in $pair_ratio) and a 95%
# interval for the median of the per-pair ratios.  B's stderr of the last
# run is left in $work/tmp/pair.b.
pair_runs() {
	local src=$1 dst=$2 name=$3 a=$4 b=$5 r w ta=() tb=() rs=() t_a t_b
	for ((r = 0; r < pair_rounds; r++)); do
		for w in a b; do
			[ $((r % 2)) = 1 ] && w=$([ "$w" = a ] && echo b || echo a)
			rm -rf "$dst"
			errfile=$work/tmp/pair.$w
			: >"$errfile"
			# shellcheck disable=SC2086 # the ARGS are words
			if [ "$w" = a ]; then
				time_cmd "$pcopy" $a "$src" "$dst"
				ta+=("$elapsed")
			else
				time_cmd "$pcopy" $b "$src" "$dst"
				tb+=("$elapsed")
			fi
			errfile=
			echo "small,pcopy $name ${w^^},,,$((r + 1)),$elapsed" >>"$csv"
		done
	done
	for ((r = 0; r < pair_rounds; r++)); do
		rs+=("$(awk -v a="${ta[$r]}" -v b="${tb[$r]}" 'BEGIN { print b / a }')")
	done
	t_a=$(printf '%s\n' "${ta[@]}" | median)
	t_b=$(printf '%s\n' "${tb[@]}" | median)
	pair_ratio=$(ratio "$t_b" "$t_a")
	printf '  %-10s A %-36s %.3f s\n%13sB %-36s %.3f s\n' "$name" "$a" "$t_a" "" "$b" "$t_b"
	printf '%13sB/A %.3f; per pair %s; %d pairs\n' "" "$pair_ratio" \
		"$(printf '%s\n' "${rs[@]}" | sort -g | awk '{ v[NR] = $1 } END {
			h = 0.98 * sqrt(NR); lo = int(NR / 2 - h + 0.5); hi = int(NR / 2 + h + 1)
			if (lo < 1) lo = 1; if (hi > NR) hi = NR
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f [%.3f, %.3f]", m, v[lo], v[hi] }')" "$pair_rounds"
}

extras_small() {
	local src=$work/src/small dst=$work/dst/small files i kib calls tenth
	local st_src st_files j
	files=${tree_entries[small]}
	tenth=$(small_tenth)
	echo
	echo "small tree extras ($files files):"
	gnu_time=0
	if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
		gnu_time=1
	fi
	local extra_idx=(0)
	for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
		[ "${cmd_jobs[$i]}" = 2 ] && extra_idx+=("$i")
	done
	[ "$gnu_time" = 1 ] || say "GNU time not installed: peak RSS by polling VmHWM"
	for i in "${extra_idx[@]}"; do
		rm -rf "$dst"
		cmd_argv "$i" "$src" "$dst"
		kib=$(peak_rss_kib "${argv[@]}")
		ex_rss[${cmd_label[$i]}]=$kib
		printf '  peak RSS   %-20s %s\n' "${cmd_label[$i]}" "$(mib "$kib")"
	done
	i=$(index_of thread 2)
	if [ -n "$i" ]; then
		rm -rf "$dst"
		cmd_argv "$i" "$tenth" "$dst"
		ex_rss_tenth=$(peak_rss_kib "${argv[@]}")
		printf '  peak RSS   %-20s %s on a tenth of the tree (%s files)\n' \
			"${cmd_label[$i]}" "$(mib "$ex_rss_tenth")" \
			"$(find "$tenth" -mindepth 1 ! -type d | wc -l)"
	fi
	if [ "$gnu_time" = 1 ]; then
		echo "  (GNU time %M; in process mode, the largest single process)"
	else
		echo "  (VmHWM of the main process, polled every 10 ms)"
	fi
	if command -v strace >/dev/null 2>&1; then
		# strace makes each system call cost tens of microseconds; QUICK
		# counts on a tenth of the tree (calls per file barely change).
		st_src=$src
		[ "$quick" = 1 ] && st_src=$tenth
		st_files=$(find "$st_src" -mindepth 1 ! -type d | wc -l)
		for i in "${extra_idx[@]}"; do
			rm -rf "$dst"
			cmd_argv "$i" "$st_src" "$dst"
			calls=$(syscalls "${argv[@]}")
			[ -n "$calls" ] && ex_calls[${cmd_label[$i]}]=$(awk -v c="$calls" \
				-v f="$st_files" 'BEGIN { printf "%.2f", c / f }')
			printf '  syscalls   %-20s %s\n' "${cmd_label[$i]}" \
				"$([ -n "$calls" ] && echo "${ex_calls[${cmd_label[$i]}]} per file ($calls in all)" || echo unknown)"
		done
		echo "  (strace -c -f, copying $st_files files of the small tree)"
	else
		say "skipped system calls: strace not installed"
		echo "  skipped system calls: strace not installed"
	fi
	# The targets below bound effects of a few percent, smaller than this
	# host's run-to-run spread, so each gets its own long alternating
	# comparison rather than the main table's medians of a few runs.
	if [ -x "$pcopy" ]; then
		pair_runs "$src" "$dst" progress "--mode=thread -j 2 --progress=none" \
			"--mode=thread -j 2 --progress=json"
		ex_progress=$(awk -v r="$pair_ratio" 'BEGIN { printf "%.1f", (r - 1) * 100 }')
		if ! tail -n 1 "$work/tmp/pair.b" | grep -q '"done":true'; then
			echo "  warning: the last --progress=json line is not \"done\":true"
		fi
		for j in $jobs_list; do
			pair_runs "$src" "$dst" "modes -j$j" "--mode=thread -j $j" "--mode=process -j $j"
			ex_modes[$j]=$pair_ratio
		done
		if [[ " $jobs_list " == *" 2 "* && " $jobs_list " == *" 8 "* ]]; then
			pair_runs "$src" "$dst" scaling "--mode=thread -j 2" "--mode=thread -j 8"
			ex_scaling=$pair_ratio
		fi
		# issue 12: the adaptive default (no -j) must cost nothing where
		# copying is CPU work, against the one-per-CPU count of before
		pair_runs "$src" "$dst" default "--mode=thread -j 2" "--mode=thread"
		ex_default=$pair_ratio
		echo "  (pairs alternate which runs first; the range is a 95% interval for"
		echo "   the median of the per-pair ratios, from order statistics)"
	fi
	rm -rf "$dst"
}

# index_of MODE J: the index of pcopy --mode=MODE -j J, or nothing.
index_of() {
	local i
	for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
		if [ "${cmd_kind[$i]}" = pcopy ] && [ "${cmd_mode[$i]}" = "$1" ] &&
			[ "${cmd_jobs[$i]}" = "$2" ]; then
			echo "$i"
			return
		fi
	done
}

# target WHAT VALUE LIMIT: one line of the targets list (skipped when VALUE
# is empty); target_width and value_width (46 and 7) set its columns.
target() {
	[ -n "$2" ] || return 0
	awk -v w="$1" -v v="$2" -v l="$3" -v tw="${target_width:-46}" -v vw="${value_width:-7}" \
		'BEGIN { printf "  %-*s %*.2f  <= %-5s %s\n", tw, w, vw, v, l, v <= l ? "ok" : "OVER" }'
}

# ratio A B: A / B with three decimals, or nothing when either is missing.
ratio() {
	[ -n "$1" ] && [ -n "$2" ] || return 0
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b }'
}

# The performance targets of the project (issue 5), as measured by this run.
print_targets() {
	local tree t2 worst wj j th pr r rss k v
	[ -x "$pcopy" ] || return 0
	echo
	echo "targets of the project (time ratios: lower is faster):"
	[ "$quick" = 1 ] && echo "  (QUICK: small trees and few runs, indicative only)"
	for tree in $trees; do
		[ -n "${tree_entries[$tree]:-}" ] || continue
		t2=$(index_of thread 2)
		[ -n "$t2" ] || continue
		case $tree in
		small) target "small: thread -j2 / cp -a" \
			"$(ratio "${med[$tree/$t2]}" "${med[$tree/0]}")" 0.60
			target "small: thread -j8 / thread -j2 ($pair_rounds pairs)" \
				"$ex_scaling" 1.10
			target "small: thread default / thread -j2 ($pair_rounds pairs)" \
				"$ex_default" 1.05
			[ -n "$ex_default" ] && target "small: thread default / cp -a (from the pairs)" \
				"$(awk -v d="$ex_default" -v t="${med[$tree/$t2]}" -v c="${med[$tree/0]}" \
					'BEGIN { if (c > 0) printf "%.3f", d * t / c }')" 0.60 ;;
		big) target "big: thread -j2 / cp -a" \
			"$(ratio "${med[$tree/$t2]}" "${med[$tree/0]}")" 1.00 ;;
		real) target "real: thread -j2 / cp -a" \
			"$(ratio "${med[$tree/$t2]}" "${med[$tree/0]}")" 0.65 ;;
		esac
		worst='' wj=''
		for j in $jobs_list; do
			th=$(index_of thread "$j")
			pr=$(index_of process "$j")
			if [ -z "$th" ] || [ -z "$pr" ]; then
				continue
			fi
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
		[ -n "$v" ] || continue
		if [ -z "$rss" ] || ((v > rss)); then rss=$v; fi
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

# index_of_kind KIND J: the index of command KIND (mpi, dcp) at J copying workers.
index_of_kind() {
	local i
	for ((i = 0; i < ${#cmd_kind[@]}; i++)); do
		if [ "${cmd_kind[$i]}" = "$1" ] && [ "${cmd_jobs[$i]}" = "$2" ]; then
			echo "$i"
			return
		fi
	done
}

# startup_median [PREFIX...]: the median of 3 runs of PREFIX mpirun -np 3
# pcopy-mpi --version, which starts and stops MPI only.
startup_median() {
	local r
	for r in 1 2 3; do
		time_cmd "$@" mpirun --oversubscribe -np 3 "$pcopy_mpi" --version
		echo "$elapsed"
	done >"$work/tmp/startup"
	median <"$work/tmp/startup"
}

# Issue 13's targets, and Open MPI's own start-up apart (startup_median),
# with the bench's transports and with Open MPI's defaults.
print_mpi_targets() {
	local m3 p2 d3
	m3=$(index_of_kind mpi 2)
	[ -n "$m3" ] && [ -n "${tree_entries[small]:-}" ] || return 0
	echo "  (pcopy-mpi: MPI start-up, mpirun -np 3 pcopy-mpi --version: $(startup_median) s,"
	echo "   included in every pcopy-mpi and dcp time above; with Open MPI's"
	echo "   default transports, UCX included: $(startup_median env -u OMPI_MCA_pml \
		-u OMPI_MCA_btl) s)"
	p2=$(index_of process 2)
	[ -n "$p2" ] && target "small: pcopy-mpi -np3 / process -j2" \
		"$(ratio "${med[small/$m3]}" "${med[small/$p2]}")" 1.50
	d3=$(index_of_kind dcp 2)
	[ -n "$d3" ] && target "small: pcopy-mpi -np3 / dcp -p -np3" \
		"$(ratio "${med[small/$m3]}" "${med[small/$d3]}")" 0.50
	return 0
}

# ---------------------------------------------------------------------------

# shellcheck source=incremental.sh
. "$here/incremental.sh"

# shellcheck source=disk.sh
. "$here/disk.sh"

# shellcheck source=walk.sh
. "$here/walk.sh"

main() {
	setup_work
	vm_steady
	mkdir -p "$work/src" "$work/dst" "$work/tmp" || die "cannot prepare $work"
	setup_commands

	say "generating trees: $trees"
	# shellcheck disable=SC2086 # $trees is a list of words
	bash "$here/mktrees.sh" "$work/src" $trees >&2 || die "tree generation failed"

	echo "tree,command,jobs,mode,run,seconds" >"$csv"
	for tree in $trees; do
		if [ -d "$work/src/$tree" ]; then
			bench_tree "$tree"
		else
			say "skipped tree $tree: not generated"
		fi
	done

	{
		print_machine
		print_table
	} >"$table"
	if [ -n "${tree_entries[small]:-}" ]; then
		extras_small >>"$table"
		[ -x "$pcopy" ] && [ "${BENCH_INCREMENTAL:-1}" != 0 ] && bench_incremental >>"$table"
	fi
	print_targets >>"$table"
	print_incremental_targets >>"$table"
	# the walk-only rows (walk.sh, issue 13)
	if [ "${BENCH_WALK:-1}" != 0 ]; then
		bench_walk
		print_walk >>"$table"
	fi
	draw_chart
	echo "runs: $csv" >>"$table"
	cat "$table"
	# the real-storage rows (disk.sh, issue 12), appended to the table
	if [ "${BENCH_DISK:-1}" != 0 ]; then
		disk_main
	else
		say "disk rows skipped (BENCH_DISK=0)"
	fi
	say "done; table: $table"
}

# Run only when executed, so that another script can source this one for
# its functions (bench/disk.sh does, to run alone).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
