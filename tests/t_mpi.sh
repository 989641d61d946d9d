#!/bin/bash
# pcopy-mpi (issue 13), run by mpirun when both are there:
#   - -np 2 and -np 4 on the full-fidelity tree and the basic tree: identical
#     to the source and to thread mode's copy (treecmp); --stats=json has
#     "mode":"mpi", "ranks" and per-rank files/bytes adding up, and the same
#     counts as thread mode; --progress=json never goes down and ends at 100;
#     four big files at -np 3 go to both copying ranks (not all to one);
#     hard links across directories, with the workers' stats (their
#     multiply-linked files sent back to rank 0) and with the walker's;
#   - --update=changed --delete, and --exclude, give thread mode's tree, and
#     the same -i lines (printed by rank 0 for every rank); several SRCs, -n
#     -i and --link-dest do what they do in thread mode;
#   - --fsync: every rank syncs DST's file system (syncfs seen in 3 pids);
#   - an entry that fails on a worker rank: its error line arrives whole on
#     rank 0's stderr, and the exit status is 1;
#   - a rank that sees other roots (test hook PCOPY_TEST_OTHER_ROOT=RANK):
#     refused, one line, exit 2, nothing copied; -np 1 refused with exit 2;
#   - directories listed by the other ranks for rank 0's walker (the
#     default; PCOPY_FORCE=walker_lists for rank 0 alone): --stats=json's
#     per-rank dirs_listed add up to the tree's directories, ranks > 0 list
#     some (none with walker_lists); -n -i prints thread mode's lines in
#     thread mode's order at 2 and 4 ranks, and so does --delete; a
#     directory nobody may open gives thread mode's error line;
#   - a worker rank SIGKILLed mid-copy, and SIGINT to mpirun (with named
#     temporaries): the job ends within seconds with a non-zero status, no
#     rank left, nothing partial under a final name, no temporary; a re-run
#     with --update=changed completes the copy.
# PCOPY_MPI is the pcopy-mpi under test (the Makefile sets it when mpicc is
# there).
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

need_pcopy
[ "${SAN:-}" = thread ] && skip "SAN=thread: Open MPI's own threads are not ThreadSanitizer-clean"
need_cmd mpirun python3
PCOPY_MPI=${PCOPY_MPI:-}
[ -n "$PCOPY_MPI" ] && [ -x "$PCOPY_MPI" ] || skip "pcopy-mpi not built (make mpi needs mpicc)"
# Open MPI refuses root without these; LeakSanitizer flags Open MPI's own
# allocations that it keeps until exit.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
# No ssh, no network probing: every rank on this machine, through shared memory.
export OMPI_MCA_btl=self,vader OMPI_MCA_plm=isolated OMPI_MCA_btl_vader_single_copy_mechanism=none
# Shared-memory segments in the test's directory: a killed job leaves its own
# behind, which would pile up in /dev/shm.
export OMPI_MCA_btl_vader_backing_directory=$T

# mpi NP ARGS...: run pcopy-mpi on NP ranks
mpi() {
	local np=$1
	shift
	timeout -k 5 120 mpirun --oversubscribe -np "$np" "$PCOPY_MPI" "$@"
}

# mpi_ok NP ARGS...: the same, which must exit 0 ($T/out, $T/err)
mpi_ok() {
	assert_exit 0 mpi "$@"
}

# check the --stats=json of file $1 (NP ranks) against thread mode's in $2
check_stats() {
	python3 - "$1" "$2" "$3" <<'PY' || fail "bad --stats=json from pcopy-mpi in $1"
import json, sys
mine, theirs, np = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
assert mine["mode"] == "mpi", mine
assert mine["ranks"] == np and mine["jobs"] == np - 1, mine
per = mine["per_rank"]
assert len(per) == np, per
assert sum(r["files"] for r in per) == mine["files"], per
assert sum(r["bytes"] for r in per) == mine["bytes_copied"], per
for k in ("files", "dirs", "symlinks", "specials", "hardlinks", "created", "updated",
          "meta_updated", "unchanged", "deleted", "bytes", "bytes_copied", "errors", "vanished"):
    assert mine[k] == theirs[k], f"{k}: mpi {mine[k]}, thread {theirs[k]}"
PY
}

# check_listed STATS TREE [ranks|walker]: the --stats=json in STATS lists
# each directory of TREE once; with `ranks`, ranks > 0 listed some of them
# (on a small tree rank 0's walker may outrun them: it never waits for a
# directory not yet handed out); with `walker` (walker_lists), none
check_listed() {
	python3 - "$1" "$(find "$2" -type d -printf x | wc -c)" "${3:-}" <<'PY' ||
import json, sys
st, dirs, who = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
listed = [r["dirs_listed"] for r in st["per_rank"]]
assert sum(listed) == dirs, f"listed {listed}, {dirs} directories"
if who == "ranks":
    assert sum(listed[1:]) > 0, f"listed {listed}: only by rank 0"
if who == "walker":
    assert sum(listed[1:]) == 0, f"listed {listed} with walker_lists"
assert st["listing_wait_s"] >= 0 and st["walker_cpu_s"] >= 0, st
PY
		fail "directory listings in $1 do not add up for $2 (${3:-})"
}

# the --progress=json lines of file $1: parse, never go down, end at 100 and done
check_progress() {
	python3 - "$1" <<'PY' || fail "bad --progress=json from pcopy-mpi in $1"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
assert lines, "no progress lines"
pcts = [l["percent"] for l in lines]
assert pcts == sorted(pcts), pcts
assert lines[-1]["percent"] == 100 and lines[-1]["done"] is True, lines[-1]
PY
}

use_tmpfs 1g
src=$W/src
bash "$FIXTURES/mkfidelity.sh" "$src" 2>"$T/mkfidelity.err" || {
	cat "$T/mkfidelity.err" >&2
	fail "mkfidelity.sh failed"
}
basic=$W/basic
bash "$FIXTURES/mkbasic.sh" "$basic" || fail "mkbasic.sh failed"

# ---- whole trees, against the source and thread mode ----
for tree in "$src" "$basic"; do
	name=$(basename "$tree")
	pcopy_ok --stats=json "$tree" "$W/thread-$name"
	cp "$T/out" "$T/stats-thread"
	treecmp "$tree" "$W/thread-$name"
	for np in 2 4; do
		dst=$W/mpi$np-$name
		mpi_ok "$np" --stats=json "$tree" "$dst"
		cp "$T/out" "$T/stats-mpi"
		treecmp "$tree" "$dst"
		treecmp "$W/thread-$name" "$dst"
		no_temporaries "$dst"
		check_stats "$T/stats-mpi" "$T/stats-thread" "$np"
		check_listed "$T/stats-mpi" "$tree"
	done
done
mpi_ok 3 --progress=json "$basic" "$W/progress"
check_progress "$T/err"
treecmp "$basic" "$W/progress"

# ---- hard links across directories: workers on other ranks stat the files
# and send the multiply-linked ones back to rank 0 (spill.h), which links
# them as thread mode does; and with the walker's own stats ----
python3 - "$W/links" <<'PY'
import os, sys
top = sys.argv[1]
for d in range(20):
    os.makedirs(f"{top}/d{d:02}")
    for f in range(50):
        with open(f"{top}/d{d:02}/f{f:03}", "wb") as fh:
            fh.write(os.urandom(100))
for i in range(150):
    os.link(f"{top}/d{i % 20:02}/f{i % 50:03}", f"{top}/d{(i * 7 + 3) % 20:02}/h{i:03}")
PY
pcopy_ok --stats=json "$W/links" "$W/links-thread"
cp "$T/out" "$T/stats-thread"
for force in "" walker_stats; do
	PCOPY_FORCE=$force mpi_ok 3 --stats=json "$W/links" "$W/links-mpi"
	treecmp "$W/links" "$W/links-mpi"
	check_stats "$T/out" "$T/stats-thread" 3
	rm -rf "$W/links-mpi"
done
rm -rf "$W/links" "$W/links-thread"

# ---- a few big files: spread over the ranks, not queued behind each other ----
mkdir "$W/few"
for i in 1 2 3 4; do
	head -c 20M /dev/urandom >"$W/few/f$i"
done
mpi_ok 3 --stats=json "$W/few" "$W/few-copy"
treecmp "$W/few" "$W/few-copy"
python3 - "$T/out" <<'PY' || fail "the big files were not spread over the ranks"
import json, sys
per = json.load(open(sys.argv[1]))["per_rank"]
assert all(r["files"] >= 1 for r in per[1:]), per
PY
rm -rf "$W/few" "$W/few-copy"

# ---- --update=changed --delete and --exclude: thread mode's tree and -i lines ----
change_source() {
	echo changed >>"$basic/$(cd "$basic" && find . -type f | sort | head -n 1)"
	touch -d '2011-01-01' "$basic/$(cd "$basic" && find . -type f | sort | tail -n 1)"
	mkdir -p "$basic/new-dir"
	echo new >"$basic/new-dir/new-file"
}
for dst in "$W/thread-basic" "$W/mpi2-basic" "$W/mpi4-basic"; do
	echo extra >"$dst/extra-file"
	mkdir -p "$dst/extra-dir/sub"
done
change_source
# a dry run first: the same lines in the same order (rank 0 prints them all)
pcopy_ok -n -i --update=changed --delete -T "$basic" "$W/thread-basic"
sed "s|$W/thread-basic|DST|" "$T/out" >"$T/dry-delete-thread"
pcopy_ok -i --update=changed --delete -T "$basic" "$W/thread-basic"
sort "$T/out" | sed "s|$W/thread-basic|DST|" >"$T/itemize-thread"
for np in 2 4; do
	dst=$W/mpi$np-basic
	mpi_ok "$np" -n -i --update=changed --delete -T "$basic" "$dst"
	sed "s|$dst|DST|" "$T/out" | diff "$T/dry-delete-thread" - >&2 ||
		fail "-n -i --delete lines (-np $np) differ from thread mode's"
	mpi_ok "$np" -i --update=changed --delete -T "$basic" "$dst"
	sort "$T/out" | sed "s|$dst|DST|" >"$T/itemize-mpi"
	diff "$T/itemize-thread" "$T/itemize-mpi" >&2 || fail "-i lines (-np $np) differ from thread mode's"
	[ -s "$T/itemize-mpi" ] || fail "no -i lines from pcopy-mpi"
	treecmp "$basic" "$dst"
	treecmp "$W/thread-basic" "$dst"
done

pcopy_ok --exclude='*.txt' --exclude=new-dir "$basic" "$W/thread-excl"
for np in 2 4; do
	mpi_ok "$np" --exclude='*.txt' --exclude=new-dir "$basic" "$W/mpi-excl"
	treecmp "$W/thread-excl" "$W/mpi-excl"
	[ -z "$(find "$W/mpi-excl" -name '*.txt' -o -name new-dir)" ] || fail "--exclude ignored"
	rm -rf "$W/mpi-excl"
done

# ---- several SRCs (one a single file, copied by rank 0), -n, --link-dest ----
echo single >"$W/one-file"
mkdir "$W/into-thread" "$W/into-mpi"
pcopy_ok "$basic" "$FIXTURES/sample" "$W/one-file" "$W/into-thread"
mpi_ok 3 "$basic" "$FIXTURES/sample" "$W/one-file" "$W/into-mpi"
for name in basic sample one-file; do
	treecmp "$W/into-thread/$name" "$W/into-mpi/$name"
done
# a dry run: rank 0's walker still decides and prints, in its own order,
# whoever lists the directories; on 300 directories the ranks list some
python3 - "$W/many" <<'PY'
import os, sys
for d in range(300):
    path = f"{sys.argv[1]}/t{d % 10}/d{d:03}"
    os.makedirs(path)
    for f in range(20):
        open(f"{path}/f{f:02}", "w").close()
PY
for tree in "$basic" "$W/many"; do
	pcopy_ok -n -i "$tree" "$W/dry"
	cp "$T/out" "$T/dry-thread"
	for np in 2 4; do
		for force in "" walker_lists; do
			PCOPY_FORCE=$force mpi_ok "$np" -n -i "$tree" "$W/dry"
			diff "$T/dry-thread" "$T/out" >&2 ||
				fail "-n -i lines of $tree (-np $np, PCOPY_FORCE=$force) differ from thread mode's"
			PCOPY_FORCE=$force mpi_ok "$np" -n --stats=json "$tree" "$W/dry"
			who=${force:+walker}
			[ "$tree" = "$W/many" ] && who=${who:-ranks}
			check_listed "$T/out" "$tree" "$who"
		done
	done
done
[ ! -e "$W/dry" ] || fail "-n made $W/dry"
mpi_ok 3 --link-dest="$W/into-mpi/basic" "$basic" "$W/linked"
treecmp "$basic" "$W/linked"
first=$(cd "$basic" && find . -type f | sort | head -n 1)
[ "$W/linked/$first" -ef "$W/into-mpi/basic/$first" ] || fail "--link-dest did not link $first"

# ---- an entry failing on a worker rank: its line, whole, on rank 0's stderr;
# a directory no rank may open: the ranks listing say so, and rank 0's
# walker tries it itself, to report it as thread mode does ----
chmod 0755 "$T" "$W"
# nobody_mpi NP ARGS...: pcopy-mpi run by nobody, which must exit 1; its
# error lines without mpirun's own report (a block between lines of dashes)
# in $T/err-pcopy
nobody_mpi() {
	local np=$1
	shift
	assert_exit 1 as_nobody env HOME=/tmp OMPI_MCA_btl_vader_backing_directory="$T/shm-nobody" \
		timeout 60 mpirun --oversubscribe -np "$np" "$PCOPY_MPI" "$@"
	awk '/^-----/ { inside = !inside; next } !inside' "$T/err" >"$T/err-pcopy"
}
if can_be_nobody "an unreadable file" && as_nobody test -x "$W"; then
	mkdir -p "$W/perm/closed"
	echo secret >"$W/perm/secret"
	echo open >"$W/perm/open"
	echo inside >"$W/perm/closed/inside"
	chmod 000 "$W/perm/secret" "$W/perm/closed"
	chmod 777 "$W" "$W/perm"
	mkdir -m 1777 "$T/shm-nobody"
	assert_exit 1 as_nobody "$PCOPY" "$W/perm" "$W/perm-thread"
	cp "$T/err" "$T/err-thread"
	nobody_mpi 2 "$W/perm" "$W/perm-copy"
	assert_grep "$T/err-pcopy" "^pcopy: '.*/perm/secret': Permission denied$"
	assert_grep "$T/err-pcopy" "^pcopy: '.*/perm/closed': Permission denied$"
	check_messages "$T/err-pcopy"
	diff <(sort "$T/err-thread") <(sort "$T/err-pcopy") >&2 ||
		fail "error lines differ from thread mode's"
	cmp -s "$W/perm/open" "$W/perm-copy/open" || fail "the readable file was not copied"
	assert_exit 1 as_nobody "$PCOPY" -n -i "$W/perm" "$W/perm-dry"
	cp "$T/out" "$T/out-thread"
	cp "$T/err" "$T/err-thread"
	for np in 2 4; do
		nobody_mpi "$np" -n -i "$W/perm" "$W/perm-dry"
		diff "$T/err-thread" "$T/err-pcopy" >&2 ||
			fail "-n: error lines (-np $np) differ from thread mode's"
		diff "$T/out-thread" "$T/out" >&2 || fail "-n -i lines (-np $np) differ from thread mode's"
	done
	chmod 755 "$W/perm/closed"
fi

# ---- refused starts: other roots on a rank, a single rank ----
PCOPY_TEST_OTHER_ROOT=1 assert_exit 2 mpi 3 "$basic" "$W/refused"
assert_grep "$T/err" "^pcopy: '.*/refused': rank 1 sees another directory here"
[ "$(grep -c '^pcopy:' "$T/err")" -eq 1 ] || fail "more than one line for the refusal"
[ -z "$(find "$W/refused" -mindepth 1 2>/dev/null)" ] || fail "the refused run copied something"
assert_exit 2 mpi 1 "$basic" "$W/single"
assert_grep "$T/err" "needs 2 ranks or more"

# ---- a worker rank SIGKILLed mid-copy ----
# the pid of rank $2 among the pcopy-mpi processes copying into $1
rank_pid() {
	local pid
	for pid in $(pgrep -f -- "$PCOPY_MPI .*$1"); do
		grep -qxz "OMPI_COMM_WORLD_RANK=$2" "/proc/$pid/environ" 2>/dev/null && echo "$pid"
	done
}
big=$W/big
python3 - "$big" <<'PY'
import os, sys
os.makedirs(sys.argv[1])
blob = os.urandom(4 << 20)
for i in range(60):
    with open(f"{sys.argv[1]}/f{i:03}", "wb") as f:
        f.write(i.to_bytes(8, "little") + blob[8:])
PY
need_faultshim
# --fsync: every rank syncs DST's file system from where it runs (on a
# cluster, rank 0's syncfs would not reach what the others wrote); the
# shim logs the syncfs calls, with their pids
env LD_PRELOAD="$FAULTSHIM" FAULT_OP=fsync FAULT_ANY_FD=1 FAULT_LOG="$T/synclog" \
	timeout -k 5 120 mpirun --oversubscribe -np 3 -x LD_PRELOAD -x FAULT_OP -x FAULT_ANY_FD \
	-x FAULT_LOG "$PCOPY_MPI" --fsync "$basic" "$W/durable" >"$T/out" 2>"$T/err" ||
	fail "pcopy-mpi --fsync failed: $(head -n 3 "$T/err")"
treecmp "$basic" "$W/durable"
assert_eq "$(grep ': syncfs on ' "$T/synclog" | sed 's/: syncfs.*//' | sort -u | wc -l)" 3 \
	"--fsync: ranks that ran syncfs"
remove_tree "$W/durable"

# start_slow DST FORCE: pcopy-mpi -np 3 copying $big to DST in the background,
# slowed down (a delay on each write) so that a kill lands mid-copy; sets RUN
start_slow() {
	env PCOPY_FORCE="no_copy_file_range${2:+,$2}" LD_PRELOAD="$FAULTSHIM" FAULT_OP=write \
		FAULT_DELAY_US=3000 timeout -k 5 120 mpirun --oversubscribe -np 3 -x LD_PRELOAD \
		-x FAULT_OP -x FAULT_DELAY_US -x PCOPY_FORCE "$PCOPY_MPI" "$big" "$1" \
		>"$T/out" 2>"$T/err" &
	RUN=$!
}

# wait_copying DST: wait until rank 2 runs and a file is in DST; print its pid
wait_copying() {
	local victim=
	for _ in $(seq 50); do
		sleep 0.1
		victim=$(rank_pid "$1" 2)
		[ -n "$victim" ] && [ -n "$(find "$1" -type f 2>/dev/null | head -n 1)" ] && break
	done
	echo "$victim"
}

# end_and_rerun WHAT DST: the job ends within 30 s, non-zero, no rank left,
# nothing partial; a re-run with --update=changed completes the copy
end_and_rerun() {
	local rc=0 left
	wait_gone "$RUN" 30 || {
		kill -KILL "$RUN"
		fail "$1: mpirun still running 30 s later"
	}
	wait "$RUN" || rc=$?
	[ "$rc" -ne 0 ] || fail "$1: exit status 0"
	sleep 0.5
	left=$(pgrep -f -- "$PCOPY_MPI.*$2") && fail "$1: ranks left running: $left"
	check_subset "$big" "$2"
	[ "$NFILES" -lt 60 ] || log "note: $1: all 60 files were copied before it"
	mpi_ok 3 --update=changed -T "$big" "$2"
	treecmp "$big" "$2"
	no_temporaries "$2"
}

start_slow "$W/big-copy" ""
victim=$(wait_copying "$W/big-copy")
[ -n "$victim" ] || fail "no rank 2 found to kill"
kill -KILL "$victim"
end_and_rerun "rank 2 SIGKILLed" "$W/big-copy"

# ---- SIGINT to mpirun: it sends SIGTERM to every rank, which stop as pcopy
# does: named temporaries removed, no rank left ----
start_slow "$W/big-int" no_tmpfile
[ -n "$(wait_copying "$W/big-int")" ] || fail "no rank 2 found before SIGINT"
# to mpirun itself: timeout would pass it on to its whole process group too,
# and a second SIGINT makes mpirun leave at once, its ranks still running
kill -INT "$(pgrep -P "$RUN" -x mpirun)"
end_and_rerun "SIGINT to mpirun" "$W/big-int"
exit 0
