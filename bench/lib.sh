# shellcheck shell=bash
# lib.sh -- what the suites of the pcopy benchmark share; sourced by run.sh
# and by a suite run alone (bash bench/disk.sh, bash bench/ab.sh OLD NEW).
# Settings, the work directory (a tmpfs as root) and its cleanup, the timer,
# alternating rounds, medians, paired comparisons, peak RSS, copy checks,
# the table's machine header and its target lines.  See bench/README.

[ -n "${bench_lib:-}" ] && return 0
bench_lib=1
set -u
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")

case ${QUICK:-0} in
'' | 0 | no | false) quick=0 ;;
*) quick=1 ;;
esac
export QUICK=$quick

# qf QUICK FULL: this kind of run's default.
qf() { if [ "$quick" = 1 ]; then echo "$1"; else echo "$2"; fi; }

# knob NAME QUICK FULL: is the suite switch NAME on (unset: the default)?
knob() {
	local v=${!1:-$(qf "$2" "$3")}
	[ "$v" != 0 ]
}

runs=${RUNS:-$(qf 3 5)}
pair_rounds=${PAIRS:-$(qf "$runs" 30)}
jobs_list=${JOBS_LIST:-$(qf "1 2 8" "1 2 4 8")}
trees=${TREES:-$(qf "small big" "small big real")}
pcopy=${PCOPY:-$top/pcopy}
pcopy_mpi=${PCOPY_MPI:-$top/pcopy-mpi}
mpi_np_list=${MPI_NP_LIST:-2 3 5}
results=${RESULTS_DIR:-$here/results}
stamp=$(date +%Y%m%d-%H%M%S)
csv=$results/runs-$stamp.csv
table=$results/table-$stamp.txt
svg=$results/workers-$stamp.svg
log=$results/log-$stamp.txt
skipped=()

say() { printf 'bench: [%3ds] %s\n' "$SECONDS" "$*" >&2; }
die() { say "$*"; exit 2; }

# ---------------------------------------------------------------------------
# The work directory: a tmpfs (root), a temporary directory (not root, or
# memory short), or BENCH_DIR (kept, with its trees, for the next run).
# cleanup() undoes it and whatever a suite registered in cleanup_hooks.

work='' mounted=0 keep_work=0 cleanup_hooks=()

cleanup() {
	local h
	trap - EXIT INT TERM HUP
	for h in "${cleanup_hooks[@]}"; do "$h"; done
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

# tmpfs_kib: an upper bound, in KiB, of what the trees of $trees (small
# four more times, for the backup rows), the walk tree, the remote rows'
# trees (remote.sh) and one copy of the largest need; a tmpfs only takes
# what is used.
tmpfs_kib() {
	local t kib sum=0 largest=0
	# shellcheck disable=SC2086 # a list of words
	while read -r t kib; do
		case $t in
		small) kib=$((kib * 5)) ;;
		real) kib=$((kib * 11 / 10)) ;;
		esac
		sum=$((sum + kib))
		((kib > largest)) && largest=$kib
	done < <(bash "$here/mktrees.sh" --kib $trees)
	knob BENCH_WALK 0 1 && sum=$((sum + 128 * 1024))
	# the remote rows' trees when the main table has not made them
	declare -F remote_kib >/dev/null && sum=$((sum + $(remote_kib)))
	echo $((sum + largest + 512 * 1024))
}

setup_work() {
	local need avail many
	if [ -n "${BENCH_DIR:-}" ]; then
		work=$BENCH_DIR keep_work=1
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
	# The scale rows' many tree and its copy (scale.sh) are several times
	# the rest: room for them only when memory has it, else those rows
	# alone are skipped (scale.sh checks the room) and the others keep
	# their tmpfs.  Without MPI they do not run, so need no room.
	if knob BENCH_SCALE 0 1 && command -v mpirun >/dev/null 2>&1 && [ -x "$pcopy_mpi" ]; then
		many=$(bash "$here/mktrees.sh" --kib many | awk '{ print $2 * 2 }')
		if [ -z "$avail" ] || ((need + many + 1024 * 1024 <= avail)); then
			need=$((need + many))
		else
			say "the scale rows' many tree and a copy ($((many / 1024)) MiB)" \
				"do not fit in the memory available: no room for them in the tmpfs"
		fi
	fi
	if [ -n "$avail" ] && ((need + 1024 * 1024 > avail)); then
		say "root, but the trees need $((need / 1024)) MiB and only" \
			"$((avail / 1024)) MiB of memory is available: using the" \
			"temporary directory $work ($(stat -f -c %T "$work")) instead of a tmpfs"
	elif mount -t tmpfs -o "size=${need}k,mode=0700" pcopy-bench "$work"; then
		mounted=1
		say "root: source and destination on a tmpfs mounted at $work" \
			"(size $((need / 1024)) MiB), unmounted at exit"
	else
		say "root, but mounting a tmpfs failed: using the temporary" \
			"directory $work ($(stat -f -c %T "$work"))"
	fi
}

# make_trees TREE...: mktrees.sh into $work/src.
make_trees() {
	bash "$here/mktrees.sh" "$work/src" "$@" >&2
}

# ---------------------------------------------------------------------------
# Free page reporting (bench/README, "Noise"): a VM reporting freed memory
# to its host pays the host's page faults on the next copy.  Only free
# blocks of at least 2^page_reporting_order pages are reported, so the bench
# raises that order past the largest block (one more than /proc/buddyinfo's
# last column) and puts it back at exit.  BENCH_VM_TUNE=0 leaves it alone.

vm_knob=/sys/module/page_reporting/parameters/page_reporting_order
vm_saved='' vm_note=''

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

# bench_start: results, log, the work directory (unless $work is set
# already), CSV header; the cleanup trap.
bench_start() {
	mkdir -p "$results" || die "cannot create $results"
	: >"$log" || die "cannot write $log"
	trap cleanup EXIT
	trap 'cleanup; exit 129' HUP
	trap 'cleanup; exit 130' INT
	trap 'cleanup; exit 143' TERM
	[ -n "$work" ] || setup_work
	vm_steady
	mkdir -p "$work/src" "$work/dst" "$work/tmp" || die "cannot prepare $work"
	echo "tree,command,jobs,mode,run,seconds" >"$csv"
}

# ---------------------------------------------------------------------------
# Timing.  With python3, a monotonic clock read around posix_spawn + wait4 in
# one process (its start-up is not timed); without it, bash's $EPOCHREALTIME.

py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 2>/dev/null)

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
	t0=${EPOCHREALTIME//[!0-9]/}
	"$@" >>"$log" 2>>"$err"
	rc=$?
	t1=${EPOCHREALTIME//[!0-9]/}
	us=$((10#$t1 - 10#$t0))
	printf -v elapsed '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

# median, fastest: of the numbers on stdin ("nan" for none).
median() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
			else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fastest() {
	sort -g | awk 'NR == 1 { v = $1 } END { print (NR ? v : "nan") }'
}

# ratio A B: A / B with three decimals, or nothing when either is missing.
ratio() {
	[ -n "$1" ] && [ -n "$2" ] || return 0
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b }'
}

# mib KIB: KiB as MiB with one decimal, or "unknown".
mib() {
	if [ -n "$1" ]; then
		awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
	else
		echo unknown
	fi
}

# signature DIR: entry counts by type and the bytes of regular files, to
# check that a copy is complete.
signature() {
	find "$1" -mindepth 1 -printf '%y %s\n' 2>/dev/null | awk '
		{ n[$1]++; if ($1 == "f") b += $2 }
		END { printf "f=%d d=%d l=%d other=%d bytes=%.0f", n["f"], n["d"],
			n["l"], NR - n["f"] - n["d"] - n["l"], b }'
}

# check_run TAG I LABEL R SRC DST SIG: after a timed copy, mark row TAG/I
# (and say so) when it exited non-zero or, in the first round, when DST is
# not SRC (SIG, SRC's signature; for a single file, cmp).  SRC empty: only
# the exit status is checked.
check_run() {
	local tag=$1 i=$2 label=$3 r=$4 src=$5 dst=$6 sig=$7 got
	if ((rc != 0)); then
		mark[$tag/$i]='*'
		say "$tag: $label exited $rc (see $log)"
	elif ((r == 0)) && [ -n "$src" ]; then
		if [ -d "$src" ]; then
			got=$(signature "$dst")
			[ "$got" = "$sig" ] && return
		else
			cmp -s "$src" "$dst" && return
			got="differs"
		fi
		mark[$tag/$i]='*'
		say "$tag: $label: incomplete or wrong copy: $got, source $sig"
	fi
}

# ---------------------------------------------------------------------------
# Alternating rounds.

declare -A med low mark run_times

# rounds TAG N ROUNDS HOOK: N commands, each timed in each of ROUNDS rounds.
# In round r they run in the order r, r+1, ... (mod N), so that none always
# runs first or right after the same neighbour.  Before each run, HOOK_prep
# I R (untimed) readies the destination and sets $argv and $row (the CSV's
# tree,command,jobs,mode; empty: no CSV row); after it, HOOK_check I R sees
# $rc and $elapsed; after each round, HOOK_round R ROUNDS if defined.  Sets
# med and low [TAG/I], the median and fastest time of command I.
rounds() {
	local tag=$1 n=$2 nr=$3 hook=$4 r k i
	for ((i = 0; i < n; i++)); do run_times[$tag/$i]=; done
	for ((r = 0; r < nr; r++)); do
		for ((k = 0; k < n; k++)); do
			i=$(((k + r) % n))
			"${hook}_prep" "$i" "$r"
			time_cmd "${argv[@]}"
			[ -n "$row" ] && echo "$row,$((r + 1)),$elapsed" >>"$csv"
			run_times[$tag/$i]+=" $elapsed"
			"${hook}_check" "$i" "$r"
		done
		if declare -F "${hook}_round" >/dev/null; then
			"${hook}_round" $((r + 1)) "$nr"
		fi
	done
	for ((i = 0; i < n; i++)); do
		# shellcheck disable=SC2086 # a list of numbers
		med[$tag/$i]=$(printf '%s\n' ${run_times[$tag/$i]} | median)
		# shellcheck disable=SC2086
		low[$tag/$i]=$(printf '%s\n' ${run_times[$tag/$i]} | fastest)
	done
}

# pairs TREE SRC DST ROW_A ROW_B ARGV_A ARGV_B: PAIRS pairs of the command
# in the array named ARGV_A against ARGV_B's, each given SRC DST: rounds of
# two, so which runs first alternates from pair to pair; CSV rows
# "TREE,ROW_X,PAIR,SECONDS".  Sets pair_a and pair_b (the medians),
# pair_ratio (B / A of the medians) and pair_ci ("M [LO, HI]": the median of
# the per-pair ratios B / A and a 95% interval for it, from order
# statistics).  Each run's stderr goes to $work/tmp/pair.a or .b.
pairs() {
	local -n pa=$6 pb=$7
	local tag="$1 $4"
	pair_tree=$1 pair_src=$2 pair_dst=$3 pair_row=("$4" "$5")
	# shellcheck disable=SC2034 # read by pair_prep
	pair_argv_0=("${pa[@]}") pair_argv_1=("${pb[@]}")
	rounds "$tag" 2 "$pair_rounds" pair
	rm -rf "$3"
	pair_a=${med[$tag/0]} pair_b=${med[$tag/1]}
	pair_ratio=$(ratio "$pair_b" "$pair_a")
	# shellcheck disable=SC2086 # lists of numbers
	pair_ci=$(paste -d ' ' <(printf '%s\n' ${run_times[$tag/0]}) <(printf '%s\n' ${run_times[$tag/1]}) |
		awk '{ print $2 / $1 }' | sort -g | awk '{ v[NR] = $1 } END {
		h = 0.98 * sqrt(NR); lo = int(NR / 2 - h + 0.5); hi = int(NR / 2 + h + 1)
		if (lo < 1) lo = 1; if (hi > NR) hi = NR
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f [%.3f, %.3f]", m, v[lo], v[hi] }')
}
pair_prep() {
	local -n cmd=pair_argv_$1
	rm -rf "$pair_dst"
	errfile=$work/tmp/pair.$([ "$1" = 0 ] && echo a || echo b)
	: >"$errfile"
	argv=("${cmd[@]}" "$pair_src" "$pair_dst")
	row="$pair_tree,${pair_row[$1]}"
}
pair_check() {
	errfile=
	((rc == 0)) || say "$pair_tree: ${argv[*]} exited $rc"
}

# ---------------------------------------------------------------------------
# Peak RSS and system calls.

# rss_ok: is GNU time there to measure peak RSS (saying so once if not)?
# peak_rss_kib ARGV...: the peak RSS of ARGV in KiB (in process mode, the
# largest single process) on stdout, from GNU time's %M.
gnu_time=
rss_ok() {
	if [ -z "$gnu_time" ]; then
		gnu_time=0
		/usr/bin/time -f %M -o /dev/null true 2>/dev/null && gnu_time=1 ||
			say "skipped peak RSS: GNU time (/usr/bin/time) not installed"
	fi
	[ "$gnu_time" = 1 ]
}
peak_rss_kib() {
	echo "+ /usr/bin/time -f %M $*" >>"$log"
	/usr/bin/time -f %M -o "$work/tmp/rss" "$@" >>"$log" 2>&1
	tail -n 1 "$work/tmp/rss"
}

# syscalls ARGV...: total system calls of ARGV and its threads and children.
syscalls() {
	local out=$work/tmp/strace
	echo "+ strace -c -f $*" >>"$log"
	strace -c -f -o "$out" "$@" >>"$log" 2>&1
	awk '$NF == "total" { print $4 }' "$out"
}

# ---------------------------------------------------------------------------
# The table.

# machine: the machine, on one line.
machine() {
	echo "machine: $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
		"$(nproc) CPUs, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM," \
		"Linux $(uname -r)"
}

# pcopy_version [BINARY]: the first line of its --version, or nothing.
pcopy_version() {
	[ -x "${1:-$pcopy}" ] && "${1:-$pcopy}" --version 2>/dev/null | head -n 1
}

# print_machine [WHAT]: the table's header; WHAT ends its third line (by
# default the rounds and pcopy's version).
print_machine() {
	local version s
	version=$(pcopy_version)
	echo "pcopy benchmark, $(date '+%Y-%m-%d %H:%M')$([ "$quick" = 1 ] && echo ', QUICK')"
	machine
	echo "trees on: $(stat -f -c %T "$work")$([ "$mounted" = 1 ] && echo ' (mounted for this run)');" \
		"${1:-median of $runs alternating runs; ${version:-pcopy not built}}"
	[ -n "$vm_note" ] && echo "$vm_note"
	for s in "${skipped[@]}"; do
		echo "skipped: $s"
	done
}

# table_row FORMAT TAG I LABEL BYTES FILES BASE: row I of block TAG (its
# first column): LABEL, the median, the fastest run, MB/s and files/s for
# BYTES in FILES, and BASE / the median ("-" without BASE).
table_row() {
	local t=${med[$2/$3]} mbs fps speed
	read -r mbs fps speed < <(awk -v t="$t" -v b="$5" -v f="$6" -v c="$7" 'BEGIN {
		if (t + 0 <= 0) { print "- - -"; exit }
		printf "%.1f %.0f %s\n", b / 1e6 / t, f / t, c == "" ? "-" : sprintf("%.2fx", c / t) }')
	# shellcheck disable=SC2059 # the format is the caller's
	printf "$1" "$2" "$4${mark[$2/$3]:-}" "$t" "${low[$2/$3]}" "$mbs" "$fps" "$speed"
}

# target WHAT VALUE LIMIT: one line of a targets list (nothing when VALUE is
# empty), "ok" or "OVER"; target_width and value_width (46, 7) its columns.
target() {
	[ -n "$2" ] || return 0
	awk -v w="$1" -v v="$2" -v l="$3" -v tw="${target_width:-46}" -v vw="${value_width:-7}" \
		'BEGIN { printf "  %-*s %*.2f  <= %-5s %s\n", tw, w, vw, v, l, v <= l ? "ok" : "OVER" }'
}
