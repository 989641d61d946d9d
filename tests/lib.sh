# shellcheck shell=bash
# Shared helpers for the whole-program tests (tests/t_*.sh source this file).
#
# Environment (set by the Makefile; defaults let a script run by hand):
#   SRCDIR   repository root
#   PCOPY    pcopy binary under test
#   TREECMP  tests/tools/treecmp (built here into the temp dir if missing)
# Each test gets a private temp dir $T (removed on exit, mounts undone first);
# trees go under $W ($T/work, or a tmpfs after use_tmpfs); assert_exit leaves
# the last command's stdout and stderr in $T/out and $T/err.
# Exit status of a test: 0 pass, 77 skip, anything else fail.

set -u

SRCDIR=${SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PCOPY=${PCOPY:-$SRCDIR/pcopy}
TREECMP=${TREECMP:-$SRCDIR/tests/tools/treecmp}
FIXTURES=$SRCDIR/fixtures
export SRCDIR PCOPY TREECMP FIXTURES
export LC_ALL=C
# An ASan build refuses to start when the fault shim is preloaded ahead of
# its runtime; the order is harmless here (the shim only wraps libc calls).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# mount points made by this test, unmounted in reverse order on exit
MOUNTS=()

# print a message on stderr (shown by run.sh when the test fails)
log() {
	printf '%s\n' "$*" >&2
}

# mark the test skipped with a reason and stop
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# mark the test failed with a message and stop
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# skip unless running as root
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

# run CMD... as the unprivileged uid and gid 65534 (needs root and setpriv)
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# true if as_nobody can run pcopy here; otherwise log that WHAT (a case of
# the test) is not checked, and why
can_be_nobody() {
	if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
		log "not root or no setpriv: skipping $1"
		return 1
	fi
	if ! as_nobody "$PCOPY" --version >/dev/null 2>&1; then
		log "$PCOPY not executable by uid 65534: skipping $1"
		return 1
	fi
}

# true if command $1 exists; otherwise log that $2 (what needs it) is
# skipped, and return 1
have_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	log "$1 not installed: skipping $2"
	return 1
}

# skip unless every named command exists
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c"
	done
}

# skip unless the pcopy binary exists
need_pcopy() {
	[ -x "$PCOPY" ] || skip "pcopy not built ($PCOPY)"
}

# undo mounts (innermost first) and remove the temp dir
cleanup() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null
	done
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		chmod -R u+rwx "$T" 2>/dev/null
		rm -rf "$T"
	fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-test.XXXXXX") || exit 1
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# W is where a test builds its trees: $T/work, or a tmpfs mounted by
# use_tmpfs; $T itself holds the captured outputs of commands
W=$T/work
mkdir "$W" || exit 1
export T W

# build treecmp into the temp dir when not built yet (running by hand)
if [ ! -x "$TREECMP" ]; then
	cc -std=c11 -D_GNU_SOURCE -O2 -o "$T/treecmp" "$SRCDIR/tests/tools/treecmp.c" ||
		fail "cannot build treecmp"
	TREECMP=$T/treecmp
fi

# mount a tmpfs of SIZE (default 512m) at $T/fs and point W at it (root only;
# without root or when mounting fails, W stays on $T/work)
use_tmpfs() {
	local size=${1:-512m}
	[ "$(id -u)" -eq 0 ] || return 0
	mkdir -p "$T/fs"
	if mount -t tmpfs -o "size=$size,mode=0755" pcopy-test "$T/fs" 2>/dev/null; then
		MOUNTS+=("$T/fs")
		W=$T/fs
	fi
}

# mount a tmpfs at DIR, unmounted on exit (root only); $2 is a size (16m) or
# a full option list (size=64m,nr_inodes=16)
mount_tmpfs() {
	local dir=$1 opts=${2:-16m}
	case $opts in *=*) ;; *) opts=size=$opts ;; esac
	mount -t tmpfs -o "$opts" pcopy-test "$dir" || fail "cannot mount tmpfs on $dir"
	MOUNTS+=("$dir")
}

# mount a ramfs at DIR, unmounted on exit (root only): a filesystem that
# takes no extended attributes and no ACLs; fails the test if it cannot mount
mount_ramfs() {
	mount -t ramfs pcopy-test "$1" || fail "cannot mount ramfs on $1"
	MOUNTS+=("$1")
}

# remove the tree DIR, even with read-only directories in it (non-root)
remove_tree() {
	chmod -R u+rwx "$1" 2>/dev/null
	rm -rf "$1" || fail "cannot remove $1"
}

# run CMD..., keep its stdout in $T/out and stderr in $T/err, fail unless it
# exits with EXPECTED
assert_exit() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		log "command: $*"
		log "--- stdout:"
		head -n 40 "$T/out" >&2
		log "--- stderr:"
		head -n 40 "$T/err" >&2
		fail "exit status $rc, expected $want"
	fi
}

# run pcopy with ARGS, fail unless it exits 0
pcopy_ok() {
	assert_exit 0 "$PCOPY" "$@"
}

# fail if any temporary of pcopy (".pcopy-tmp*") is left under DIR
no_temporaries() {
	local left
	left=$(find "$1" \( -name '.pcopy-tmp*' -o -name '*.pcopy-partial' \) -print 2>/dev/null |
		head -n 5)
	[ -z "$left" ] || fail "temporaries left in $1: $left"
}

# compare two trees with treecmp [OPTIONS] SRC DST; fail on any difference
treecmp() {
	local rc=0
	"$TREECMP" "$@" >"$T/treecmp.out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		log "treecmp $* (exit $rc):"
		head -n 40 "$T/treecmp.out" >&2
		fail "trees differ: $*"
	fi
}

# the --stats=json object in file $1 less what varies from run to run: the
# times, the rates, the workers used (a pool without -j may grow) and the
# target (a test path: no comma in it)
stats_counts() {
	grep '^{' "$1" |
		sed -E 's/"(elapsed_s|bytes_per_s|files_per_s|cpu_s|runq_s|wait_s|idle_s|jobs|target)":[^,}]*,?//g'
}

# fail unless the file $1 contains a line matching the extended regex $2
assert_grep() {
	grep -Eq -- "$2" "$1" || {
		log "--- $1:"
		head -n 40 "$1" >&2
		fail "no line matching '$2' in $1"
	}
}

# fail unless the two strings are equal ($3 names what is compared)
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

# fail unless the file $1 is empty
assert_empty() {
	[ ! -s "$1" ] || {
		head -n 20 "$1" >&2
		fail "$1 is not empty"
	}
}

# copy $src to a fresh $W/dst with the given options, compare it with
# treecmp, check for temporaries, and remove it
copy_and_compare() {
	local dst=$W/dst
	pcopy_ok "$@" "$src" "$dst"
	treecmp "$src" "$dst"
	no_temporaries "$dst"
	remove_tree "$dst"
}

# build the full-fidelity tree (fixtures/mkfidelity.sh) in DIR; what it
# had to leave out (no root, a missing tool) is logged
make_fidelity_tree() {
	bash "$FIXTURES/mkfidelity.sh" "$1" 2>"$T/mkfidelity.err" || {
		cat "$T/mkfidelity.err" >&2
		fail "mkfidelity.sh failed"
	}
	[ -s "$T/mkfidelity.err" ] && log "$(cat "$T/mkfidelity.err")"
	return 0
}

# --- helpers for the fault-injection tests ---

# make DIR holding f000..f099, 8 MiB each, each file different
make_hundred_8mb() {
	python3 - "$1" <<'PY'
import os, sys
top = sys.argv[1]
os.makedirs(top)
blob = os.urandom(8 << 20)
for i in range(100):
    with open(f"{top}/f{i:03}", "wb") as f:
        f.write(i.to_bytes(8, "little"))
        f.write(blob[8:])
PY
}

# set FAULTSHIM to the LD_PRELOAD fault shim, building it if make did not
need_faultshim() {
	FAULTSHIM=${FAULTSHIM:-$SRCDIR/tests/tools/faultshim.so}
	if [ ! -f "$FAULTSHIM" ]; then
		cc -shared -fPIC -o "$T/faultshim.so" "$SRCDIR/tests/tools/faultshim.c" -ldl ||
			fail "cannot build the fault shim"
		FAULTSHIM=$T/faultshim.so
	fi
}

# quote $1 for use in a grep -E pattern
re_quote() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'
}

# every line of file $1 is one well-formed "pcopy: 'path': reason" line, or
# the line of a worker process that died while it had no entry
check_messages() {
	local bad
	bad=$(grep -Ev "^pcopy: ('.+': .+|worker (killed by signal|exited with status) [0-9]+ while idle)$" "$1" |
		head -n 5)
	[ -z "$bad" ] || fail "malformed or interleaved lines on stderr: $bad"
}

# every entry of DST ($2) is in SRC ($1) with the same type and every regular
# file is identical to its source; no temporaries.  Sets NFILES.
check_subset() {
	local src=$1 dst=$2 rel
	no_temporaries "$dst"
	NFILES=0
	while IFS= read -r -d '' rel; do
		if [ -L "$dst/$rel" ]; then
			[ -L "$src/$rel" ] || fail "stray symlink $dst/$rel"
		elif [ -f "$dst/$rel" ]; then
			[ -f "$src/$rel" ] && [ ! -L "$src/$rel" ] || fail "stray file $dst/$rel"
			cmp -s -- "$src/$rel" "$dst/$rel" ||
				fail "partial or wrong file under its final name: $dst/$rel"
			NFILES=$((NFILES + 1))
		elif [ -d "$dst/$rel" ]; then
			[ -d "$src/$rel" ] && [ ! -L "$src/$rel" ] || fail "stray directory $dst/$rel"
		else
			fail "unexpected entry $dst/$rel"
		fi
	done < <(cd "$dst" && find . -mindepth 1 -print0)
}

# no process whose command line mentions this test's temp dir
no_process_left() {
	local left
	left=$(pgrep -af -- "$T") && fail "processes left: $left"
	return 0
}

# shim_run [VAR=value]... -- PCOPY-ARGS...: run pcopy under the shim (FAULT_*
# and PCOPY_FORCE given as VAR=value), stdout/stderr in $T/out and $T/err.
# Sets RC to its exit status and FIRED to the number of faults injected.
# shellcheck disable=SC2034 # RC and FIRED are the caller's to read
shim_run() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	rm -f "$T/shim.log"
	RC=0
	timeout -k 5 60 env LD_PRELOAD="$FAULTSHIM" FAULT_LOG="$T/shim.log" "${vars[@]}" \
		"$PCOPY" "$@" >"$T/out" 2>"$T/err" || RC=$?
	FIRED=0
	[ -f "$T/shim.log" ] && FIRED=$(wc -l <"$T/shim.log")
	no_process_left
}

# is process $1 alive (exists and is not a zombie)?
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# wait up to $2 seconds for process $1 to end; fails if it is still alive
wait_gone() {
	local tenths=$(($2 * 10))
	while alive "$1"; do
		[ "$tenths" -gt 0 ] || return 1
		tenths=$((tenths - 1))
		sleep 0.1
	done
}

# reap_signalled PID SECS WHAT: after a signal, wait up to SECS for pcopy
# PID (a child of this shell, leading its own process group) to end; if it
# does not, kill its group and fail.  Sets RC to its exit status.
# shellcheck disable=SC2034 # RC is the caller's to read
reap_signalled() {
	local pid=$1 secs=$2 what=$3
	if ! wait_gone "$pid" "$secs"; then
		kill -KILL -- "-$pid" 2>/dev/null
		fail "$what: pcopy still running $secs s after the signal"
	fi
	RC=0
	wait "$pid" 2>/dev/null || RC=$?
}

# --- helpers for the tests that re-run pcopy and check that it settles ---

# meta_state DIR...: every entry under each DIR, sorted, with what a run
# must not change behind our back: path, inode, mode, owner, group, mtime
# (ns), then its extended attributes (getfattr -d, symlinks not followed)
meta_state() {
	local d p
	for d in "$@"; do
		while IFS= read -r -d '' p; do
			stat -c '%n %i %a %u %g %Y %y' -- "$p"
			getfattr -h -d -m - --absolute-names -- "$p" 2>/dev/null | grep -v '^$'
		done < <(find "$d" -print0 | sort -z)
	done
}

# save_state FILE DIR...: keep the meta_state of the DIRs in FILE
save_state() {
	local file=$1
	shift
	meta_state "$@" >"$file"
}

# state_unchanged FILE WHAT DIR...: fail, showing the difference, unless the
# DIRs' meta_state is still what save_state put in FILE
state_unchanged() {
	local file=$1 what=$2
	shift 2
	meta_state "$@" >"$T/state.now"
	diff "$file" "$T/state.now" >"$T/state.diff" || {
		head -n 40 "$T/state.diff" >&2
		fail "$what: changed (< before, > after)"
	}
}

# --- pcopy in each worker kind, pcopy-mpi included when it is built ---

# mpi_usable: true if pcopy-mpi ($PCOPY_MPI) and mpirun can run here, with
# Open MPI set for root and shared memory as tests/t_mpi.sh sets it; else log
# that its cases are skipped, and why, and return 1
mpi_usable() {
	if [ "${SAN:-}" = thread ]; then
		log "SAN=thread: pcopy-mpi cases skipped (Open MPI is not ThreadSanitizer-clean)"
		return 1
	fi
	if [ -z "${PCOPY_MPI:-}" ] || [ ! -x "$PCOPY_MPI" ]; then
		log "PCOPY_MPI not set or not built: pcopy-mpi cases skipped"
		return 1
	fi
	if ! command -v mpirun >/dev/null 2>&1; then
		log "no mpirun: pcopy-mpi cases skipped"
		return 1
	fi
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	export OMPI_MCA_btl=self,vader OMPI_MCA_plm=isolated OMPI_MCA_btl_vader_single_copy_mechanism=none
	MPI_SHM=${MPI_SHM:-$T}
}

# set_kinds default|j: the kinds of run a test loops over, in the array
# KINDS: with "j", thread and process at -j 1 and -j 8 each, else each at the
# default -j; "mpi" is added when mpi_usable (call it in the test's own
# shell: it exports Open MPI's settings)
set_kinds() {
	if [ "$1" = j ]; then
		KINDS=(thread-1 thread-8 process-1 process-8)
	else
		KINDS=(thread process)
	fi
	if mpi_usable; then
		KINDS+=(mpi)
	fi
	return 0
}

# run_kind KIND ARGS...: pcopy with ARGS in KIND: thread or process, with -J
# for -j J (thread-8), or mpi (pcopy-mpi on 3 ranks); preceded by the
# command prefix in the array RUN_AS if the caller set one (setpriv ...)
run_kind() {
	local kind=$1 pre=()
	shift
	[ -n "${RUN_AS+x}" ] && pre=("${RUN_AS[@]}")
	case $kind in
	mpi)
		"${pre[@]}" env HOME=/tmp OMPI_MCA_btl_vader_backing_directory="${MPI_SHM:-$T}" \
			ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
			timeout -k 5 120 mpirun --oversubscribe -np 3 "$PCOPY_MPI" "$@"
		;;
	*-*) "${pre[@]}" timeout -k 5 120 "$PCOPY" --mode="${kind%-*}" -j "${kind##*-}" "$@" ;;
	*) "${pre[@]}" timeout -k 5 120 "$PCOPY" --mode="$kind" "$@" ;;
	esac
}

# kind_ok KIND ARGS...: run_kind, which must exit 0 (stdout in $T/out,
# stderr in $T/err)
kind_ok() {
	assert_exit 0 run_kind "$@"
}

# --- helpers for the remote tests (pcopy HOST:..., pcopy --server) ---

# remote_init: both ends of a remote copy on this machine, through the ssh
# stand-in tests/tools/lsh.sh.  Sets and exports:
#   LSH       tests/tools/lsh.sh (every host is this machine)
#   LSH_HOME  the far side's home directory, where it starts ($W/home)
#   LSH_LOG   where lsh.sh logs each connection it is asked for ($T/lsh.log)
#   RPCOPY    the far program: a wrapper of $PCOPY that appends its pid to
#             $T/server.pids and then execs pcopy (so a stream's server too)
#   RTMP      TMPDIR of both ends ($W/rtmp): empty whenever no run is on
#   RCMD      the array: env TMPDIR=$RTMP $PCOPY -e $LSH --remote-pcopy=$RPCOPY
remote_init() {
	LSH=$SRCDIR/tests/tools/lsh.sh
	[ -x "$LSH" ] || fail "$LSH is missing or not executable"
	LSH_HOME=$W/home
	LSH_LOG=$T/lsh.log
	RTMP=$W/rtmp
	RPCOPY=$T/remote-pcopy
	mkdir -p "$LSH_HOME" "$RTMP"
	: >"$LSH_LOG"
	: >"$T/server.pids"
	printf '#!/bin/sh\necho $$ >>"%s"\nexec "%s" "$@"\n' "$T/server.pids" "$PCOPY" >"$RPCOPY"
	chmod 0755 "$RPCOPY"
	RCMD=(env TMPDIR="$RTMP" "$PCOPY" -e "$LSH" --remote-pcopy="$RPCOPY")
	export LSH LSH_HOME LSH_LOG RTMP RPCOPY
}

# rpcopy ARGS...: pcopy ARGS with the stand-in rsh and far program (RCMD)
rpcopy() {
	"${RCMD[@]}" "$@"
}

# servers_gone SECS WHAT: every far end started since the last call
# (their pids in $T/server.pids) ends within SECS seconds; fails naming
# WHAT otherwise (the processes are killed first)
servers_gone() {
	local secs=$1 what=$2 pid left=
	while read -r pid; do
		[ -n "$pid" ] || continue
		if ! wait_gone "$pid" "$secs"; then
			left="$left $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
			kill -KILL "$pid" 2>/dev/null
		fi
	done <"$T/server.pids"
	: >"$T/server.pids"
	[ -z "$left" ] || fail "$what: far end still running ${secs}s after the run:$left"
}

# remote_clean WHAT: after a remote run, its far ends have ended (within
# 5 s) and left nothing in the TMPDIR of both ends
remote_clean() {
	local left
	servers_gone 5 "$1"
	left=$(find "$RTMP" -mindepth 1 -print 2>/dev/null | head -n 5)
	[ -z "$left" ] || fail "$1: left in TMPDIR: $left"
}

# old_or_new OLD NEW DST WHAT: every entry of DST is in OLD or in NEW, each
# regular file byte for byte its version in OLD or the one in NEW (never a
# mix, nothing partial under a final name), and no temporaries.  A DST
# that does not exist passes.  Sets NNEW to the files that are new.
old_or_new() {
	local old=$1 new=$2 dst=$3 what=$4 rel
	NNEW=0
	[ -e "$dst" ] || return 0
	no_temporaries "$dst"
	while IFS= read -r -d '' rel; do
		if [ -L "$dst/$rel" ] || [ -d "$dst/$rel" ]; then
			[ -e "$old/$rel" ] || [ -L "$old/$rel" ] || [ -e "$new/$rel" ] ||
				[ -L "$new/$rel" ] || fail "$what: stray entry $dst/$rel"
		elif [ -f "$dst/$rel" ]; then
			if cmp -s -- "$new/$rel" "$dst/$rel"; then
				NNEW=$((NNEW + 1))
			elif ! cmp -s -- "$old/$rel" "$dst/$rel"; then
				fail "$what: $dst/$rel is neither its old nor its new version"
			fi
		else
			fail "$what: unexpected entry $dst/$rel"
		fi
	done < <(cd "$dst" && find . -mindepth 1 -print0)
}

# one_message FILE WHAT: FILE (a stderr) holds one message, a line
# "pcopy: ...", and nothing else but, after a usage error, the hint
# "Try 'pcopy --help' for more information."
one_message() {
	local n
	n=$(grep -cv "^Try 'pcopy --help' for more information\.$" "$1")
	if [ "$n" -ne 1 ] || ! grep -q '^pcopy: ' "$1"; then
		head -n 10 "$1" >&2
		fail "$2: expected one line 'pcopy: ...' on stderr, got $n lines"
	fi
}

# agreed_entries DIR: what a copy and rsync's of the same tree must agree
# on: path, type, mode, owner, and for non-directories size and symlink
# target (no times: rsync sets directories' its own way)
agreed_entries() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%P d %m %U:%G\n' \) -o \
		-printf '%P %y %m %U:%G %s %l\n' | sort)
}

# same_contents A B WHAT: every regular file of tree A has the contents of
# the same path in B
same_contents() {
	local rel
	while IFS= read -r -d '' rel; do
		cmp -s -- "$1/$rel" "$2/$rel" || fail "$3: $rel differs between $1 and $2"
	done < <(cd "$1" && find . -type f -print0)
}
