#!/bin/bash
# Range splitting (src/copy.c: split_ways, copy_ranges): a big file is copied
# as up to four ranges at once, each in a thread of the worker, into one
# temporary installed under its name only when every range is done.
# PCOPY_FORCE=split_all splits every file of two pages or more that has data
# blocks, cold or not (ranges of a multiple of a page).  Both worker modes:
#   - identity: dense files of 2, 3+ and 2048 pages, a 4 MiB sparse file with
#     data across the range edges (1 MiB, 2 MiB) and at both ends, a file of
#     holes only, a hard-link group of split files, small files; default
#     queue and --queue=1, -j 4 and the adaptive default, and once each with
#     "split_all cross_fs" (sendfile) and "split_all no_tmpfile" (named
#     temporaries): identical by treecmp, holes kept (the sparse copy has
#     as many blocks as its source), and --stats=json says split_files is
#     the number of files big enough (so splitting cannot silently stop);
#   - faults (faultshim): EIO and ENOSPC from copy_file_range, and from
#     sendfile across file systems, in a middle range of a split file (a
#     sparse file whose data lies in ranges 1 and 2 only: the first call
#     fails) and in some range of a dense one (the 2nd of its four calls):
#     exit 1, one error line naming the file, the file absent from DST, no
#     temporaries, everything else copied identically;
#   - the rule without split_all: a 64 MiB file read cold is split, as root
#     and as uid 65534 (who may not write it), the same file cached is not;
#   - SIGINT while the ranges of a file are being copied (every
#     copy_file_range of it slowed down): exit 130 within 5 s, the file not
#     under its name, no temporaries, only whole files, no process left.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_pcopy
need_cmd python3 setsid
need_faultshim

use_tmpfs 512m
src=$W/src
python3 - "$src" <<'PY' || fail "cannot build the source tree"
import os, sys
top = sys.argv[1]
K, M = 1024, 1024 * 1024
os.makedirs(top + "/sub")
os.makedirs(top + "/v")

def dense(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))

def sparse(path, size, extents):
    with open(path, "wb") as f:
        f.truncate(size)
        for off, n in extents:
            f.seek(off)
            f.write(os.urandom(n))

dense(top + "/big", 8 * M)               # 4 ranges of 2 MiB
dense(top + "/odd", 3 * 4096 + 123)      # 3 ranges, the last short
dense(top + "/two", 8192)                # the smallest split: 2 ranges
dense(top + "/page", 4096)               # one page: never split
dense(top + "/sub/linked", M + 5)        # a hard-link group
os.link(top + "/sub/linked", top + "/sub/linked2")
os.link(top + "/sub/linked", top + "/linked3")
# 4 ranges of 1 MiB; data at the start, across 1 MiB and 2 MiB, at the end
sparse(top + "/sparse", 4 * M,
       [(0, 16 * K), (M - 8 * K, 16 * K), (2 * M - 4 * K, 12 * K), (4 * M - 8 * K, 8 * K)])
with open(top + "/holes", "wb") as f:    # holes only: no blocks, not split
    f.truncate(4 * M)
# 128 data pages 64 KiB apart: 32 copy calls per range (the SIGINT case)
sparse(top + "/crawl", 8 * M, [(i * 64 * K, 4 * K) for i in range(128)])
# the fault victims: ranges of 2 MiB; mid has data in ranges 1 and 2 only
sparse(top + "/v/mid", 8 * M, [(2 * M + 4 * K, M), (4 * M, M)])
dense(top + "/v/dense", 8 * M)
for i in range(12):
    with open(f"{top}/sub/s{i}", "wb") as f:
        f.write(os.urandom(i * 331))
PY
touch -d '2004-05-06 07:08:09.123456789' "$src/sub" "$src/v" "$src"
# files of two pages or more with blocks, a hard-link group counted once:
# big odd two sub/linked sparse crawl v/mid v/dense
nsplit=8
q=$(re_quote "$src")
real=$(realpath "$W")
src_sparse_blocks=$(stat -c %b "$src/sparse")

# split_count FILE: the split_files value of the --stats=json in FILE
split_count() {
	grep -o '"split_files":[0-9]*' "$1" | head -n 1 | cut -d: -f2
}

# identity WHAT PCOPY_FORCE-VALUE PCOPY-ARGS...: copy $src to $W/dst, compare
identity() {
	local what=$1 force=$2 dst=$W/dst n blocks
	shift 2
	assert_exit 0 env PCOPY_FORCE="$force" "$PCOPY" --stats=json "$@" "$src" "$dst"
	treecmp "$src" "$dst"
	no_temporaries "$dst"
	n=$(split_count "$T/out")
	[ -n "$n" ] || fail "$what: no split_files in --stats=json: $(cat "$T/out")"
	assert_eq "$n" "$nsplit" "$what: split_files"
	blocks=$(stat -c %b "$dst/sparse")
	[ "$blocks" -le "$src_sparse_blocks" ] ||
		fail "$what: holes filled: sparse has $blocks blocks, its source $src_sparse_blocks"
	[ $((blocks * 512)) -lt $((1024 * 1024)) ] || fail "$what: holes filled: sparse has $blocks blocks"
	assert_eq "$(stat -c %b "$dst/holes")" 0 "$what: blocks of the file of holes"
	assert_eq "$(stat -c %i "$dst/sub/linked")" "$(stat -c %i "$dst/linked3")" "$what: hard link"
	remove_tree "$dst"
}

# victim_failed WHAT VICTIM REASON: the last shim_run failed VICTIM alone
victim_failed() {
	local what=$1 victim=$2 reason=$3
	[ "$FIRED" -eq 1 ] || fail "$what: the shim fired $FIRED times, expected once"
	if [ "$RC" -ne 1 ]; then
		head -n 20 "$T/err" >&2
		fail "$what: exit status $RC, expected 1"
	fi
	# ENOSPC can only be the copy's; an EIO of copy_file_range or sendfile may
	# be either side's, and names SRC
	case $reason in
	No\ space*) assert_grep "$T/err" "^pcopy: '$(re_quote "$dst")/$victim': $reason$" ;;
	*) assert_grep "$T/err" "^pcopy: '$q/$victim': $reason$" ;;
	esac
	check_messages "$T/err"
	assert_eq "$(wc -l <"$T/err")" 1 "$what: error lines"
	[ ! -e "$dst/$victim" ] || fail "$what: $victim exists in DST"
	check_subset "$src" "$dst"
	# every file but the victim (23 names, the hard links included)
	assert_eq "$NFILES" 23 "$what: files copied"
}

for mode in thread process; do
	# 1. identity
	for queue in 256 1; do
		for jobs in -j4 ""; do
			identity "$mode --queue=$queue ${jobs:-adaptive}" split_all \
				--mode="$mode" --queue="$queue" $jobs
		done
	done
	identity "$mode cross_fs" "split_all cross_fs" --mode="$mode" -j 2
	identity "$mode no_tmpfile" "split_all no_tmpfile" --mode="$mode" -j 2

	# 2. faults in one range of a split file
	dst=$W/dst-$mode
	for err in EIO:'Input/output error' ENOSPC:'No space left on device'; do
		for way in copy_file_range:split_all "sendfile:split_all cross_fs"; do
			op=${way%%:*}
			force=${way#*:}
			# v/mid: only ranges 1 and 2 have data; the first call fails
			# v/dense: four ranges, one call each; the second fails
			for victim in v/mid:1 v/dense:2; do
				what="$mode $op ${err%%:*} ${victim%%:*}"
				shim_run PCOPY_FORCE="$force" FAULT_OP="$op" FAULT_NTH="${victim#*:}" \
					FAULT_ERRNO="${err%%:*}" FAULT_PATH_SUBSTR="$real/src/${victim%%:*}" \
					-- --mode="$mode" -j 2 "$src" "$dst"
				victim_failed "$what" "${victim%%:*}" "${err#*:}"
				rm -rf "$dst"
			done
		done
	done

	# 3. SIGINT while crawl's ranges are copied, each call 100 ms
	for force in split_all "split_all no_tmpfile"; do
		what="$mode SIGINT${force#split_all}"
		dst=$W/dst
		rm -rf "$dst" "$T/shim.log"
		setsid env --default-signal=INT PCOPY_FORCE="$force" LD_PRELOAD="$FAULTSHIM" \
			FAULT_LOG="$T/shim.log" FAULT_OP=copy_file_range FAULT_DELAY_US=100000 \
			FAULT_PATH_SUBSTR="$real/src/crawl" \
			"$PCOPY" --mode="$mode" -j 2 "$src" "$dst" >"$T/out" 2>"$T/err" &
		pid=$!
		# under way: the shim has delayed a call of crawl's
		for _ in $(seq 50); do
			[ -s "$T/shim.log" ] && break
			alive "$pid" || break
			sleep 0.1
		done
		[ -s "$T/shim.log" ] || {
			kill -KILL -- "-$pid" 2>/dev/null
			fail "$what: no copy_file_range of crawl seen within 5 s"
		}
		sleep 0.2
		workers=$(pgrep -P "$pid" | tr '\n' ' ')
		[ "$mode" = thread ] || [ -n "$workers" ] || fail "$what: no worker processes seen"
		kill -s INT "$pid" 2>/dev/null
		reap_signalled "$pid" 5 "$what"
		rc=$RC
		if [ "$rc" -ne 130 ]; then
			head -n 20 "$T/err" >&2
			fail "$what: exit status $rc, expected 130"
		fi
		fired=$(wc -l <"$T/shim.log")
		[ "$fired" -lt 128 ] || fail "$what: every call of crawl ran ($fired): not interrupted"
		check_messages "$T/err"
		[ ! -e "$dst/crawl" ] || fail "$what: crawl exists in DST"
		check_subset "$src" "$dst"
		for w in $workers; do
			alive "$w" && fail "$what: worker $w still alive after pcopy exited"
		done
		no_process_left
		log "$what: exit 130 after $fired slowed calls, $NFILES files complete"
		remove_tree "$dst"
	done
done

# The rule itself, without split_all: a big file read cold is split, the
# same file in the page cache is not, also for a user who may not write it
# (mincore would tell such a user that every page is cached).  Needs a file
# system whose cache posix_fadvise(DONTNEED) empties: $T, unless a tmpfs.
cold=$T/cold
if [ "$(stat -f -c %T "$T")" = tmpfs ]; then
	log "cold detection not checked: $T is on a tmpfs"
else
	{ mkdir -p "$cold/out" && chmod 711 "$T" && chmod 755 "$cold" && chmod 777 "$cold/out"; } ||
		fail "cannot make $cold"
	python3 - "$cold/big" <<'PY' || fail "cannot write $cold/big"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
block = os.urandom(1 << 20)
for _ in range(64):
    os.write(fd, block)
os.fsync(fd)
os.close(fd)
PY
	evict() {
		python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$cold/big" || fail "cannot evict $cold/big"
	}
	split_of() { grep -o '"split_files":[0-9]*' "$T/out" | cut -d: -f2; }
	evict
	"$PCOPY" --stats=json "$cold/big" "$cold/out/a" >"$T/out" || fail "cold copy failed"
	assert_eq "$(split_of)" 1 "split_files of a 64 MiB file read cold"
	cmp -s "$cold/big" "$cold/out/a" || fail "cold copy differs"
	"$PCOPY" --stats=json "$cold/big" "$cold/out/b" >"$T/out" || fail "warm copy failed"
	assert_eq "$(split_of)" 0 "split_files of the same file cached"
	if can_be_nobody "cold detection as uid 65534"; then
		evict
		as_nobody "$PCOPY" --stats=json "$cold/big" "$cold/out/c" >"$T/out" ||
			fail "cold copy as uid 65534 failed"
		assert_eq "$(split_of)" 1 "split_files of a file read cold by uid 65534"
		cmp -s "$cold/big" "$cold/out/c" || fail "cold copy as uid 65534 differs"
	fi
	log "cold detection: split cold (also as uid 65534), not when cached"
fi
exit 0
