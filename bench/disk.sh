# shellcheck shell=bash disable=SC2154 # run.sh's variables: quick, runs, log...
# disk.sh -- the real-storage rows of `make bench` (issue 12): the same
# kind of table as the tmpfs rows, but with the source on a block device,
# read cold (caches dropped before every run) and warm, copied to a tmpfs
# and to the same disk (the time then includes `sync -f` of it).
#
# Sourced by run.sh, which calls disk_main after its own table (BENCH_DISK=0
# skips it), or run alone with the same environment:
#
#   bash bench/disk.sh            # QUICK=1, RUNS=... as for make bench
#
# Where: as root, an ext4 and (with mkfs.xfs) an XFS file system, each made
# in a sparse image file under BENCH_DISK_IMG_DIR (default /var/tmp) only
# when the disk keeps 10 GiB (or 10%) free with the image full, and mounted
# through a loop device with direct I/O, so that the image's pages are not
# cached a second time and a dropped cache means reads from the machine's
# disk.  One file system at a time; each is unmounted and its image removed
# when its rows are done, and whatever exists at exit (also on Ctrl-C).
# Otherwise (not root, or BENCH_DISK_DIR set): the directory BENCH_DISK_DIR,
# whose trees are kept for the next run; without it the rows are skipped.
#
# Cold: as root, sync -f and echo 3 >/proc/sys/vm/drop_caches before every
# run (then the timed programs are run once so that their own code is
# cached); not root, posix_fadvise(DONTNEED) on every source file (python3),
# which leaves directories and inodes cached.  The table says which.
#
# Trees (mktrees.sh, generated on the disk file system):
#   small    20,000 files of 0-64 KiB in 200 directories, ~164 MB
#            (QUICK: 10,000 in 100)
#   big      3 files of 1 GiB (QUICK: 2 x 256 MiB)
#   real     a copy of /usr/share (QUICK: /usr/share/doc); at most 3 rounds
#   bigfile  the first big file alone (issue 12 item 3): cp and pcopy
#            against dd processes each copying or reading one range of it
#
# Cells: TREE-CACHE-DEST words, CACHE cold or warm, DEST tmpfs or disk;
# BENCH_DISK_CELLS on the first file system, BENCH_DISK_CELLS_OTHER (with
# the short -j list) on the others, each cell one block of the table, named
# disk-FS-TREE-CACHE-DEST in the table and in run.sh's runs CSV.
#
# Commands, alternating within each round in an order that rotates: pcopy
# at its default -j and at each -j of DISK_JOBS_LIST (thread mode), at the
# default and -j DISK_PROCESS_J in process mode, cp -a, tar | tar, rsync -a,
# and with DEST tmpfs the parallel-read limit, find SRC -type f -print0 |
# xargs -0 -P N cat >/dev/null at each N of DISK_READERS (big: one cat per
# file, and dd readers of ranges).  Then the issue-12 targets.
#
# Environment: QUICK, RUNS, PCOPY, RESULTS_DIR (as run.sh); BENCH_DISK_FS
# ("ext4 xfs"; QUICK "ext4"), BENCH_DISK_CELLS, BENCH_DISK_CELLS_OTHER,
# BENCH_DISK_ALL_FS=1 (the others get BENCH_DISK_CELLS too),
# DISK_JOBS_LIST ("1 2 4 8 16 32 64"; QUICK "1 2 8 32"), DISK_JOBS_SHORT
# (real tree and other file systems: "1 4 16 64"; QUICK "1 8 32"),
# DISK_PROCESS_J (16), DISK_READERS ("1 4 16 64"; QUICK "1 16"),
# DISK_READERS_SHORT ("16 64"; QUICK "16"), DISK_SPLIT (bigfile: dd
# ranges, "2 4 8 16"; QUICK "4 16"), DISK_BIG_SPLIT (big: 4), DISK_RUNS_REAL, DISK_SMALL_FILES,
# DISK_SMALL_DIRS, DISK_BIG_FILES, DISK_BIG_MIB, DISK_REAL_SRC,
# BENCH_DISK_DIR, BENCH_DISK_IMG_DIR.
#
# Uses run.sh's say, time_cmd, signature, median, fastest, ratio and
# vm_steady, and its $work/tmp, $csv, $log and $table.

# ---------------------------------------------------------------------------
# Configuration, read when the section starts (run.sh has set $quick).

d_config() {
	if [ "$quick" = 1 ]; then
		d_jobs=${DISK_JOBS_LIST:-1 2 8 32}
		d_jobs_short=${DISK_JOBS_SHORT:-1 8 32}
		d_readers=${DISK_READERS:-1 16}
		d_readers_short=${DISK_READERS_SHORT:-16}
		d_small_files=${DISK_SMALL_FILES:-10000}
		d_small_dirs=${DISK_SMALL_DIRS:-100}
		d_big_files=${DISK_BIG_FILES:-2}
		d_big_mib=${DISK_BIG_MIB:-256}
		d_real_src=${DISK_REAL_SRC:-/usr/share/doc}
		d_fs_list=${BENCH_DISK_FS:-ext4}
		d_split=${DISK_SPLIT:-4 16}
		d_runs_real=${DISK_RUNS_REAL:-$runs}
		d_cells_first=${BENCH_DISK_CELLS:-small-cold-tmpfs small-cold-disk small-warm-tmpfs big-cold-tmpfs big-cold-disk bigfile-cold-tmpfs real-cold-tmpfs}
	else
		d_jobs=${DISK_JOBS_LIST:-1 2 4 8 16 32 64}
		d_jobs_short=${DISK_JOBS_SHORT:-1 4 16 64}
		d_readers=${DISK_READERS:-1 4 16 64}
		d_readers_short=${DISK_READERS_SHORT:-16 64}
		d_small_files=${DISK_SMALL_FILES:-20000}
		d_small_dirs=${DISK_SMALL_DIRS:-200}
		d_big_files=${DISK_BIG_FILES:-3}
		d_big_mib=${DISK_BIG_MIB:-1024}
		d_real_src=${DISK_REAL_SRC:-/usr/share}
		d_fs_list=${BENCH_DISK_FS:-ext4 xfs}
		d_split=${DISK_SPLIT:-2 4 8 16}
		d_runs_real=${DISK_RUNS_REAL:-$((runs < 3 ? runs : 3))}
		d_cells_first=${BENCH_DISK_CELLS:-small-cold-tmpfs small-cold-disk small-warm-tmpfs big-cold-tmpfs big-cold-disk bigfile-cold-tmpfs bigfile-warm-tmpfs real-cold-tmpfs}
	fi
	d_cells_other=${BENCH_DISK_CELLS_OTHER:-small-cold-tmpfs small-cold-disk}
	d_proc_j=${DISK_PROCESS_J:-16}
	d_big_split=${DISK_BIG_SPLIT:-4}
}

# d_cell_trees CELLS...: the trees those cells need, for mktrees.sh.
d_cell_trees() {
	local c t out=
	for c in "$@"; do
		t=${c%%-*}
		[ "$t" = bigfile ] && t=big
		[[ " $out " == *" $t "* ]] || out+=" $t"
	done
	echo "$out"
}

# ---------------------------------------------------------------------------
# State, and the cleanup that run.sh's cleanup() calls (also on Ctrl-C).

d_base=          # the directory holding images and mount points (root)
d_tmpfs_mnt=     # the tmpfs mounted for the destinations
d_fs_mnt=        # the file system mounted now, its loop device and image
d_fs_loop=
d_fs_img=
d_tmpfs=         # where tmpfs destinations go
d_fs_line=
d_fs_note=
d_dir_dst=       # BENCH_DISK_DIR mode: the dst directory to remove
d_shm_dir=       # not root: our directory in /dev/shm
d_cold_how=      # how a cold run is made cold, for the table's header

d_umount() {
	local m=$1 k
	for k in 1 2 3 4 5 6 7 8 9 10; do
		umount "$m" 2>/dev/null && return 0
		sleep 0.3
	done
	umount -l "$m" 2>/dev/null || { say "warning: could not unmount $m"; return 1; }
}

disk_cleanup() {
	cd / || return
	d_unmkfs
	if [ -n "$d_tmpfs_mnt" ]; then
		d_umount "$d_tmpfs_mnt"
		d_tmpfs_mnt=
	fi
	[ -n "$d_dir_dst" ] && rm -rf "$d_dir_dst"
	[ -n "$d_shm_dir" ] && rm -rf "$d_shm_dir"
	d_dir_dst='' d_shm_dir=''
	if [ -n "$d_base" ]; then
		# only empty mount points are left; never rm -r here, something
		# might still be mounted
		rmdir "$d_base"/* "$d_base" 2>/dev/null
		[ -d "$d_base" ] && say "warning: $d_base not removed (still in use?)"
		d_base=
	fi
	return 0
}

# ---------------------------------------------------------------------------
# The file systems.

# d_need_kib TREES...: space for the trees, one copy of the largest and
# file-system overhead, in KiB.
d_need_kib() {
	local t kib sum=0 largest=0
	for t in "$@"; do
		case $t in
		small) kib=$((d_small_files * 14)) ;;  # 8.3 KiB mean + block tails
		big) kib=$((d_big_files * d_big_mib * 1024)) ;;
		real) kib=$(du -sk "$d_real_src" 2>/dev/null | cut -f1)
			kib=$((${kib:-0} * 12 / 10)) ;;
		*) kib=0 ;;
		esac
		sum=$((sum + kib))
		((kib > largest)) && largest=$kib
	done
	echo $(((sum + largest) * 115 / 100 + 1024 * 1024))
}

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
	d_fs_mnt=$mnt
	d_mnt=$mnt
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

# d_unmkfs: unmount, detach and remove the file system made by d_mkfs
# (whatever part of it exists).
d_unmkfs() {
	if [ -n "$d_fs_mnt" ]; then
		d_umount "$d_fs_mnt" && rmdir "$d_fs_mnt" 2>/dev/null
		d_fs_mnt=
	fi
	if [ -n "$d_fs_loop" ]; then
		losetup -d "$d_fs_loop" 2>/dev/null
		d_fs_loop=
	fi
	if [ -n "$d_fs_img" ]; then
		rm -f "$d_fs_img"
		d_fs_img=
	fi
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
n = 0
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
            n += 1
        finally:
            os.close(fd)
PY

# d_binaries: run every program the timed commands use, so that their
# code is in the page cache: "cold" is about the source tree, not about
# loading cp or rsync from the disk.
d_binaries() {
	"$pcopy" --version
	cp --version
	tar --version
	rsync --version
	find . -maxdepth 0 -version
	xargs --version
	cat --version
	dd --version
	sync --version
	sh -c :
} >/dev/null 2>&1

# d_settle CACHE SRC: before a timed run: the file system synced, and for a
# cold run the source's pages dropped.
d_settle() {
	sync -f "$d_mnt" 2>/dev/null || sync
	[ "$1" = cold ] || return 0
	if [ "$d_root" = 1 ]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		"$py" -S -c "$d_fadvise_py" "$2"
	fi
	d_binaries
}

# ---------------------------------------------------------------------------
# The commands of a cell: d_cmds holds "kind:jobs:mode" words.
#   pcopy:J:MODE   pcopy --mode=MODE [-j J] (J "default": no -j)
#   cp, tar, rsync
#   xcat:N         find SRC -type f -print0 | xargs -0 -P N cat (read only)
#   ddr:K          K dd readers of ranges of every file, all at once
#   catf           cat of the single file SRC (read only)
#   ddc:K          K dd copying ranges of the single file SRC into DST

d_label() {
	local kind jobs mode
	IFS=: read -r kind jobs mode <<<"$1"
	case $kind in
	pcopy) [ "$jobs" = default ] && echo "pcopy $mode default" ||
		echo "pcopy $mode -j$jobs" ;;
	cp) echo "cp -a" ;;
	tar) echo "tar|tar" ;;
	rsync) echo "rsync -a" ;;
	xcat) echo "read: xargs -P$jobs cat" ;;
	ddr) echo "read: dd ${jobs}/file" ;;
	catf) echo "read: cat" ;;
	ddc) echo "copy: dd x$jobs ranges" ;;
	esac
}

# d_csv_name SPEC: the command,jobs,mode columns of the CSV.
d_csv_name() {
	local kind jobs mode
	IFS=: read -r kind jobs mode <<<"$1"
	case $kind in
	pcopy) echo "pcopy,$jobs,$mode" ;;
	cp | tar | rsync) echo "$kind,," ;;
	xcat) echo "read xargs cat,$jobs," ;;
	ddr) echo "read dd per file,$jobs," ;;
	catf) echo "read cat,1," ;;
	ddc) echo "copy dd ranges,$jobs," ;;
	esac
}

# shellcheck disable=SC2016 # the $ are the inner shell's
d_ddr_sh='k=$1; shift; pids=
while [ $# -gt 0 ]; do
	f=$1 mib=$(( ($2 + 1048575) / 1048576 )); shift 2
	c=$(( (mib + k - 1) / k )); i=0
	while [ $i -lt $k ]; do
		dd if="$f" of=/dev/null bs=1M skip=$((i * c)) count=$c status=none & pids="$pids $!"
		i=$((i + 1))
	done
done
rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc'

# shellcheck disable=SC2016
d_ddc_sh='k=$1 f=$2 mib=$(( ($3 + 1048575) / 1048576 )) d=$4 pids=
c=$(( (mib + k - 1) / k )); i=0
: >"$d" || exit
while [ $i -lt $k ]; do
	dd if="$f" of="$d" bs=1M skip=$((i * c)) seek=$((i * c)) count=$c conv=notrunc status=none & pids="$pids $!"
	i=$((i + 1))
done
rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc'

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
	tar) argv=(sh -c 'mkdir "$2" && tar -C "$1" -cf - . | tar -C "$2" -xf -' \
		sh "$src" "$dst") ;;
	rsync) argv=(rsync -a "$src/" "$dst") ;;
	xcat) # at least 4 batches per reader, or -P N would not mean N
		n=$(((d_cur_files + 4 * jobs - 1) / (4 * jobs)))
		argv=(sh -c 'find "$1" -type f -print0 | xargs -0 -r -n "$2" -P "$3" cat >/dev/null' \
			sh "$src" "$n" "$jobs") ;;
	ddr) argv=(sh -c "$d_ddr_sh" sh "$jobs" "${d_cur_sizes[@]}") ;;
	catf) argv=(sh -c 'exec cat "$1" >/dev/null' sh "$src") ;;
	ddc) argv=(sh -c "$d_ddc_sh" sh "$jobs" "$src" "${d_cur_sizes[1]}" "$dst") ;;
	esac
	# shellcheck disable=SC2016
	[ "$d_cur_dest" = disk ] && [ "$kind" != xcat ] && [ "$kind" != ddr ] &&
		[ "$kind" != catf ] && argv=(sh -c 'd=$1; shift; "$@" || exit; exec sync -f "$d"' \
			sh "$(dirname "$dst")" "${argv[@]}")
	return 0
}

# d_is_read SPEC: true for the commands that only read.
d_is_read() {
	case $1 in xcat:* | ddr:* | catf) return 0 ;; esac
	return 1
}

# d_commands TREE DEST SHORT: fill d_cmds for a cell.  SHORT=1 (the file
# systems after the first): the short -j and reader lists, and cp -a as the
# only peer (tar and rsync were measured on the first).
d_commands() {
	local tree=$1 dest=$2 short=$3 j k list readers=$d_readers proc
	d_cmds=()
	case $tree in
	bigfile)
		d_cmds=(cp pcopy:default:thread)
		for k in 1 $d_split; do
			[[ " ${d_cmds[*]} " == *" ddc:$k "* ]] || d_cmds+=("ddc:$k")
		done
		if [ "$dest" = tmpfs ]; then
			d_cmds+=(catf)
			for k in $d_split; do d_cmds+=("ddr:$k"); done
		fi
		return ;;
	big) list="1 $d_big_files" ;;
	*) list=$d_jobs ;;
	esac
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

declare -A d_med d_low d_mark d_cell_info
d_cells=()

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

d_cell() {
	local fs=$1 tree=$2 cache=$3 dest=$4 short=$5 src dst name n r k i sig load0 times spec
	local cpu0 rounds=$runs
	name=disk-$fs-$tree-$cache-$dest
	if [ "$tree" = bigfile ]; then
		src=$d_mnt/src/big/big0
	else
		src=$d_mnt/src/$tree
	fi
	[ -e "$src" ] || { say "disk: $name skipped: no $src"; return; }
	if [ "$dest" = tmpfs ]; then
		[ -n "$d_tmpfs" ] || { say "disk: $name skipped: no tmpfs"; return; }
		dst=$d_tmpfs/$tree
	else
		mkdir -p "$d_mnt/dst" || return
		dst=$d_mnt/dst/$tree
	fi
	d_cur_dest=$dest
	d_commands "$tree" "$dest" "$short"
	[ "$tree" = real ] && rounds=$d_runs_real
	n=${#d_cmds[@]}
	# file count and sizes for the readers (untimed)
	d_cur_files=$(find "$src" -type f | wc -l)
	mapfile -t d_cur_sizes < <(find "$src" -type f -printf '%p\n%s\n')
	if [ -d "$src" ]; then
		sig=$(signature "$src")
	else
		sig="file of $(stat -c %s "$src") bytes"
	fi
	d_cells+=("$name")
	d_cell_info[$name]="$sig"
	d_cell_info[$name/bytes]=$(find "$src" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
	d_cell_info[$name/files]=$(find "$src" -mindepth 0 ! -type d | wc -l)
	load0=$(d_loadavg)
	say "disk: $name: $n commands x $rounds rounds (load $load0)"
	# One untimed copy: the destination's memory or blocks are used once
	# before any timed run, and a warm source is read into the cache.
	rm -rf "$dst"
	cp -a "$src" "$dst" >>"$log" 2>&1
	d_cpu
	cpu0=$d_cpu_now
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < n; k++)); do
			i=$(((k + r) % n))
			spec=${d_cmds[$i]}
			rm -rf "$dst"
			d_settle "$cache" "$src"
			d_argv "$spec" "$src" "$dst"
			time_cmd "${argv[@]}"
			echo "$name,$(d_csv_name "$spec"),$((r + 1)),$elapsed" >>"$csv"
			times=${d_times[$name/$i]:-}
			d_times[$name/$i]="$times $elapsed"
			if ((rc != 0)); then
				d_mark[$name/$i]='*'
				say "disk: $name: $(d_label "$spec") exited $rc (see $log)"
			elif ((r == 0)) && ! d_is_read "$spec"; then
				if [ -d "$src" ]; then
					[ "$(signature "$dst")" = "$sig" ] || d_mark[$name/$i]='*'
				else
					cmp -s "$src" "$dst" || d_mark[$name/$i]='*'
				fi
				[ -z "${d_mark[$name/$i]:-}" ] ||
					say "disk: $name: $(d_label "$spec"): incomplete or wrong copy"
			fi
		done
		say "disk: $name: round $((r + 1))/$rounds done (load $(d_loadavg))"
	done
	d_cpu
	d_cell_info[$name/cpu]=$(d_cpu_note "$cpu0" "$d_cpu_now")
	d_cell_info[$name/rounds]=$rounds
	rm -rf "$dst"
	sync -f "$d_mnt" 2>/dev/null
	d_cell_info[$name/load]="$load0 at the start, $(d_loadavg) at the end"
	d_cell_info[$name/n]=$n
	for ((i = 0; i < n; i++)); do
		d_cell_info[$name/$i]=${d_cmds[$i]}
		# shellcheck disable=SC2086 # a list of numbers
		d_med[$name/$i]=$(printf '%s\n' ${d_times[$name/$i]} | median)
		# shellcheck disable=SC2086
		d_low[$name/$i]=$(printf '%s\n' ${d_times[$name/$i]} | fastest)
	done
}
declare -A d_times

# d_fs_cells FS FIRST: generate the trees on the file system mounted at
# $d_mnt and run its cells: BENCH_DISK_CELLS on the first file system,
# BENCH_DISK_CELLS_OTHER (short lists) on the others.
d_fs_cells() {
	local fs=$1 first=$2 cells c tree cache dest trees short=0
	cells=$d_cells_first
	if [ "$first" = 0 ] && [ "${BENCH_DISK_ALL_FS:-0}" != 1 ]; then
		cells=$d_cells_other short=1
	fi
	# shellcheck disable=SC2086 # lists of words
	trees=$(d_cell_trees $cells)
	say "disk: $fs: generating trees:$trees"
	# shellcheck disable=SC2086
	QUICK=$quick SMALL_FILES=$d_small_files SMALL_DIRS=$d_small_dirs \
		BIG_FILES=$d_big_files BIG_MIB=$d_big_mib REAL_SRC=$d_real_src \
		bash "$here/mktrees.sh" "$d_mnt/src" $trees >&2 ||
		{ say "disk: $fs: tree generation failed"; return 1; }
	for c in $cells; do
		IFS=- read -r tree cache dest <<<"$c"
		case $tree/$cache/$dest in
		small/* | big/* | real/* | bigfile/*) ;;
		*) say "disk: unknown cell $c (TREE-cold|warm-tmpfs|disk)"; continue ;;
		esac
		case $cache/$dest in
		cold/tmpfs | cold/disk | warm/tmpfs | warm/disk) ;;
		*) say "disk: unknown cell $c (TREE-cold|warm-tmpfs|disk)"; continue ;;
		esac
		d_cell "$fs" "$tree" "$cache" "$dest" "$short"
	done
}

# ---------------------------------------------------------------------------
# Output.

d_print_table() {
	local name i n spec t b f base mbs fps speed
	printf '\n%-30s %-24s %9s %7s %9s %9s %9s\n' "disk tree" command "median s" \
		"min s" "MB/s" "files/s" "vs cp -a"
	for name in "${d_cells[@]}"; do
		n=${d_cell_info[$name/n]:-0}
		((n > 0)) || continue
		b=${d_cell_info[$name/bytes]}
		f=${d_cell_info[$name/files]}
		printf '%s: %s; %s rounds\n  load average %s; %s\n' "$name" \
			"${d_cell_info[$name]}" "${d_cell_info[$name/rounds]}" \
			"${d_cell_info[$name/load]}" "${d_cell_info[$name/cpu]}"
		base=
		for ((i = 0; i < n; i++)); do
			[ "${d_cell_info[$name/$i]}" = cp ] && base=${d_med[$name/$i]}
		done
		for ((i = 0; i < n; i++)); do
			spec=${d_cell_info[$name/$i]}
			t=${d_med[$name/$i]}
			read -r mbs fps speed < <(awk -v t="$t" -v b="$b" -v f="$f" -v c="$base" 'BEGIN {
				if (t + 0 <= 0) { print "- - -"; exit }
				printf "%.1f %.0f %s\n", b / 1e6 / t, f / t, c == "" ? "-" : sprintf("%.2fx", c / t) }')
			printf '%-30s %-24s %9.3f %7.3f %9s %9s %9s\n' "$name" \
				"$(d_label "$spec")${d_mark[$name/$i]:-}" "$t" "${d_low[$name/$i]}" \
				"$mbs" "$fps" "$speed"
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
	if [ -n "${d_mark[*]}" ]; then
		echo "* a run exited non-zero or its first copy was incomplete: see $log"
	fi
}

# d_find NAME SPEC: the median of SPEC in cell NAME, or nothing.
d_find() {
	local n=${d_cell_info[$1/n]:-0} i
	for ((i = 0; i < n; i++)); do
		if [ "${d_cell_info[$1/$i]}" = "$2" ]; then
			echo "${d_med[$1/$i]}"
			return
		fi
	done
}

# d_best NAME PATTERN: "median spec" of the fastest command of cell NAME
# whose spec matches the extended regex PATTERN.
d_best() {
	local n=${d_cell_info[$1/n]:-0} i
	for ((i = 0; i < n; i++)); do
		[[ ${d_cell_info[$1/$i]} =~ $2 ]] && echo "${d_med[$1/$i]} ${d_cell_info[$1/$i]}"
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

# d_target WHAT VALUE LIMIT: run.sh's target(), with room for longer names.
d_target() {
	target_width=66 value_width=6 target "$@"
}

# The issue-12 targets beside what this run measured, per file system.
d_print_targets() {
	local fs c def cp best mode
	echo
	echo "targets of issue 12 on real storage (time ratios: lower is faster):"
	[ "$quick" = 1 ] && echo "  (QUICK: a smaller tree and few runs, indicative only)"
	for fs in $d_done_fs; do
		c=disk-$fs-small-cold-tmpfs
		cp=$(d_find "$c" cp)
		for mode in thread process; do
			def=$(d_find "$c" "pcopy:default:$mode")
			d_target "$fs cold small->tmpfs: $mode default / cp -a" "$(ratio "$def" "$cp")" 0.30
			best=$(d_best "$c" "^pcopy:[0-9]+:$mode\$")
			[ -n "$best" ] && d_target "$fs cold small->tmpfs: $mode default / fastest -j ($(d_label "${best#* }" | sed 's/.* //'))" \
				"$(ratio "$def" "${best%% *}")" 1.15
		done
		c=disk-$fs-small-cold-disk
		cp=$(d_find "$c" cp)
		for mode in thread process; do
			def=$(d_find "$c" "pcopy:default:$mode")
			d_target "$fs cold small->disk: $mode default / cp -a (both +sync)" "$(ratio "$def" "$cp")" 0.60
		done
		c=disk-$fs-big-cold-tmpfs
		best=$(d_best "$c" '^(xcat|ddr|catf)')
		for mode in thread process; do
			def=$(d_find "$c" "pcopy:default:$mode")
			[ -n "$best" ] && d_target "$fs cold big->tmpfs: $mode default / read limit ($(d_label "${best#* }" | sed 's/^read: //'))" \
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
	local need=0 fs avail total spare first=1 tkib ok=()
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
		for fs in $d_fs_list; do
			# shellcheck disable=SC2046,SC2086 # lists of words
			if [ "$first" = 1 ] || [ "${BENCH_DISK_ALL_FS:-0}" = 1 ]; then
				tkib=$(d_need_kib $(d_cell_trees $d_cells_first))
			else
				tkib=$(d_need_kib $(d_cell_trees $d_cells_other))
			fi
			((tkib > need)) && need=$tkib
			first=0
		done
		d_img_kib=$need
		avail=$(df -Pk "$d_img_dir" 2>/dev/null | awk 'NR == 2 { print $4 }')
		total=$(df -Pk "$d_img_dir" 2>/dev/null | awk 'NR == 2 { print $2 }')
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

d_skipped=()
d_done_fs=

disk_main() {
	local fs first=1 out
	d_config
	d_place || { echo; echo "disk rows skipped (see the messages above)"; return 0; }
	for fs in $d_fs_list; do
		if [ -n "$d_base" ] && [ -z "${BENCH_DISK_DIR:-}" ]; then
			d_mkfs "$fs" "$d_img_kib" || { d_unmkfs; d_skipped+=("$fs: could not be made"); continue; }
			d_backing_line=$(d_backing "$d_img_dir")
		else
			d_backing_line=$(d_backing "$d_mnt")
		fi
		d_fs_line+="$fs: $(if [ -z "${BENCH_DISK_DIR:-}" ]; then
			echo "in an image file in $d_img_dir, $d_backing_line, through a loop device ($([ "$d_dio" = 1 ] && echo 'direct I/O' || echo 'buffered I/O'))$d_fs_note"
		else
			echo "BENCH_DISK_DIR=$BENCH_DISK_DIR, $d_backing_line"
		fi)"$'\n'
		d_fs_cells "$fs" "$first"
		d_done_fs+=" $fs"
		first=0
		d_unmkfs
	done
	out=$work/tmp/disk-table
	{
		echo
		echo "real storage (issue 12), $(date '+%Y-%m-%d %H:%M')$([ "$quick" = 1 ] && echo ', QUICK');" \
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

# Run alone: take run.sh's functions and settings, then only this section.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ -z "${disk_alone:-}" ]; then
	disk_alone=1
	# shellcheck source=run.sh
	. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/run.sh"
	work=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-bench.XXXXXX") || die "cannot create a temporary directory"
	mkdir -p "$work/tmp"
	vm_steady
	echo "tree,command,jobs,mode,run,seconds" >"$csv"
	{
		echo "pcopy benchmark, real storage only (bench/disk.sh)"
		echo "machine: $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs," \
			"$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
		[ -x "$pcopy" ] && "$pcopy" --version 2>/dev/null | head -n 1
		[ -n "$vm_note" ] && echo "$vm_note"
	} >"$table"
	cat "$table"
	disk_main
	echo "runs: $csv" | tee -a "$table"
	say "done; table: $table"
fi
