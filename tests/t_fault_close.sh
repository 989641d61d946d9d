#!/bin/bash
# close(2) of a file written into DST is checked (NFS reports a delayed write
# error there): the fault shim (FAULT_OP=close) makes the close of the
# victim's fd really close it, then fail with EIO.  pcopy must exit 1 with
# one error line naming the victim, leave no file under the victim's name in
# DST (nor a temporary), and copy every other file identically; over an old
# version of the victim (-T), the old version stays intact.  With O_TMPFILE
# (the default) and named temporaries (PCOPY_FORCE=no_tmpfile); thread and
# process mode, and pcopy-mpi on 3 ranks when it is built.
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_pcopy
need_faultshim

use_tmpfs 128m
src=$W/src
mkdir -p "$src/v" "$src/sub"
for i in $(seq 10); do
	head -c $((i * 7919)) /dev/urandom >"$src/k$i"
done
head -c 1048577 /dev/urandom >"$src/sub/x"
head -c $((3 << 20)) /dev/urandom >"$src/v/big"
old=$W/old
cp -a "$src" "$old"
head -c $((1 << 20)) /dev/urandom >"$old/v/big"
# the fds pcopy writes into DST/v read "<realpath of DST>/v/..." in
# /proc/self/fd: "v/#123 (deleted)" (O_TMPFILE), "v/.pcopy-tmp..." or "v/big"
real=$(realpath "$W")

# expect_rc WANT WHAT: fail unless the last run exited WANT
expect_rc() {
	[ "$RC" -eq "$1" ] && return 0
	log "--- stderr:"
	head -n 20 "$T/err" >&2
	fail "$2: exit status $RC, expected $1"
}

# victim_failed WHAT DST: the last run failed v/big alone: exit 1, one
# "Input/output error" line naming it (its SRC or its DST path), and nothing
# else on stderr
victim_failed() {
	local q qd
	q=$(re_quote "$src") qd=$(re_quote "$2")
	[ "$FIRED" -eq 1 ] || fail "$1: the shim fired $FIRED times, expected 1"
	expect_rc 1 "$1"
	check_messages "$T/err"
	assert_grep "$T/err" "^pcopy: '($q|$qd)/v/big': Input/output error$"
	assert_eq "$(wc -l <"$T/err")" 1 "$1: lines on stderr"
}

# mpi_shim_run VAR=value... -- ARGS...: shim_run for pcopy-mpi on 3 ranks
# shellcheck disable=SC2317 # called through $run
mpi_shim_run() {
	local vars=() xs=() v
	while [ "$1" != -- ]; do
		vars+=("$1")
		xs+=(-x "${1%%=*}")
		shift
	done
	shift
	rm -f "$T/shim.log"
	RC=0
	env LD_PRELOAD="$FAULTSHIM" FAULT_LOG="$T/shim.log" "${vars[@]}" \
		OMPI_MCA_btl_vader_backing_directory="$MPI_SHM" ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
		timeout -k 5 120 mpirun --oversubscribe -np 3 -x LD_PRELOAD -x FAULT_LOG "${xs[@]}" \
		"$PCOPY_MPI" "$@" >"$T/out" 2>"$T/err.mpirun" || RC=$?
	# mpirun's own report of a rank's non-zero exit: a block between dashes
	awk '/^-----/ { inside = !inside; next } !inside' "$T/err.mpirun" >"$T/err"
	FIRED=0
	[ -f "$T/shim.log" ] && FIRED=$(wc -l <"$T/shim.log")
	v=$(pgrep -af -- "$T") && fail "processes left: $v"
	return 0
}

set_kinds default
for kind in "${KINDS[@]}"; do
	run=shim_run args=(--mode="$kind")
	[ "$kind" = mpi ] && run=mpi_shim_run args=()
	for force in "" no_tmpfile; do
		what="$kind${force:+ $force}"
		dst=$W/dst-$kind
		vars=("PCOPY_FORCE=$force" FAULT_OP=close FAULT_NTH=1 FAULT_ERRNO=EIO
			FAULT_PATH_SUBSTR="$real/dst-$kind/v/")

		# a new copy: no v/big at all
		$run "${vars[@]}" -- "${args[@]}" "$src" "$dst"
		victim_failed "$what: close EIO" "$dst"
		if [ -e "$dst/v/big" ] || [ -L "$dst/v/big" ]; then
			fail "$what: close EIO: v/big exists in DST"
		fi
		check_subset "$src" "$dst"
		assert_eq "$NFILES" 11 "$what: close EIO: files copied"
		rm -rf "$dst"

		# over an old version (-T): the old version intact
		cp -a "$old" "$dst"
		$run "${vars[@]}" -- "${args[@]}" -T "$src" "$dst"
		victim_failed "$what: close EIO over an old version" "$dst"
		cmp -s "$old/v/big" "$dst/v/big" ||
			fail "$what: close EIO: the old version of v/big was replaced"
		check_subset "$old" "$dst"
		assert_eq "$NFILES" 12 "$what: close EIO over an old version: files in DST"
		for f in k1 k10 sub/x; do
			cmp -s "$src/$f" "$dst/$f" || fail "$what: $f not copied over its old version"
		done
		rm -rf "$dst"
	done
done
exit 0
