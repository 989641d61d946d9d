# shellcheck shell=bash
# disk.sh -- the real-storage rows: the source on a block device, read cold
# (caches dropped before every run) or warm, copied to a tmpfs or to the
# same disk (then timed with sync -f of it).  Run by run.sh after its table
# (BENCH_DISK), or alone: bash bench/disk.sh (QUICK, RUNS... as for make
# bench).  As root, the file systems are made one at a time in a sparse
# image, loop-mounted with direct I/O; not root, BENCH_DISK_DIR.  Each cell,
# TREE-CACHE-DEST, is a block of the table, disk-FS-TREE-CACHE-DEST there
# and in the runs CSV.  bench/README has the cells, commands and knobs.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

d_config() {
	d_jobs=${DISK_JOBS_LIST:-$(qf "1 2 8 32" "1 2 4 8 16 32 64")}
	d_jobs_short=${DISK_JOBS_SHORT:-$(qf "1 8 32" "1 4 16 64")}
	d_readers=${DISK_READERS:-$(qf "1 16" "1 4 16 64")}
	d_readers_short=${DISK_READERS_SHORT:-$(qf 16 "16 64")}
	d_small_files=${DISK_SMALL_FILES:-$(qf 10000 20000)}
	d_small_dirs=${DISK_SMALL_DIRS:-$(qf 100 200)}
	d_big_files=${DISK_BIG_FILES:-$(qf 2 3)}
	d_big_mib=${DISK_BIG_MIB:-$(qf 256 1024)}
	d_real_src=${DISK_REAL_SRC:-$(qf /usr/share/doc /usr/share)}
	d_fs_list=${BENCH_DISK_FS:-$(qf ext4 "ext4 xfs")}
	d_split=${DISK_SPLIT:-$(qf "4 16" "2 4 8 16")}
	d_runs_real=${DISK_RUNS_REAL:-$(qf "$runs" $((runs < 3 ? runs : 3)))}
	d_cells_first=${BENCH_DISK_CELLS:-small-cold-tmpfs small-cold-disk small-warm-tmpfs big-cold-tmpfs big-cold-disk bigfile-cold-tmpfs $(qf "" bigfile-warm-tmpfs) real-cold-tmpfs}
	d_cells_other=${BENCH_DISK_CELLS_OTHER:-small-cold-tmpfs small-cold-disk}
	d_proc_j=${DISK_PROCESS_J:-16}
	d_big_split=${DISK_BIG_SPLIT:-4}
	# shellcheck disable=SC2086 # lists of words
	d_cells_first=$(d_valid $d_cells_first) d_cells_other=$(d_valid $d_cells_other)
}

# d_valid CELLS...: those that are cells, saying so of the others.
d_valid() {
	local c
	for c in "$@"; do
		[[ $c =~ ^(small|big|real|bigfile)-(cold|warm)-(tmpfs|disk)$ ]] && echo "$c" ||
			say "disk: unknown cell $c (TREE-cold|warm-tmpfs|disk)"
	done
}

# d_trees ARGS...: mktrees.sh ARGS with the disk trees' parameters.
d_trees() {
	SMALL_FILES=$d_small_files SMALL_DIRS=$d_small_dirs BIG_FILES=$d_big_files \
		BIG_MIB=$d_big_mib REAL_SRC=$d_real_src bash "$here/mktrees.sh" "$@"
}

# d_cell_trees CELLS...: the trees those cells need.
d_cell_trees() {
	local c t out=
	for c in "$@"; do
		t=${c%%-*}
		[ "$t" = bigfile ] && t=big
		[[ " $out " == *" $t "* ]] || out+=" $t"
	done
	echo "$out"
}

# d_need_kib TREES...: space for the trees, one copy of the largest and
# file-system overhead, in KiB.
d_need_kib() {
	local t kib sum=0 largest=0
	while read -r t kib; do
		case $t in
		small) kib=$((kib * 14 / 12)) ;; # 8.3 KiB mean + block tails
		real) kib=$((kib * 12 / 10)) ;;
		esac
		sum=$((sum + kib))
		((kib > largest)) && largest=$kib
	done < <(d_trees --kib "$@")
	echo $(((sum + largest) * 115 / 100 + 1024 * 1024))
}

# ---------------------------------------------------------------------------
# State, and the cleanup (also on Ctrl-C): the directory of images and
# mount points (root), the tmpfs mounted for destinations, the file system
# mounted now (mount point, loop device, image), BENCH_DISK_DIR's dst, our
# directory in /dev/shm (not root).

d_base='' d_tmpfs_mnt='' d_fs_mnt='' d_fs_loop='' d_fs_img='' d_dir_dst='' d_shm_dir=''
d_tmpfs='' d_fs_line='' d_fs_note='' d_cold_how='' d_done_fs='' d_skipped=() d_cells=()
declare -A d_info

d_umount() {
	local k
	for k in 1 2 3 4 5 6 7 8 9 10; do
		umount "$1" 2>/dev/null && return 0
		sleep 0.3
	done
	umount -l "$1" 2>/dev/null || { say "warning: could not unmount $1"; return 1; }
}

disk_cleanup() {
	cd / || return
	d_unmkfs
	[ -n "$d_tmpfs_mnt" ] && d_umount "$d_tmpfs_mnt"
	[ -n "$d_dir_dst" ] && rm -rf "$d_dir_dst"
	[ -n "$d_shm_dir" ] && rm -rf "$d_shm_dir"
	d_tmpfs_mnt='' d_dir_dst='' d_shm_dir=''
	if [ -n "$d_base" ]; then
		# only empty mount points are left; never rm -r here, something
		# might still be mounted
		rmdir "$d_base"/* "$d_base" 2>/dev/null
		[ -d "$d_base" ] && say "warning: $d_base not removed (still in use?)"
		d_base=
	fi
	return 0
}
cleanup_hooks+=(disk_cleanup)

# ---------------------------------------------------------------------------
# The file systems.

# d_mkfs FS SIZE_KIB: make, loop-mount (direct I/O) and return in $d_mnt a
# fresh file system of type FS.
d_mkfs() {
	local fs=$1 kib=$2 img=$d_base/$1.img mnt=$d_base/$1 dev
	mkdir -p "$mnt" || return 1
	d_fs_img=$img
	truncate -s "${kib}k" "$img" || return 1
	case $fs in
	# no lazy initialisation: nothing should write in the background
	ext4) mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$img" ;;
	xfs) mkfs.xfs -q -f "$img" ;;
	*) false ;;
	esac >>"$log" 2>&1 || { say "disk: mkfs.$fs failed (see $log)"; return 1; }
	d_dio=1
	if ! dev=$(losetup -f --show --direct-io=on "$img" 2>>"$log"); then
		d_dio=0
		dev=$(losetup -f --show "$img" 2>>"$log") ||
			{ say "disk: losetup failed (see $log)"; return 1; }
	fi
	d_fs_loop=$dev
	[ "$(cat "/sys/block/${dev#/dev/}/loop/dio" 2>/dev/null)" = 1 ] || d_dio=0
	mount "$dev" "$mnt" 2>>"$log" || { say "disk: mounting $fs failed (see $log)"; return 1; }
	d_fs_mnt=$mnt d_mnt=$mnt
	# XFS with reflink (mkfs.xfs's default): a copy within it by cp
	# (FICLONE) or copy_file_range is a clone, and reads no data
	d_fs_note=
	if [ "$fs" = xfs ] && command -v xfs_info >/dev/null 2>&1 &&
		xfs_info "$mnt" 2>/dev/null | grep -q 'reflink=1'; then
		d_fs_note="; reflink=1, so copies to the same disk by cp -a and by copy_file_range are clones that read no file data"
	fi
	say "disk: $fs: $((kib / 1048576)) GiB image $img on $dev" \
		"($([ "$d_dio" = 1 ] && echo 'direct I/O' || echo 'buffered: direct I/O refused')), mounted at $mnt"
}

# d_unmkfs: unmount, detach and remove what d_mkfs made.
d_unmkfs() {
	[ -n "$d_fs_mnt" ] && d_umount "$d_fs_mnt" && rmdir "$d_fs_mnt" 2>/dev/null
	[ -n "$d_fs_loop" ] && losetup -d "$d_fs_loop" 2>/dev/null
	[ -n "$d_fs_img" ] && rm -f "$d_fs_img"
	d_fs_mnt='' d_fs_loop='' d_fs_img=''
}

# d_backing DIR: a line about the file system and device under DIR.
d_backing() {
	local src dev q rot sch
	src=$(findmnt -no SOURCE -T "$1" 2>/dev/null)
	dev=${src#/dev/}
	q=/sys/class/block/$dev/queue
	printf '%s on %s' "$(findmnt -no FSTYPE -T "$1" 2>/dev/null)" "${src:-unknown}"
	if [ -r "$q/rotational" ]; then
		rot=$(cat "$q/rotational")
		sch=$(sed 's/.*\[\(.*\)\].*/\1/' "$q/scheduler" 2>/dev/null)
		printf ' (%s as the kernel sees it, scheduler %s)' \
			"$([ "$rot" = 1 ] && echo rotational || echo non-rotational)" "${sch:-?}"
	fi
	echo
}

# ---------------------------------------------------------------------------
# Cold and warm.

read -r -d '' d_fadvise_py <<'PY'
import os, sys
for top in sys.argv[1:]:
    paths = [top] if os.path.isfile(top) else (
        os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs)
    for p in paths:
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
PY

# d_settle CACHE SRC: before a timed run: the file system synced, and for a
# cold run the source's pages dropped; then every program the runs use is
# run once, so that "cold" is about the tree, not about loading rsync.
d_settle() {
	sync -f "$d_mnt" 2>/dev/null || sync
	[ "$1" = cold ] || return 0
	if [ "$d_root" = 1 ]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		"$py" -S -c "$d_fadvise_py" "$2"
	fi
	{
		"$pcopy" --version
		cp --version; tar --version; rsync --version; find . -maxdepth 0 -version
		xargs --version; cat --version; dd --version; sync --version; sh -c :
	} >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
# The commands of a cell, d_cmds words "kind:jobs:mode":
#   pcopy:J:MODE   pcopy --mode=MODE [-j J] (J "default": no -j)
#   cp, tar, rsync
#   xcat:N         find SRC -type f -print0 | xargs -0 -P N cat (read only)
#   ddr:K          K dd readers of ranges of every file, all at once
#   catf           cat of the single file SRC (read only)
#   ddc:K          K dd copying ranges of the single file SRC into DST

# d_label SPEC [csv]: SPEC's name in the table, or its command,jobs,mode.
d_label() {
	local kind jobs mode l c
	IFS=: read -r kind jobs mode <<<"$1"
	case $kind in
	pcopy) l="pcopy $mode $([ "$jobs" = default ] && echo default || echo "-j$jobs")" c="pcopy,$jobs,$mode" ;;
	cp) l="cp -a" c="cp,," ;;
	tar) l="tar|tar" c="tar,," ;;
	rsync) l="rsync -a" c="rsync,," ;;
	xcat) l="read: xargs -P$jobs cat" c="read xargs cat,$jobs," ;;
	ddr) l="read: dd $jobs/file" c="read dd per file,$jobs," ;;
	catf) l="read: cat" c="read cat,1," ;;
	ddc) l="copy: dd x$jobs ranges" c="copy dd ranges,$jobs," ;;
	esac
	if [ "${2:-}" = csv ]; then echo "$c"; else echo "$l"; fi
}

# d_dd_sh K DST FILE SIZE...: K dd processes per FILE at once, each reading
# one 1/K range of it, to /dev/null (DST -) or into DST at the same offset.
# shellcheck disable=SC2016 # the $ are the inner shell's
d_dd_sh='k=$1 d=$2 pids=; shift 2
[ "$d" = - ] || : >"$d" || exit
while [ $# -gt 0 ]; do
	c=$(( ($2 + 1048575) / 1048576 )); c=$(( (c + k - 1) / k )); i=0
	while [ $i -lt $k ]; do
		if [ "$d" = - ]; then dd if="$1" of=/dev/null bs=1M skip=$((i * c)) count=$c status=none &
		else dd if="$1" of="$d" bs=1M skip=$((i * c)) seek=$((i * c)) count=$c conv=notrunc status=none &
		fi
		pids="$pids $!" i=$((i + 1))
	done
	shift 2
done
rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc'

# d_is_read SPEC: true for the commands that only read.
d_is_read() {
	case $1 in xcat:* | ddr:* | catf) return 0 ;; esac
	return 1
}

# d_argv SPEC SRC DST: the command line in $argv; with the destination on
# the disk, followed by sync -f of it.
d_argv() {
	local kind jobs mode src=$2 dst=$3 n
	IFS=: read -r kind jobs mode <<<"$1"
	# shellcheck disable=SC2016 # tar's and xargs' $1... belong to sh -c
	case $kind in
	pcopy) argv=("$pcopy" --mode="$mode" --progress=none)
		[ "$jobs" = default ] || argv+=(-j "$jobs")
		argv+=("$src" "$dst") ;;
	cp) argv=(cp -a "$src" "$dst") ;;
	tar) argv=(sh -c 'mkdir "$2" && tar -C "$1" -cf - . | tar -C "$2" -xf -' sh "$src" "$dst") ;;
	rsync) argv=(rsync -a "$src/" "$dst") ;;
	xcat) # at least 4 batches per reader, or -P N would not mean N
		n=$(((d_cur_files + 4 * jobs - 1) / (4 * jobs)))
		argv=(sh -c 'find "$1" -type f -print0 | xargs -0 -r -n "$2" -P "$3" cat >/dev/null' \
			sh "$src" "$n" "$jobs") ;;
	ddr) argv=(sh -c "$d_dd_sh" sh "$jobs" - "${d_cur_sizes[@]}") ;;
	catf) argv=(sh -c 'exec cat "$1" >/dev/null' sh "$src") ;;
	ddc) argv=(sh -c "$d_dd_sh" sh "$jobs" "$dst" "${d_cur_sizes[@]}") ;;
	esac
	# shellcheck disable=SC2016
	[ "$d_cur_dest" = disk ] && ! d_is_read "$1" &&
		argv=(sh -c 'd=$1; shift; "$@" || exit; exec sync -f "$d"' sh "$(dirname "$dst")" "${argv[@]}")
	return 0
}

# d_commands TREE DEST SHORT: fill d_cmds for a cell.  SHORT=1 (the file
# systems after the first): the short -j and reader lists, and cp -a as the
# only peer (tar and rsync were measured on the first).
d_commands() {
	local tree=$1 dest=$2 short=$3 j k list readers=$d_readers proc
	if [ "$tree" = bigfile ]; then
		d_cmds=(cp pcopy:default:thread)
		for k in 1 $d_split; do
			[[ " ${d_cmds[*]} " == *" ddc:$k "* ]] || d_cmds+=("ddc:$k")
		done
		if [ "$dest" = tmpfs ]; then
			d_cmds+=(catf)
			for k in $d_split; do d_cmds+=("ddr:$k"); done
		fi
		return
	fi
	list=$d_jobs
	[ "$tree" = big ] && list="1 $d_big_files"
	if [ "$tree" = real ] || [ "$short" = 1 ]; then
		[ "$tree" = big ] || list=$d_jobs_short
		readers=$d_readers_short
	fi
	d_cmds=(cp)
	if [ "$short" != 1 ]; then
		command -v tar >/dev/null 2>&1 && d_cmds+=(tar)
		command -v rsync >/dev/null 2>&1 && d_cmds+=(rsync)
	fi
	d_cmds+=(pcopy:default:thread)
	for j in $list; do
		[[ " ${d_cmds[*]} " == *" pcopy:$j:thread "* ]] || d_cmds+=("pcopy:$j:thread")
	done
	proc=$d_proc_j
	[ "$tree" = big ] && proc=$d_big_files
	d_cmds+=(pcopy:default:process "pcopy:$proc:process")
	[ "$dest" = tmpfs ] || return 0
	if [ "$tree" = big ]; then
		d_cmds+=("xcat:1")
		((d_big_files > 1)) && d_cmds+=("xcat:$d_big_files")
		# the whole K sweep is the bigfile block's; here one K
		d_cmds+=("ddr:$d_big_split")
	else
		for j in $readers; do d_cmds+=("xcat:$j"); done
	fi
}

# ---------------------------------------------------------------------------
# One cell: a tree on one file system, cold or warm, to one destination.

d_loadavg() {
	cut -d' ' -f1 /proc/loadavg
}

# d_cpu: sets $d_cpu_now to the CPU seconds of this shell and its
# waited-for children (the timed commands, the untimed helpers, and the
# drop_caches writes), then "total busy steal" jiffies of all CPUs from
# /proc/stat.  Not in $(...): a subshell's times are its own.
d_cpu() {
	times >"$work/tmp/times"
	d_cpu_now=$(awk '{ for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } }
			END { printf "%.2f", n }' "$work/tmp/times"
		awk '$1 == "cpu" { tot = 0; for (i = 2; i <= NF; i++) tot += $i
			printf " %d %d %d\n", tot, tot - $5 - $6, $9 }' /proc/stat)
}

# d_cpu_note BEFORE AFTER: where the machine's CPU time went meanwhile.
d_cpu_note() {
	awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		split(a, x, /[ \n]+/); split(b, y, /[ \n]+/)
		tot = y[2] - x[2]; if (tot <= 0) exit
		busy = (y[3] - x[3]) / tot * 100
		mine = (y[1] - x[1]) * hz / tot * 100
		printf "CPU %.0f%% busy: %.0f%% this bench, %.0f%% the rest", busy, mine, busy - mine
		printf " (kernel I/O threads, other users); steal %.1f%%", (y[4] - x[4]) / tot * 100 }'
}

# The rounds' hooks for the cell $d_name ($d_src to $d_dst, $d_cache).
disk_prep() {
	rm -rf "$d_dst"
	d_settle "$d_cache" "$d_src"
	d_argv "${d_cmds[$1]}" "$d_src" "$d_dst"
	row="$d_name,$(d_label "${d_cmds[$1]}" csv)"
}
disk_check() {
	local src=$d_src
	d_is_read "${d_cmds[$1]}" && src=
	check_run "$d_name" "$1" "$(d_label "${d_cmds[$1]}")" "$2" "$src" "$d_dst" "${d_info[$d_name]}"
}
disk_round() {
	say "disk: $d_name: round $1/$2 done (load $(d_loadavg))"
}

d_cell() {
	local fs=$1 tree=$2 cache=$3 dest=$4 short=$5 n i load0 cpu0 nr=$runs name
	name=disk-$fs-$tree-$cache-$dest
	d_name=$name d_cache=$cache d_cur_dest=$dest d_src=$d_mnt/src/$tree
	[ "$tree" = bigfile ] && d_src=$d_mnt/src/big/big0
	[ -e "$d_src" ] || { say "disk: $name skipped: no $d_src"; return; }
	if [ "$dest" = tmpfs ]; then
		[ -n "$d_tmpfs" ] || { say "disk: $name skipped: no tmpfs"; return; }
		d_dst=$d_tmpfs/$tree
	else
		mkdir -p "$d_mnt/dst" || return
		d_dst=$d_mnt/dst/$tree
	fi
	d_commands "$tree" "$dest" "$short"
	[ "$tree" = real ] && nr=$d_runs_real
	n=${#d_cmds[@]}
	# file count and sizes for the readers (untimed)
	d_cur_files=$(find "$d_src" -type f | wc -l)
	mapfile -t d_cur_sizes < <(find "$d_src" -type f -printf '%p\n%s\n')
	if [ -d "$d_src" ]; then
		d_info[$name]=$(signature "$d_src")
	else
		d_info[$name]="file of $(stat -c %s "$d_src") bytes"
	fi
	d_cells+=("$name")
	d_info[$name/bytes]=$(find "$d_src" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
	d_info[$name/files]=$(find "$d_src" -mindepth 0 ! -type d | wc -l)
	load0=$(d_loadavg)
	say "disk: $name: $n commands x $nr rounds (load $load0)"
	# One untimed copy: the destination's memory or blocks are used once
	# before any timed run, and a warm source is read into the cache.
	rm -rf "$d_dst"
	cp -a "$d_src" "$d_dst" >>"$log" 2>&1
	d_cpu
	cpu0=$d_cpu_now
	rounds "$name" "$n" "$nr" disk
	d_cpu
	d_info[$name/cpu]=$(d_cpu_note "$cpu0" "$d_cpu_now")
	d_info[$name/rounds]=$nr
	rm -rf "$d_dst"
	sync -f "$d_mnt" 2>/dev/null
	d_info[$name/load]="$load0 at the start, $(d_loadavg) at the end"
	d_info[$name/n]=$n
	for ((i = 0; i < n; i++)); do
		d_info[$name/$i]=${d_cmds[$i]}
	done
}

# d_fs_cells FS FIRST: make the trees on the file system at $d_mnt and run
# its cells: BENCH_DISK_CELLS on the first, BENCH_DISK_CELLS_OTHER (short
# lists) on the others.
d_fs_cells() {
	local fs=$1 first=$2 cells=$d_cells_first c tree cache dest trees short=0
	if [ "$first" = 0 ] && [ "${BENCH_DISK_ALL_FS:-0}" != 1 ]; then
		cells=$d_cells_other short=1
	fi
	# shellcheck disable=SC2086 # lists of words
	trees=$(d_cell_trees $cells)
	say "disk: $fs: generating trees:$trees"
	# shellcheck disable=SC2086
	d_trees "$d_mnt/src" $trees >&2 || { say "disk: $fs: tree generation failed"; return 1; }
	for c in $cells; do
		IFS=- read -r tree cache dest <<<"$c"
		d_cell "$fs" "$tree" "$cache" "$dest" "$short"
	done
}

# ---------------------------------------------------------------------------
# Output.

d_print_table() {
	local name i n
	printf '\n%-30s %-24s %9s %7s %9s %9s %9s\n' "disk tree" command "median s" \
		"min s" "MB/s" "files/s" "vs cp -a"
	for name in "${d_cells[@]}"; do
		n=${d_info[$name/n]:-0}
		((n > 0)) || continue
		printf '%s: %s; %s rounds\n  load average %s; %s\n' "$name" "${d_info[$name]}" \
			"${d_info[$name/rounds]}" "${d_info[$name/load]}" "${d_info[$name/cpu]}"
		for ((i = 0; i < n; i++)); do
			table_row '%-30s %-24s %9.3f %7.3f %9s %9s %9s\n' "$name" "$i" \
				"$(d_label "${d_info[$name/$i]}")" "${d_info[$name/bytes]}" \
				"${d_info[$name/files]}" "$(d_find "$name" cp)"
		done
		d_best_line "$name"
		echo
	done
	echo "tree names: disk-FS-TREE-CACHE-DEST."
	echo "cold: $d_cold_how;" | fold -s -w 76
	echo "warm: the source read once before the first run and kept cached."
	echo "DEST disk: the copy goes to the same file system and each time"
	echo "includes sync -f of it; DEST tmpfs: the copy goes to a tmpfs."
	echo "read: rows only read the source (xargs -P N: N cat processes, at least"
	echo "4 batches of files each; dd K/file: K dd readers of 1/K of every file,"
	echo "all at once; copy: dd xK: K dd processes each copying 1/K of the file)."
	[[ " ${!mark[*]} " == *" disk-"* ]] &&
		echo "* a run exited non-zero or its first copy was incomplete: see $log"
	return 0
}

# d_find NAME SPEC: the median of SPEC in cell NAME, or nothing.
d_find() {
	local n=${d_info[$1/n]:-0} i
	for ((i = 0; i < n; i++)); do
		[ "${d_info[$1/$i]}" = "$2" ] && echo "${med[$1/$i]}" && return
	done
}

# d_best NAME PATTERN: "median spec" of the fastest command of cell NAME
# whose spec matches the extended regex PATTERN.
d_best() {
	local n=${d_info[$1/n]:-0} i
	for ((i = 0; i < n; i++)); do
		[[ ${d_info[$1/$i]} =~ $2 ]] && echo "${med[$1/$i]} ${d_info[$1/$i]}"
	done | sort -g | head -n 1
}

d_best_line() {
	local name=$1 bt bp br
	bt=$(d_best "$name" '^pcopy:[0-9]+:thread$')
	bp=$(d_best "$name" '^pcopy:[0-9]+:process$')
	br=$(d_best "$name" '^(xcat|ddr|catf)')
	# the single file: no -j sweep; the fastest copier instead
	[ -n "$bt" ] || bt=$(d_best "$name" '^(cp|pcopy:.*|ddc:.*)$')
	[ -n "$bt" ] || return 0
	printf '  fastest: %s %.3f s' "$(d_label "${bt#* }")" "${bt%% *}"
	[ -n "$bp" ] && printf ', %s %.3f s' "$(d_label "${bp#* }")" "${bp%% *}"
	[ -n "$br" ] && printf '; read limit: %s %.3f s' "$(d_label "${br#* }" | sed 's/^read: //')" "${br%% *}"
	echo
}

# The real-storage targets beside what this run measured, per file system:
# cold small to tmpfs, the default at most 0.30 x cp -a and 1.15 x the
# fastest -j; cold small to the disk, at most 0.6 x cp -a; cold big to
# tmpfs, at most 1.2 x the read limit.
d_print_targets() {
	local fs c def cp best mode target_width=66 value_width=6
	echo
	echo "targets on real storage (time ratios: lower is faster):"
	[ "$quick" = 1 ] && echo "  (QUICK: a smaller tree and few runs, indicative only)"
	for fs in $d_done_fs; do
		c=disk-$fs-small-cold-tmpfs
		cp=$(d_find "$c" cp)
		for mode in thread process; do
			def=$(d_find "$c" "pcopy:default:$mode")
			target "$fs cold small->tmpfs: $mode default / cp -a" "$(ratio "$def" "$cp")" 0.30
			best=$(d_best "$c" "^pcopy:[0-9]+:$mode\$")
			[ -n "$best" ] && target "$fs cold small->tmpfs: $mode default / fastest -j ($(d_label "${best#* }" | sed 's/.* //'))" \
				"$(ratio "$def" "${best%% *}")" 1.15
		done
		c=disk-$fs-small-cold-disk
		cp=$(d_find "$c" cp)
		for mode in thread process; do
			def=$(d_find "$c" "pcopy:default:$mode")
			target "$fs cold small->disk: $mode default / cp -a (both +sync)" "$(ratio "$def" "$cp")" 0.60
		done
		c=disk-$fs-big-cold-tmpfs
		best=$(d_best "$c" '^(xcat|ddr|catf)')
		for mode in thread process; do
			def=$(d_find "$c" "pcopy:default:$mode")
			[ -n "$best" ] && target "$fs cold big->tmpfs: $mode default / read limit ($(d_label "${best#* }" | sed 's/^read: //'))" \
				"$(ratio "$def" "${best%% *}")" 1.20
		done
	done
	return 0
}

# ---------------------------------------------------------------------------
# The section.

# d_place: choose where the file systems and the tmpfs destination are;
# false (with a message) when the rows must be skipped.
d_place() {
	local need fs avail='' total=0 spare tkib ok=()
	d_root=0
	[ "$(id -u)" = 0 ] && d_root=1
	if [ "$d_root" = 1 ]; then
		d_cold_how="as root, sync -f and echo 3 >/proc/sys/vm/drop_caches before every run (page, dentry and inode caches)"
	else
		[ -n "$py" ] || { say "disk: skipped: not root and no python3 for posix_fadvise"; return 1; }
		d_cold_how="not root, posix_fadvise(POSIX_FADV_DONTNEED) on every source file before every run (file data only: directories and inodes stay cached)"
	fi
	if [ -n "${BENCH_DISK_DIR:-}" ]; then
		mkdir -p "$BENCH_DISK_DIR/pcopy-disk-bench" ||
			{ say "disk: skipped: cannot create $BENCH_DISK_DIR/pcopy-disk-bench"; return 1; }
		d_fs_list=$(findmnt -no FSTYPE -T "$BENCH_DISK_DIR" 2>/dev/null | tr -c 'a-zA-Z0-9\n' -)
		d_fs_list=${d_fs_list:-dir}
		d_mnt=$BENCH_DISK_DIR/pcopy-disk-bench
		d_dir_dst=$d_mnt/dst
		say "disk: trees in BENCH_DISK_DIR=$d_mnt ($d_fs_list), kept after the run"
	elif [ "$d_root" = 0 ]; then
		say "disk: skipped: not root (set BENCH_DISK_DIR=a directory on the disk to measure)"
		return 1
	else
		for fs in $d_fs_list; do
			if ! command -v "mkfs.$fs" >/dev/null 2>&1; then
				say "disk: skipped $fs: mkfs.$fs not installed"
				d_skipped+=("$fs: mkfs.$fs not installed")
				continue
			fi
			ok+=("$fs")
		done
		d_fs_list=${ok[*]}
		[ -n "$d_fs_list" ] || { say "disk: skipped: no mkfs"; return 1; }
		d_img_dir=${BENCH_DISK_IMG_DIR:-/var/tmp}
		# the largest image (they are made one at a time)
		# shellcheck disable=SC2046,SC2086 # lists of words
		need=$(d_need_kib $(d_cell_trees $d_cells_first))
		# shellcheck disable=SC2046,SC2086
		tkib=$(d_need_kib $(d_cell_trees $d_cells_other))
		[[ $d_fs_list == *" "* ]] && ((tkib > need)) && need=$tkib
		d_img_kib=$need
		read -r total avail < <(df -Pk "$d_img_dir" 2>/dev/null | awk 'NR == 2 { print $2, $4 }')
		# leave at least 10 GiB or 10% of the disk free when the image is full
		spare=$((total / 10))
		((spare < 10 * 1048576)) && spare=$((10 * 1048576))
		if [ -z "$avail" ] || ((avail - need < spare)); then
			say "disk: skipped: images need $((need / 1048576)) GiB and $d_img_dir has" \
				"$((${avail:-0} / 1048576)) GiB free (set BENCH_DISK_DIR=a directory on the disk)"
			return 1
		fi
		d_base=$(mktemp -d "$d_img_dir/pcopy-disk.XXXXXX") ||
			{ say "disk: skipped: cannot create a directory in $d_img_dir"; return 1; }
	fi
	# the tmpfs destination
	if [ "$d_root" = 1 ]; then
		tkib=0
		# shellcheck disable=SC2046,SC2086
		for fs in $(d_cell_trees $d_cells_first $d_cells_other); do
			need=$(d_need_kib "$fs")
			((need > tkib)) && tkib=$need
		done
		[ -n "$d_base" ] || d_base=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-disk.XXXXXX") ||
			{ say "disk: skipped: cannot create a temporary directory"; return 1; }
		d_tmpfs=$d_base/tmpfs
		mkdir -p "$d_tmpfs"
		if mount -t tmpfs -o "size=${tkib}k,mode=0700" pcopy-disk-bench "$d_tmpfs"; then
			d_tmpfs_mnt=$d_tmpfs
		else
			say "disk: mounting a tmpfs failed: no tmpfs destination rows"
			d_tmpfs=
		fi
	elif [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
		d_shm_dir=$(mktemp -d /dev/shm/pcopy-disk.XXXXXX) && d_tmpfs=$d_shm_dir
	else
		say "disk: no writable tmpfs (/dev/shm): no tmpfs destination rows"
	fi
	return 0
}

# disk_main: the section, printed and appended to the table.
disk_main() {
	local fs first=1 out=$work/tmp/disk-table
	d_config
	d_place || { echo; echo "disk rows skipped (see the messages above)"; return 0; }
	for fs in $d_fs_list; do
		if [ -n "$d_base" ] && [ -z "${BENCH_DISK_DIR:-}" ]; then
			d_mkfs "$fs" "$d_img_kib" || { d_unmkfs; d_skipped+=("$fs: could not be made"); continue; }
			d_fs_line+="$fs: in an image file in $d_img_dir, $(d_backing "$d_img_dir"), through a loop device ($([ "$d_dio" = 1 ] && echo 'direct I/O' || echo 'buffered I/O'))$d_fs_note"$'\n'
		else
			d_fs_line+="$fs: BENCH_DISK_DIR=$BENCH_DISK_DIR, $(d_backing "$d_mnt")"$'\n'
		fi
		d_fs_cells "$fs" "$first"
		d_done_fs+=" $fs"
		first=0
		d_unmkfs
	done
	{
		echo
		echo "real storage, $(date '+%Y-%m-%d %H:%M')$([ "$quick" = 1 ] && echo ', QUICK');" \
			"median of $runs alternating runs"
		printf '%s' "$d_fs_line"
		echo "tmpfs destination: ${d_tmpfs:-none}"
		for fs in "${d_skipped[@]}"; do
			echo "skipped: $fs"
		done
		d_print_table
		d_print_targets
	} >"$out"
	cat "$out" >>"$table"
	cat "$out"
	disk_cleanup
}

# Run alone: only this section, with its own header; the work directory
# holds only scratch files, so it is no tmpfs.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-bench.XXXXXX") || die "cannot create a temporary directory"
	bench_start
	{
		echo "pcopy benchmark, real storage only (bench/disk.sh)"
		machine
		pcopy_version "$pcopy"
		[ -n "$vm_note" ] && echo "$vm_note"
	} >"$table"
	cat "$table"
	disk_main
	echo "runs: $csv" | tee -a "$table"
	say "done; table: $table"
fi
